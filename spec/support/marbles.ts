/**
 * Helpers shared by the specs: the TestScheduler factory for marble tests, the two asyncWait operators as a
 * table for describe.each, a log of fn's calls in virtual time, matchers for the operators' error classes, and
 * a synchronous source / collector for operators that need no scheduler.
 */
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { from, map, tap, timer, type Observable, type SchedulerLike } from 'rxjs';
import {
  asyncWaitOrdered, asyncWaitUnordered, type AsyncCallContext, type AsyncFunction, type StreamElement,
} from 'rxjs-sluice';
import { elementMarbles, elementTestScheduler, type ElementMarbles } from 'rxjs-sluice/testing';

/** The element type of most marble tests: records of numbers, watermarks, barriers. */
export type El = StreamElement<number>;

// ---- the two operators ---------------------------------------------------------------------------------------

/** Emission mode of an asyncWait operator. */
export type Mode = 'ordered' | 'unordered';

/** asyncWaitOrdered and asyncWaitUnordered share this signature. */
export type AsyncWaitOperator = typeof asyncWaitOrdered;

/** Both operators, for `describe.each(ASYNC_WAIT_OPERATORS)('%s', (name, operator, mode) => ...)`. */
export const ASYNC_WAIT_OPERATORS: ReadonlyArray<readonly [name: string, operator: AsyncWaitOperator, mode: Mode]> = [
  ['asyncWaitOrdered', asyncWaitOrdered, 'ordered'],
  ['asyncWaitUnordered', asyncWaitUnordered, 'unordered'],
];

/** The operator of a mode: Flink's AsyncDataStream.orderedWait / unorderedWait. */
export function operatorOf(mode: Mode): AsyncWaitOperator {
  return mode === 'ordered' ? asyncWaitOrdered : asyncWaitUnordered;
}

/** The expectation of the mode under test, where the two modes differ only in emission order. */
export function forMode<T>(mode: Mode, expectations: Readonly<Record<Mode, T>>): T {
  return expectations[mode];
}

// ---- marbles and calls -----------------------------------------------------------------------------------------

/** A TestScheduler that compares with toEqual. */
export const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/**
 * Runs `test` in virtual time with element marbles (rxjs-sluice/testing): `cold('(ab|)', 'a=1 b=2@5 W=W5')` and
 * `expectElements(out).toBe(...)`, failures printed as element marbles. The scheduler comes second, for fns that
 * read its clock; RxJS's own helpers third.
 */
export function withElementMarbles(test: (marbles: ElementMarbles, scheduler: TestScheduler, helpers: RunHelpers) => void): void {
  const scheduler = elementTestScheduler();
  scheduler.run((helpers) => test(elementMarbles(helpers), scheduler, helpers));
}

/** One call of fn: which value, which attempt, and at what virtual time. */
export interface Call {
  value: number;
  attempt: number;
  at: number;
}

/** Wraps fn so that every call is appended to `calls`, stamped with the scheduler's time. */
export function logCalls<O>(scheduler: SchedulerLike, calls: Call[], fn: AsyncFunction<number, O>): AsyncFunction<number, O> {
  return (x: number, ctx: AsyncCallContext) => {
    calls.push({ value: x, attempt: ctx.attempt, at: scheduler.now() });
    return fn(x, ctx);
  };
}

/** A fn whose call for `x` emits `10 * x` after `delays[x]` ms, logging every call. */
export function delayedTimesTen(scheduler: SchedulerLike, delays: Record<number, number>, calls: Call[] = []): AsyncFunction<number, number> {
  return logCalls(scheduler, calls, (x) => timer(delays[x]!).pipe(map(() => 10 * x)));
}

// ---- errors and metrics ----------------------------------------------------------------------------------------

/** Runs the observable `build` returns under a TestScheduler, to the end, and returns the error it failed with. */
export function errorOf<T>(build: () => Observable<T>): unknown {
  let error: unknown;
  newScheduler().run(({ flush }) => {
    build().subscribe({ error: (e: unknown) => (error = e) });
    flush();
  });
  return error;
}

/** Records every error that reaches the output, so its class and fields can be checked after the run. */
export const captureError = <T>(errors: unknown[]) => tap<T>({ error: (e: unknown) => errors.push(e) });

/** Matches an AsyncTimeoutError with the given fields. */
export const timeoutErrorLike = (fields: { input: unknown; timeout: number; attempts?: number }) =>
  expect.objectContaining({ name: 'AsyncTimeoutError', ...fields });

/** Matches an AsyncCallError with the given fields. */
export const callErrorLike = (fields: { input: unknown; attempts: number; cause?: unknown }) =>
  expect.objectContaining({ name: 'AsyncCallError', ...fields });

/** The metrics gauges once a subscription has ended. */
export const ZERO_GAUGES = { inFlight: 0, waiting: 0, buffered: 0, oldestInFlightSince: null, oldestInFlightAge: 0 };

/**
 * The metrics fed only by optional features (`concurrency.adaptive`, `rateLimit`, `retry.budget`, `stallWarning`),
 * as they read when none of them is used.
 */
export const ZERO_OPTIONAL_COUNTERS = {
  concurrencyLimit: null, minRtt: null, sampleRtt: null, waitingForCall: 0, waitingForKey: 0, activeKeys: 0, retriesDenied: 0, stalls: 0,
};

// ---- synchronous streams ---------------------------------------------------------------------------------------

/** A synchronous source of the given elements. */
export const stream = <T>(...elements: StreamElement<T>[]): Observable<StreamElement<T>> => from(elements);

/** Subscribes synchronously and collects everything the observable reports. */
export function collect<T>(source: Observable<T>): { values: T[]; error: unknown; completed: boolean } {
  const out = { values: [] as T[], error: undefined as unknown, completed: false };
  source.subscribe({
    next: (v) => out.values.push(v),
    error: (e: unknown) => (out.error = e),
    complete: () => (out.completed = true),
  });
  return out;
}
