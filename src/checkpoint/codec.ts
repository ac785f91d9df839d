import { GRAPH_MARK, readGraph, writeGraph } from './codecGraph.js';

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
 * The default codec: JSON, made faithful. A restore must run on the state that was saved, so `encode` never
 * lets JSON change a value quietly:
 *
 * - **Plain data** (`null`, booleans, finite numbers, strings, arrays without holes and plain objects, as a
 *   tree) is written exactly as `JSON.stringify` writes it.
 * - **What JSON would change but can be represented** is kept: an object reached twice comes back as one
 *   object (shared references and cycles), `-0` stays `-0`, and a null-prototype object keeps its null
 *   prototype. Such a value, or one nested more than a few hundred levels deep, is written in a graph form:
 *   `#` followed by JSON that lists each object once (see below).
 * - **Everything else is refused**: `encode` throws a `TypeError` naming the path of the first offending value
 *   (`$.state[3][1].when`): `undefined`, `NaN`, `±Infinity`, bigints, symbols, functions (so a `toJSON`
 *   method too), Dates, Maps, Sets, typed arrays, boxed primitives, class instances (Array subclasses
 *   included), array holes, named properties on arrays, and non-enumerable, symbol-keyed or accessor
 *   properties. A getter is refused before it is read: the codec runs no code of yours, except the traps of
 *   a Proxy, each of which it calls once per property (its `get` trap never).
 *
 * Encoding takes time linear in the number of objects and properties, however much they are shared, and
 * neither direction recurses, so a deep value cannot overflow the stack. What is not kept: whether an object
 * was frozen, sealed or non-extensible.
 *
 * The graph form is `#{"graph":1,"root":R,"nodes":[...]}`. Each node is `["a", v...]` (an array),
 * `["o", key, v, ...]` (a plain object) or `["n", key, v, ...]` (a null-prototype object); each value `v`
 * (and `R`) is a string, boolean, null or number written as is, `[i]` for node `i`, or `["-0"]`.
 *
 * ## Example
 * ```ts
 * import { jsonCodec } from 'rxjs-sluice';
 * jsonCodec.encode({ n: 1, tags: ['a'] }); // '{"n":1,"tags":["a"]}'
 * const shared = { n: 1 };
 * const back = jsonCodec.decode(jsonCodec.encode([shared, shared])) as object[];
 * console.log(back[0] === back[1]); // true
 * try { jsonCodec.encode({ at: new Date(0) }); } catch (e) { console.log((e as Error).message); }
 * // jsonCodec: cannot encode a Date at $.at (only null, booleans, finite numbers, strings, arrays and plain objects)
 * ```
 */
export const jsonCodec: CheckpointCodec = Object.freeze({
  name: 'json',
  encode(value: unknown): string {
    const { root, needsGraph, depth } = copyFaithfully(value);
    if (!needsGraph && depth <= PLAIN_MAX_DEPTH) {
      try {
        return JSON.stringify(root);
      } catch (err) {
        // JSON.stringify recurses: on a short stack even a moderate depth can overflow it. The graph form does not.
        if (!(err instanceof RangeError)) throw err;
      }
    }
    return GRAPH_MARK + JSON.stringify(writeGraph(root));
  },
  decode(text: string): unknown {
    return text.startsWith(GRAPH_MARK) ? readGraph(text.slice(GRAPH_MARK.length)) : JSON.parse(text);
  },
});

/** Nesting beyond this is written in the (flat) graph form, out of reach of JSON.stringify's recursion limit. */
const PLAIN_MAX_DEPTH = 400;

/** The faithful copy of a value, and what writing it needs. */
interface Copy {
  /** The copy: fresh plain arrays and objects (null-prototype ones kept so), sharing exactly as the value did. */
  readonly root: unknown;
  /** True when plain JSON would lose something: a shared object or cycle, -0, or a null-prototype object. */
  readonly needsGraph: boolean;
  /** The deepest nesting of arrays and objects. */
  readonly depth: number;
}

/** One array or object being copied: the explicit stack frame that keeps the walk free of recursion. */
interface Frame {
  /** The user's object; each of its properties is read once, through its descriptor. */
  readonly source: object;
  /** Its copy, filled as the walk proceeds. */
  readonly copy: unknown[] | Record<string, unknown>;
  /** The own keys to visit; null for an array, whose keys are 0 to length - 1. */
  readonly keys: readonly PropertyKey[] | null;
  /** How many keys there are. */
  readonly length: number;
  /** True for a null-prototype object, which plain JSON would restore with Object.prototype. */
  readonly nullPrototype: boolean;
  /** The next key to visit; the one before it is the key being visited (for error paths). */
  next: number;
}

/**
 * Validates a value and copies it in one walk (so each property is read exactly once, and what is written is
 * what was checked), iteratively and depth-first in key order (so the first offending value is the one
 * reported). Every object is copied once: a second visit reuses its copy, which keeps sharing and cycles and
 * makes the walk linear.
 */
