import { TestScheduler } from 'rxjs/testing';
import { Subject, map, throwError, timer, type Observable } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, record, watermark, type StreamElement } from 'rxjs-sluice';

/**
 * asyncWaitOrdered / asyncWaitUnordered in marble diagrams. Every character is 1 ms of virtual time;
 * `(...)` is a group of values emitted in the same millisecond (each character still takes one frame of the
 * diagram). Lower-case letters are records, `W` is a watermark, `#` an error, `|` completion.
 */

type El = StreamElement<number>;

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** The values used as records in the diagrams: a = 1, b = 2, ... */
const IN = { a: record(1), b: record(2), c: record(3), d: record(4), W: watermark(4) };
/** The async call's answers: 10 * input. */
const OUT = { a: record(10), b: record(20), c: record(30), d: record(40), W: watermark(4) };

/** An async call for x that answers 10 * x after delays[x] ms. */
const answerAfter = (delays: Record<number, number>) => (x: number): Observable<number> =>
  timer(delays[x]!).pipe(map(() => 10 * x));

describe('asyncWait marble scenarios', () => {
  // Ordered vs unordered around a watermark. a's call takes 8 ms; b's and c's take 1 ms.
  //
  //   input       a-b-W-c-------|
  //   ordered     --------(abWc)|    everything waits for a, then leaves in input order
  //   unordered   ---b----(aWc)-|    b leaves as soon as it is done; c is done at 7 but may not pass W,
  //                                  and W may not pass a: both wait for a at 8
  it('ordered vs unordered around a watermark', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('a-b-W-c-------|', IN);
      const fn = answerAfter({ 1: 8, 2: 1, 3: 1 });
      expectObservable(input.pipe(asyncWaitOrdered(fn))).toBe('--------(abWc)|', OUT);
      expectObservable(input.pipe(asyncWaitUnordered(fn))).toBe('---b----(aWc)-|', OUT);
    });
  });

  // Capacity back-pressure: capacity 2, every call takes 4 ms.
  //
  //   input    abcd|
  //   starts   ab--cd           calls begin: c and d wait until a and b are emitted and free their slots
  //   output   ----ab--c(d|)    a done at 4, b at 5, c (started at 4) at 8, d (started at 5) at 9
  it('capacity back-pressure', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const starts = new Subject<string>();
      const input = cold<El>('abcd|', IN);
      const output = input.pipe(
        asyncWaitOrdered((x: number) => {
          starts.next('_abcd'[x]!);
          return answerAfter({ 1: 4, 2: 4, 3: 4, 4: 4 })(x);
        }, { capacity: 2 }),
      );
      expectObservable(starts).toBe('ab--cd');
      expectObservable(output).toBe('----ab--c(d|)', OUT);
    });
  });

  // Timeout with a fallback (unordered, timeout 6 ms, onTimeout answers -x). a's call would take 12 ms,
  // b's takes 2 ms.
  //
  //   input      a-b------|
  //   a's call   ^-----!          unsubscribed at its deadline, 6 ms after it started
  //   output     ----b-f--|       b at 4; at 6 the fallback f (= -1) replaces a's answer
  it('timeout with a fallback', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const aCall = cold('12ms (x|)', { x: 10 });
      const input = cold<El>('a-b------|', IN);
      const output = input.pipe(
        asyncWaitUnordered((x: number) => (x === 1 ? aCall : answerAfter({ 2: 2 })(x)), {
          timeout: 6,
          onTimeout: (x) => [-x],
        }),
      );
      expectObservable(output).toBe('----b-f--|', { ...OUT, f: record(-1) });
      expectSubscriptions(aCall.subscriptions).toBe('^-----!');
    });
  });

  // Retry with exponential backoff: the first three calls fail at once; delays 2, 4, 8 ms
  // ({ initial: 2, multiplier: 2, max: 8 }); the fourth call answers.
  //
  //   input     a|
  //   attempts  1-2---3-------4       when each call starts, and its ctx.attempt
  //   output    --------------(a|)
  it('retry with exponential backoff', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const attempts = new Subject<string>();
      const input = cold<El>('a|', IN);
      const output = input.pipe(
        asyncWaitOrdered((x: number, ctx) => {
          attempts.next(String(ctx.attempt));
          return ctx.attempt < 4 ? throwError(() => new Error('unavailable')) : [10 * x];
        }, { retry: { maxRetries: 5, delay: { initial: 2, multiplier: 2, max: 8 } } }),
      );
      expectObservable(attempts).toBe('1-2---3-------4');
      expectObservable(output).toBe('--------------(a|)', OUT);
    });
  });

  // Many or zero results per input (ordered). Each call's values are buffered and released together when
  // it completes; an empty call emits nothing but still holds its place.
  //
  //   input      a--b--c|
  //   a's call   -x-y|           two values, released together at 4
  //   b's call      --|          none
  //   c's call         ---z|     one value at 10
  //   output     ----(xy)--(z|)
  it('many or zero results per input', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const calls: Record<number, Observable<number>> = {
        1: cold('-x-y|', { x: 10, y: 11 }),
        2: cold<number>('--|'),
        3: cold('---z|', { z: 30 }),
      };
      const input = cold<El>('a--b--c|', IN);
      const output = input.pipe(asyncWaitOrdered((x: number) => calls[x]!));
      expectObservable(output).toBe('----(xy)--(z|)', { x: record(10), y: record(11), z: record(30) });
    });
  });
});
