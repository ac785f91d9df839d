import { describe } from '../shared/describe.js';

/**
 * How snapshot values (operator state, in-flight inputs, source positions, held outputs) become text in a
 * checkpoint, and back. `encode` must throw on a value it cannot represent faithfully; the checkpoint then
 * fails with a `CheckpointEncodeError` and the pipeline carries on. `name` is written into every checkpoint,
 * and a restore with a codec of another name fails instead of misreading the state.
 *
 * ## Example
 * ```ts
 * import { type CheckpointCodec } from 'rxjs-sluice';
 * // Dates and BigInts round-trip through tagged JSON:
 * const taggedJson: CheckpointCodec = {
 *   name: 'tagged-json',
 *   encode: (v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? { $big: String(x) } : x)),
 *   decode: (t) => JSON.parse(t, (_k, x) => (x && typeof x === 'object' && '$big' in x ? BigInt(x.$big) : x)),
 * };
 * ```
 */
export interface CheckpointCodec {
  /** Identifies the encoding; stored in each checkpoint and checked on restore. */
  readonly name: string;
  /** Turns a value into text. Throws when the value cannot be represented. */
  encode(value: unknown): string;
  /** Turns text written by `encode` back into a value. */
  decode(text: string): unknown;
}

/**
 * The default codec: JSON, made strict. Plain JSON would quietly turn `undefined`, `NaN`, `Infinity`, Dates,
 * Maps, Sets and class instances into something else, and a restore would then run on different state. This
 * codec refuses them instead: `encode` throws a `TypeError` naming the path of the first offending value
 * (`$.state[3][1].when`). It accepts `null`, booleans, finite numbers, strings, arrays without holes, and
 * plain objects (prototype `Object.prototype` or `null`) whose properties are all defined.
 *
 * ## Example
 * ```ts
 * import { jsonCodec } from 'rxjs-sluice';
 * jsonCodec.encode({ n: 1, tags: ['a'] }); // '{"n":1,"tags":["a"]}'
 * try { jsonCodec.encode({ at: new Date(0) }); } catch (e) { console.log((e as Error).message); }
 * // jsonCodec: cannot encode a Date at $.at (only null, booleans, finite numbers, strings, arrays and plain objects)
 * ```
 */
export const jsonCodec: CheckpointCodec = Object.freeze({
  name: 'json',
  encode(value: unknown): string {
    assertPlainJson(value, '$', []);
    return JSON.stringify(value);
  },
  decode(text: string): unknown {
    return JSON.parse(text);
  },
});

function assertPlainJson(value: unknown, path: string, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (Number.isFinite(value)) return;
      break;
    case 'object': {
      if (value === null) return;
      if (ancestors.includes(value)) throw new TypeError(`jsonCodec: cannot encode a cycle at ${path}`);
      ancestors.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value)) throw new TypeError(`jsonCodec: cannot encode an array hole at ${path}[${i}]`);
          assertPlainJson(value[i], `${path}[${i}]`, ancestors);
        }
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) break;
        for (const key of Object.keys(value)) {
          assertPlainJson((value as Record<string, unknown>)[key], `${path}.${key}`, ancestors);
        }
      }
      ancestors.pop();
      return;
    }
    default:
      break;
  }
  throw new TypeError(
    `jsonCodec: cannot encode ${describeKind(value)} at ${path} (only null, booleans, finite numbers, strings, arrays and plain objects)`,
  );
}

function describeKind(value: unknown): string {
  if (value !== null && typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? `a ${name}` : 'an object';
  }
  return describe(value);
}
