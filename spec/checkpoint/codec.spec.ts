import fc from 'fast-check';
import { jsonCodec } from 'rxjs-sluice';

/**
 * jsonCodec, the default checkpoint codec: JSON made faithful. Plain data is written exactly as JSON.stringify
 * writes it. What JSON would quietly change but the codec can represent (shared references, cycles, -0,
 * null-prototype objects, very deep nesting) is written in its graph form and restored as it was. Everything
 * else (undefined, NaN, Infinity, Dates, Maps, class instances, holes, extra array properties, non-enumerable,
 * symbol-keyed and accessor properties, bigints, symbols, functions) is refused with a TypeError naming the
 * path of the first offending value. Encoding is linear in the size of the value's graph.
 */

class Point {
  constructor(readonly x: number) {}
}

class Tagged {
  toJSON(): string {
    return 'tagged';
  }
}

class Stack extends Array<number> {}

/**
 * Asserts that `decoded` is `original` again: the same graph (shared objects shared, cycles closed), numbers
 * equal by Object.is (so -0 stays -0), arrays of the same length, the same own keys in the same order and the
 * same prototype (Object.prototype, Array.prototype or null). Iterative, so it handles deep values.
 */
function expectFaithful(original: unknown, decoded: unknown): void {
  const pairs = new Map<object, object>();
  const decodedSeen = new Set<object>();
  const work: [unknown, unknown, string][] = [[original, decoded, '$']];
  while (work.length > 0) {
    const [a, b, path] = work.pop()!;
    if (typeof a !== 'object' || a === null) {
      if (!Object.is(a, b)) throw new Error(`at ${path}: expected ${String(a)}, got ${String(b)}`);
      continue;
    }
    if (typeof b !== 'object' || b === null) throw new Error(`at ${path}: expected an object, got ${String(b)}`);
    const known = pairs.get(a);
    if (known !== undefined) {
      if (known !== b) throw new Error(`at ${path}: a shared object came back as a different object`);
      continue;
    }
    if (decodedSeen.has(b)) throw new Error(`at ${path}: two objects came back as one`);
    pairs.set(a, b);
    decodedSeen.add(b);
    const proto = Object.getPrototypeOf(a);
    const expectedProto = proto === null ? null : Array.isArray(a) ? Array.prototype : Object.prototype;
    if (Object.getPrototypeOf(b) !== expectedProto) throw new Error(`at ${path}: the prototype changed`);
    const keysA = Reflect.ownKeys(a);
    const keysB = Reflect.ownKeys(b);
    if (JSON.stringify(keysA.map(String)) !== JSON.stringify(keysB.map(String))) {
      throw new Error(`at ${path}: own keys ${String(keysA.map(String))} came back as ${String(keysB.map(String))}`);
    }
    for (const key of keysA) {
      if (key === 'length' && Array.isArray(a)) continue;
      const value = (a as Record<PropertyKey, unknown>)[key];
      work.push([value, (b as Record<PropertyKey, unknown>)[key], `${path}[${String(key)}]`]);
    }
  }
}

const roundTrip = (value: unknown): unknown => jsonCodec.decode(jsonCodec.encode(value));

