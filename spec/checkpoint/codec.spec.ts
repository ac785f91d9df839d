import { jsonCodec } from 'rxjs-sluice';

/**
 * jsonCodec, the default checkpoint codec: plain JSON made strict. Everything that JSON.stringify would silently
 * change (undefined, NaN, Infinity, Dates, Maps, class instances, holes) or cannot write (cycles, bigints) is refused
 * with a TypeError naming the path of the first offending value.
 */

class Point {
  constructor(readonly x: number) {}
}

describe('jsonCodec', () => {
  it('is named "json"', () => {
    // Arrange + Act + Assert
    expect(jsonCodec.name).toBe('json');
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['true', true],
    ['a finite number', -12.5],
    ['a string', 'héllo "quoted"\n'],
    ['an empty array', []],
    ['an empty object', {}],
    ['nested plain data', { a: [1, 'two', null, false, { b: [[]] }], c: { d: 0 } }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
    ['a shared (non-cyclic) reference', (() => { const shared = { n: 1 }; return { x: shared, y: [shared, shared] }; })()],
  ])('encodes %s exactly as JSON.stringify does, and decodes it back', (_name, value) => {
    // Arrange + Act
    const text = jsonCodec.encode(value);
    // Assert
    expect(text).toBe(JSON.stringify(value));
    expect(jsonCodec.decode(text)).toEqual(value);
  });

  const cyclic = (): unknown => {
    const a: { b: { back?: unknown } } = { b: {} };
    a.b.back = a;
    return { a };
  };

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
    ['a cycle', cyclic, '$.a.b.back', 'a cycle'],
    ['an array hole', () => ({ a: [1, , 3] }), '$.a[1]', 'an array hole'], // eslint-disable-line no-sparse-arrays
    ['a bigint', () => ({ big: 10n }), '$.big', '10n'],
    ['a function', () => ({ f: function named() {} }), '$.f', 'a function (named)'],
    ['a symbol', () => ({ s: Symbol('x') }), '$.s', 'Symbol(x)'],
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

  it('decode throws on text that is not JSON', () => {
    // Arrange + Act + Assert
    expect(() => jsonCodec.decode('{"a":')).toThrow(SyntaxError);
  });

  it('is frozen', () => {
    // Arrange + Act + Assert
    expect(Object.isFrozen(jsonCodec)).toBe(true);
  });
});
