import { TestScheduler } from 'rxjs/testing';
import { concatMap, from, interval, map, take, timer } from 'rxjs';
import { asyncBatchMetrics, asyncBatchUnordered, record, watermark, type StreamElement } from 'rxjs-sluice';

/**
 * The watermark choice of docs/batching.md, measured: a batch spans watermarks rather than being flushed by them.
 * 10 records per ms, a watermark after each millisecond's records, a 2 ms service, linger 5, maxBatchSize 100.
 * The docs quote these figures; this spec keeps them true.
 */
describe('batches spanning watermarks (docs/batching.md, "Watermarks")', () => {
  it('keep batches of about 60 records, and each watermark leaves at most linger + the call (7 ms) after it arrived', () => {
    const scheduler = new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
    scheduler.run(({ flush }) => {
      // Arrange
      const metrics = asyncBatchMetrics();
      const arrivedAt = new Map<number, number>();
      const delays: number[] = [];
      const input = interval(1).pipe(take(1_000), concatMap((ms) =>
        from<StreamElement<number>[]>([...Array.from({ length: 10 }, (_, i) => record(ms * 10 + i, ms)), watermark(ms)])));
      // Act
      input.pipe(
        map((e) => (e.kind === 'watermark' && arrivedAt.set(e.timestamp, scheduler.now()), e)),
        asyncBatchUnordered((xs: number[]) => timer(2).pipe(map(() => xs)), { maxBatchSize: 100, linger: 5, maxInFlightBatches: 8, metrics }),
      ).subscribe((e) => {
        if (e.kind === 'watermark') delays.push(scheduler.now() - arrivedAt.get(e.timestamp)!);
      });
      flush();
      // Assert: flushing at each watermark would have made batches of 10 (6x the calls) to save the 5 ms of linger
      expect(delays).toHaveLength(1_000);
      expect(Math.max(...delays)).toBe(7);
      expect(metrics.meanBatchSize).toBeGreaterThan(59);
      expect(metrics.largestBatch).toBe(60);
      expect(metrics.flushes.linger).toBeGreaterThan(160);
    });
  });
});
