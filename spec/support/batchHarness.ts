/**
 * Test harness for the asyncBatchOrdered / asyncBatchUnordered property tests: random scenarios (records and
 * watermarks arriving at random virtual times; batching options; a plan for every batch call: its latency, how it
 * answers, whether it fails as a whole; for every record the attempts whose entry fails) and runners that play one
 * scenario through the operator and record everything a user can observe: the output with its times, every batch
 * call (values, ctx, start and end), when each record attempt joined a batch, and the metrics.
 *
 * Virtual time: `runBatchScenario` drives the source, the batch calls' timers and the operator's linger timer and
 * retry delays with a VirtualTimeScheduler (TestScheduler's base class, without its 750-frame limit); everything is
 * deterministic. `runBatchScenarioWithPromises` lets fc.scheduler() interleave the arrivals, the batch calls'
 * promises and the operator's timers instead.
 *
 * Result values: attempt `a` of record `id` answers `${id}:${k}@${a}` for each of its `outputs` results (one plain
 * entry, or batchResults for 0, 2 or a wrapped 1); onError answers `${id}:E`.
 */
import fc from 'fast-check';
import {
  NEVER, Observable, Subscription, VirtualTimeScheduler, finalize, mergeMap, of, tap, throwError, timer, type ObservableInput,
} from 'rxjs';
import {
  asyncBatchMetrics, asyncBatchOrdered, asyncBatchUnordered, batchFailure, batchResults, record, watermark,
  type AsyncBatchCounters, type AsyncBatchOptions, type BatchCallContext, type BatchEntry, type BatchResult,
  type CheckpointSink, type CheckpointedOutput, type RetryDelay, type StreamElement, type Watermark,
} from 'rxjs-sluice';
import { arrivalTimes, fcRxScheduler } from './asyncWaitHarness';
import { type Mode } from './marbles';

export { type Mode };
export const MODES: readonly Mode[] = ['ordered', 'unordered'];

/** The operator of a mode. */
export function batchOperatorOf(mode: Mode): typeof asyncBatchOrdered {
  return mode === 'ordered' ? asyncBatchOrdered : asyncBatchUnordered;
}

// ---- scenarios ---------------------------------------------------------------------------------------------------

export interface BatchRecordPlan {
  readonly kind: 'record';
  /** Index among the scenario's records; also the record's value. */
  readonly id: number;
  readonly timestamp: number | undefined;
  /** Results of a successful attempt: 1 is a plain entry (unless `wrapped`), any other count batchResults. */
  readonly outputs: number;
  readonly wrapped: boolean;
  /** What `weigh` says (when the scenario has a weight limit). */
  readonly weight: number;
  /** Attempts 1..fails get a failing entry, whatever batch they are in. */
  readonly fails: number;
  /** A failing entry is an Error instance or a batchFailure(). */
  readonly failAs: 'error' | 'batchFailure';
}

export type BatchInput = BatchRecordPlan | Watermark;

export interface BatchItem {
  /** Virtual ms after the previous item (or after subscription). */
  readonly gap: number;
  readonly el: BatchInput;
}

/** How the k-th batch call of a run behaves. */
export interface CallPlan {
  /**
   * timer: answers (or fails) after `latency` virtual ms, as an Observable; sync: a synchronous Observable;
   * array: the result array itself (a synchronous throw when it fails as a whole); never: never answers.
   * (The promise runner: timer is an fc-scheduled promise, sync an already-settled one.)
   */
  readonly via: 'timer' | 'sync' | 'array' | 'never';
  readonly latency: number;
  /** The call fails as a whole (every record in it fails this attempt). */
  readonly wholeFail: boolean;
  /** ctx.signal is read when the call starts; else only once the run is over. */
  readonly readSignal: boolean;
}

/** Every call beyond the scenario's list: answers after 1 ms. */
const LATER_CALL: CallPlan = { via: 'timer', latency: 1, wholeFail: false, readSignal: true };

export interface BatchScenario {
  readonly items: readonly BatchItem[];
  /** Virtual ms between the last item and the source's completion. */
  readonly tailGap: number;
  /** Plan of the k-th batch call at index k; calls beyond the list answer after 1 ms. */
  readonly calls: readonly CallPlan[];
  readonly maxBatchSize: number;
  readonly linger: number;
  readonly maxInFlightBatches: number;
  /** Undefined: the default, maxBatchSize * (maxInFlightBatches + 1). */
  readonly capacity: number | undefined;
  /** With a weight limit, `weigh` returns each record's `weight` (never above the limit). */
  readonly maxBatchWeight: number | undefined;
}

