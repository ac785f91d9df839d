import { isAsymmetricMatcher } from './elementSpec.js';

/**
 * Structural equality as jest's `toEqual` sees it, without jest: primitives by `Object.is`, arrays item by item,
 * objects by their own enumerable keys (a key holding `undefined` counts as absent), errors by name and message,
 * dates by time; an asymmetric matcher (`expect.objectContaining(...)`) on either side decides for itself.
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
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  return ka.length === kb.length
    && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], pairs));
}
