/**
 * Test harness for the asyncWait property tests: random scenarios (records, watermarks, barriers, other
 * markers; a plan for every call of every record) and a runner that plays one scenario through
 * asyncWaitOrdered / asyncWaitUnordered in virtual time and records everything observable.
 *
 * Barriers do not queue: the operators forward a barrier the moment it arrives, ahead of every record and
 * marker they still hold (Flink's behaviour). Watermarks and other markers keep their places. The runners
 * therefore record, for every input element, what had been output when it arrived, so a spec can check
 * that a barrier is the very next output after its arrival.
 *
 * Virtual time: a VirtualTimeScheduler (TestScheduler's base class, without its 750-frame limit) drives the
 * source, the inner timers of fn and the operator's own timeouts and retry delays; `flush()` runs it all.
 */
import fc from 'fast-check';
import {
  NEVER, Observable, Subscription, VirtualTimeScheduler, concat, finalize, from, mergeMap, of, tap, throwError, timer,
  type ObservableInput, type SchedulerAction, type SchedulerLike,
} from 'rxjs';
import {
  asyncWaitMetrics, barrier, record, watermark,
  type AsyncCallContext, type AsyncWaitCounters, type AsyncWaitOptions, type CheckpointBarrier, type RetryDelay,
  type StreamElement, type Watermark,
} from 'rxjs-sluice';
import { operatorOf, type Mode } from './marbles';

// ---- scenarios ---------------------------------------------------------------------------------------------

export { operatorOf, type Mode };
export const MODES: readonly Mode[] = ['ordered', 'unordered'];

/** How one call of fn behaves. */
export interface AttemptPlan {
  /** ok: emits the record's outputs and completes; fail: emits them, then errors; hang: never completes. */
  readonly outcome: 'ok' | 'fail' | 'hang';
  /** timer: after `delay` virtual ms; sync: a synchronous observable (or a synchronous throw for fail);
   * array: an array result (ok only). */
  readonly via: 'timer' | 'sync' | 'array';
  readonly delay: number;
}

export interface RecordPlan {
  readonly kind: 'record';
  /** Index of the record among the scenario's records; also its input value. */
  readonly id: number;
  readonly timestamp: number | undefined;
  /** Number of values each call emits. */
  readonly outputs: number;
  /** Plan of attempt n at index n - 1; the last one repeats if more calls happen. */
  readonly attempts: readonly AttemptPlan[];
}

/** A non-record element: watermark, barrier, or an element of a kind the operators do not know. */
export type Marker = Watermark | CheckpointBarrier | { readonly kind: 'other'; readonly tag: number };

export interface Item {
  /** Virtual ms after the previous item (or after subscription). */
  readonly gap: number;
  readonly el: RecordPlan | Marker;
}

export interface Scenario {
  readonly items: readonly Item[];
  /** Virtual ms between the last item and the source's completion. */
  readonly tailGap: number;
}

export interface ScenarioShape {
  /** Most failing attempts before the successful one (0: every first call succeeds). */
  readonly maxFails: number;
  /** Allow attempts that never complete. */
  readonly hangs: boolean;
  /** Let the failures be arbitrary (not followed by a success), e.g. for timeout scenarios. */
  readonly freeAttempts: boolean;
  readonly maxItems: number;
  readonly maxDelay: number;
}

const DEFAULT_SHAPE: ScenarioShape = { maxFails: 0, hangs: false, freeAttempts: false, maxItems: 30, maxDelay: 20 };

type RawEl =
  | { readonly r: true; readonly timestamp: number | undefined; readonly outputs: number; readonly attempts: AttemptPlan[] }
  | { readonly r: false; readonly marker: Marker };

