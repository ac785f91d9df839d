import {
  barrier, isBarrier, isRecord, isWatermark, record, watermark, type StreamElement,
} from 'rxjs-sluice';

describe('record()', () => {
  it('creates a record without a timestamp key when no timestamp is given', () => {
    // Act
    const r = record('click');

    // Assert
    expect(r).toEqual({ kind: 'record', value: 'click' });
    expect(Object.keys(r).sort()).toEqual(['kind', 'value']);
    expect('timestamp' in r).toBe(false);
  });

  it('treats an explicit undefined timestamp like an absent one', () => {
    const r = record(1, undefined);

    expect('timestamp' in r).toBe(false);
  });

  it('creates a record carrying the given timestamp', () => {
    const r = record({ id: 7 }, 1_000);

    expect(r).toEqual({ kind: 'record', value: { id: 7 }, timestamp: 1_000 });
  });

  it('keeps a zero or negative timestamp', () => {
    expect(record('a', 0)).toEqual({ kind: 'record', value: 'a', timestamp: 0 });
    expect(record('b', -5)).toEqual({ kind: 'record', value: 'b', timestamp: -5 });
  });

  it('keeps the value by reference (no copy)', () => {
    const value = { nested: [1, 2] };

    expect(record(value, 1).value).toBe(value);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['a string', '5'],
    ['null', null],
  ])('throws a TypeError for a %s timestamp', (_label, timestamp) => {
    expect(() => record('x', timestamp as unknown as number)).toThrow(TypeError);
    expect(() => record('x', timestamp as unknown as number)).toThrow(/timestamp/);
  });
});

describe('watermark()', () => {
  it('creates a watermark', () => {
    const w = watermark(5_000);

    expect(w).toEqual({ kind: 'watermark', timestamp: 5_000 });
    expect(Object.keys(w).sort()).toEqual(['kind', 'timestamp']);
  });

  it('allows +Infinity and -Infinity', () => {
    expect(watermark(Infinity)).toEqual({ kind: 'watermark', timestamp: Infinity });
    expect(watermark(-Infinity)).toEqual({ kind: 'watermark', timestamp: -Infinity });
  });

  it.each([
    ['NaN', NaN],
    ['a string', '5'],
    ['undefined', undefined],
    ['null', null],
  ])('throws a TypeError for a %s timestamp', (_label, timestamp) => {
    expect(() => watermark(timestamp as unknown as number)).toThrow(TypeError);
    expect(() => watermark(timestamp as unknown as number)).toThrow(/timestamp/);
  });
});

describe('barrier()', () => {
  it('creates a checkpoint barrier', () => {
    const b = barrier(7);

    expect(b).toEqual({ kind: 'barrier', checkpointId: 7 });
    expect(Object.keys(b).sort()).toEqual(['checkpointId', 'kind']);
  });

  it('accepts 0 and the largest safe integer', () => {
    expect(barrier(0)).toEqual({ kind: 'barrier', checkpointId: 0 });
    expect(barrier(Number.MAX_SAFE_INTEGER).checkpointId).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['unsafe', Number.MAX_SAFE_INTEGER + 1],
    ['a string', '1'],
    ['undefined', undefined],
  ])('throws a TypeError for a %s checkpoint id', (_label, id) => {
    expect(() => barrier(id as unknown as number)).toThrow(TypeError);
    expect(() => barrier(id as unknown as number)).toThrow(/checkpointId/);
  });
});

describe('JSON serialisation', () => {
  it('round-trips a mixed stream of records, watermarks and barriers unchanged', () => {
    // Arrange
    const stream: StreamElement<{ id: number } | string>[] = [
      record({ id: 1 }, 10),
      record('no-time'),
      watermark(10),
      barrier(3),
      record({ id: 2 }, -20),
      watermark(-5),
    ];

    // Act
    const parsed = JSON.parse(JSON.stringify(stream)) as unknown;

    // Assert
    expect(parsed).toEqual(stream);
    expect('timestamp' in (parsed as object[])[1]!).toBe(false);
  });

  it('writes an infinite watermark timestamp as null, as documented', () => {
    expect(JSON.parse(JSON.stringify(watermark(Infinity)))).toEqual({ kind: 'watermark', timestamp: null });
  });
});

describe('type guards', () => {
  const unknownKind = { kind: 'latency', marker: 1 } as unknown as StreamElement<number>;
  const cases: [string, StreamElement<number>, boolean, boolean, boolean][] = [
    ['record', record(1, 1), true, false, false],
    ['record without timestamp', record(1), true, false, false],
    ['watermark', watermark(1), false, true, false],
    ['barrier', barrier(1), false, false, true],
    ['unknown kind', unknownKind, false, false, false],
  ];

  it.each(cases)('classify a %s', (_label, element, asRecord, asWatermark, asBarrier) => {
    expect(isRecord(element)).toBe(asRecord);
    expect(isWatermark(element)).toBe(asWatermark);
    expect(isBarrier(element)).toBe(asBarrier);
  });

  it('narrow the type so a filtered stream can read record values', () => {
    const stream: StreamElement<number>[] = [record(1), watermark(2), record(3, 3), barrier(4)];

    const recordValues = stream.filter(isRecord).map((r) => r.value);

    expect(recordValues).toEqual([1, 3]);
  });
});
