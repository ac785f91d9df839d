import { type Observable } from 'rxjs';
import { asyncWaitMetrics, asyncWaitOrdered, barrier, record, watermark, type AsyncWaitCounters } from 'rxjs-sluice';
import { ZERO_OPTIONAL_COUNTERS, delayedTimesTen, newScheduler, type Call, type El } from '../support/marbles';

/**
 * Marble tests of what only asyncWaitOrdered does (docs/async-io.md): input order for every element kind but
 * barriers, head-of-line blocking of results, capacity slots held behind a slow head. The behaviour it shares with
 * asyncWaitUnordered is tested for both in asyncWait.shared.spec.ts. In `run` mode one frame is 1 ms of virtual
 * time; `Nms` advances N frames, and every character of a `(...)` group advances one frame too.
 */

describe('asyncWaitOrdered', () => {
  describe('ordering', () => {
    it('emits results in input order even when later inputs complete first', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: 1 takes 6 ms, 2 takes 1 ms, 3 takes 2 ms; all done by frame 6.
        const source = cold<El>('a-b-c|', { a: record(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 6, 2: 1, 3: 2 }, calls)));
        // Assert: 2 (done at 3) and 3 (done at 6) wait for 1 (done at 6).
        expectObservable(out).toBe('6ms (ABC|)', { A: record(10), B: record(20), C: record(30) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 2], [3, 4]]);
    });

    it('keeps watermarks and unknown element kinds in their input positions, while a barrier goes out on arrival', () => {
      const scheduler = newScheduler();
      const custom = { kind: 'custom', payload: 'x' } as unknown as El;
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a@0 (35 ms), W@10, b@20 (5 ms), B@30, c@40 (15 ms), X@50, end@51.
        const source = cold<El>('a 9ms W 9ms b 9ms B 9ms c 9ms X|', {
          a: record(1), W: watermark(5), b: record(2), B: barrier(7), c: record(3), X: custom,
        });
        // Act
        const out = source.pipe(asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 35, 2: 5, 3: 15 })));
        // Assert: B overtakes a, W and b (all held) at 30; W and b wait behind a until 35; c and X go at 55.
        expectObservable(out).toBe('30ms B 4ms (AWb) 15ms (cX|)', {
          A: record(10), W: watermark(5), b: record(20), B: barrier(7), c: record(30), X: custom,
        });
      });
    });

    it('emits a watermark at once when nothing is held ahead of it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: W@0 with nothing held, a@10 (5 ms), V@20 after a has gone out at 15.
        const source = cold<El>('W 9ms a 9ms V|', { W: watermark(1), a: record(1), V: watermark(2) });
        // Act
        const out = source.pipe(asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 5 })));
        // Assert
        expectObservable(out).toBe('W 14ms A 4ms V|', { W: watermark(1), A: record(10), V: watermark(2) });
      });
    });

    it('holds a watermark behind an unfinished record', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a@0 takes 10 ms, W arrives at 2.
        const source = cold<El>('a-W|', { a: record(1), W: watermark(1) });
        // Act
        const out = source.pipe(asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 10 })));
        // Assert
        expectObservable(out).toBe('10ms (AW|)', { A: record(10), W: watermark(1) });
      });
    });
  });

  describe('capacity', () => {
    it('holds at most `capacity` records; later inputs wait in FIFO order and start when a slot frees', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2, four inputs at 0, each call takes 10 ms.
        const source = cold<El>('(abcd|)', { a: record(1), b: record(2), c: record(3), d: record(4) });
        // Act
        const out = source.pipe(
          asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 10, 2: 10, 3: 10, 4: 10 }, calls), { capacity: 2 }),
        );
        // Assert
        expectObservable(out).toBe('10ms (AB) 6ms (CD|)', { A: record(10), B: record(20), C: record(30), D: record(40) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 10], [4, 10]]);
    });

    it('frees a slot only on emission, so a slow head keeps the slots of finished records behind it', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; a takes 20 ms, b 1 ms (done at 1 but held behind a), c 10 ms.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        // Act
        const out = source.pipe(asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 20, 2: 1, 3: 10 }, calls), { capacity: 2 }));
        // Assert: c starts only at 20, when a (and b) are emitted.
        expectObservable(out).toBe('20ms (AB) 6ms (C|)', { A: record(10), B: record(20), C: record(30) });
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 20]]);
    });
  });

  describe('results', () => {
    it('emits nothing for a call that completes empty, and still keeps the order behind it', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a completes empty at 2; b answers synchronously with two values; c answers at 10.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        const inners: Record<number, Observable<number> | number[]> = {
          1: cold<number>('--|'),
          2: [20, 21],
          3: cold('10ms (z|)', { z: 30 }),
        };
        // Act
        const out = source.pipe(asyncWaitOrdered((x) => inners[x]!));
        // Assert
        expectObservable(out).toBe('--(BC)----(D|)', { B: record(20), C: record(21), D: record(30) });
      });
    });
  });

  describe('metrics', () => {
    it('tracks totals and the inFlight / waiting / buffered gauges over virtual time', () => {
      const scheduler = newScheduler();
      const metrics = asyncWaitMetrics();
      const snaps: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; a takes 20 ms, b 5 ms (then waits for a), c waits for a slot then takes 5 ms.
        const source = cold<El>('(abc|)', { a: record(1), b: record(2), c: record(3) });
        for (const at of [1, 10, 22, 30]) scheduler.schedule(() => snaps.push(metrics.snapshot()), at);
        // Act
        const out = source.pipe(asyncWaitOrdered(delayedTimesTen(scheduler, { 1: 20, 2: 5, 3: 5 }), { capacity: 2, metrics }));
        // Assert
        expectObservable(out).toBe('20ms (AB) 1ms (C|)', { A: record(10), B: record(20), C: record(30) });
      });
      const base = { failed: 0, timedOut: 0, retried: 0, watermarksCoalesced: 0, ...ZERO_OPTIONAL_COUNTERS };
      // c waited beyond capacity from 0 until its admission at 20: backPressureTime reads live, so 1 at 1 and 10 at
      // 10 (c still queued), and 20 from then on.
      expect(snaps).toEqual([
        { ...base, backPressureTime: 1, started: 2, succeeded: 0, emitted: 0, inFlight: 2, waiting: 0, buffered: 1, oldestInFlightSince: 0, oldestInFlightAge: 1 },
        { ...base, backPressureTime: 10, started: 2, succeeded: 1, emitted: 0, inFlight: 1, waiting: 1, buffered: 1, oldestInFlightSince: 0, oldestInFlightAge: 10 },
        { ...base, backPressureTime: 20, started: 3, succeeded: 2, emitted: 2, inFlight: 1, waiting: 0, buffered: 0, oldestInFlightSince: 20, oldestInFlightAge: 2 },
        { ...base, backPressureTime: 20, started: 3, succeeded: 3, emitted: 3, inFlight: 0, waiting: 0, buffered: 0, oldestInFlightSince: null, oldestInFlightAge: 0 },
      ]);
      expect(Object.isFrozen(snaps[0])).toBe(true);
    });
  });
});
