import { from, of, range, take, tap, throwError } from 'rxjs';
import { record, toRecords, watermark } from 'rxjs-sluice';
import { collect } from '../support/marbles';

describe('toRecords', () => {
  it('wraps plain values as records without a timestamp key', () => {
    // Act
    const out = collect(of('a', 'b').pipe(toRecords()));

    // Assert
    expect(out.values).toEqual([{ kind: 'record', value: 'a' }, { kind: 'record', value: 'b' }]);
    expect(out.values.every((r) => !('timestamp' in r))).toBe(true);
    expect(out.completed).toBe(true);
  });

  it('keeps each value by reference', () => {
    const value = { id: 1 };

    const out = collect(of(value).pipe(toRecords()));

    expect(out.values[0]!.value).toBe(value);
  });

  it('stamps each record with the timestamp timestampOf returns', () => {
    // Arrange
    const events = [{ id: 1, at: 1_000 }, { id: 2, at: 0 }];

    // Act
    const out = collect(from(events).pipe(toRecords((e) => e.at)));

    // Assert
    expect(out.values).toEqual([record(events[0], 1_000), record(events[1], 0)]);
  });

  it('passes the value and its index to timestampOf', () => {
    const timestampOf = jest.fn((_v: string, i: number) => i * 10);

    const out = collect(of('a', 'b', 'c').pipe(toRecords(timestampOf)));

    expect(timestampOf.mock.calls).toEqual([['a', 0], ['b', 1], ['c', 2]]);
    expect(out.values).toEqual([record('a', 0), record('b', 10), record('c', 20)]);
  });

  it('treats its input as plain values: an element-shaped value is wrapped, not passed through', () => {
    // toRecords is the entry from a plain Rx stream; it is not element-aware.
    const w = watermark(5);

    const out = collect(from<unknown[]>([w, 1]).pipe(toRecords()));

    expect(out.values).toEqual([{ kind: 'record', value: w }, { kind: 'record', value: 1 }]);
    expect(out.values[0]!.value).toBe(w);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['a string', '5'],
    ['null', null],
  ])('errors the output with a TypeError when timestampOf returns %s, after the earlier records', (_label, bad) => {
    // Arrange
    let pulled = 0;
    const source = of(1, 2, 3).pipe(tap(() => pulled++));

    // Act
    const out = collect(source.pipe(toRecords((v) => (v === 2 ? (bad as unknown as number) : v))));

    // Assert
    expect(out.values).toEqual([record(1, 1)]);
    expect(out.error).toBeInstanceOf(TypeError);
    expect(out.completed).toBe(false);
    expect(pulled).toBe(2);
  });

  it('errors the output with a TypeError when timestampOf returns undefined (documented: it must return a finite number)', () => {
    // Arrange
    const source = of(1, 2, 3);

    // Act
    const out = collect(source.pipe(toRecords((v) => (v === 2 ? (undefined as unknown as number) : v))));

    // Assert: not a silently timestamp-less record in the middle of an event-time stream.
    expect(out.values).toEqual([record(1, 1)]);
    expect(out.error).toBeInstanceOf(TypeError);
  });

  it('errors the output with what timestampOf throws', () => {
    const boom = new Error('boom');

    const out = collect(of(1, 2).pipe(toRecords((v) => {
      if (v === 2) throw boom;
      return v;
    })));

    expect(out.values).toEqual([record(1, 1)]);
    expect(out.error).toBe(boom);
  });

  it('forwards an upstream error unchanged', () => {
    const upstream = new Error('upstream');

    const out = collect(throwError(() => upstream).pipe(toRecords()));

    expect(out.error).toBe(upstream);
  });

  it.each([
    ['a number', 5],
    ['a string', 'at'],
    ['null', null],
  ])('throws a TypeError at creation when timestampOf is %s', (_label, timestampOf) => {
    expect(() => toRecords(timestampOf as never)).toThrow(TypeError);
    expect(() => toRecords(timestampOf as never)).toThrow(/toRecords/);
  });

  it.each([
    ['without timestampOf', toRecords<number>()],
    ['with timestampOf', toRecords<number>((v) => v)],
  ])('lets a synchronous take(n) downstream stop a synchronous source early (%s)', (_label, operator) => {
    // Arrange
    let pulled = 0;
    const source = range(0, 1_000).pipe(tap(() => pulled++));

    // Act
    const out = collect(source.pipe(operator, take(2)));

    // Assert
    expect(out.values.map((r) => r.value)).toEqual([0, 1]);
    expect(out.completed).toBe(true);
    expect(pulled).toBe(2);
  });
});
