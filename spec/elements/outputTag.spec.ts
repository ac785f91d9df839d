import {
  barrier, isBarrier, isRecord, isSideOutput, isWatermark, outputTag, record, sideOutput, watermark, type StreamElement,
} from 'rxjs-sluice';

describe('outputTag()', () => {
  it('returns a frozen { name }', () => {
    // Act
    const tag = outputTag<number>('late');

    // Assert
    expect(tag).toEqual({ name: 'late' });
    expect(Object.keys(tag)).toEqual(['name']);
    expect(Object.isFrozen(tag)).toBe(true);
  });

  it('returns a new but equal tag for the same name', () => {
    const a = outputTag<number>('x');
    const b = outputTag<number>('x');

    expect(a).not.toBe(b);
    expect(a).toEqual(b);
  });

  it.each<[string, unknown]>([
    ['an empty string', ''],
    ['a number', 5],
    ['undefined', undefined],
    ['null', null],
    ['an object', { name: 'x' }],
  ])('throws a TypeError for %s', (_label, name) => {
    // Act
    const create = () => outputTag(name as string);

    // Assert
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/outputTag/);
  });
});

describe('sideOutput()', () => {
  const late = outputTag<{ id: number } | string>('late');

  it('builds a side-output element carrying the tag name, value and timestamp', () => {
    // Arrange
    const value = { id: 1 };

    // Act
    const s = sideOutput(late, value, 1_000);

    // Assert
    expect(s).toEqual({ kind: 'sideOutput', tag: 'late', value: { id: 1 }, timestamp: 1_000 });
    expect(s.value).toBe(value);
  });

  it('has no timestamp key when no timestamp (or undefined) is given', () => {
    // Act
    const absent = sideOutput(late, 'a');
    const undef = sideOutput(late, 'b', undefined);

    // Assert
    expect(absent).toEqual({ kind: 'sideOutput', tag: 'late', value: 'a' });
    expect(Object.keys(absent).sort()).toEqual(['kind', 'tag', 'value']);
    expect('timestamp' in undef).toBe(false);
  });

  it('keeps a zero or negative timestamp', () => {
    expect(sideOutput(late, 'a', 0)).toEqual({ kind: 'sideOutput', tag: 'late', value: 'a', timestamp: 0 });
    expect(sideOutput(late, 'b', -5)).toEqual({ kind: 'sideOutput', tag: 'late', value: 'b', timestamp: -5 });
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['a tag with an empty name', { name: '' }],
    ['a string', 'late'],
  ])('throws a TypeError when the tag is %s', (_label, tag) => {
    // Act
    const create = () => sideOutput(tag as never, 1, 1);

    // Assert
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/sideOutput/);
  });

  it.each<[string, unknown]>([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['a string', '5'],
    ['null', null],
  ])('throws a TypeError for a %s timestamp', (_label, timestamp) => {
    // Act
    const create = () => sideOutput(late, 'x', timestamp as number);

    // Assert
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/timestamp/);
  });
});

describe('isSideOutput()', () => {
  const tag = outputTag<number>('t');
  const unknownKind = { kind: 'latency', marker: 1 } as unknown as StreamElement<number>;
  const cases: [string, StreamElement<number>, boolean, boolean, boolean, boolean][] = [
    ['side output', sideOutput(tag, 1, 1), true, false, false, false],
    ['side output without timestamp', sideOutput(tag, 1), true, false, false, false],
    ['record', record(1, 1), false, true, false, false],
    ['watermark', watermark(1), false, false, true, false],
    ['barrier', barrier(1), false, false, false, true],
    ['unknown kind', unknownKind, false, false, false, false],
  ];

  it.each(cases)('classifies a %s', (_label, element, asSide, asRecord, asWatermark, asBarrier) => {
    expect(isSideOutput(element)).toBe(asSide);
    expect(isRecord(element)).toBe(asRecord);
    expect(isWatermark(element)).toBe(asWatermark);
    expect(isBarrier(element)).toBe(asBarrier);
  });

  it('narrows the type so a filtered stream can read tags and values', () => {
    // Arrange
    const elements: StreamElement<number>[] = [record(1), sideOutput(tag, 2, 2), watermark(2), sideOutput(outputTag<string>('u'), 'v')];

    // Act
    const sides = elements.filter(isSideOutput).map((s) => [s.tag, s.value]);

    // Assert
    expect(sides).toEqual([['t', 2], ['u', 'v']]);
  });
});

describe('JSON serialisation of side outputs', () => {
  it('round-trips side-output elements, with and without timestamps, among the other kinds', () => {
    // Arrange
    const tag = outputTag<{ id: number } | string>('late');
    const elements: StreamElement<{ id: number }>[] = [
      record({ id: 1 }, 10),
      sideOutput(tag, { id: 2 }, 11),
      sideOutput(tag, 'no-time'),
      watermark(11),
      barrier(1),
    ];

    // Act
    const parsed = JSON.parse(JSON.stringify(elements)) as object[];

    // Assert
    expect(parsed).toEqual(elements);
    expect('timestamp' in parsed[2]!).toBe(false);
    expect(isSideOutput(parsed[1] as StreamElement<unknown>)).toBe(true);
  });
});