export function scenarioArb(partial: Partial<ScenarioShape> = {}): fc.Arbitrary<Scenario> {
  const shape = { ...DEFAULT_SHAPE, ...partial };
  const delay = fc.integer({ min: 0, max: shape.maxDelay });
  const okAttempt: fc.Arbitrary<AttemptPlan> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ outcome: fc.constant('ok' as const), via: fc.constant('timer' as const), delay }) },
    { weight: 1, arbitrary: fc.record({ outcome: fc.constant('ok' as const), via: fc.constant('sync' as const), delay: fc.constant(0) }) },
    { weight: 1, arbitrary: fc.record({ outcome: fc.constant('ok' as const), via: fc.constant('array' as const), delay: fc.constant(0) }) },
  );
  const failAttempt: fc.Arbitrary<AttemptPlan> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ outcome: fc.constant('fail' as const), via: fc.constant('timer' as const), delay }) },
    { weight: 1, arbitrary: fc.record({ outcome: fc.constant('fail' as const), via: fc.constant('sync' as const), delay: fc.constant(0) }) },
  );
  const hangAttempt: fc.Arbitrary<AttemptPlan> = fc.constant({ outcome: 'hang', via: 'timer', delay: 0 });
  const anyAttempt: fc.Arbitrary<AttemptPlan> = shape.hangs
    ? fc.oneof({ weight: 3, arbitrary: okAttempt }, { weight: 2, arbitrary: failAttempt }, { weight: 1, arbitrary: hangAttempt })
    : fc.oneof({ weight: 3, arbitrary: okAttempt }, { weight: 2, arbitrary: failAttempt });
  const attempts: fc.Arbitrary<AttemptPlan[]> = shape.freeAttempts
    ? fc.array(anyAttempt, { minLength: 1, maxLength: 5 })
    : fc.tuple(fc.array(failAttempt, { maxLength: shape.maxFails }), okAttempt).map(([fails, ok]) => [...fails, ok]);
  const recordEl: fc.Arbitrary<RawEl> = fc.record({
    r: fc.constant(true as const),
    timestamp: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
    outputs: fc.integer({ min: 0, max: 3 }),
    attempts,
  });
  const markerEl: fc.Arbitrary<RawEl> = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: -5, max: 1000 }).map((t) => watermark(t)) },
    { weight: 1, arbitrary: fc.constantFrom(-Infinity, Infinity).map((t) => watermark(t)) },
    { weight: 2, arbitrary: fc.nat({ max: 100 }).map((id) => barrier(id)) },
    { weight: 1, arbitrary: fc.nat({ max: 100 }).map((tag) => ({ kind: 'other' as const, tag })) },
  ).map((marker): RawEl => ({ r: false, marker }));
  const item = fc.tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) }),
    fc.oneof({ weight: 5, arbitrary: recordEl }, { weight: 2, arbitrary: markerEl }),
  );
  return fc.record({
    items: fc.array(item, { maxLength: shape.maxItems }),
    tailGap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
  }).map(({ items, tailGap }) => {
    let id = 0;
    return {
      tailGap,
      items: items.map(([gap, raw]): Item => ({
        gap,
        el: raw.r
          ? { kind: 'record', id: id++, timestamp: raw.timestamp, outputs: raw.outputs, attempts: raw.attempts }
          : raw.marker,
      })),
    };
  });
}

export function recordsOf(scenario: Scenario): RecordPlan[] {
  return scenario.items.flatMap((item) => (item.el.kind === 'record' ? [item.el as RecordPlan] : []));
}

export function isPlan(el: RecordPlan | Marker): el is RecordPlan {
  return el.kind === 'record';
}

/** True for a checkpoint barrier: the one marker the operators forward on arrival instead of queueing. */
export function isBarrierItem(el: RecordPlan | Marker): el is CheckpointBarrier {
  return el.kind === 'barrier';
}

/** The elements without their barriers: what must keep input order (ordered) or segments (unordered). */
export function withoutBarriers<T>(elements: readonly StreamElement<T>[]): StreamElement<T>[] {
  return elements.filter((el) => el.kind !== 'barrier');
}