export interface BatchScenarioShape {
  readonly maxItems: number;
  /** Most failing entries per record. */
  readonly maxFails: number;
  /** Allow calls that fail as a whole. */
  readonly wholeFails: boolean;
  /** Allow calls that never answer. */
  readonly hangs: boolean;
  /** undefined: maybe a weight limit; true / false: always / never one. */
  readonly weights: boolean | undefined;
}

const DEFAULT_SHAPE: BatchScenarioShape = { maxItems: 30, maxFails: 2, wholeFails: true, hangs: false, weights: undefined };

type RawRecord = Omit<BatchRecordPlan, 'kind' | 'id' | 'weight'> & { readonly weight: number };

export function batchScenarioArb(partial: Partial<BatchScenarioShape> = {}): fc.Arbitrary<BatchScenario> {
  const shape = { ...DEFAULT_SHAPE, ...partial };
  const recordArb: fc.Arbitrary<{ r: true; rec: RawRecord }> = fc.record({
    r: fc.constant(true as const),
    rec: fc.record({
      timestamp: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
      outputs: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 }) }),
      wrapped: fc.boolean(),
      weight: fc.integer({ min: 0, max: 5 }),
      fails: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: shape.maxFails }) }),
      failAs: fc.constantFrom('error' as const, 'batchFailure' as const),
    }),
  });
  const watermarkArb = fc.record({ r: fc.constant(false as const), mark: fc.integer({ min: -5, max: 1000 }).map((t) => watermark(t)) });
  const item = fc.tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) }),
    fc.oneof({ weight: 5, arbitrary: recordArb }, { weight: 2, arbitrary: watermarkArb }),
  );
  const via = fc.oneof(
    { weight: 6, arbitrary: fc.constant('timer' as const) },
    { weight: 1, arbitrary: fc.constant('sync' as const) },
    { weight: 1, arbitrary: fc.constant('array' as const) },
    ...(shape.hangs ? [{ weight: 2, arbitrary: fc.constant('never' as const) }] : []),
  );
  const callArb: fc.Arbitrary<CallPlan> = fc.record({
    via,
    latency: fc.integer({ min: 0, max: 15 }),
    wholeFail: shape.wholeFails ? fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) : fc.constant(false),
    readSignal: fc.boolean(),
  });
  const weightLimit = shape.weights === undefined
    ? fc.option(fc.integer({ min: 5, max: 12 }), { nil: undefined })
    : shape.weights ? fc.integer({ min: 5, max: 12 }) : fc.constant(undefined);
  return fc.record({
    items: fc.array(item, { maxLength: shape.maxItems }),
    tailGap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 30 })),
    calls: fc.array(callArb, { maxLength: 16 }),
    maxBatchSize: fc.integer({ min: 1, max: 6 }),
    linger: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })),
    maxInFlightBatches: fc.integer({ min: 1, max: 3 }),
    capacity: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
    maxBatchWeight: weightLimit,
  }).map(({ items, ...rest }) => {
    let id = 0;
    return {
      ...rest,
      items: items.map(([gap, raw]): BatchItem => ({
        gap,
        el: raw.r ? { kind: 'record', id: id++, ...raw.rec } : raw.mark,
      })),
    };
  });
}

export function isRecordPlan(el: BatchInput): el is BatchRecordPlan {
  return el.kind === 'record';
}

export function recordPlansOf(scenario: BatchScenario): BatchRecordPlan[] {
  return scenario.items.flatMap((item) => (isRecordPlan(item.el) ? [item.el] : []));
}

export function callPlanOf(scenario: BatchScenario, index: number): CallPlan {
  return scenario.calls[index] ?? LATER_CALL;
}

/** Calls of the scenario's list that fail as a whole: each costs its records one attempt. */
export function wholeFailsOf(scenario: BatchScenario): number {
  return scenario.calls.filter((c) => c.wholeFail && c.via !== 'never').length;
}

/** A retry budget under which every record eventually succeeds: its failing entries plus every whole failure. */
export function sufficientRetries(scenario: BatchScenario): number {
  return recordPlansOf(scenario).reduce((m, r) => Math.max(m, r.fails), 0) + wholeFailsOf(scenario);
}

