import { from, map, range, take, tap, throwError } from 'rxjs';
import { barrier, filterRecords, record, watermark, type StreamElement } from 'rxjs-sluice';
import { collect, stream } from '../support/marbles';

describe('filterRecords', () => {
  it('keeps only records whose value passes the predicate, with their timestamps', () => {
    // Arrange
    const source = stream<number>(record(1, 10), record(2, 20), record(3), record(4));

    // Act
    const out = collect(source.pipe(filterRecords((v) => v % 2 === 0)));

    // Assert
    expect(out.values).toEqual([record(2, 20), record(4)]);
    expect('timestamp' in out.values[1]!).toBe(false);
    expect(out.completed).toBe(true);
  });

  it('emits the very same record objects it keeps', () => {
    const kept = record(2, 2);

    const out = collect(stream<number>(record(1, 1), kept).pipe(filterRecords((v) => v === 2)));

    expect(out.values[0]).toBe(kept);
  });

  it('passes the value and the timestamp (or undefined) to the predicate', () => {
    const predicate = jest.fn(() => true);

    collect(stream<number>(record(1, 10), record(2)).pipe(filterRecords(predicate)));

    expect(predicate.mock.calls).toEqual([[1, 10], [2, undefined]]);
  });

  it('always passes watermarks, barriers and unknown element kinds, in place, without calling the predicate', () => {
    // Arrange
    const w = watermark(5);
    const b = barrier(1);
    const latency = { kind: 'latency', marker: 42 } as unknown as StreamElement<number>;
    const predicate = jest.fn(() => false);

    // Act
    const out = collect(stream<number>(record(1, 1), w, record(2, 2), b, latency).pipe(filterRecords(predicate)));

    // Assert
    expect(out.values).toEqual([w, b, latency]);
    expect(out.values[0]).toBe(w);
    expect(out.values[1]).toBe(b);
    expect(out.values[2]).toBe(latency);
    expect(predicate).toHaveBeenCalledTimes(2);
  });

  it('errors the output with what the predicate throws, after the earlier results', () => {
    // Arrange
    const boom = new Error('boom');
    let pulled = 0;
    const source = from([1, 2, 3, 4]).pipe(map((v) => record(v, v)), tap(() => pulled++));

    // Act
    const out = collect(source.pipe(filterRecords((v) => {
      if (v === 3) throw boom;
      return true;
    })));

    // Assert
    expect(out.values).toEqual([record(1, 1), record(2, 2)]);
    expect(out.error).toBe(boom);
    expect(out.completed).toBe(false);
    expect(pulled).toBe(3);
  });

  it('forwards an upstream error unchanged', () => {
    const upstream = new Error('upstream');

    const out = collect(throwError(() => upstream).pipe(filterRecords(() => true)));

    expect(out.error).toBe(upstream);
  });

  it.each([
    ['undefined', undefined],
    ['a number', 5],
    ['a string', 'even'],
  ])('throws a TypeError at creation when the predicate is %s', (_label, predicate) => {
    expect(() => filterRecords(predicate as never)).toThrow(TypeError);
    expect(() => filterRecords(predicate as never)).toThrow(/filterRecords/);
  });

  it('lets a synchronous take(n) downstream stop a synchronous source early', () => {
    // Arrange
    let pulled = 0;
    const source = range(0, 1_000).pipe(map((i) => record(i, i)), tap(() => pulled++));

    // Act
    const out = collect(source.pipe(filterRecords((v) => v % 2 === 0), take(2)));

    // Assert: 0 and 2 are kept, so the source is pulled for 0, 1, 2 only.
    expect(out.values).toEqual([record(0, 0), record(2, 2)]);
    expect(out.completed).toBe(true);
    expect(pulled).toBe(3);
  });
});