function copyFaithfully(value: unknown): Copy {
  /** Each object visited so far, to its copy. */
  const copies = new Map<object, unknown[] | Record<string, unknown>>();
  /** The objects being copied, outermost first. */
  const stack: Frame[] = [];
  let needsGraph = false;
  let depth = 0;

  /** The path to the value being visited (built only for an error message). */
  const pathTo = (extra: PropertyKey | undefined = undefined): string => {
    let path = '$';
    for (const frame of stack) path += stepOf(frame.keys === null ? frame.next - 1 : frame.keys[frame.next - 1]!);
    return extra === undefined ? path : path + stepOf(extra);
  };

  /** The copy of one value: itself for a primitive, a fresh (still empty) object for a new array or object. */
  const visit = (child: unknown): unknown => {
    switch (typeof child) {
      case 'string':
      case 'boolean':
        return child;
      case 'number':
        if (!Number.isFinite(child)) break;
        if (child === 0 && 1 / child < 0) needsGraph = true; // -0
        return child;
      case 'object': {
        if (child === null) return null;
        const seen = copies.get(child);
        if (seen !== undefined) {
          needsGraph = true;
          return seen;
        }
        const frame = open(child, pathTo);
        if (frame.nullPrototype) needsGraph = true;
        copies.set(child, frame.copy);
        stack.push(frame);
        if (stack.length > depth) depth = stack.length;
        return frame.copy;
      }
      default:
        break;
    }
    throw refusal(describeKind(child), pathTo(), ONLY_PLAIN);
  };

  const root = visit(value);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.length) {
      stack.pop();
      continue;
    }
    const keys = frame.keys;
    const key = keys === null ? frame.next : keys[frame.next]!;
    frame.next++;
    const descriptor = Reflect.getOwnPropertyDescriptor(frame.source, key);
    if (descriptor === undefined) {
      throw refusal(keys === null ? 'an array hole' : 'a property that disappeared while it was read', pathTo(), '');
    }
    if (!('value' in descriptor)) {
      throw refusal('an accessor property (getter or setter)', pathTo(), ' (the codec does not run getters; store the value instead)');
    }
    if (keys !== null) {
      if (typeof key === 'symbol') throw refusal('a symbol-keyed property', pathTo(), ' (JSON skips them)');
      if (!descriptor.enumerable) throw refusal('a non-enumerable property', pathTo(), ' (JSON skips them)');
    }
    const copy = visit(descriptor.value);
    if (keys === null) (frame.copy as unknown[]).push(copy);
    else if (key === '__proto__') Object.defineProperty(frame.copy, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else (frame.copy as Record<string, unknown>)[key as string] = copy;
  }
  return { root, needsGraph, depth };
}

/** Checks an array or object before its properties are visited, and makes its empty copy. */
function open(source: object, pathTo: (extra?: PropertyKey) => string): Frame {
  const proto: unknown = Object.getPrototypeOf(source);
  if (Array.isArray(source)) {
    if (proto !== Array.prototype) throw refusal(describeKind(source, proto), pathTo(), ONLY_PLAIN);
    const length = source.length;
    const keys = Reflect.ownKeys(source);
    // An ordinary array lists its indices first, in order, then 'length': exactly that means no named property.
    if (keys.length !== length + 1 || keys[length] !== 'length') {
      const named = keys.find((key) => key !== 'length' && !isIndex(key, length));
      if (named !== undefined) {
        const what = typeof named === 'symbol' ? 'a symbol-keyed property' : 'a named property of an array';
        throw refusal(what, pathTo(named), ' (JSON writes only the elements)');
      }
    }
    return { source, copy: [], keys: null, length, nullPrototype: false, next: 0 };
  }
  if (proto !== Object.prototype && proto !== null) throw refusal(describeKind(source, proto), pathTo(), ONLY_PLAIN);
  const keys = Reflect.ownKeys(source);
  const copy = proto === null ? (Object.create(null) as Record<string, unknown>) : {};
  return { source, copy, keys, length: keys.length, nullPrototype: proto === null, next: 0 };
}

const ONLY_PLAIN = ' (only null, booleans, finite numbers, strings, arrays and plain objects)';

function refusal(what: string, path: string, why: string): TypeError {
  return new TypeError(`jsonCodec: cannot encode ${what} at ${path}${why}`);
}

function isIndex(key: PropertyKey, length: number): boolean {
  if (typeof key !== 'string') return false;
  const n = Number(key);
  return Number.isInteger(n) && n >= 0 && n < length && String(n) === key;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The path step to a property: `.name`, `["a b"]`, `[3]` (an array index) or `[Symbol(id)]`. */
function stepOf(key: PropertyKey): string {
  if (typeof key === 'symbol') return `[${String(key)}]`;
  if (typeof key === 'number') return `[${key}]`;
  const name = key;
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

/** Names a refused value for the message, without running its code (no getters, no toString). */
function describeKind(value: unknown, proto: unknown = undefined): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'number':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `a function${value.name ? ` (${value.name})` : ''}`;
    default: {
      let name = '';
      try {
        const owner = proto === undefined ? Object.getPrototypeOf(value) : proto;
        const constructor: unknown = owner === null ? undefined : Object.getOwnPropertyDescriptor(owner, 'constructor')?.value;
        if (typeof constructor === 'function') name = constructor.name;
      } catch {
        // a hostile Proxy: fall back to the generic name
      }
      return name === '' ? 'an object with a prototype other than Object.prototype or null' : `${/^[AEIO]/.test(name) ? 'an' : 'a'} ${name}`;
    }
  }
}