/**
 * The reference model of barriers: each barrier leaves the moment it arrives, so it is inserted into the
 * barrier-free output exactly after what had been output before its arrival (`outputsBeforeArrival[i]` for
 * item i, counting earlier barriers). Barriers are spliced in arrival order, which is their input order.
 */
export function withBarriersOnArrival<T>(
  scenario: Scenario, barrierFree: readonly StreamElement<T>[], outputsBeforeArrival: readonly number[],
): StreamElement<T>[] {
  const out = [...barrierFree];
  scenario.items.forEach((item, i) => {
    if (!isBarrierItem(item.el)) return;
    const at = outputsBeforeArrival[i]!;
    if (at > out.length) throw new Error(`barrier ${i} arrived after ${at} outputs, but only ${out.length} are expected`);
    out.splice(at, 0, item.el as StreamElement<T>);
  });
  return out;
}

/**
 * The reference model of watermark coalescing. A watermark that arrives while the watermark before it, with
 * nothing but barriers between them in the input, has not gone out yet (it waits behind a record, held or
 * beyond capacity) merges into it: the run goes out as one watermark, the highest (the later on a tie). One
 * that arrives after it went out goes out itself. Barriers break no run: they never queue in these runs.
 *
 * Given the mapped input (`expected`, barriers included) and, from the run, the outputs before each arrival,
 * returns the expected output without barriers, which items were merged into an earlier watermark, and how many.
 * A watermark's place in the barrier-free output is the same in both modes: after every record before it.
 */
export function withCoalescedWatermarks<T>(
  scenario: Scenario, expected: readonly StreamElement<T>[], outputsBeforeArrival: readonly number[],
): { barrierFree: StreamElement<T>[]; merged: boolean[]; coalesced: number } {
  const barrierFree: StreamElement<T>[] = [];
  const merged = scenario.items.map(() => false);
  let next = 0; // index in `expected` of the first element of the current item
  let barriers = 0; // barriers arrived so far: each went out on arrival
  let runAt = -1; // index in barrierFree of the watermark the next one may merge into; -1 after a record or other marker
  let coalesced = 0;
  scenario.items.forEach((item, i) => {
    const el = item.el;
    if (isBarrierItem(el)) {
      barriers++;
      next++;
      return;
    }
    if (isPlan(el)) {
      // Its outputs, however many the runner's fn gives (those of the records right after it come along too).
      while (next < expected.length && expected[next]!.kind === 'record') barrierFree.push(expected[next++]!);
      runAt = -1;
      return;
    }
    const element = expected[next++]!;
    if (element.kind !== 'watermark') {
      barrierFree.push(element);
      runAt = -1;
      return;
    }
    const outBeforeArrival = outputsBeforeArrival[i]! - barriers;
    if (runAt >= 0 && outBeforeArrival <= runAt) {
      const held = barrierFree[runAt] as Watermark;
      if (!(element.timestamp < held.timestamp)) barrierFree[runAt] = element;
      merged[i] = true;
      coalesced++;
      return;
    }
    runAt = barrierFree.length;
    barrierFree.push(element);
  });
  return { barrierFree, merged, coalesced };
}

/** The input element an item stands for. */
export function inputOf(el: RecordPlan | Marker): StreamElement<number> {
  return isPlan(el) ? record(el.id, el.timestamp) : (el as StreamElement<number>);
}

export function planOf(rec: RecordPlan, attempt: number): AttemptPlan {
  return rec.attempts[Math.min(attempt, rec.attempts.length) - 1]!;
}

/** Failing attempts before the first successful one. */
export function failsOf(rec: RecordPlan): number {
  const i = rec.attempts.findIndex((a) => a.outcome === 'ok');
  return i < 0 ? rec.attempts.length : i;
}

export function maxFailsOf(scenario: Scenario): number {
  return recordsOf(scenario).reduce((m, r) => Math.max(m, failsOf(r)), 0);
}

