import { Subject, map, of, range, take, tap, throwError } from 'rxjs';
import { barrier, record, values, watermark, type StreamElement } from 'rxjs-sluice';
import { collect, stream } from '../support/marbles';

describe('values', () => {
  it('unwraps records to their values, in order', () => {
    // Arrange
    const payload = { id: 1 };
    const source = stream<unknown>(record('a', 1), record(payload), record(3, 3));

    // Act
    const out = collect(source.pipe(values()));

    // Assert
    expect(out.values).toEqual(['a', payload, 3]);
    expect(out.values[1]).toBe(payload);
    expect(out.completed).toBe(true);
  });

  it('drops watermarks, barriers and unknown element kinds without reordering the records', () => {
    // Arrange
    const latency = { kind: 'latency', marker: 42 } as unknown as StreamElement<string>;
    const source = stream<string>(watermark(0), record('a', 1), barrier(1), latency, record('b', 2), watermark(9));

    // Act
    const out = collect(source.pipe(values()));

    // Assert
    expect(out.values).toEqual(['a', 'b']);
  });

  it('unwraps falsy values too', () => {
    const out = collect(stream<unknown>(record(0), record(''), record(null), record(undefined)).pipe(values()));

    expect(out.values).toEqual([0, '', null, undefined]);
  });

  it('forwards an upstream error unchanged, after the earlier values', () => {
    // Arrange
    const upstream = new Error('upstream');
    const source = new Subject<StreamElement<number>>();
    const out = collect(source.pipe(values()));

    // Act
    source.next(record(1));
    source.error(upstream);

    // Assert
    expect(out.values).toEqual([1]);
    expect(out.error).toBe(upstream);
    expect(out.completed).toBe(false);
  });

  it('forwards a synchronous upstream error', () => {
    const upstream = new Error('upstream');

    const out = collect(throwError(() => upstream).pipe(values()));

    expect(out.error).toBe(upstream);
  });

  it('forwards an error raised mid-stream by an upstream operator, after the earlier values', () => {
    const boom = new Error('boom');

    const out = collect(of(1, 2).pipe(map((v) => {
      if (v === 2) throw boom;
      return record(v);
    }), values()));

    expect(out.values).toEqual([1]);
    expect(out.error).toBe(boom);
  });

  it('unsubscribes from the source when the subscriber unsubscribes', () => {
    // Arrange
    const source = new Subject<StreamElement<number>>();
    const received: number[] = [];
    const subscription = source.pipe(values()).subscribe((v) => received.push(v));

    // Act
    source.next(record(1));
    subscription.unsubscribe();
    source.next(record(2));

    // Assert
    expect(received).toEqual([1]);
    expect(source.observed).toBe(false);
  });

  it('lets a synchronous take(n) downstream stop a synchronous source early', () => {
    // Arrange
    let pulled = 0;
    const source = range(0, 1_000).pipe(map((i) => record(i, i)), tap(() => pulled++));

    // Act
    const out = collect(source.pipe(values(), take(2)));

    // Assert
    expect(out.values).toEqual([0, 1]);
    expect(out.completed).toBe(true);
    expect(pulled).toBe(2);
  });

  it('stops a synchronous source early even when dropped markers come between records', () => {
    // Arrange
    let pulled = 0;
    const source = range(0, 1_000).pipe(
      map((i): StreamElement<number> => (i % 2 === 0 ? record(i) : watermark(i))),
      tap(() => pulled++),
    );

    // Act
    const out = collect(source.pipe(values(), take(2)));

    // Assert: 0 (record), 1 (watermark, dropped), 2 (record)
    expect(out.values).toEqual([0, 2]);
    expect(pulled).toBe(3);
  });
});