/** The value of result `k` of attempt `attempt` of record `id`. */
export function resultValue(id: number, k: number, attempt: number): string {
  return `${id}:${k}@${attempt}`;
}

/** The value onError gives a record that failed for good. */
export function fallbackValue(id: number): string {
  return `${id}:E`;
}

/** The id of the record an output value belongs to. */
export function idOf(value: string): number {
  return Number(value.slice(0, value.indexOf(':')));
}

/** The error of a failing entry, or of a call that fails as a whole. */
export class PlannedBatchFailure extends Error {
  constructor(readonly what: string) {
    super(`planned failure: ${what}`);
  }
}

/** The entry attempt `attempt` of `rec` gets in a call that does not fail as a whole. */
export function entryOf(rec: BatchRecordPlan, attempt: number): BatchEntry<string> {
  if (attempt <= rec.fails) {
    const error = new PlannedBatchFailure(`${rec.id} attempt ${attempt}`);
    return rec.failAs === 'error' ? error : batchFailure(error);
  }
  const values = Array.from({ length: rec.outputs }, (_, k) => resultValue(rec.id, k, attempt));
  return rec.outputs === 1 && !rec.wrapped ? values[0]! : batchResults(values);
}

// ---- the virtual-time runner ---------------------------------------------------------------------------------------

export interface BatchCallLog {
  readonly index: number;
  readonly ids: readonly number[];
  /** ctx.attempts, ctx.attempt, ctx.timestamps as handed to the call. */
  readonly attempts: readonly number[];
  readonly attempt: number;
  readonly timestamps: readonly (number | undefined)[];
  readonly plan: CallPlan;
  readonly start: number;
  readonly startSeq: number;
  /** Each member's attempt succeeds (its entry is a result and the call does not fail as a whole). */
  readonly memberOk: readonly boolean[];
  /** Calls running (this one included) and metrics.batchesInFlight, as it started. */
  readonly runningAtStart: number;
  readonly gaugeAtStart: number;
  /** The records held in running calls as it started (this one's included). */
  readonly recordsInCallsAtStart: number;
  readonly ctx: BatchCallContext;
  /** ctx.signal, when the plan reads it at the start. */
  readonly signal: AbortSignal | undefined;
  end?: number;
  endSeq?: number;
  /** complete / error: it answered or failed; unsubscribed: the operator dropped its Observable. */
  outcome?: 'complete' | 'error' | 'unsubscribed';
}

export interface Emission {
  readonly t: number;
  readonly seq: number;
  readonly el: StreamElement<string>;
}

export type FailureHandling =
  | { readonly kind: 'retry'; readonly maxRetries: number; readonly delay: RetryDelay<string> }
  | { readonly kind: 'onError'; readonly maxRetries: number; readonly delay: RetryDelay<string> };

/** Where an unsubscribe lands: at a virtual time, inside the k-th output's next, or inside the k-th batch call. */
export type Unsubscribe =
  | { readonly at: 'time'; readonly t: number }
  | { readonly at: 'output'; readonly k: number }
  | { readonly at: 'call'; readonly k: number };

export interface BatchRunOptions {
  readonly mode: Mode;
  readonly failures: FailureHandling;
  readonly unsubscribe?: Unsubscribe | undefined;
}

export interface BatchRunResult {
  readonly arrivals: readonly number[];
  readonly sourceCompleteAt: number;
  /** For each item, the outputs emitted before it arrived. */
  readonly outputsBeforeArrival: readonly number[];
  /** For each record (by id), the time its first attempt joined a batch, when known: it was admitted on arrival
   * (nothing queued beyond capacity), or `weigh` saw it. */
  readonly firstJoin: readonly (number | undefined)[];
  /** When each attempt joined a batch, as `weigh` saw it (`${id}#${attempt}`); empty without a weight limit. */
  readonly joins: ReadonlyMap<string, number>;
  readonly outputs: readonly Emission[];
  readonly calls: readonly BatchCallLog[];
  readonly onErrorCalls: readonly { id: number; t: number; error: unknown }[];
  readonly completedAt: number | undefined;
  readonly error: unknown;
  readonly maxRunning: number;
  /** Greatest metrics.batchesInFlight seen at any call start or end, output, arrival. */
  readonly maxGauge: number;
  /** Greatest metrics.inFlight + metrics.waiting seen at the same moments. */
  readonly maxHeld: number;
  readonly negativeGauges: readonly string[];
  readonly unsubscribeSeq: number | undefined;
  readonly callsAfterUnsubscribe: number;
  readonly outputsAfterUnsubscribe: number;
  readonly countersAfterUnsubscribe: AsyncBatchCounters | undefined;
  readonly finalMetrics: AsyncBatchCounters;
}