/** The value fn emits as output `k` of record `id` on attempt `attempt`. */
export function outValue(id: number, k: number, attempt: number): string {
  return `${id}:${k}@${attempt}`;
}

export function parseOut(value: string): { id: number; k: string; attempt: string } {
  const m = /^(\d+):(\w+)@(\w+)$/.exec(value);
  if (m === null) throw new Error(`unexpected output value ${value}`);
  return { id: Number(m[1]), k: m[2]!, attempt: m[3]! };
}

/** The records one input turns into, given the attempt whose results are accepted. */
export function expectedOutputs(rec: RecordPlan, attempt: number): StreamElement<string>[] {
  return Array.from({ length: rec.outputs }, (_, k) => record(outValue(rec.id, k, attempt), rec.timestamp));
}

/** Records of every segment between markers, and the markers, of an element sequence. */
export function splitBySegments<T>(elements: readonly StreamElement<T>[]): { markers: unknown[]; segments: StreamElement<T>[][] } {
  const markers: unknown[] = [];
  const segments: StreamElement<T>[][] = [[]];
  for (const el of elements) {
    if (el.kind === 'record') segments[segments.length - 1]!.push(el);
    else {
      markers.push(el);
      segments.push([]);
    }
  }
  return { markers, segments };
}

/** Records in a canonical order, to compare multisets. */
export function canonical<T>(records: readonly StreamElement<T>[]): string[] {
  return records.map((r) => JSON.stringify(r)).sort();
}

// ---- the runner ----------------------------------------------------------------------------------------

export interface CallLog {
  readonly id: number;
  readonly attempt: number;
  readonly start: number;
  readonly startSeq: number;
  readonly signal: AbortSignal;
  end?: number;
  endSeq?: number;
  /** How the call's inner subscription ended: it completed, errored, or was unsubscribed by the operator. */
  outcome?: 'complete' | 'error' | 'unsubscribed';
  /** What the call failed with, when it failed. */
  error?: unknown;
}

export interface RunOptions {
  readonly mode: Mode;
  readonly capacity: number;
  readonly retry?: { readonly maxRetries: number; readonly delay: RetryDelay<string> };
  readonly timeout?: number;
  /** onTimeout returns [`${id}:T@f`]. */
  readonly onTimeout?: boolean;
  /** onError returns [`${id}:E@f`]. */
  readonly onError?: boolean;
  /** Unsubscribe the output at this virtual time. */
  readonly unsubscribeAt?: number;
}

export interface Emission {
  readonly t: number;
  readonly seq: number;
  readonly el: StreamElement<string>;
}

export interface RunResult {
  readonly arrivals: number[];
  /** `seq` of each item's arrival (the source's next), and the number of outputs emitted before it. */
  readonly arrivalSeqs: number[];
  readonly outputsBeforeArrival: number[];
  readonly sourceCompleteAt: number;
  readonly outputs: Emission[];
  readonly completedAt: number | undefined;
  readonly error: unknown;
  readonly erroredAt: number | undefined;
  readonly calls: CallLog[];
  /** Calls started since the unsubscribe, and outputs emitted since then. */
  readonly callsAfterUnsubscribe: number;
  readonly outputsAfterUnsubscribe: number;
  readonly unsubscribeSeq: number | undefined;
  /** Greatest number of calls running at once (started, inner subscription not ended). */
  readonly maxRunning: number;
  /** Calls still running once the run has ended (or right after the unsubscribe). */
  readonly runningAfterEnd: number;
  readonly runningAfterUnsubscribe: number | undefined;
  /** Greatest lower bound of held records (started, not yet releasable) seen when a first call started,
   * counting the starting record. */
  readonly maxHeldModel: number;
  /** Greatest metrics.inFlight + metrics.waiting seen at any call start or emission. */
  readonly maxHeldGauge: number;
  /** Record ids in the order of their first calls. */
  readonly firstCallOrder: number[];
  /** Gauges right after the unsubscribe, and at the end. */
  readonly gaugesAfterUnsubscribe: Pick<AsyncWaitCounters, 'inFlight' | 'waiting' | 'buffered'> | undefined;
  readonly finalMetrics: AsyncWaitCounters;
  /** Gauges that went negative at some point. */
  readonly negativeGauges: string[];
  /** Calls that started at or after their record's deadline (first call + timeout). */
  readonly callsAfterDeadline: CallLog[];
  /** Virtual time at which everything had run. */
  readonly endTime: number;
  /** Virtual time of each record's first call (its admission). */
  readonly firstCallAt: number[];
  /** Invocations of onTimeout and onError. */
  readonly timeoutCalls: { id: number; t: number; attempt: number }[];
  readonly errorCalls: { id: number; t: number; error: unknown }[];
}

