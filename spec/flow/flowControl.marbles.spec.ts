import { TestScheduler } from 'rxjs/testing';
import { delay, filter, lastValueFrom, map, merge, mergeMap, of, take, tap, timer, toArray, type Observable } from 'rxjs';
import {
  arraySource, asyncWaitMetrics, asyncWaitOrdered, checkpointable, MemoryCheckpointStore, pulled, sourceMetrics, values,
  type AsyncWaitMetrics, type SourceMetrics,
} from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';
import { elementsOperator, heldBy, indices, valuesOperator, type FlowKind } from '../support/flowHarness';

/**
 * Flow control in virtual time: a pull source (`pulled`, or `arraySource` inside `checkpointable`) reads only while
 * the flow-controlled operators it feeds have room. Every call answers `10 * x` after a latency in virtual ms.
 *
 * The bound these specs check (docs/flow-control.md):
 * - one operator, fed by the source directly or through synchronous `map` / `filter`: the records it has received
 *   and not yet emitted never exceed `capacity + 1` (capacity slots, plus the one read that found it full);
 * - through a synchronous `mergeMap` that turns one item into k records: `capacity + k` (the read that finds the
 *   operator with a free slot brings k records at once: + (k − 1) over the single-record bound);
 * - a chain of operators (one record out per record in): the source reads only while no operator has inputs
 *   waiting, so at each read every operator holds at most its capacity, and the records read but not yet emitted
 *   by the last one never exceed `Σ capacity + 1`. Per operator, the i-th holds at most `capacity_i + pending_i`,
 *   where the first one's pending is at most 1 and a later one's at most `1 + Σ capacities upstream of it` (what
 *   the operators before it hold when it becomes full, and then emit into it while the source is paused);
 * - an operator that cannot report (`delay`) between the source and the flow-controlled one breaks the bound (what
 *   it holds is invisible to the gate) but never deadlocks.
 */

/** Items of the large inputs. */
const N = 1000;
/** What every call answers for x. */
const out = (x: number): number => 10 * x;

/** Calls `sample` at every frame from now until `done()` says so (one new action per frame: none is recycled). */
function everyFrame(scheduler: TestScheduler, done: () => boolean, sample: () => void): void {
  const tick = (): void => {
    sample();
    if (!done()) scheduler.schedule(tick, 1);
  };
  scheduler.schedule(tick, 0);
}

/**
 * What a run shows of the read-ahead: the frame of every read, and the most records read and not yet emitted by the
 * operator, sampled at every read (right after it, the moment the figure peaks) and at every frame.
 */
interface ReadAhead {
  readonly readAt: number[];
  maxHeld: number;
}

/** A watch on `read - emitted()`: `onRead` goes right after the source, and frames are sampled until `done()`. */
function watchReadAhead(scheduler: TestScheduler, source: SourceMetrics, emitted: () => number, done: () => boolean) {
  const watch: ReadAhead = { readAt: [], maxHeld: 0 };
  const sample = (): void => {
    watch.maxHeld = Math.max(watch.maxHeld, source.read - emitted());
  };
  everyFrame(scheduler, done, sample);
  const onRead = (): void => {
    watch.readAt.push(scheduler.now());
    sample();
  };
  return { watch, onRead };
}

/**
 * The frames at which the items are read with capacity 2 and every call taking 10 frames: 3 at frame 0 (two slots
 * and the read that finds the operator full), then, at frame 10k, the two slots freed by the calls that end there.
 */
const readFramesCapacity2 = (n: number): number[] => indices(n).map((i) => (i < 3 ? 0 : 10 * Math.ceil((i - 2) / 2)));

/** The three kinds of the first table: two call slots, or batches of 2 with one call at a time. */
const KINDS: readonly FlowKind[] = ['asyncWaitOrdered', 'asyncWaitUnordered', 'asyncBatchOrdered'];