/** The operator's options for a scenario (scheduler and metrics aside). */
export function batchOptionsOf(
  scenario: BatchScenario, failures: FailureHandling, weigh: ((id: number) => number) | undefined,
  onError: ((error: unknown, id: number) => ObservableInput<string>) | undefined,
): AsyncBatchOptions<number, string> {
  return {
    maxBatchSize: scenario.maxBatchSize,
    linger: scenario.linger,
    maxInFlightBatches: scenario.maxInFlightBatches,
    ...(scenario.capacity !== undefined ? { capacity: scenario.capacity } : {}),
    ...(scenario.maxBatchWeight !== undefined && weigh !== undefined ? { maxBatchWeight: scenario.maxBatchWeight, weigh } : {}),
    retry: { maxRetries: failures.maxRetries, delay: failures.delay },
    ...(failures.kind === 'onError' && onError !== undefined ? { onError } : {}),
  };
}

/** Plays `scenario` through the operator in virtual time. */
export function runBatchScenario(scenario: BatchScenario, opts: BatchRunOptions): BatchRunResult {
  const sched = new VirtualTimeScheduler();
  const records = recordPlansOf(scenario);
  const metrics = asyncBatchMetrics();
  let seq = 0;
  let running = 0;
  let recordsInCalls = 0;
  let maxRunning = 0;
  let maxGauge = 0;
  let maxHeld = 0;
  const negativeGauges: string[] = [];
  const calls: BatchCallLog[] = [];
  const onErrorCalls: { id: number; t: number; error: unknown }[] = [];
  const firstJoin: (number | undefined)[] = records.map(() => undefined);
  const joins = new Map<string, number>();
  const weighed = records.map(() => 0);
  let unsubscribed = false;
  let unsubscribeSeq: number | undefined;
  let callsAfterUnsubscribe = 0;
  let outputsAfterUnsubscribe = 0;
  let countersAfterUnsubscribe: AsyncBatchCounters | undefined;
  /** The output's subscription, once `subscribe` has returned. */
  const output: { subscription?: Subscription } = {};
  /** Set when the unsubscribe is to happen before `subscribe` has returned (inside a synchronous call or output). */
  let unsubscribeOnReturn = false;

  const watch = (): void => {
    maxGauge = Math.max(maxGauge, metrics.batchesInFlight);
    maxHeld = Math.max(maxHeld, metrics.inFlight + metrics.waiting);
    for (const key of ['inFlight', 'waiting', 'buffered', 'batchesInFlight'] as const) {
      if (metrics[key] < 0) negativeGauges.push(`${key}=${metrics[key]}`);
    }
  };
  const unsubscribeNow = (): void => {
    if (unsubscribed) return;
    unsubscribed = true;
    unsubscribeSeq = seq++;
    if (output.subscription === undefined) {
      unsubscribeOnReturn = true;
      return;
    }
    output.subscription.unsubscribe();
    countersAfterUnsubscribe = metrics.snapshot();
  };

  const batchFn = (ids: number[], ctx: BatchCallContext): BatchResult<string> => {
    if (unsubscribed) callsAfterUnsubscribe++;
    const index = calls.length;
    const plan = callPlanOf(scenario, index);
    running++;
    recordsInCalls += ids.length;
    maxRunning = Math.max(maxRunning, running);
    const memberOk = ids.map((id, i) => !plan.wholeFail && ctx.attempts[i]! > records[id]!.fails);
    const call: BatchCallLog = {
      index, ids: [...ids], attempts: [...ctx.attempts], attempt: ctx.attempt, timestamps: [...ctx.timestamps], plan,
      start: sched.now(), startSeq: seq++, memberOk, runningAtStart: running, gaugeAtStart: metrics.batchesInFlight,
      recordsInCallsAtStart: recordsInCalls, ctx, signal: plan.readSignal ? ctx.signal : undefined,
    };
    calls.push(call);
    watch();
    const end = (outcome: 'complete' | 'error' | 'unsubscribed'): void => {
      if (call.outcome !== undefined) return;
      call.outcome = outcome;
      call.end = sched.now();
      call.endSeq = seq++;
      running--;
      recordsInCalls -= ids.length;
    };
    if (opts.unsubscribe?.at === 'call' && opts.unsubscribe.k === index) unsubscribeNow();
    const entries = ids.map((id, i) => entryOf(records[id]!, ctx.attempts[i]!));
    const failure = () => new PlannedBatchFailure(`call ${index}`);
    if (plan.via === 'array') {
      end(plan.wholeFail ? 'error' : 'complete');
      if (plan.wholeFail) throw failure();
      return entries;
    }
    const answer = plan.via === 'never' ? NEVER : plan.wholeFail ? throwError(failure) : of(entries);
    const body = plan.via === 'timer' ? timer(plan.latency, sched).pipe(mergeMap(() => answer)) : answer;
    return body.pipe(
      tap({ next: () => end('complete'), error: () => end('error') }),
      finalize(() => end('unsubscribed')),
    );
  };

  const weigh = scenario.maxBatchWeight === undefined
    ? undefined
    : (id: number): number => {
      const attempt = ++weighed[id]!;
      joins.set(`${id}#${attempt}`, sched.now());
      if (attempt === 1) firstJoin[id] = sched.now();
      return records[id]!.weight;
    };
  const onError = (error: unknown, id: number): string[] => {
    onErrorCalls.push({ id, t: sched.now(), error });
    return [fallbackValue(id)];
  };
  const options = { ...batchOptionsOf(scenario, opts.failures, weigh, onError), scheduler: sched, metrics };

  const { arrivals, sourceCompleteAt } = arrivalTimes(scenario);
  const outputs: Emission[] = [];
  const outputsBeforeArrival: number[] = [];
  const source = new Observable<StreamElement<number>>((subscriber) => {
    const actions = new Subscription();
    scenario.items.forEach((item, i) => {
      actions.add(sched.schedule(() => {
        outputsBeforeArrival[i] = outputs.length;
        const el = item.el;
        subscriber.next(isRecordPlan(el) ? record(el.id, el.timestamp) : el);
        // Admitted on arrival (nothing waits beyond capacity): its first attempt joined a batch just now.
        if (isRecordPlan(el) && metrics.buffered === 0 && firstJoin[el.id] === undefined && metrics.started > el.id) {
          firstJoin[el.id] = sched.now();
        }
        watch();
      }, arrivals[i]!));
    });
    actions.add(sched.schedule(() => subscriber.complete(), sourceCompleteAt));
    return actions;
  });

  let completedAt: number | undefined;
  let error: unknown;
  const subscription = source.pipe(batchOperatorOf(opts.mode)(batchFn, options)).subscribe({
    next: (el) => {
      if (unsubscribed) outputsAfterUnsubscribe++;
      outputs.push({ t: sched.now(), seq: seq++, el });
      watch();
      if (opts.unsubscribe?.at === 'output' && opts.unsubscribe.k === outputs.length) unsubscribeNow();
    },
    error: (err: unknown) => {
      error = err;
    },
    complete: () => {
      completedAt = sched.now();
    },
  });
  output.subscription = subscription;
  if (unsubscribeOnReturn) {
    subscription.unsubscribe();
    countersAfterUnsubscribe = metrics.snapshot();
  }
  if (opts.unsubscribe?.at === 'time') {
    const t = opts.unsubscribe.t;
    sched.schedule(unsubscribeNow, t);
  }
  sched.flush();
  return {
    arrivals, sourceCompleteAt, outputsBeforeArrival, firstJoin, joins, outputs, calls, onErrorCalls, completedAt, error,
    maxRunning, maxGauge, maxHeld, negativeGauges, unsubscribeSeq, callsAfterUnsubscribe, outputsAfterUnsubscribe,
    countersAfterUnsubscribe, finalMetrics: metrics.snapshot(),
  };
}

