import { TestScheduler } from 'rxjs/testing';
import { of, range, take, toArray, lastValueFrom, timer, map } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, record, watermark, toRecords, values, type StreamElement } from 'rxjs-sluice';

const ts = () => new TestScheduler((a, e) => expect(a).toEqual(e));

describe('smoke', () => {
  it('ordered flink eventtime', () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<StreamElement<number>>('(abcd|)', { a: record(1, 1), b: record(2, 2), c: watermark(2), d: record(3, 3) });
      const out = src.pipe(asyncWaitOrdered((x) => timer(10 - x).pipe(map(() => 2 * x)), { capacity: 2 }));
      expectObservable(out).toBe('---------(abc)--(d|)', { a: record(2, 1), b: record(4, 2), c: watermark(2), d: record(6, 3) });
    });
  });
  it('unordered flink eventtime', () => {
    ts().run(({ cold, expectObservable }) => {
      const src = cold<StreamElement<number>>('(abcd|)', { a: record(1, 1), b: record(2, 2), c: watermark(2), d: record(3, 3) });
      const out = src.pipe(asyncWaitUnordered((x) => timer(10 - x).pipe(map(() => 2 * x)), { capacity: 2 }));
      expectObservable(out).toBe('--------a(bc)--(d|)', { a: record(4, 2), b: record(2, 1), c: watermark(2), d: record(6, 3) });
    });
  });
  it('promise flood', async () => {
    const out = await lastValueFrom(range(0, 10000).pipe(toRecords(), asyncWaitOrdered((x) => Promise.resolve(2 * x)), values(), toArray()));
    expect(out).toEqual(Array.from({ length: 10000 }, (_, i) => 2 * i));
  });
  it('take(2) stops calls', () => {
    let calls = 0;
    const out: number[] = [];
    range(0, 1000).pipe(toRecords(), asyncWaitUnordered((x) => { calls++; return of(x); }), values(), take(2)).subscribe((v) => out.push(v));
    expect(out).toEqual([0, 1]);
    expect(calls).toBe(2);
  });
});
