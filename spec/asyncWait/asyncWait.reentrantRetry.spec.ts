import { Subject, VirtualTimeScheduler, config, type Subscription } from 'rxjs';
import { AsyncCallError, asyncWaitMetrics, record, type AsyncWaitMetrics } from 'rxjs-sluice';
import { CountingScheduler } from '../support/countingScheduler';
import { ASYNC_WAIT_OPERATORS, ZERO_GAUGES, type El } from '../support/marbles';

/**
 * The retry policy's user callbacks (retryOnError, retryOnResult, the delay function) run in the middle of the
 * operator's bookkeeping. Any of them may end the output re-entrantly (say by aborting something a downstream
 * `takeUntil` watches): then teardown has already run, and the operator must stop right there, with no crash, no
 * retry timer outliving the subscription, and gauges back to 0. Found by review; each test failed before the fix.
 */

let unhandled: unknown[] = [];
const onRejection = (reason: unknown): void => void unhandled.push(reason);

beforeEach(() => {
  unhandled = [];
  config.onUnhandledError = (err: unknown) => unhandled.push(err);
  process.on('unhandledRejection', onRejection);
});

afterEach(() => {
  config.onUnhandledError = null;
  process.off('unhandledRejection', onRejection);
});

/** Lets settled promises run their callbacks, and a macrotask for anything rxjs reports late. */
async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

const gaugesOf = (metrics: AsyncWaitMetrics) => ({
  inFlight: metrics.inFlight, waiting: metrics.waiting, buffered: metrics.buffered,
  oldestInFlightSince: metrics.oldestInFlightSince, oldestInFlightAge: metrics.oldestInFlightAge,
});

describe.each(ASYNC_WAIT_OPERATORS)('%s: a retry callback that unsubscribes re-entrantly', (_name, operator) => {
  /** Subscribes to `operator` over a Subject with a counting virtual scheduler; `end()` unsubscribes. */
  function arrange(options: (end: () => void) => object, fn: (x: number) => unknown) {
    const virtual = new VirtualTimeScheduler();
    const scheduler = new CountingScheduler(virtual);
    const metrics = asyncWaitMetrics();
    const input = new Subject<El>();
    const outputs: unknown[] = [];
    // `end` runs only once the subscription exists: a retry callback calls it, never the subscribe itself.
    const end = () => subscription.unsubscribe();
    const subscription: Subscription = input
      .pipe(operator(fn as never, { scheduler, metrics, ...options(end) } as never))
      .subscribe({ next: (v) => outputs.push(v), error: (e: unknown) => outputs.push(['error', e]) });
    return { virtual, scheduler, metrics, input, outputs };
  }

  const fails = () => Promise.reject(new Error('down'));
  const doubles = (x: number) => Promise.resolve(x * 2);
  /** Each retry callback, made to unsubscribe the output before it answers, with a call that invokes it. */
  const cases: ReadonlyArray<readonly [string, (end: () => void) => object, (x: number) => Promise<number>]> = [
    ['retryOnError answers false', (end) => ({ retry: { maxRetries: 3, delay: 50, retryOnError: () => { end(); return false; } } }), fails],
    ['retryOnError answers true', (end) => ({ retry: { maxRetries: 3, delay: 50, retryOnError: () => { end(); return true; } } }), fails],
    ['retryOnResult answers false', (end) => ({ retry: { maxRetries: 3, delay: 50, retryOnResult: () => { end(); return false; } } }), doubles],
    ['retryOnResult answers true', (end) => ({ retry: { maxRetries: 3, delay: 50, retryOnResult: () => { end(); return true; } } }), doubles],
    ['the delay function', (end) => ({ retry: { maxRetries: 3, delay: () => { end(); return 1_000; } } }), fails],
  ];

  it.each(cases)('%s, after unsubscribing: no crash, no output, no timer left, gauges at 0', async (_case, options, fn) => {
    // Arrange
    const run = arrange(options, fn);
    // Act
    run.input.next(record(1));
    await settle();
    // Assert
    expect(unhandled).toEqual([]);
    expect(run.outputs).toEqual([]);
    expect(run.scheduler.live).toBe(0);
    expect(gaugesOf(run.metrics)).toEqual(ZERO_GAUGES);
  });

  it('a native promise given an own then() is not trusted: its then() is called guarded, and its throw is a failed call', async () => {
    // Arrange: the promise itself resolves to 6, but its own then() throws.
    const promise = Promise.resolve(6);
    const problem = new Error('own then() used');
    Object.defineProperty(promise, 'then', { value: () => { throw problem; } });
    const run = arrange(() => ({}), () => promise);
    // Act
    run.input.next(record(3, 30));
    await settle();
    // Assert: the output errors with AsyncCallError caused by the own then(); nothing escapes to the source.
    expect(unhandled).toEqual([]);
    expect(run.outputs).toHaveLength(1);
    const [tag, error] = run.outputs[0] as [string, AsyncCallError];
    expect(tag).toBe('error');
    expect(error).toBeInstanceOf(AsyncCallError);
    expect(error.cause).toBe(problem);
    expect(error.input).toBe(3);
    expect(gaugesOf(run.metrics)).toEqual(ZERO_GAUGES);
  });

  it('a single result rejected by retryOnResult, then two results accepted: both emitted, once', async () => {
    // Arrange: attempt 1 gives one value (rejected), attempt 2 gives an array of two.
    let attempt = 0;
    const run = arrange(() => ({
      retry: { maxRetries: 1, delay: 10, retryOnResult: (results: readonly unknown[]) => results.length === 1 },
    }), (x) => (++attempt === 1 ? Promise.resolve(x) : [x, -x]));
    // Act
    run.input.next(record(4));
    await settle();
    const waitingForRetry = { outputs: [...run.outputs], live: run.scheduler.live };
    run.virtual.flush(); // the retry delay passes: attempt 2 returns [4, -4] synchronously
    await settle();
    // Assert
    expect(waitingForRetry).toEqual({ outputs: [], live: 1 });
    expect(run.outputs).toEqual([record(4), record(-4)]);
    expect(attempt).toBe(2);
    expect(unhandled).toEqual([]);
    expect(gaugesOf(run.metrics)).toEqual(ZERO_GAUGES);
  });
});