describe('jsonCodec', () => {
  it('is named "json"', () => {
    // Arrange + Act + Assert
    expect(jsonCodec.name).toBe('json');
  });

  describe('plain data', () => {
    it.each<[string, unknown]>([
      ['null', null],
      ['true', true],
      ['a finite number', -12.5],
      ['a string', 'héllo "quoted"\n'],
      ['a lone surrogate', '\ud800'],
      ['an empty array', []],
      ['an empty object', {}],
      ['nested plain data', { a: [1, 'two', null, false, { b: [[]] }], c: { d: 0 } }],
      ['integer-like keys', { b: 1, 2: 'two', a: 3, 1: 'one' }],
      ['a "__proto__" own key', JSON.parse('{"__proto__":{"x":1},"y":2}')],
      ['a frozen object', Object.freeze({ a: Object.freeze([1, 2]) })],
      ['an object whose toJSON is not a function', { toJSON: 1 }],
    ])('encodes %s exactly as JSON.stringify does, and decodes it back', (_name, value) => {
      // Arrange + Act
      const text = jsonCodec.encode(value);
      // Assert
      expect(text).toBe(JSON.stringify(value));
      expectFaithful(value, jsonCodec.decode(text));
    });

    it('decodes JSON text written by earlier versions as JSON.parse does', () => {
      // Arrange
      const text = '{"watermark":null,"state":[["k",{"n":1}]]}';
      // Act + Assert
      expect(jsonCodec.decode(text)).toEqual(JSON.parse(text));
    });
  });

  describe('what plain JSON would change, restored as it was', () => {
    it('a shared reference comes back shared, not as two copies', () => {
      // Arrange
      const shared = { n: 1 };
      const value = { x: shared, y: [shared, shared] };
      // Act
      const decoded = roundTrip(value) as typeof value;
      // Assert
      expect(decoded.x).toEqual({ n: 1 });
      expect(decoded.y[0]).toBe(decoded.x);
      expect(decoded.y[1]).toBe(decoded.x);
      expectFaithful(value, decoded);
    });

    it('a cycle comes back closed', () => {
      // Arrange
      const a: { b: { back?: unknown }; self?: unknown } = { b: {} };
      a.b.back = a;
      const list: unknown[] = [1];
      list.push(list);
      // Act
      const decoded = roundTrip({ a, list }) as { a: typeof a; list: unknown[] };
      // Assert
      expect(decoded.a.b.back).toBe(decoded.a);
      expect(decoded.list[1]).toBe(decoded.list);
      expectFaithful({ a, list }, decoded);
    });

    it.each<[string, unknown]>([
      ['-0 at the top', -0],
      ['-0 in an array', [1, -0, 0]],
      ['-0 in an object', { a: { b: -0 } }],
    ])('%s comes back as -0', (_name, value) => {
      // Arrange + Act
      const decoded = roundTrip(value);
      // Assert
      expectFaithful(value, decoded);
    });

    it('a null-prototype object comes back with a null prototype (so "constructor" in it stays false)', () => {
      // Arrange
      const counts = Object.assign(Object.create(null) as Record<string, number>, { a: 1, __proto__: 2 });
      Object.defineProperty(counts, '__proto__', { value: 2, enumerable: true, writable: true, configurable: true });
      // Act
      const decoded = roundTrip({ counts }) as { counts: Record<string, number> };
      // Assert
      expect(Object.getPrototypeOf(decoded.counts)).toBeNull();
      expect('constructor' in decoded.counts).toBe(false);
      expectFaithful({ counts }, decoded);
    });

    it('a "__proto__" own key next to a shared reference stays an own key', () => {
      // Arrange
      const shared = [1];
      const value = JSON.parse('{"__proto__":null,"a":null}') as Record<string, unknown>;
      value['a'] = shared;
      Object.defineProperty(value, '__proto__', { value: shared, enumerable: true, writable: true, configurable: true });
      // Act
      const decoded = roundTrip(value) as Record<string, unknown>;
      // Assert
      expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toBe(decoded['a']);
      expectFaithful(value, decoded);
    });
  });

  describe('refusals', () => {
    const withExtra = (): unknown => Object.assign([1, 2], { extra: true });
    const withHidden = (): unknown => Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false });
    const withSymbolKey = (): unknown => ({ a: 1, [Symbol('id')]: 2 });
    const withGetter = (): unknown => ({ get now() { return 1; } });
    const withSetter = (): unknown => Object.defineProperty({}, 'x', { set: () => undefined, enumerable: true });
    const withIndexGetter = (): unknown => Object.defineProperty([0], 0, { get: () => 1 });

    it.each<[string, () => unknown, string, string]>([
      ['undefined at the top', () => undefined, '$', 'undefined'],
      ['an undefined property', () => ({ a: undefined }), '$.a', 'undefined'],
      ['NaN', () => ({ n: NaN }), '$.n', 'NaN'],
      ['Infinity', () => [Infinity], '$[0]', 'Infinity'],
      ['-Infinity', () => ({ a: [0, { b: -Infinity }] }), '$.a[1].b', '-Infinity'],
      ['a Date', () => ({ a: [0, { b: new Date(0) }] }), '$.a[1].b', 'a Date'],
      ['a Map', () => ({ m: new Map([[1, 2]]) }), '$.m', 'a Map'],
      ['a Set', () => ({ s: new Set([1]) }), '$.s', 'a Set'],
      ['a class instance', () => ({ p: [new Point(1)] }), '$.p[0]', 'a Point'],
      ['a class instance with toJSON', () => ({ t: new Tagged() }), '$.t', 'a Tagged'],
      ['an object with a toJSON method', () => ({ o: { toJSON: () => 'x' } }), '$.o.toJSON', 'a function (toJSON)'],
      ['an Array subclass', () => ({ s: Stack.from([1]) }), '$.s', 'a Stack'],
      ['a typed array', () => ({ bytes: new Uint8Array(2) }), '$.bytes', 'a Uint8Array'],
      ['a boxed number', () => [Object(1)], '$[0]', 'a Number'],
      ['a boxed string', () => [Object('s')], '$[0]', 'a String'],
      ['a boxed boolean', () => [Object(false)], '$[0]', 'a Boolean'],
      ['a RegExp', () => ({ r: /x/ }), '$.r', 'a RegExp'],
      ['an Error', () => ({ e: new Error('x') }), '$.e', 'an Error'],
      ['a Proxy of a Date', () => ({ p: new Proxy(new Date(0), {}) }), '$.p', 'a Date'],
      ['an array hole', () => ({ a: [1, , 3] }), '$.a[1]', 'an array hole'], // eslint-disable-line no-sparse-arrays
      ['an extra property on an array', () => ({ a: withExtra() }), '$.a.extra', 'a named property of an array'],
      ['a non-enumerable property', () => ({ o: withHidden() }), '$.o.hidden', 'a non-enumerable property'],
      ['a symbol-keyed property', () => ({ o: withSymbolKey() }), '$.o[Symbol(id)]', 'a symbol-keyed property'],
      ['a getter', () => ({ o: withGetter() }), '$.o.now', 'an accessor property (getter or setter)'],
      ['a setter', () => ({ o: withSetter() }), '$.o.x', 'an accessor property (getter or setter)'],
      ['a getter on an array element', () => ({ a: withIndexGetter() }), '$.a[0]', 'an accessor property (getter or setter)'],
      ['a bigint', () => ({ big: 10n }), '$.big', '10n'],
      ['a function', () => ({ f: function named() {} }), '$.f', 'a function (named)'],
      ['a symbol', () => ({ s: Symbol('x') }), '$.s', 'Symbol(x)'],
      ['a key that is not an identifier', () => ({ 'a b': [NaN] }), '$["a b"][0]', 'NaN'],
    ])('refuses %s with a TypeError naming the path', (_name, make, path, what) => {
      // Arrange
      const value = make();
      // Act
      const act = () => jsonCodec.encode(value);
      // Assert
      expect(act).toThrow(TypeError);
      expect(act).toThrow(`cannot encode ${what} at ${path}`);
      expect(act).toThrow(/^jsonCodec: /);
    });

    it('reports the first offending value in key order', () => {
      // Arrange
      const value = { ok: 1, first: [NaN], second: new Date(0) };
      // Act + Assert
      expect(() => jsonCodec.encode(value)).toThrow('at $.first[0]');
    });

    it('never runs a getter: accessors are refused before they are read', () => {
      // Arrange
      let reads = 0;
      const value = { a: 1, get b() { reads++; return 2; } };
      // Act
      const act = () => jsonCodec.encode(value);
      // Assert
      expect(act).toThrow('cannot encode an accessor property (getter or setter) at $.b');
      expect(reads).toBe(0);
    });

    it('reads a Proxy once, through its descriptors, and writes what it read', () => {
      // Arrange: a get trap that would answer a Date the second time it is asked
      let gets = 0;
      let descriptors = 0;
      const value = new Proxy({ a: 1 } as Record<string, unknown>, {
        get: (target, key) => (gets++ === 0 ? target[key as string] : new Date(0)),
        getOwnPropertyDescriptor: (target, key) => {
          descriptors++;
          return Reflect.getOwnPropertyDescriptor(target, key);
        },
      });
      // Act
      const text = jsonCodec.encode({ p: value });
      // Assert
      expect(text).toBe('{"p":{"a":1}}');
      expect(gets).toBe(0);
      expect(descriptors).toBe(1);
    });
  });

  describe('cost: linear in the size of the graph', () => {
    it('reads each property of a shared object once, however many paths lead to it', () => {
      // Arrange: 20 levels, each holding the next twice (2^20 paths); every object counts its descriptor reads
      let reads = 0;
      const counted = <T extends object>(target: T): T =>
        new Proxy(target, {
          getOwnPropertyDescriptor: (t, key) => {
            reads++;
            return Reflect.getOwnPropertyDescriptor(t, key);
          },
        });
      let level: object = counted({ leaf: true });
      for (let i = 0; i < 20; i++) level = counted({ left: level, right: level });
      // Act
      jsonCodec.encode(level);
      // Assert: 2 properties on each of 20 levels, 1 on the leaf
      expect(reads).toBe(41);
    });

    it('encodes a DAG of 30 shared levels (2^30 paths) at once, and decodes it shared', () => {
      // Arrange: level i holds level i+1 twice, so a tree walk would visit 2^30 leaves
      let level: unknown = { leaf: true };
      for (let i = 0; i < 30; i++) level = { left: level, right: level };
      // Act
      // (a walk per path would not finish within the test's time limit; one visit per object takes microseconds)
      const text = jsonCodec.encode(level);
      const decoded = jsonCodec.decode(text) as { left: unknown; right: unknown };
      // Assert
      expect(text.length).toBeLessThan(5_000);
      expect(decoded.left).toBe(decoded.right);
      expectFaithful(level, decoded);
    });

    it.each<[string, () => unknown]>([
      ['a DAG of 1e5 objects, each shared by two parents', () => {
        let next: unknown = null;
        let afterNext: unknown = null;
        for (let i = 0; i < 100_000; i++) [next, afterNext] = [{ left: next, right: afterNext }, next];
        return next;
      }],
      ['a chain of 1e5 objects, 1e5 deep', () => {
        let chain: unknown = null;
        for (let i = 0; i < 100_000; i++) chain = { i, next: chain };
        return chain;
      }],
      ['1e5 arrays nested 1e5 deep', () => {
        let nested: unknown = [];
        for (let i = 0; i < 100_000; i++) nested = [nested];
        return nested;
      }],
      ['an object with 1e5 keys', () => Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))],
      ['an array of 1e5 objects', () => Array.from({ length: 100_000 }, (_, i) => ({ key: `key-${i}`, n: i }))],
    ])('encodes %s without recursion or a second visit, and decodes it faithfully', (_name, make) => {
      // Arrange: 1e5 deep overflows any recursive walk; linear cost is counted above, not timed here
      const value = make();
      // Act
      const decoded = jsonCodec.decode(jsonCodec.encode(value));
      // Assert
      expectFaithful(value, decoded);
    });
  });

  describe('properties', () => {
    /** Everything fast-check can build, including what the codec must refuse. */
    const anything = fc.anything({
      withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withNullPrototype: true, withObjectString: true,
      withSet: true, withSparseArray: true, withTypedArray: true,
      key: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'toJSON', '0', '1', 'length')),
    });

    /** A graph of arrays and objects (null-prototype ones too) whose entries may point at any node, itself included. */
    const graph = fc
      .array(
        fc.record({
          kind: fc.constantFrom('array', 'object', 'null-object'),
          entries: fc.array(
            fc.tuple(
              fc.oneof(fc.string(), fc.constantFrom('__proto__', 'a', '0', '7')),
              fc.oneof(
                fc.nat({ max: 7 }).map((ref) => ({ ref })),
                fc.double({ noNaN: true, noDefaultInfinity: true }),
                fc.constantFrom(-0, 0, null, true, ''),
                fc.string(),
              ),
            ),
            { maxLength: 5 },
          ),
        }),
        { minLength: 1, maxLength: 8 },
      )
      .map((specs) => {
        const nodes = specs.map(({ kind }) => (kind === 'array' ? [] : kind === 'object' ? {} : Object.create(null))) as Record<string, unknown>[];
        specs.forEach(({ entries }, i) => {
          const node = nodes[i]!;
          for (const [key, entry] of entries) {
            const value = entry !== null && typeof entry === 'object' ? nodes[entry.ref % nodes.length] : entry;
            if (Array.isArray(node)) node.push(value);
            else Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
          }
        });
        return nodes[0];
      });

    it('whatever it accepts comes back faithfully (Object.is numbers, lengths, own keys, prototypes, sharing)', () => {
      fc.assert(
        fc.property(fc.oneof(anything, graph), (value) => {
          // Arrange
          let text: string;
          try {
            text = jsonCodec.encode(value);
          } catch (err) {
            // Assert (refused): always a TypeError naming jsonCodec
            expect(err).toBeInstanceOf(TypeError);
            expect((err as Error).message).toMatch(/^jsonCodec: cannot encode .* at \$/);
            return;
          }
          // Act
          const decoded = jsonCodec.decode(text);
          // Assert (accepted)
          expectFaithful(value, decoded);
        }),
        { numRuns: 500 },
      );
    });

    it('writes plain JSON, exactly as JSON.stringify does, for every tree of plain data', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          // Arrange: -0 is the one JSON value JSON.stringify changes
          fc.pre(!JSON.stringify(value, (_k, v) => (Object.is(v, -0) ? '-0!' : v)).includes('-0!'));
          // Act
          const text = jsonCodec.encode(value);
          // Assert
          expect(text).toBe(JSON.stringify(value));
        }),
      );
    });
  });

  describe('decode', () => {
    it('throws on text that is not JSON', () => {
      // Arrange + Act + Assert
      expect(() => jsonCodec.decode('{"a":')).toThrow(SyntaxError);
    });

    it.each([
      ['#{"graph":1,"root":[5],"nodes":[]}'],
      ['#{"graph":2,"root":null,"nodes":[]}'],
      ['#{"graph":1,"root":[0],"nodes":[["x"]]}'],
      ['#{"graph":1,"root":[0],"nodes":[["o","a"]]}'],
      ['#{"graph":1,"root":[0],"nodes":[["o",1,2]]}'],
      ['#{"graph":1,"root":[0],"nodes":[["a",{"x":1}]]}'],
      ['#[1]'],
    ])('throws a SyntaxError on malformed graph text %s', (text) => {
      // Arrange + Act + Assert
      expect(() => jsonCodec.decode(text)).toThrow(SyntaxError);
      expect(() => jsonCodec.decode(text)).toThrow(/^jsonCodec: /);
    });
  });

  it('is frozen', () => {
    // Arrange + Act + Assert
    expect(Object.isFrozen(jsonCodec)).toBe(true);
  });
});
