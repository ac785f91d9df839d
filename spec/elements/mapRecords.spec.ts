import { from, map, range, take, tap, throwError } from 'rxjs';
import { barrier, mapRecords, record, watermark, type StreamElement } from 'rxjs-sluice';
import { collect, stream } from '../support/marbles';

describe('mapRecords', () => {
  it('maps record values and keeps their timestamps', () => {
    // Arrange
    const source = stream<number>(record(1, 10), record(2, 20));

    // Act
    const out = collect(source.pipe(mapRecords((v) => `v${v}`)));

    // Assert
    expect(out.values).toEqual([record('v1', 10), record('v2', 20)]);
    expect(out.completed).toBe(true);
  });

  it('adds no timestamp key to a record that had none', () => {
    const out = collect(stream<number>(record(1)).pipe(mapRecords((v) => v + 1)));

    expect(out.values).toEqual([{ kind: 'record', value: 2 }]);
    expect('timestamp' in out.values[0]!).toBe(false);
  });

  it('passes the value and the timestamp (or undefined) to project', () => {
    const project = jest.fn((v: number) => v);

    collect(stream<number>(record(1, 10), record(2)).pipe(mapRecords(project)));

    expect(project.mock.calls).toEqual([[1, 10], [2, undefined]]);
  });

  it('passes watermarks, barriers and unknown element kinds through unchanged and in place', () => {
    // Arrange
    const w = watermark(5);
    const b = barrier(1);
    const latency = { kind: 'latency', marker: 42 } as unknown as StreamElement<number>;
    const project = jest.fn((v: number) => v * 10);

    // Act
    const out = collect(stream<number>(w, record(1, 1), b, latency, record(2, 2)).pipe(mapRecords(project)));

    // Assert
    expect(out.values).toEqual([w, record(10, 1), b, latency, record(20, 2)]);
    expect(out.values[0]).toBe(w);
    expect(out.values[2]).toBe(b);
    expect(out.values[3]).toBe(latency);
    expect(project).toHaveBeenCalledTimes(2);
  });

  it('does not mutate the input record', () => {
    const input = record(1, 10);

    collect(stream<number>(input).pipe(mapRecords((v) => v + 1)));

    expect(input).toEqual({ kind: 'record', value: 1, timestamp: 10 });
  });

  it('errors the output with what project throws, after the earlier results', () => {
    // Arrange
    const boom = new Error('boom');
    let pulled = 0;
    const source = from([1, 2, 3, 4]).pipe(map((v) => record(v, v)), tap(() => pulled++));

    // Act
    const out = collect(source.pipe(mapRecords((v) => {
      if (v === 2) throw boom;
      return v;
    })));

    // Assert
    expect(out.values).toEqual([record(1, 1)]);
    expect(out.error).toBe(boom);
    expect(out.completed).toBe(false);
    expect(pulled).toBe(2);
  });

  it('forwards an upstream error unchanged', () => {
    const upstream = new Error('upstream');

    const out = collect(throwError(() => upstream).pipe(mapRecords((v: number) => v)));

    expect(out.error).toBe(upstream);
  });

  it.each([
    ['undefined', undefined],
    ['a number', 5],
    ['an object', {}],
  ])('throws a TypeError at creation when project is %s', (_label, project) => {
    expect(() => mapRecords(project as never)).toThrow(TypeError);
    expect(() => mapRecords(project as never)).toThrow(/mapRecords/);
  });

  it('lets a synchronous take(n) downstream stop a synchronous source early', () => {
    // Arrange
    let pulled = 0;
    const source = range(0, 1_000).pipe(map((i) => record(i, i)), tap(() => pulled++));

    // Act
    const out = collect(source.pipe(mapRecords((v) => v * 2), take(2)));

    // Assert
    expect(out.values).toEqual([record(0, 0), record(2, 1)]);
    expect(out.completed).toBe(true);
    expect(pulled).toBe(2);
  });
});