describe('flow control in virtual time', () => {
  describe('a fast source behind a slow operator reads at most capacity + 1 ahead', () => {
    it.each(KINDS)('%s (capacity 2, calls of 10 ms) behind pulled over a 1000-element array', (kind) => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const source = sourceMetrics();
        const { operator, metrics } = valuesOperator(kind, { capacity: 2, latency: () => 10 });
        let completedAt = -1;
        const { watch, onRead } = watchReadAhead(scheduler, source, () => metrics.emitted, () => completedAt >= 0);
        const outputs: number[] = [];

        // Act
        pulled(indices(N), { metrics: source }).pipe(tap(onRead), operator, values()).subscribe({
          next: (v) => outputs.push(v),
          complete: () => (completedAt = scheduler.now()),
        });
        flush();

        // Assert
        expect(watch.readAt).toEqual(readFramesCapacity2(N));
        expect(watch.maxHeld).toBe(3);
        expect(metrics.buffered).toBe(0);
        expect(outputs).toEqual(indices(N).map(out));
        expect(completedAt).toBe(5000); // item 999, read at 4990, admitted at once, answered 10 ms later
      });
    });

    it.each(KINDS)('%s (capacity 2, calls of 10 ms) behind arraySource over 1000 elements, inside checkpointable', (kind) => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const source = sourceMetrics();
        const { operator, metrics } = elementsOperator(kind, { capacity: 2, latency: () => 10, id: 'op' });
        let completedAt = -1;
        const { watch, onRead } = watchReadAhead(scheduler, source, () => metrics.emitted, () => completedAt >= 0);
        const outputs: unknown[] = [];
        const job = checkpointable({ source: arraySource(indices(N), { metrics: source }), every: { records: 10 }, store: new MemoryCheckpointStore() });

        // Act
        job.pipe(tap((element) => element.kind === 'record' && onRead()), operator).subscribe({
          next: (o) => outputs.push(o.element.value),
          complete: () => (completedAt = scheduler.now()),
        });
        flush();

        // Assert
        expect(watch.readAt).toEqual(readFramesCapacity2(N));
        expect(watch.maxHeld).toBe(3);
        expect(outputs).toEqual(indices(N).map(out));
        expect(completedAt).toBe(5000);
      });
    });

    it('a pulled source without a flow-controlled operator downstream reads everything at once, like from()', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const source = sourceMetrics();
        const readAt: number[] = [];

        // Act
        pulled(indices(N), { metrics: source }).pipe(tap(() => readAt.push(scheduler.now())), mergeMap((x) => timer(10).pipe(map(() => x)))).subscribe();
        flush();

        // Assert
        expect(readAt).toEqual(indices(N).map(() => 0));
        expect(source.pauses).toBe(0);
      });
    });
  });

  describe('the bound through synchronous operators and chains', () => {
    it('two pull sources merged into one operator take turns: neither waits for the other to end', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange: capacity 1, calls of 10 ms; a = 0..9, b = 100..109
        const reads: string[] = [];
        const a = pulled(indices(10)).pipe(tap((x) => reads.push(`a${x}@${scheduler.now()}`)));
        const b = pulled(indices(10).map((x) => 100 + x)).pipe(tap((x) => reads.push(`b${x - 100}@${scheduler.now()}`)));
        const outputs: number[] = [];

        // Act
        merge(a, b).pipe(asyncWaitOrdered((x: number) => timer(10).pipe(map(() => x)), { capacity: 1, input: 'values' }), values())
          .subscribe((v) => outputs.push(v));
        flush();

        // Assert: at 0, a0 takes the slot and a1 finds it full, so a pauses, and b, subscribed next, finds the gate
        // shut. From then on each freed slot offers room first to the source that did not read last: they alternate,
        // rather than a reading to its end while b waits.
        expect(reads.slice(0, 7)).toEqual(['a0@0', 'a1@0', 'a2@10', 'b0@20', 'a3@30', 'b1@40', 'a4@50']);
        expect(outputs).toHaveLength(20);
        expect(new Set(outputs)).toEqual(new Set([...indices(10), ...indices(10).map((x) => 100 + x)]));
      });
    });

    it('through map and filter: what reaches the operator and is not yet emitted stays within capacity + 1', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange: every third item is filtered out, so it is read but never reaches the operator
        const source = sourceMetrics();
        const metrics = asyncWaitMetrics();
        let entered = 0;
        let maxHeld = 0;
        let completed = false;
        const sample = (): void => {
          maxHeld = Math.max(maxHeld, entered - metrics.emitted);
        };
        everyFrame(scheduler, () => completed, sample);
        const outputs: number[] = [];

        // Act
        pulled(indices(N), { metrics: source }).pipe(
          map((x) => x + 1),
          filter((x) => x % 3 !== 0),
          tap(() => {
            entered++;
            sample();
          }),
          asyncWaitOrdered((x: number) => timer(10).pipe(map(() => out(x))), { capacity: 2, input: 'values', metrics }),
          values(),
        ).subscribe({ next: (v) => outputs.push(v), complete: () => (completed = true) });
        flush();

        // Assert
        const kept = indices(N).map((x) => x + 1).filter((x) => x % 3 !== 0);
        expect(maxHeld).toBe(3);
        expect(entered).toBe(kept.length);
        expect(source.read).toBe(N);
        expect(outputs).toEqual(kept.map(out));
      });
    });

    it('through a synchronous mergeMap with a fan-out of k = 3: within capacity + k records (the + (k − 1) of one read that fans out)', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const source = sourceMetrics();
        const metrics = asyncWaitMetrics();
        const k = 3;
        let entered = 0;
        let maxHeld = 0;
        let completed = false;
        const sample = (): void => {
          maxHeld = Math.max(maxHeld, entered - metrics.emitted);
        };
        everyFrame(scheduler, () => completed, sample);
        const readAt: number[] = [];
        const outputs: number[] = [];

        // Act
        pulled(indices(30), { metrics: source }).pipe(
          tap(() => readAt.push(scheduler.now())),
          mergeMap((x) => of(...indices(k).map((j) => k * x + j))),
          tap(() => {
            entered++;
            sample();
          }),
          asyncWaitOrdered((x: number) => timer(10).pipe(map(() => out(x))), { capacity: 2, input: 'values', metrics }),
          values(),
        ).subscribe({ next: (v) => outputs.push(v), complete: () => (completed = true) });
        flush();

        // Assert: item 0's 3 records fill both slots and wait beyond them: the source pauses after one read. At 10 a
        // slot frees, the source reads item 1, and its 3 records all wait: 2 held + 3 = capacity + k.
        expect(readAt.slice(0, 3)).toEqual([0, 10, 20]);
        expect(maxHeld).toBe(2 + k);
        expect(outputs).toEqual(indices(30 * k).map(out));
      });
    });

    it('two operators in a chain: read − emitted by the last ≤ Σ capacity + 1, and the second holds up to 1 + its capacity + the capacity upstream', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange: a fast first operator (capacity 2, calls of 10 ms) before a slow second one (capacity 3,
        // calls of 100 ms): the second fills and then keeps receiving what the first holds.
        const c1 = 2;
        const c2 = 3;
        const source = sourceMetrics();
        const first = asyncWaitMetrics();
        const second = asyncWaitMetrics();
        let completed = false;
        let maxTotal = 0;
        let maxFirst = 0;
        let maxSecond = 0;
        const sample = (): void => {
          maxTotal = Math.max(maxTotal, source.read - second.emitted);
          maxFirst = Math.max(maxFirst, heldBy(first));
          maxSecond = Math.max(maxSecond, heldBy(second));
        };
        everyFrame(scheduler, () => completed, sample);
        const outputs: number[] = [];

        // Act
        pulled(indices(200), { metrics: source }).pipe(
          tap(sample),
          asyncWaitOrdered((x: number) => timer(10).pipe(map(() => x)), { capacity: c1, input: 'values', metrics: first }),
          tap(sample),
          asyncWaitOrdered((x: number) => timer(100).pipe(map(() => out(x))), { capacity: c2, metrics: second }),
          tap(sample),
          values(),
        ).subscribe({ next: (v) => outputs.push(v), complete: () => (completed = true) });
        flush();

        // Assert
        expect(maxTotal).toBe(c1 + c2 + 1);
        expect(maxFirst).toBe(c1 + 1);
        // the first operator kept feeding the full second one while the source was paused: the per-operator bound is reached
        expect(maxSecond).toBe(c2 + 1 + c1);
        expect(outputs).toEqual(indices(200).map(out));
      });
    });
  });

  describe('an operator that cannot report', () => {
    it('delay(5) between the source and asyncWaitOrdered: no deadlock, every result, but the whole input is read at once', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const source = sourceMetrics();
        const metrics = asyncWaitMetrics();
        let readAtFrame0 = -1;
        let maxBuffered = 0;
        let completedAt = -1;
        everyFrame(scheduler, () => completedAt >= 0, () => {
          if (scheduler.now() === 0) readAtFrame0 = source.read;
          maxBuffered = Math.max(maxBuffered, metrics.buffered);
        });
        const outputs: number[] = [];

        // Act
        pulled(indices(N), { metrics: source }).pipe(
          delay(5),
          asyncWaitOrdered((x: number) => timer(10).pipe(map(() => out(x))), { capacity: 2, input: 'values', metrics }),
          values(),
        ).subscribe({ next: (v) => outputs.push(v), complete: () => (completedAt = scheduler.now()) });
        flush();

        // Assert: the cost: delay holds what the source reads out of the gate's sight, so the source never pauses
        // and the operator's queue takes the whole input (998 beyond its 2 slots) 5 ms later.
        expect(readAtFrame0).toBe(N);
        expect(source.pauses).toBe(0);
        expect(maxBuffered).toBe(N - 2);
        expect(metrics.backPressureTime).toBe(4990); // full from 5 until the last waiting input is admitted, at 4995
        expect(outputs).toEqual(indices(N).map(out));
        expect(completedAt).toBe(5 + 10 * (N / 2));
      });
    });
  });

  describe('back-pressure metrics', () => {
    // pulled([0..4]) into asyncWaitOrdered, capacity 2, calls of 10 ms:
    //   frame 0:  reads 0, 1 (the slots) and 2 (waits): the operator is full, the source pauses
    //   frame 10: call 0 ends: 0 out, 2 admitted, the gate opens, the source reads 3, which fills the operator at
    //             once: the same pause goes on (no time in between); call 1 ends: the same with 4
    //   frame 20: calls 2 and 3 end: 4 is admitted, the source resumes and finds its end: the pause ends
    //   frame 30: call 4 ends, the output completes
    // One pause, 0 to 20; the operator was full over the same span. Both figures grow while it lasts.
    const scenario = (source: SourceMetrics, metrics: AsyncWaitMetrics): Observable<number> =>
      pulled(indices(5), { metrics: source }).pipe(
        asyncWaitOrdered((x: number) => timer(10).pipe(map(() => out(x))), { capacity: 2, input: 'values', metrics }),
        values(),
      );

    it('counts pauses and back-pressured time in exact virtual ms, live; the gauge is 1 while paused and 0 after completion', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange: [frame, paused gauge, source's backPressuredTime, operator's backPressureTime] every 5 frames
        const source = sourceMetrics();
        const metrics = asyncWaitMetrics();
        const samples: Array<[number, number, number, number]> = [];
        let completedAt = -1;
        everyFrame(scheduler, () => completedAt >= 0, () => {
          const now = scheduler.now();
          if (now % 5 === 0) samples.push([now, source.paused, source.backPressuredTime, metrics.backPressureTime]);
        });

        // Act
        scenario(source, metrics).subscribe({ complete: () => (completedAt = scheduler.now()) });
        flush();

        // Assert
        expect(source.snapshot()).toEqual({ read: 5, pauses: 1, backPressuredTime: 20, skipped: 0, paused: 0 });
        expect(metrics.backPressureTime).toBe(20);
        expect(samples).toEqual([
          [0, 1, 0, 0], [5, 1, 5, 5], [10, 1, 10, 10], [15, 1, 15, 15], [20, 0, 20, 20], [25, 0, 20, 20], [30, 0, 20, 20],
        ]);
        expect(completedAt).toBe(30);
      });
    });

    it('an unsubscribe while paused gives the gauge back and counts the pause up to that moment', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const source = sourceMetrics();
        const metrics = asyncWaitMetrics();
        let pausedBefore = -1;

        // Act: paused since 0, unsubscribed at 15
        const subscription = scenario(source, metrics).subscribe();
        scheduler.schedule(() => {
          pausedBefore = source.paused;
          subscription.unsubscribe();
        }, 15);
        flush();

        // Assert: the figures stop growing there
        expect(pausedBefore).toBe(1);
        expect(source.snapshot()).toEqual({ read: 5, pauses: 1, backPressuredTime: 15, skipped: 0, paused: 0 });
        expect(metrics.backPressureTime).toBe(15);
        expect(heldBy(metrics)).toBe(0);
      });
    });
  });

  describe('an unsubscribe mid-run stops reading at once', () => {
    /** An iterable over 0..n-1 that logs every next() and return() of its iterator. */
    function loggedIterable(n: number, log: string[]): Iterable<number> {
      return {
        [Symbol.iterator]: () => {
          let i = 0;
          return {
            next: () => {
              log.push(`next ${i}`);
              return i < n ? { done: false, value: i++ } : { done: true, value: undefined };
            },
            return: () => {
              log.push('return');
              return { done: true, value: undefined };
            },
          };
        },
      };
    }

    it('take(3) downstream of asyncWaitOrdered: no item is read after it, and the iterator is closed', () => {
      const scheduler = newScheduler();
      scheduler.run(({ flush }) => {
        // Arrange
        const log: string[] = [];
        const source = sourceMetrics();
        let readAtEnd = -1;
        const outputs: number[] = [];

        // Act: 0 and 1 come out at 10, 2 at 20, where take(3) ends the run
        pulled(loggedIterable(N, log), { metrics: source }).pipe(
          asyncWaitOrdered((x: number) => timer(10).pipe(map(() => out(x))), { capacity: 2, input: 'values' }),
          values(),
          take(3),
        ).subscribe({
          next: (v) => outputs.push(v),
          complete: () => (readAtEnd = source.read),
        });
        flush();

        // Assert: 3 read at 0, 2 at 10; none at 20, where the run ends
        expect(outputs).toEqual([0, 10, 20]);
        expect(readAtEnd).toBe(5);
        expect(source.read).toBe(5);
        expect(log).toEqual(['next 0', 'next 1', 'next 2', 'next 3', 'next 4', 'return']);
        expect(source.paused).toBe(0);
      });
    });

    it('an async iterator: its return() is called once, and nothing is read afterwards', async () => {
      // Arrange
      const log: string[] = [];
      const source = sourceMetrics();
      let i = 0;
      const input: AsyncIterable<number> = {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            log.push(`next ${i}`);
            return Promise.resolve({ done: false, value: i++ });
          },
          return: () => {
            log.push('return');
            return Promise.resolve({ done: true, value: undefined });
          },
        }),
      };

      // Act
      const outputs = await lastValueFrom(pulled(input, { metrics: source }).pipe(
        asyncWaitOrdered(async (x: number) => out(x), { capacity: 2, input: 'values' }),
        values(),
        take(3),
        toArray(),
      ));
      const readAtEnd = source.read;
      const logAtEnd = [...log];
      await new Promise((resolve) => setImmediate(resolve));

      // Assert
      expect(outputs).toEqual([0, 10, 20]);
      expect(log.filter((line) => line === 'return')).toEqual(['return']);
      expect(log.at(-1)).toBe('return');
      expect(log).toEqual(logAtEnd);
      expect(source.read).toBe(readAtEnd);
    });

    it('a ReadableStream: its reader is cancelled, and its source is not pulled afterwards', async () => {
      // Arrange
      const log: string[] = [];
      let i = 0;
      const stream = new ReadableStream<number>({
        pull: (controller) => {
          log.push(`pull ${i}`);
          controller.enqueue(i++);
        },
        cancel: (reason: unknown) => {
          log.push(`cancel ${String(reason)}`);
        },
      }, { highWaterMark: 0 });

      // Act
      const outputs = await lastValueFrom(pulled(stream).pipe(
        asyncWaitOrdered(async (x: number) => out(x), { capacity: 2, input: 'values' }),
        values(),
        take(3),
        toArray(),
      ));
      await new Promise((resolve) => setImmediate(resolve));
      const logAfterCancel = [...log];
      await new Promise((resolve) => setImmediate(resolve));

      // Assert
      expect(outputs).toEqual([0, 10, 20]);
      expect(log.filter((line) => line.startsWith('cancel'))).toEqual(['cancel undefined']);
      expect(log.at(-1)).toBe('cancel undefined');
      expect(log).toEqual(logAfterCancel);
      expect(stream.locked).toBe(true); // the reader is not released: cancelled, the stream is closed for good
    });
  });
});