const gauges = (m: AsyncWaitCounters) => ({ inFlight: m.inFlight, waiting: m.waiting, buffered: m.buffered });

export class PlannedFailure extends Error {
  constructor(readonly id: number, readonly attempt: number) {
    super(`planned failure of ${id} attempt ${attempt}`);
  }
}

/** Plays `scenario` through the operator in virtual time. */
/** Each item's arrival time (the running sum of the gaps), and when the source completes after the last. */
export function arrivalTimes(scenario: { readonly items: readonly { readonly gap: number }[]; readonly tailGap: number }): {
  arrivals: number[];
  sourceCompleteAt: number;
} {
  const arrivals: number[] = [];
  let at = 0;
  for (const item of scenario.items) {
    at += item.gap;
    arrivals.push(at);
  }
  return { arrivals, sourceCompleteAt: at + scenario.tailGap };
}

export function runScenario(scenario: Scenario, opts: RunOptions): RunResult {
  const sched = new VirtualTimeScheduler();
  const records = recordsOf(scenario);
  const metrics = asyncWaitMetrics();
  let seq = 0;

  const { done, started, heldNow } = releaseModel(scenario, opts.mode);
  const firstCallAt: number[] = [];

  const calls: CallLog[] = [];
  const firstCallOrder: number[] = [];
  const negativeGauges: string[] = [];
  let running = 0;
  let maxRunning = 0;
  let maxHeldModel = 0;
  let maxHeldGauge = 0;
  let unsubscribed = false;
  let callsAfterUnsubscribe = 0;
  let outputsAfterUnsubscribe = 0;
  let unsubscribeSeq: number | undefined;
  let runningAfterUnsubscribe: number | undefined;
  let gaugesAfterUnsubscribe: RunResult['gaugesAfterUnsubscribe'];

  const watchGauges = () => {
    maxHeldGauge = Math.max(maxHeldGauge, metrics.inFlight + metrics.waiting);
    for (const [k, v] of Object.entries(gauges(metrics))) if (v < 0) negativeGauges.push(`${k}=${v}`);
  };

  const fn = (value: number, ctx: AsyncCallContext): ObservableInput<string> => {
    const rec = records[value]!;
    const attempt = ctx.attempt;
    if (unsubscribed) callsAfterUnsubscribe++;
    const call: CallLog = { id: value, attempt, start: sched.now(), startSeq: seq++, signal: ctx.signal };
    calls.push(call);
    if (!started[value]) {
      started[value] = true;
      firstCallAt[value] = sched.now();
      firstCallOrder.push(value);
      maxHeldModel = Math.max(maxHeldModel, heldNow());
    }
    running++;
    maxRunning = Math.max(maxRunning, running);
    watchGauges();
    const plan = planOf(rec, attempt);
    const values = Array.from({ length: rec.outputs }, (_, k) => outValue(value, k, attempt));
    const end = (outcome: 'complete' | 'error' | 'unsubscribed') => {
      if (call.outcome !== undefined) return;
      call.outcome = outcome;
      call.end = sched.now();
      call.endSeq = seq++;
      running--;
      if (outcome === 'complete' && plan.outcome === 'ok') done[value] = true;
    };
    if (plan.via === 'array') {
      end('complete');
      return values;
    }
    if (plan.via === 'sync' && plan.outcome === 'fail') {
      end('error');
      throw (call.error = new PlannedFailure(value, attempt));
    }
    let inner: Observable<string>;
    if (plan.outcome === 'hang') inner = NEVER;
    else {
      const body = plan.outcome === 'ok'
        ? from(values)
        : concat(from(values), throwError(() => (call.error = new PlannedFailure(value, attempt))));
      inner = plan.via === 'sync' ? body : timer(plan.delay, sched).pipe(mergeMap(() => body));
    }
    return inner.pipe(
      tap({ complete: () => end('complete'), error: () => end('error') }),
      finalize(() => end('unsubscribed')),
    );
  };

  const timeoutCalls: RunResult['timeoutCalls'] = [];
  const errorCalls: RunResult['errorCalls'] = [];
  const options: AsyncWaitOptions<number, string> = {
    capacity: opts.capacity,
    scheduler: sched,
    metrics,
    ...(opts.retry !== undefined ? { retry: opts.retry } : {}),
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.onTimeout
      ? {
        onTimeout: (id: number, ctx: AsyncCallContext) => {
          timeoutCalls.push({ id, t: sched.now(), attempt: ctx.attempt });
          return [`${id}:T@f`];
        },
      }
      : {}),
    ...(opts.onError
      ? {
        onError: (error: unknown, id: number) => {
          errorCalls.push({ id, t: sched.now(), error });
          return of(`${id}:E@f`);
        },
      }
      : {}),
  };

  // The source: each item at its arrival time, then completion.
  const { arrivals, sourceCompleteAt } = arrivalTimes(scenario);
  const outputs: Emission[] = [];
  const arrivalSeqs: number[] = [];
  const outputsBeforeArrival: number[] = [];
  const source = new Observable<StreamElement<number>>((subscriber) => {
    const actions = new Subscription();
    scenario.items.forEach((item, i) => {
      actions.add(sched.schedule(() => {
        arrivalSeqs[i] = seq++;
        outputsBeforeArrival[i] = outputs.length;
        subscriber.next(inputOf(item.el));
      }, arrivals[i]!));
    });
    actions.add(sched.schedule(() => subscriber.complete(), sourceCompleteAt));
    return actions;
  });

  let completedAt: number | undefined;
  let error: unknown;
  let erroredAt: number | undefined;
  const subscription = source.pipe(operatorOf(opts.mode)(fn, options)).subscribe({
    next: (el) => {
      if (unsubscribed) outputsAfterUnsubscribe++;
      outputs.push({ t: sched.now(), seq: seq++, el });
      watchGauges();
    },
    error: (err: unknown) => {
      error = err;
      erroredAt = sched.now();
    },
    complete: () => {
      completedAt = sched.now();
    },
  });
  if (opts.unsubscribeAt !== undefined) {
    sched.schedule(() => {
      unsubscribed = true;
      unsubscribeSeq = seq++;
      subscription.unsubscribe();
      runningAfterUnsubscribe = running;
      gaugesAfterUnsubscribe = gauges(metrics);
    }, opts.unsubscribeAt);
  }
  sched.flush();

  const callsAfterDeadline = opts.timeout === undefined
    ? []
    : calls.filter((c) => c.start >= firstCallAt[c.id]! + opts.timeout!);
  return {
    arrivals,
    arrivalSeqs,
    outputsBeforeArrival,
    sourceCompleteAt,
    outputs,
    completedAt,
    error,
    erroredAt,
    calls,
    callsAfterUnsubscribe,
    outputsAfterUnsubscribe,
    unsubscribeSeq,
    maxRunning,
    runningAfterEnd: running,
    runningAfterUnsubscribe,
    maxHeldModel,
    maxHeldGauge,
    firstCallOrder,
    gaugesAfterUnsubscribe,
    finalMetrics: metrics.snapshot(),
    negativeGauges,
    callsAfterDeadline,
    endTime: sched.now(),
    firstCallAt,
    timeoutCalls,
    errorCalls,
  };
}