// ---- what a run should give --------------------------------------------------------------------------------------

/**
 * Each record's attempts as the batch calls saw them: `attempts` in call order, and the successful one. Throws
 * (a failed expectation) when an attempt is missing, repeated or out of order, or one follows a success.
 */
export function attemptsByRecord(scenario: BatchScenario, calls: readonly BatchCallLog[]): { attempts: number[][]; okAttempt: (number | undefined)[] } {
  const records = recordPlansOf(scenario);
  const attempts: number[][] = records.map(() => []);
  const okAttempt: (number | undefined)[] = records.map(() => undefined);
  for (const call of calls) {
    call.ids.forEach((id, i) => {
      attempts[id]!.push(call.attempts[i]!);
      if (call.memberOk[i] && call.outcome !== 'unsubscribed' && call.outcome !== undefined) okAttempt[id] = call.attempts[i];
    });
  }
  return { attempts, okAttempt };
}

/** The final results of each record: of its successful attempt, or onError's; undefined if it has neither. */
export function finalResults(scenario: BatchScenario, run: BatchRunResult): (StreamElement<string>[] | undefined)[] {
  const { okAttempt } = attemptsByRecord(scenario, run.calls);
  const fellBack = new Set(run.onErrorCalls.map((c) => c.id));
  return recordPlansOf(scenario).map((rec) => {
    if (fellBack.has(rec.id)) return [record(fallbackValue(rec.id), rec.timestamp)];
    const attempt = okAttempt[rec.id];
    if (attempt === undefined) return undefined;
    return Array.from({ length: rec.outputs }, (_, k) => record(resultValue(rec.id, k, attempt), rec.timestamp));
  });
}

