/**
 * asyncWaitOrdered / asyncWaitUnordered as marble scenarios: checked by asyncWait.marbles.spec.ts, drawn into
 * docs/marbles/ by `npm run docs:marbles`, and shown in docs/async-io.md. Every character is 1 ms of virtual
 * time; `(...)` is a group emitted in one millisecond (each character still takes one frame). Legends use the
 * testing kit's syntax: `a=1@5` is record(1, 5), `W4` watermark(4), `B1` barrier(1).
 */
import { Subject, map, throwError, timer, type Observable } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered } from 'rxjs-sluice';
import { type MarbleScenario } from './support/scenario';

/** An async call for x that answers 10 * x after delays[x] ms. */
const answerAfter = (delays: Record<number, number>) => (x: number): Observable<number> =>
  timer(delays[x]!).pipe(map(() => 10 * x));

// Ordered vs unordered around a watermark. a's call takes 8 ms; b's and c's take 1 ms. Ordered: everything waits
// for a, then leaves in input order. Unordered: b leaves as soon as it is done; c is done at 7 but may not pass W,
// and W may not pass a: both wait for a at 8.
export const orderedVsUnordered: MarbleScenario = {
  name: 'async-ordered-vs-unordered',
  title: 'Ordered and unordered around a watermark',
  operator: 'asyncWaitOrdered / asyncWaitUnordered   (a: 8 ms, b and c: 1 ms)',
  inputs: [{ label: 'input', marble: 'a-b-W-c-------|', legend: 'a=1@1 b=2@2 W2 c=3@3' }],
  outputs: [
    { label: 'ordered', marble: '--------(abWc)|', legend: 'a=10@1 b=20@2 W2 c=30@3' },
    { label: 'unordered', marble: '---b----(aWc)-|', legend: 'a=10@1 b=20@2 W2 c=30@3' },
  ],
  run: ([input]) => {
    const fn = answerAfter({ 1: 8, 2: 1, 3: 1 });
    return [input!.pipe(asyncWaitOrdered(fn)), input!.pipe(asyncWaitUnordered(fn))];
  },
};

// A barrier overtakes the records the operator holds: a's call takes 6 ms and b (done at 3) waits behind it in
// ordered mode. B arrives at 4 and goes out at once, after the operator has put a and b in its snapshot; their
// results follow it, in the next epoch.
export const barrierOvertakes: MarbleScenario = {
  name: 'async-barrier-overtakes',
  title: 'A barrier overtakes the records held',
  operator: 'asyncWaitOrdered   (a: 6 ms, b: 1 ms, c: 4 ms)',
  inputs: [{ label: 'input', marble: 'a-b-B-c---|', legend: 'a=1@1 b=2@2 B1 c=3@3' }],
  outputs: [{ label: 'ordered', marble: '----B-(ab)(c|)', legend: 'a=10@1 b=20@2 B1 c=30@3' }],
  run: ([input]) => [input!.pipe(asyncWaitOrdered(answerAfter({ 1: 6, 2: 1, 3: 4 })))],
};

// Capacity back-pressure: capacity 2, every call takes 4 ms. c and d wait until a and b are emitted and free their
// slots: a is done at 4, b at 5, c (started at 4) at 8, d (started at 5) at 9.
export const capacity: MarbleScenario = {
  name: 'async-capacity',
  title: 'Capacity: calls wait for a free slot',
  operator: 'asyncWaitOrdered(fn, { capacity: 2 })   (every call: 4 ms)',
  inputs: [{ label: 'input', marble: 'abcd|', legend: 'a=1 b=2 c=3 d=4' }],
  outputs: [
    { label: 'calls start', marble: 'ab--cd', plain: true },
    { label: 'output', marble: '----ab--c(d|)', legend: 'a=10 b=20 c=30 d=40' },
  ],
  run: ([input]) => {
    const starts = new Subject<string>();
    const output = input!.pipe(asyncWaitOrdered((x: number) => {
      starts.next('_abcd'[x]!);
      return answerAfter({ 1: 4, 2: 4, 3: 4, 4: 4 })(x);
    }, { capacity: 2 }));
    return [starts, output];
  },
};

// Timeout with a fallback (unordered, timeout 6 ms, onTimeout answers -x). a's call would take 12 ms and is
// unsubscribed at its deadline, 6 ms after it started; b's takes 2 ms. At 6 the fallback f = -1 replaces a's answer.
export const timeoutFallback: MarbleScenario = {
  name: 'async-timeout-fallback',
  title: 'A timeout with a fallback',
  operator: 'asyncWaitUnordered(fn, { timeout: 6, onTimeout: (x) => [-x] })   (a: 12 ms, b: 2 ms)',
  inputs: [{ label: 'input', marble: 'a-b------|', legend: 'a=1 b=2' }],
  outputs: [{ label: 'output', marble: '----b-f--|', legend: 'b=20 f=-1' }],
  run: ([input], { cold, expectSubscriptions }) => {
    const aCall = cold('12ms (x|)', { x: 10 });
    expectSubscriptions(aCall.subscriptions).toBe('^-----!');
    return [input!.pipe(asyncWaitUnordered((x: number) => (x === 1 ? aCall : answerAfter({ 2: 2 })(x)), {
      timeout: 6,
      onTimeout: (x) => [-x],
    }))];
  },
};

// Retry with exponential backoff: the first three calls fail at once; delays 2, 4, 8 ms
// ({ initial: 2, multiplier: 2, max: 8 }); the fourth call answers.
export const retryBackoff: MarbleScenario = {
  name: 'async-retry-backoff',
  title: 'Retries with exponential backoff',
  operator: 'asyncWaitOrdered(fn, { retry: { maxRetries: 5, delay: { initial: 2, multiplier: 2, max: 8 } } })',
  inputs: [{ label: 'input', marble: 'a|', legend: 'a=1' }],
  outputs: [
    { label: 'attempts', marble: '1-2---3-------4', plain: true },
    { label: 'output', marble: '--------------(a|)', legend: 'a=10' },
  ],
  run: ([input]) => {
    const attempts = new Subject<string>();
    const output = input!.pipe(asyncWaitOrdered((x: number, ctx) => {
      attempts.next(String(ctx.attempt));
      return ctx.attempt < 4 ? throwError(() => new Error('unavailable')) : [10 * x];
    }, { retry: { maxRetries: 5, delay: { initial: 2, multiplier: 2, max: 8 } } }));
    return [attempts, output];
  },
};

// Many or zero results per input (ordered). Each call's values are buffered and released together when it
// completes; an empty call emits nothing but still holds its place.
export const manyResults: MarbleScenario = {
  name: 'async-many-results',
  title: 'Many or zero results per input',
  operator: "asyncWaitOrdered   (a's call: -x-y|, b's: --|, c's: ---z|)",
  inputs: [{ label: 'input', marble: 'a--b--c|', legend: 'a=1@1 b=2@2 c=3@3' }],
  outputs: [{ label: 'output', marble: '----(xy)--(z|)', legend: 'x=10@1 y=11@1 z=30@3' }],
  run: ([input], { cold }) => {
    const calls: Record<number, Observable<number>> = {
      1: cold('-x-y|', { x: 10, y: 11 }),
      2: cold<number>('--|'),
      3: cold('---z|', { z: 30 }),
    };
    return [input!.pipe(asyncWaitOrdered((x: number) => calls[x]!))];
  },
};

/** Every asyncWait scenario, in the order the docs show them. */
export const ASYNC_WAIT_SCENARIOS: readonly MarbleScenario[] = [orderedVsUnordered, barrierOvertakes, capacity, timeoutFallback, retryBackoff, manyResults];