/** A retry configuration; the tests raise maxRetries to the scenario's maxFailsOf when every record must succeed. */
export function retryArb(): fc.Arbitrary<{ maxRetries: number; delay: RetryDelay<string> }> {
  const delay: fc.Arbitrary<RetryDelay<string>> = fc.oneof(
    fc.integer({ min: 0, max: 15 }),
    fc.record({ initial: fc.integer({ min: 0, max: 5 }), multiplier: fc.constantFrom(1, 1.5, 2), max: fc.integer({ min: 5, max: 20 }) }),
    fc.integer({ min: 0, max: 7 }).map((base) => Object.assign((n: number) => base * n, { toString: () => `(n) => ${base} * n` })),
  );
  return fc.record({ maxRetries: fc.integer({ min: 0, max: 4 }), delay });
}

// ---- the promise runner (fc.scheduler) -----------------------------------------------------------------

/** An rxjs scheduler whose every action (the operator's retry delays) waits for an fc.scheduler task. */
class FcAction<T> extends Subscription {
  schedule(_state?: T, _delay?: number): Subscription {
    throw new Error('FcAction: rescheduling is not supported');
  }
}

export function fcRxScheduler(s: fc.Scheduler): SchedulerLike {
  return {
    now: () => 0,
    schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, _delay?: number, state?: T): Subscription {
      const action = new FcAction<T>();
      void s.schedule(Promise.resolve(), 'retry delay').then(() => {
        if (!action.closed) work.call(action, state);
      });
      return action;
    },
  };
}