/**
 * The reference model of the output: the input with each record replaced by its final results and watermarks in
 * their places, coalesced as the operators coalesce them. A watermark that arrives while the watermark before it
 * (with no record between them in the input) has not gone out yet merges into it: the run goes out once, as its
 * highest watermark (the later one on a tie). One arriving after that watermark went out goes out itself. Whether
 * it had gone out is read from the run (the outputs before each arrival): a watermark's place in the output is
 * the same in both modes, after the results of every record before it.
 */
export function expectedOutput(
  scenario: BatchScenario, results: readonly (readonly StreamElement<string>[] | undefined)[], outputsBeforeArrival: readonly number[],
): { elements: StreamElement<string>[]; coalesced: number } {
  const elements: StreamElement<string>[] = [];
  let runAt = -1; // index in `elements` of the watermark the next one may merge into; -1 after a record
  let coalesced = 0;
  scenario.items.forEach((item, i) => {
    const el = item.el;
    if (isRecordPlan(el)) {
      elements.push(...(results[el.id] ?? []));
      runAt = -1;
      return;
    }
    if (runAt >= 0 && outputsBeforeArrival[i]! <= runAt) {
      const held = elements[runAt] as Watermark;
      if (!(el.timestamp < held.timestamp)) elements[runAt] = el;
      coalesced++;
      return;
    }
    runAt = elements.length;
    elements.push(el);
  });
  return { elements, coalesced };
}

/**
 * How many calls were running at the end of virtual time `t` (once everything due at `t` had run): those started
 * at or before `t` and not yet ended (a call that ended at `t` no longer counts).
 */
export function runningAtEndOf(calls: readonly BatchCallLog[], t: number): number {
  return calls.filter((c) => c.start <= t && (c.end === undefined || c.end > t)).length;
}

// ---- the promise runner (fc.scheduler) ---------------------------------------------------------------------------

export interface PromiseBatchRunResult {
  readonly outputs: StreamElement<string>[];
  readonly outputsBeforeArrival: number[];
  readonly calls: { ids: number[]; attempts: number[]; memberOk: boolean[]; ended: boolean }[];
  readonly onErrorIds: number[];
  readonly completed: boolean;
  readonly error: unknown;
  readonly maxRunning: number;
  readonly maxGauge: number;
  readonly maxHeld: number;
  readonly finalMetrics: AsyncBatchCounters;
}

/**
 * Plays `scenario` with Promise-returning batch calls: the source's arrivals, the calls' settlements and the
 * operator's linger timers and retry delays all interleaved by fc.scheduler. Gaps and latencies are ignored;
 * `timer` calls return an fc-scheduled promise (rejected when the call fails as a whole), `sync` ones an
 * already-settled promise, `array` ones the array (or a synchronous throw).
 */
