import { Subject, throwError, type Observable } from 'rxjs';
import {
  AsyncTimeoutError, asyncWaitMetrics, asyncWaitUnordered, record, watermark,
  type AsyncWaitCounters,
} from 'rxjs-sluice';
import { legend } from 'rxjs-sluice/testing';
import {
  ZERO_OPTIONAL_COUNTERS, captureError, delayedTimesTen, newScheduler, timeoutErrorLike, withElementMarbles, type Call, type El,
} from '../support/marbles';

/**
 * Marble tests of what only asyncWaitUnordered does (docs/async-io.md): completion order, every non-record
 * element as a boundary, capacity slots freed on emission, faster records passing slow, timed-out or retrying
 * ones. The behaviour it shares with asyncWaitOrdered is tested for both in asyncWait.shared.spec.ts. In `run`
 * mode one frame is 1 ms of virtual time; `Nms` advances N frames, and every character of a `(...)` group
 * advances one frame too.
 */

describe('asyncWaitUnordered', () => {
  describe('completion order and boundaries', () => {
    it('emits results in completion order when there are no watermarks', () => {
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: 1 takes 30 ms, 2 takes 10 ms, 3 takes 20 ms.
        const source = cold<number>('(abc|)', 'a=1 b=2 c=3');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 30, 2: 10, 3: 20 })));
        // Assert
        expectElements(out).toBe('10ms B 9ms C 9ms (A|)', 'A=10 B=20 C=30');
      });
    });

    it('emits a watermark only after every record before it, and nothing after it before it', () => {
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: a 30 ms, b 10 ms | W | c 5 ms (done early, but behind W), d 40 ms.
        const source = cold<number>('(abWcd|)', 'a=1 b=2 W2 c=3 d=4');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 30, 2: 10, 3: 5, 4: 40 })));
        // Assert
        expectElements(out).toBe('10ms B 19ms (AWC) 5ms (D|)', 'A=10 B=20 W2 C=30 D=40');
      });
    });

    it('emits the records held behind a watermark in their completion order once the watermark has passed', () => {
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: a 30 ms | W | b 20 ms, c 10 ms: c completes before b, both before a.
        const source = cold<number>('(aWbc|)', 'a=1 W1 b=2 c=3');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 30, 2: 20, 3: 10 })));
        // Assert: within the segment after W, completion order (c before b) still holds.
        expectElements(out).toBe('30ms (AWCB|)', 'A=10 W1 B=20 C=30');
      });
    });

    it('treats unknown element kinds as boundaries too, but not barriers: a barrier goes out on arrival', () => {
      const custom = { kind: 'custom', payload: 'x' } as unknown as El;
      withElementMarbles((_m, scheduler, { cold, expectObservable }) => {
        // Arrange: a 20 ms, B, b 5 ms | X | c 1 ms. The unknown kind needs RxJS's own value map.
        const source = cold<El>('(aBbXc|)', { ...legend<number>('a=1 B3 b=2 c=3'), X: custom });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 5, 3: 1 })));
        // Assert: B leaves at 0, ahead of the in-flight a; b, no longer behind a boundary, leaves when done at 5;
        // c (done at 1) may not cross X, which waits for a at 20.
        expectObservable(out).toBe('B 4ms b 14ms (AXc|)', { ...legend('A=10 B3 b=20 c=30'), X: custom });
      });
    });

    it('keeps side-output records from an upstream keyedTimers in place, as boundaries', () => {
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: a 20 ms | S (side output) | b 1 ms: b is done first but may not cross S.
        const source = cold<number>('(aSb|)', 'a=1 S=late:7@1 b=2');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 1 })));
        // Assert
        expectElements(out).toBe('20ms (ASB|)', 'A=10 S=late:7@1 B=20');
      });
    });

    it('emits a watermark at once when nothing is held ahead of it, and holds it behind an unfinished record', () => {
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: W@0 (nothing held), a@5 (10 ms), V@10 (a still running), U@20 (nothing held).
        const source = cold<number>('W 4ms a 4ms V 9ms U|', 'W1 a=1 V=W2 U=W3');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10 })));
        // Assert
        expectElements(out).toBe('W 14ms (AV) 1ms U|', 'W1 A=10 V=W2 U=W3');
      });
    });
  });

  describe('capacity', () => {
    it('frees a slot as soon as a record is emitted, even while an earlier record is still in flight', () => {
      const calls: Call[] = [];
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: capacity 2; a 20 ms, b 1 ms, c 1 ms (waits for a slot).
        const source = cold<number>('(abc|)', 'a=1 b=2 c=3');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 1, 3: 1 }, calls), { capacity: 2 }));
        // Assert: c takes b's slot at 1.
        expectElements(out).toBe('-BC 17ms (A|)', 'A=10 B=20 C=30');
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 1]]);
    });

    it('keeps the slots of finished records that are held behind a watermark', () => {
      const calls: Call[] = [];
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: capacity 2; a 20 ms | W | b 1 ms (done at 1, held), c 10 ms (waits for a slot).
        const source = cold<number>('(aWbc|)', 'a=1 W1 b=2 c=3');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 1, 3: 10 }, calls), { capacity: 2 }));
        // Assert
        expectElements(out).toBe('20ms (AWB) 5ms (C|)', 'A=10 W1 B=20 C=30');
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 0], [3, 20]]);
    });

    it('starts waiting records in FIFO order as slots free', () => {
      const calls: Call[] = [];
      withElementMarbles(({ cold, expectElements }, scheduler) => {
        // Arrange: capacity 1; a 4 ms, b 1 ms, c 2 ms.
        const source = cold<number>('(abc|)', 'a=1 b=2 c=3');
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 4, 2: 1, 3: 2 }, calls), { capacity: 1 }));
        // Assert
        expectElements(out).toBe('4ms AB-(C|)', 'A=10 B=20 C=30');
      });
      expect(calls.map((c) => [c.value, c.at])).toEqual([[1, 0], [2, 4], [3, 5]]);
    });
  });

  describe('results', () => {
    it('releases all results of one input together, and emits nothing for an empty call', () => {
      withElementMarbles(({ cold, expectElements }, _scheduler, helpers) => {
        // Arrange: a emits 10 at 1 and 11 at 3 and completes at 6; b completes empty at 2; c answers [30] at once.
        const source = cold<number>('(abc|)', 'a=1@5 b=2@6 c=3@7');
        const inners: Record<number, Observable<number> | number[]> = {
          1: helpers.cold('-x-y--|', { x: 10, y: 11 }),
          2: helpers.cold<number>('--|'),
          3: [30],
        };
        // Act
        const out = source.pipe(asyncWaitUnordered((x) => inners[x]!));
        // Assert
        expectElements(out).toBe('C 5ms (XY|)', 'C=30@7 X=10@5 Y=11@5');
      });
    });
  });

  describe('timeout', () => {
    it('errors with AsyncTimeoutError at the deadline after the faster records, aborting the call', () => {
      const scheduler = newScheduler();
      const signals: AbortSignal[] = [];
      const errors: unknown[] = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a would answer at 20, b answers at 3; budget 10 ms.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        const slow = cold('20ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            signals.push(ctx.signal);
            return x === 1 ? slow : cold('3ms (y|)', { y: 20 });
          }, { timeout: 10 }),
          captureError(errors),
        );
        // Assert
        expectObservable(out).toBe('3ms B 6ms #', { B: record(20) }, timeoutErrorLike({ input: 1, timeout: 10, attempts: 1 }));
        expectSubscriptions(slow.subscriptions).toBe('^---------!');
      });
      expect(errors[0]).toBeInstanceOf(AsyncTimeoutError);
      expect(signals[0].aborted).toBe(true);
      expect(signals[0].reason).toBe(errors[0]);
    });

    it('emits onTimeout results at the deadline without holding back faster records, and ignores the late result', () => {
      const scheduler = newScheduler();
      const fallbackCtx: Array<{ attempt: number; aborted: boolean }> = [];
      scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
        // Arrange: a would answer at 15, b answers at 3; budget 10 ms; the source stays open until 20.
        const source = cold<El>('ab 18ms |', { a: record(1, 1), b: record(2, 2) });
        const slow = cold('15ms (x|)', { x: 10 });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x) => (x === 1 ? slow : cold('2ms (y|)', { y: 20 })), {
            timeout: 10,
            onTimeout: (x, ctx) => {
              fallbackCtx.push({ attempt: ctx.attempt, aborted: ctx.signal.aborted });
              return [-x];
            },
          }),
        );
        // Assert: b at 1 + 2 = 3, the fallback at 10, nothing at 15, completion at 20.
        expectObservable(out).toBe('3ms B 6ms F 9ms |', { B: record(20, 2), F: record(-1, 1) });
        expectSubscriptions(slow.subscriptions).toBe('^---------!');
      });
      expect(fallbackCtx).toEqual([{ attempt: 1, aborted: false }]);
    });
  });

  describe('retry', () => {
    it('lets records that complete meanwhile pass a record that is waiting to retry', () => {
      const scheduler = newScheduler();
      const calls: Call[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: a fails synchronously once and is retried after 10 ms; b answers at 3.
        const source = cold<El>('(ab|)', { a: record(1), b: record(2) });
        // Act
        const out = source.pipe(
          asyncWaitUnordered((x, ctx) => {
            calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
            if (x === 1 && ctx.attempt === 1) return throwError(() => new Error('down'));
            return x === 1 ? [10] : cold('3ms (y|)', { y: 20 });
          }, { retry: { maxRetries: 1, delay: 10 } }),
        );
        // Assert
        expectObservable(out).toBe('3ms B 6ms (A|)', { A: record(10), B: record(20) });
      });
      expect(calls.map((c) => [c.value, c.attempt, c.at])).toEqual([[1, 1, 0], [2, 1, 0], [1, 2, 10]]);
    });
  });

  describe('completion', () => {
    it('completes only after the records held behind a watermark have been emitted', () => {
      const scheduler = newScheduler();
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: the source completes at 0; a takes 10 ms; b is done at 1 but behind W.
        const source = cold<El>('(aWb|)', { a: record(1), W: watermark(1), b: record(2) });
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 10, 2: 1 })));
        // Assert
        expectObservable(out).toBe('10ms (AWB|)', { A: record(10), W: watermark(1), B: record(20) });
      });
    });
  });

  describe('re-entrancy', () => {
    it('keeps a watermark pushed from inside next behind the records still held', () => {
      const scheduler = newScheduler();
      const seen: Array<[number, El]> = [];
      scheduler.run(() => {
        // Arrange: 1 answers at 5, 2 at 10; when 1's result arrives, the subscriber pushes W(7).
        const input = new Subject<El>();
        input.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 5, 2: 10 }))).subscribe((e) => {
          seen.push([scheduler.now(), e]);
          if (e.kind === 'record' && e.value === 10) input.next(watermark(7));
        });
        // Act
        input.next(record(1));
        input.next(record(2));
      });
      // Assert
      expect(seen).toEqual([[5, record(10)], [10, record(20)], [10, watermark(7)]]);
    });
  });

  describe('metrics', () => {
    it('counts records held behind a watermark as waiting, and queued ones as buffered', () => {
      const scheduler = newScheduler();
      const metrics = asyncWaitMetrics();
      const snaps: AsyncWaitCounters[] = [];
      scheduler.run(({ cold, expectObservable }) => {
        // Arrange: capacity 2; a 20 ms | W | b 5 ms (held behind W), c 5 ms (waits for a slot until 20).
        const source = cold<El>('(aWbc|)', { a: record(1), W: watermark(1), b: record(2), c: record(3) });
        for (const at of [10, 22, 30]) scheduler.schedule(() => snaps.push(metrics.snapshot()), at);
        // Act
        const out = source.pipe(asyncWaitUnordered(delayedTimesTen(scheduler, { 1: 20, 2: 5, 3: 5 }), { capacity: 2, metrics }));
        // Assert
        expectObservable(out).toBe('20ms (AWB)(C|)', { A: record(10), W: watermark(1), B: record(20), C: record(30) });
      });
      const base = { failed: 0, timedOut: 0, retried: 0, watermarksCoalesced: 0, ...ZERO_OPTIONAL_COUNTERS };
      // c waited beyond capacity from 0 until its admission at 20: backPressureTime reads live, so 10 at 10 (c still
      // queued), and 20 from then on.
      expect(snaps).toEqual([
        { ...base, backPressureTime: 10, started: 2, succeeded: 1, emitted: 0, inFlight: 1, waiting: 1, buffered: 1, oldestInFlightSince: 0, oldestInFlightAge: 10 },
        // c was admitted at 20, when a's slot freed: its age counts from there, as its timeout would.
        { ...base, backPressureTime: 20, started: 3, succeeded: 2, emitted: 2, inFlight: 1, waiting: 0, buffered: 0, oldestInFlightSince: 20, oldestInFlightAge: 2 },
        { ...base, backPressureTime: 20, started: 3, succeeded: 3, emitted: 3, inFlight: 0, waiting: 0, buffered: 0, oldestInFlightSince: null, oldestInFlightAge: 0 },
      ]);
    });
  });
});