/** The outputs the promise runner's fn gives on `attempt`: a promise yields one value, an array several. */
export function expectedPromiseOutputs(rec: RecordPlan, attempt: number): StreamElement<string>[] {
  const n = planOf(rec, attempt).via === 'array' ? rec.outputs : 1;
  return Array.from({ length: n }, (_, k) => record(outValue(rec.id, k, attempt), rec.timestamp));
}

export interface PromiseRunResult {
  readonly outputs: StreamElement<string>[];
  /** For each item: the number of outputs before its arrival, and right after the source's next returned. */
  readonly outputsBeforeArrival: number[];
  readonly outputsAfterArrival: number[];
  readonly completed: boolean;
  readonly error: unknown;
  readonly calls: { id: number; attempt: number }[];
  readonly maxRunning: number;
  readonly maxHeldModel: number;
  readonly maxHeldGauge: number;
  readonly firstCallOrder: number[];
  readonly finalMetrics: AsyncWaitCounters;
}

/**
 * Plays `scenario` with Promise-returning calls, the source's arrivals, the promises' resolutions and the
 * retry delays all interleaved by fc.scheduler. Gaps and delays of the scenario are ignored; `timer`
 * attempts return an fc-scheduled promise, `sync` ones an already-settled promise (ok) or a synchronous
 * throw (fail), `array` ones an array.
 */
