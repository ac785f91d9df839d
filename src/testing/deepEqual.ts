import { isAsymmetricMatcher } from './elementSpec.js';

/**
 * Structural equality as jest's `toEqual` sees it, without jest: primitives by `Object.is`, arrays item by item,
 * objects by their own enumerable keys, symbols included (a key holding `undefined` counts as absent), errors by
 * name and message, dates by time, regular expressions by source and flags, boxed primitives by value, Maps and
 * Sets by their entries, typed arrays and ArrayBuffers by type and bytes; objects of different kinds (a Map and a
 * plain object, a Uint8Array and a Float64Array) are never equal. An asymmetric matcher (`expect.objectContaining(...)`) on either side decides for itself.
 * Internal to the testing kit.
 */
export function deepEqual(a: unknown, b: unknown, seen: Array<[unknown, unknown]> = []): boolean {
  if (isAsymmetricMatcher(b)) return b.asymmetricMatch(a);
  if (isAsymmetricMatcher(a)) return a.asymmetricMatch(b);
  if (Object.is(a, b)) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (seen.some(([x, y]) => x === a && y === b)) return true; // a cycle: equal so far
  const pairs: Array<[unknown, unknown]> = [...seen, [a, b]];
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && Object.is(a.getTime(), b.getTime());
  if (a instanceof Error || b instanceof Error) {
    return a instanceof Error && b instanceof Error && a.name === b.name && a.message === b.message;
  }
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i], pairs));
  }
  const tag = Object.prototype.toString.call(a);
  if (tag !== Object.prototype.toString.call(b)) return false; // a Map and an object, two typed array types...
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Number || a instanceof String || a instanceof Boolean) return Object.is(a.valueOf(), (b as typeof a).valueOf());
  if (a instanceof Map) {
    const other = b as Map<unknown, unknown>;
    if (a.size !== other.size) return false;
    const rest = [...other];
    // Keys may be objects: each entry of a must match a distinct entry of b.
    return [...a].every(([k, v]) => {
      const i = rest.findIndex(([k2, v2]) => deepEqual(k, k2, pairs) && deepEqual(v, v2, pairs));
      return i !== -1 && rest.splice(i, 1).length === 1;
    });
  }
  if (a instanceof Set) {
    const other = b as Set<unknown>;
    if (a.size !== other.size) return false;
    const rest = [...other];
    return [...a].every((v) => {
      const i = rest.findIndex((v2) => deepEqual(v, v2, pairs));
      return i !== -1 && rest.splice(i, 1).length === 1;
    });
  }
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const bytes = (o: object) => (ArrayBuffer.isView(o) ? new Uint8Array(o.buffer, o.byteOffset, o.byteLength) : new Uint8Array(o as ArrayBuffer));
    const x = bytes(a);
    const y = bytes(b);
    return x.length === y.length && x.every((byte, i) => byte === y[i]);
  }
  const keys = (o: object): PropertyKey[] => [
    ...Object.keys(o),
    ...Object.getOwnPropertySymbols(o).filter((k) => Object.prototype.propertyIsEnumerable.call(o, k)),
  ].filter((k) => (o as Record<PropertyKey, unknown>)[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  return ka.length === kb.length
    && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k], pairs));
}