export async function runBatchScenarioWithPromises(s: fc.Scheduler, scenario: BatchScenario, opts: BatchRunOptions): Promise<PromiseBatchRunResult> {
  const records = recordPlansOf(scenario);
  const metrics = asyncBatchMetrics();
  let running = 0;
  let maxRunning = 0;
  let maxGauge = 0;
  let maxHeld = 0;
  const watch = (): void => {
    maxGauge = Math.max(maxGauge, metrics.batchesInFlight);
    maxHeld = Math.max(maxHeld, metrics.inFlight + metrics.waiting);
  };
  const calls: PromiseBatchRunResult['calls'] = [];
  const batchFn = (ids: number[], ctx: BatchCallContext): BatchResult<string> => {
    const index = calls.length;
    const plan = callPlanOf(scenario, index);
    const call = { ids: [...ids], attempts: [...ctx.attempts], memberOk: ids.map((id, i) => !plan.wholeFail && ctx.attempts[i]! > records[id]!.fails), ended: false };
    calls.push(call);
    running++;
    maxRunning = Math.max(maxRunning, running);
    watch();
    const entries = ids.map((id, i) => entryOf(records[id]!, ctx.attempts[i]!));
    const settle = (): BatchEntry<string>[] => {
      running--;
      call.ended = true;
      if (plan.wholeFail) throw new PlannedBatchFailure(`call ${index}`);
      return entries;
    };
    if (plan.via === 'array') return settle();
    if (plan.via === 'sync') return Promise.resolve().then(settle);
    return s.schedule(Promise.resolve(), `batch call ${index} [${ids.join(',')}]`).then(settle);
  };
  const onErrorIds: number[] = [];
  const onError = (_error: unknown, id: number): string[] => {
    onErrorIds.push(id);
    return [fallbackValue(id)];
  };
  const weigh = scenario.maxBatchWeight === undefined ? undefined : (id: number) => records[id]!.weight;
  const options = { ...batchOptionsOf(scenario, opts.failures, weigh, onError), scheduler: fcRxScheduler(s), metrics };

  let stopped = false;
  const outputs: StreamElement<string>[] = [];
  const outputsBeforeArrival: number[] = [];
  const source = new Observable<StreamElement<number>>((subscriber) => {
    void (async () => {
      for (const [i, item] of scenario.items.entries()) {
        await s.schedule(Promise.resolve(), `arrival ${i}`);
        if (stopped) return;
        outputsBeforeArrival[i] = outputs.length;
        const el = item.el;
        subscriber.next(isRecordPlan(el) ? record(el.id, el.timestamp) : el);
        watch();
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
  source.pipe(batchOperatorOf(opts.mode)(batchFn, options)).subscribe({
    next: (el) => {
      outputs.push(el);
      watch();
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
    outputs, outputsBeforeArrival, calls, onErrorIds, completed, error, maxRunning, maxGauge, maxHeld, finalMetrics: metrics.snapshot(),
  };
}

// ---- an in-memory transactional sink -------------------------------------------------------------------------------

/**
 * An in-memory two-phase-commit sink that outlives a crash (a restart is given the same object): preCommit stages
 * an epoch's outputs, commit makes them visible (once), abort drops them, recover(n) commits the staged epochs up
 * to n and drops later ones. It refuses to recover below an epoch it has committed.
 */
export class MemoryTransactionalSink<O> implements CheckpointSink<O> {
  private readonly staged = new Map<number, StreamElement<O>[]>();
  private readonly committed = new Map<number, StreamElement<O>[]>();

  preCommit(id: number, outputs: readonly CheckpointedOutput<O>[]): void {
    this.staged.set(id, outputs.map((o) => o.element as StreamElement<O>));
  }

  commit(id: number): void {
    const staged = this.staged.get(id);
    this.staged.delete(id);
    if (this.committed.has(id)) return;
    if (staged === undefined) throw new Error(`MemoryTransactionalSink: nothing staged for epoch ${id}`);
    this.committed.set(id, staged);
  }

  abort(id: number): void {
    this.staged.delete(id);
  }

  recover(id: number | undefined): void {
    const beyond = [...this.committed.keys()].filter((n) => id === undefined || n > id);
    if (beyond.length !== 0) throw new Error(`MemoryTransactionalSink: epochs ${beyond.join(', ')} are committed beyond ${String(id)}`);
    for (const [n, elements] of [...this.staged]) {
      this.staged.delete(n);
      if (id !== undefined && n <= id && !this.committed.has(n)) this.committed.set(n, elements);
    }
  }

  /** Every committed epoch's outputs, in epoch order. */
  committedElements(): StreamElement<O>[] {
    return [...this.committed.entries()].sort(([a], [b]) => a - b).flatMap(([, elements]) => elements);
  }
}