export async function runScenarioWithPromises(
  s: fc.Scheduler,
  scenario: Scenario,
  opts: { mode: Mode; capacity: number; maxRetries: number },
): Promise<PromiseRunResult> {
  const records = recordsOf(scenario);
  const metrics = asyncWaitMetrics();
  const { done, started, heldNow } = releaseModel(scenario, opts.mode);
  const calls: { id: number; attempt: number }[] = [];
  const firstCallOrder: number[] = [];
  let running = 0;
  let maxRunning = 0;
  let maxHeldModel = 0;
  let maxHeldGauge = 0;
  const watchGauges = () => {
    maxHeldGauge = Math.max(maxHeldGauge, metrics.inFlight + metrics.waiting);
  };

  const fn = (value: number, ctx: AsyncCallContext): ObservableInput<string> => {
    const rec = records[value]!;
    const attempt = ctx.attempt;
    calls.push({ id: value, attempt });
    if (!started[value]) {
      started[value] = true;
      firstCallOrder.push(value);
      maxHeldModel = Math.max(maxHeldModel, heldNow());
    }
    running++;
    maxRunning = Math.max(maxRunning, running);
    watchGauges();
    const plan = planOf(rec, attempt);
    const settle = () => {
      running--;
      if (plan.outcome === 'ok') done[value] = true;
      if (plan.outcome === 'fail') throw new PlannedFailure(value, attempt);
      return outValue(value, 0, attempt);
    };
    if (plan.via === 'array') {
      running--;
      done[value] = true;
      return Array.from({ length: rec.outputs }, (_, k) => outValue(value, k, attempt));
    }
    if (plan.via === 'sync') {
      if (plan.outcome === 'fail') {
        running--;
        throw new PlannedFailure(value, attempt);
      }
      return Promise.resolve().then(settle);
    }
    return s.schedule(Promise.resolve(), `call ${value}#${attempt}`).then(settle);
  };

  let stopped = false;
  const outputs: StreamElement<string>[] = [];
  const outputsBeforeArrival: number[] = [];
  const outputsAfterArrival: number[] = [];
  const source = new Observable<StreamElement<number>>((subscriber) => {
    void (async () => {
      for (const [i, item] of scenario.items.entries()) {
        await s.schedule(Promise.resolve(), 'arrival');
        if (stopped) return;
        outputsBeforeArrival[i] = outputs.length;
        subscriber.next(inputOf(item.el));
        outputsAfterArrival[i] = outputs.length;
      }
      await s.schedule(Promise.resolve(), 'source complete');
      if (!stopped) subscriber.complete();
    })();
    return () => {
      stopped = true;
    };
  });

  let completed = false;
  let error: unknown;
  source.pipe(operatorOf(opts.mode)(fn, {
    capacity: opts.capacity,
    metrics,
    retry: { maxRetries: opts.maxRetries, delay: 1 },
    scheduler: fcRxScheduler(s),
  })).subscribe({
    next: (el) => {
      outputs.push(el);
      watchGauges();
    },
    error: (err: unknown) => {
      error = err;
    },
    complete: () => {
      completed = true;
    },
  });
  await s.waitIdle();
  return {
    outputs, outputsBeforeArrival, outputsAfterArrival, completed, error, calls, maxRunning, maxHeldModel, maxHeldGauge, firstCallOrder,
    finalMetrics: metrics.snapshot(),
  };
}

/**
 * The reference model of when a record may leave the operator. Every record has a segment (the number of
 * watermarks and other markers before it; barriers do not count: they never queue, so they hold nothing
 * back); a record is releasable once it is done and, ordered, every earlier record is done, or, unordered,
 * every record of an earlier segment is done. The runners flip `done` / `started` as calls go.
 */
function releaseModel(scenario: Scenario, mode: Mode) {
  const records = recordsOf(scenario);
  const segmentOf: number[] = [];
  let segment = 0;
  for (const item of scenario.items) {
    if (isPlan(item.el)) segmentOf[item.el.id] = segment;
    else if (!isBarrierItem(item.el)) segment++;
  }
  const done = new Array<boolean>(records.length).fill(false);
  const started = new Array<boolean>(records.length).fill(false);
  const releasable = (i: number): boolean => {
    if (!done[i]) return false;
    for (let k = 0; k < records.length; k++) {
      const blocks = mode === 'ordered' ? k < i : segmentOf[k]! < segmentOf[i]!;
      if (blocks && !done[k]) return false;
    }
    return true;
  };
  /** Records held by the operator in the model: started and not yet releasable. */
  const heldNow = (): number => {
    let held = 0;
    for (let i = 0; i < records.length; i++) if (started[i] && !releasable(i)) held++;
    return held;
  };
  return { done, started, releasable, heldNow };
}
