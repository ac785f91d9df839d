/**
 * Property tests of keyedTimers (semantics: Flink's KeyedProcessOperator with its InternalTimerService).
 *
 * Every property plays random scenarios through the operator: records over a small set of string and number
 * keys (so keys collide, and 1 and '1' are different keys) whose value says which timers processElement
 * registers or deletes (event and processing time, duplicates, deletes of timers that do not exist), watermarks
 * (many of them not advancing), barriers, and a plan of what each onTimer call does (register or delete more
 * timers, some at or below the current watermark, clear the state, emit a side output). The user function keeps
 * a running sum per key in its state. What the operator does is compared with the reference model in
 * spec/support/keyedTimersModel.ts, or checked directly against the callback log where no model is needed.
 *
 * Event-time scenarios run synchronously (`from([...])`); scenarios with processing-time timers run in virtual
 * time on a VirtualTimeScheduler, stepped action by action, with the operator's scheduler wrapped so that its
 * live scheduled actions can be counted.
 */
import fc from 'fast-check';
import { Observable, Subscription, VirtualTimeScheduler, from, take } from 'rxjs';
import {
  barrier, keyedTimers, keyedTimersMetrics, outputTag, record, watermark,
  type KeyedProcessFunction, type KeyedTimersCounters, type KeyedTimersMetrics, type KeyedTimersOptions,
  type StreamElement, type TimeDomain,
} from 'rxjs-sluice';
import {
  SIDE_TAG, resolveOps, resolveTimerOps, runModel,
  type CallEntry, type Emission, type Gauges, type Key, type ModelScenario, type OutValue, type RecValue,
  type ResolvedOp, type TimedInput, type TimerOp, type TimerStep,
} from '../support/keyedTimersModel';
import { CountingScheduler } from '../support/countingScheduler';
import { soak } from '../support/soak';

/** Runs per property: the soak variant (SLUICE_FULL=1, set by CI) tries four times as many scenarios. */
const NUM_RUNS = soak(100, 400);

// ---- arbitraries -----------------------------------------------------------------------------------------------

const KEYS: readonly Key[] = ['a', 'b', '1', 1, 2];
const EVENT_MAX = 12;
/** Absolute processing-time timers are odd, in [1, 2 * PROCESSING_SLOTS + 1]; inputs arrive at even times. */
const PROCESSING_SLOTS = 25;

const keyArb = fc.constantFrom(...KEYS);
const actionArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant('register' as const) },
  { weight: 1, arbitrary: fc.constant('delete' as const) },
);
const eventTimeArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: EVENT_MAX }) },
  { weight: 1, arbitrary: fc.constant(Number.MAX_SAFE_INTEGER) },
);
const eventOpArb: fc.Arbitrary<TimerOp> = fc.oneof(
  fc.record({ domain: fc.constant<TimeDomain>('event'), action: actionArb, time: eventTimeArb }),
  // relative to ctx.timestamp: at, below or above it (in onTimer: at or below the current watermark, or later)
  fc.record({ domain: fc.constant<TimeDomain>('event'), action: actionArb, time: fc.integer({ min: -3, max: 4 }), relative: fc.constant(true) }),
);
const processingOpArb: fc.Arbitrary<TimerOp> = fc.oneof(
  fc.record({ domain: fc.constant<TimeDomain>('processing'), action: actionArb, time: fc.integer({ min: 0, max: PROCESSING_SLOTS }).map((k) => 2 * k + 1) }),
  // relative to now: in the past (fires at once, asynchronously), now, or later
  fc.record({ domain: fc.constant<TimeDomain>('processing'), action: actionArb, time: fc.integer({ min: -4, max: 12 }), relative: fc.constant(true) }),
);
const opArb = (processing: boolean): fc.Arbitrary<TimerOp> => (processing ? fc.oneof(eventOpArb, processingOpArb) : eventOpArb);

const stepArb = (processing: boolean, withOps: boolean): fc.Arbitrary<TimerStep> =>
  fc.record({
    ops: withOps ? fc.array(opArb(processing), { maxLength: 3 }) : fc.constant([]),
    clear: fc.boolean(),
    side: fc.boolean(),
  });

type RawItem =
  | { readonly type: 'record'; readonly key: Key; readonly add: number; readonly clear: boolean; readonly ops: TimerOp[]; readonly timestamp: number | undefined }
  | { readonly type: 'watermark'; readonly timestamp: number }
  | { readonly type: 'barrier' };

const itemArb = (processing: boolean): fc.Arbitrary<RawItem> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        type: fc.constant('record' as const),
        key: keyArb,
        add: fc.integer({ min: 1, max: 9 }),
        clear: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        ops: fc.array(opArb(processing), { maxLength: 4 }),
        timestamp: fc.option(fc.integer({ min: 0, max: EVENT_MAX }), { nil: undefined, freq: 6 }),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        type: fc.constant('watermark' as const),
        timestamp: fc.oneof(
          { weight: 30, arbitrary: fc.integer({ min: 0, max: EVENT_MAX }) },
          { weight: 1, arbitrary: fc.constant(-Infinity) },
          { weight: 1, arbitrary: fc.constant(Infinity) },
        ),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ type: 'barrier' as const }) },
  );

/** A scenario: timed inputs (even times, several may share one), completion, and the onTimer plan. */
interface Scenario {
  readonly inputs: readonly TimedInput[];
  readonly completeAt: number;
  readonly plan: readonly TimerStep[];
}

interface ScenarioShape {
  /** Processing-time timers too (run in virtual time). */
  readonly processing: boolean;
  /** onTimer registers and deletes timers. */
  readonly timerOps: boolean;
  readonly maxItems?: number;
}

function scenarioArb({ processing, timerOps, maxItems = 25 }: ScenarioShape): fc.Arbitrary<Scenario> {
  return fc
    .record({
      items: fc.array(fc.tuple(itemArb(processing), fc.integer({ min: 0, max: 2 })), { maxLength: maxItems, size: 'medium' }),
      tailGap: fc.integer({ min: 1, max: 4 }),
      plan: fc.array(stepArb(processing, timerOps), { maxLength: 15, size: 'medium' }),
    })
    .map(({ items, tailGap, plan }) => {
      let at = 0;
      let records = 0;
      let barriers = 0;
      const inputs = items.map(([item, gap]): TimedInput => {
        at += 2 * gap;
        if (item.type === 'watermark') return { at, el: watermark(item.timestamp) };
        if (item.type === 'barrier') return { at, el: barrier(barriers++) };
        const value: RecValue = { id: records++, key: item.key, add: item.add, clear: item.clear, ops: item.ops };
        return { at, el: record(value, item.timestamp) };
      });
      return { inputs, completeAt: at + 2 * tailGap, plan };
    });
}

/** For synchronous runs: every input (and the completion) at time 0. */
const atZero = (s: Scenario): Scenario => ({ ...s, inputs: s.inputs.map((i) => ({ ...i, at: 0 })), completeAt: 0 });

const processingPolicyArb = fc.constantFrom<'drop' | 'wait'>('drop', 'wait');
const eventPolicyArb = fc.constantFrom<'fire' | 'drop'>('fire', 'drop');

// ---- the operator under test -----------------------------------------------------------------------------------

const SIDE = outputTag<{ fire: number; domain: TimeDomain }>(SIDE_TAG);

const gaugesOf = (m: KeyedTimersCounters): Gauges => ({ eventTimers: m.eventTimers, processingTimers: m.processingTimers, keysWithState: m.keysWithState });

/** The program of spec/support/keyedTimersModel.ts as a KeyedProcessFunction, logging every call. */
function programFn(plan: readonly TimerStep[], log: CallEntry[], metrics: KeyedTimersMetrics): KeyedProcessFunction<RecValue, OutValue, Key, number> {
  let fires = 0;
  const apply = (service: { registerEventTimeTimer(t: number): void; registerProcessingTimeTimer(t: number): void; deleteEventTimeTimer(t: number): void; deleteProcessingTimeTimer(t: number): void }, ops: readonly ResolvedOp[]) => {
    for (const op of ops) {
      if (op.domain === 'event') {
        if (op.action === 'register') service.registerEventTimeTimer(op.time);
        else service.deleteEventTimeTimer(op.time);
      } else if (op.action === 'register') service.registerProcessingTimeTimer(op.time);
      else service.deleteProcessingTimeTimer(op.time);
    }
  };
  return {
    key: (value) => value.key,
    processElement: (value, ctx) => {
      const wm = ctx.timerService.currentWatermark();
      const now = ctx.timerService.currentProcessingTime();
      const state = ctx.state.value() ?? null;
      const sum = (state ?? 0) + value.add;
      const ops = resolveOps(value.ops, ctx.timestamp, now);
      log.push({ call: 'processElement', id: value.id, key: ctx.key, timestamp: ctx.timestamp ?? null, state, wm, now, ops, gauges: gaugesOf(metrics) });
      ctx.emit({ from: 'processElement', id: value.id, key: ctx.key, sum, wm, now });
      apply(ctx.timerService, ops);
      if (value.clear) ctx.state.clear();
      else ctx.state.update(sum);
    },
    onTimer: (ts, ctx) => {
      const fire = fires++;
      const step = plan[fire];
      const wm = ctx.timerService.currentWatermark();
      const now = ctx.timerService.currentProcessingTime();
      const state = ctx.state.value() ?? null;
      const ops = resolveTimerOps(step?.ops ?? [], ctx.timeDomain, ts, now);
      log.push({ call: 'onTimer', fire, domain: ctx.timeDomain, key: ctx.key, ts, timestamp: ctx.timestamp, state, wm, now, ops, gauges: gaugesOf(metrics) });
      ctx.emit({ from: ctx.timeDomain, fire, key: ctx.key, ts, state, wm, now });
      if (step?.side === true) ctx.output(SIDE, { fire, domain: ctx.timeDomain });
      apply(ctx.timerService, ops);
      if (step?.clear === true) ctx.state.clear();
    },
  };
}

interface RealRun {
  readonly outputs: Emission[];
  readonly log: CallEntry[];
  readonly completedAt: number | undefined;
  readonly unsubscribedAt: number | undefined;
  readonly error: unknown;
  /** Metrics once everything has run. */
  readonly metrics: KeyedTimersCounters;
  /** Gauges and live scheduled actions right after the output ended (completed, errored or unsubscribed). */
  readonly gaugesAfterEnd: Gauges | undefined;
  readonly liveActionsAfterEnd: number | undefined;
}

interface RunConfig {
  /** 'sync': a synchronous `from([...])` source (timestamps of inputs are ignored); 'virtual': inputs at their times. */
  readonly mode: 'sync' | 'virtual';
  readonly processingTimersOnComplete?: 'drop' | 'wait';
  readonly eventTimersOnComplete?: 'fire' | 'drop';
  /** Never complete the source. */
  readonly neverComplete?: boolean;
  readonly unsubscribeAt?: number;
  /** Unsubscribe from the downstream (take(n)) right after the n-th output. */
  readonly unsubscribeAfterOutputs?: number;
}

/** The model scenario of a scenario run with a config (defaults as the operator's). */
function modelScenario(s: Scenario, config: RunConfig): ModelScenario {
  const base = config.mode === 'sync' ? atZero(s) : s;
  return {
    inputs: base.inputs,
    completeAt: config.neverComplete === true ? undefined : base.completeAt,
    plan: s.plan,
    processingTimersOnComplete: config.processingTimersOnComplete ?? 'drop',
    eventTimersOnComplete: config.eventTimersOnComplete ?? 'fire',
    ...(config.unsubscribeAt !== undefined ? { unsubscribeAt: config.unsubscribeAt } : {}),
    ...(config.unsubscribeAfterOutputs !== undefined ? { unsubscribeAfterOutputs: config.unsubscribeAfterOutputs } : {}),
  };
}

/** Plays a scenario through keyedTimers and records everything observable. */
function runReal(s: Scenario, config: RunConfig): RealRun {
  const virtual = new VirtualTimeScheduler();
  const scheduler = new CountingScheduler(virtual);
  const metrics = keyedTimersMetrics();
  const log: CallEntry[] = [];
  const outputs: Emission[] = [];
  let completedAt: number | undefined;
  let unsubscribedAt: number | undefined;
  let error: unknown;
  let ended = false;
  let gaugesAfterEnd: Gauges | undefined;
  let liveActionsAfterEnd: number | undefined;
  const measureEnd = () => {
    if (!ended || gaugesAfterEnd !== undefined) return;
    gaugesAfterEnd = gaugesOf(metrics);
    liveActionsAfterEnd = scheduler.live;
  };

  const source =
    config.mode === 'sync'
      ? from(s.inputs.map((i) => i.el))
      : new Observable<StreamElement<RecValue>>((subscriber) => {
          const actions = new Subscription();
          for (const input of s.inputs) actions.add(virtual.schedule(() => subscriber.next(input.el), input.at));
          if (config.neverComplete !== true) actions.add(virtual.schedule(() => subscriber.complete(), s.completeAt));
          return actions;
        });
  // Defaults are left out, so they are what is tested.
  const options: KeyedTimersOptions = {
    scheduler,
    metrics,
    ...(config.processingTimersOnComplete !== undefined && config.processingTimersOnComplete !== 'drop' ? { processingTimersOnComplete: config.processingTimersOnComplete } : {}),
    ...(config.eventTimersOnComplete !== undefined && config.eventTimersOnComplete !== 'fire' ? { eventTimersOnComplete: config.eventTimersOnComplete } : {}),
  };
  const limit = config.unsubscribeAfterOutputs;
  const output = source.pipe(keyedTimers(programFn(s.plan, log, metrics), options));
  const subscription = (limit === undefined ? output : output.pipe(take(limit))).subscribe({
    next: (el) => {
      outputs.push({ at: virtual.now(), el });
      if (outputs.length === limit) {
        unsubscribedAt = virtual.now();
        ended = true;
      }
    },
    error: (e: unknown) => {
      error = e;
      ended = true;
    },
    complete: () => {
      if (unsubscribedAt === undefined) completedAt = virtual.now();
      ended = true;
    },
  });
  measureEnd();
  if (config.unsubscribeAt !== undefined) {
    const at = config.unsubscribeAt;
    virtual.schedule(() => {
      if (ended) return;
      unsubscribedAt = at;
      ended = true;
      subscription.unsubscribe();
    }, at);
  }
  // VirtualTimeScheduler.flush(), one action at a time, to look at the operator right after its output ended.
  for (let action = virtual.actions.shift(); action !== undefined; action = virtual.actions.shift()) {
    virtual.frame = action.delay;
    const failure: unknown = action.execute(action.state, action.delay);
    if (failure) throw failure;
    measureEnd();
  }
  return { outputs, log, completedAt, unsubscribedAt, error, metrics: metrics.snapshot(), gaugesAfterEnd, liveActionsAfterEnd };
}

// ---- checks without the model ----------------------------------------------------------------------------------

interface ReplayTimer {
  readonly key: Key;
  readonly ts: number;
  readonly seq: number;
}

interface Replay {
  /** Firings of a timer that was not registered (or had been deleted, or had already fired). */
  readonly notLive: string[];
  /** Firings of a timer that was not the least (timestamp, registration) of its domain. */
  readonly outOfOrder: string[];
  /** Timers registered and neither fired nor deleted by the end. */
  readonly remaining: Record<TimeDomain, ReplayTimer[]>;
}

const describeTimer = (domain: TimeDomain, key: Key, ts: number) => `${domain} ${typeof key} ${String(key)} @${ts}`;

/** Replays the callback log: every register and delete as the callbacks did them, every firing as it happened. */
function replay(log: readonly CallEntry[]): Replay {
  const live: Record<TimeDomain, ReplayTimer[]> = { event: [], processing: [] };
  const notLive: string[] = [];
  const outOfOrder: string[] = [];
  let seq = 0;
  for (const entry of log) {
    if (entry.call === 'onTimer') {
      const queue = live[entry.domain];
      const at = queue.findIndex((t) => t.key === entry.key && t.ts === entry.ts);
      if (at < 0) notLive.push(describeTimer(entry.domain, entry.key, entry.ts));
      else {
        const timer = queue[at]!;
        if (queue.some((t) => t.ts < timer.ts || (t.ts === timer.ts && t.seq < timer.seq))) outOfOrder.push(describeTimer(entry.domain, entry.key, entry.ts));
        queue.splice(at, 1);
      }
    }
    for (const op of entry.ops) {
      const queue = live[op.domain];
      const at = queue.findIndex((t) => t.key === entry.key && t.ts === op.time);
      if (op.action === 'register') {
        if (at < 0) queue.push({ key: entry.key, ts: op.time, seq: seq++ });
      } else if (at >= 0) queue.splice(at, 1);
    }
  }
  return { notLive, outOfOrder, remaining: live };
}

type TimerCall = Extract<CallEntry, { call: 'onTimer' }>;
const timerCalls = (log: readonly CallEntry[]): TimerCall[] => log.filter((e): e is TimerCall => e.call === 'onTimer');
const firings = (log: readonly CallEntry[], domain: TimeDomain) =>
  timerCalls(log).filter((e) => e.domain === domain).map((e) => ({ key: e.key, ts: e.ts }));
const sortedFirings = (log: readonly CallEntry[]) =>
  timerCalls(log).map((e) => describeTimer(e.domain, e.key, e.ts)).sort();
const elementsOf = (emissions: readonly Emission[]) => emissions.map((e) => e.el);

// ---- properties ------------------------------------------------------------------------------------------------

describe('keyedTimers (properties)', () => {
  it('P1: every live timer fires exactly once: deleted ones never, duplicates once, none left over', () => {
    fc.assert(
      fc.property(scenarioArb({ processing: true, timerOps: true }), (scenario) => {
        // Arrange: 'wait' and the default 'fire' make every timer still registered at the end fire.
        const config: RunConfig = { mode: 'virtual', processingTimersOnComplete: 'wait' };
        const model = runModel(modelScenario(scenario, config));
        // Act
        const run = runReal(scenario, config);
        // Assert
        expect(run.error).toBeUndefined();
        expect(run.completedAt).toBeDefined();
        const replayed = replay(run.log);
        expect(replayed.notLive).toEqual([]);
        expect(replayed.remaining).toEqual({ event: [], processing: [] });
        expect(sortedFirings(run.log)).toEqual(sortedFirings(model.log));
        expect({ event: run.metrics.eventTimersFired, processing: run.metrics.processingTimersFired })
          .toEqual({ event: model.metrics.eventTimersFired, processing: model.metrics.processingTimersFired });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P2: event timers fire in (timestamp, registration) order, and processing timers likewise', () => {
    fc.assert(
      fc.property(scenarioArb({ processing: true, timerOps: true }), processingPolicyArb, (scenario, processingTimersOnComplete) => {
        // Arrange
        const config: RunConfig = { mode: 'virtual', processingTimersOnComplete };
        const model = runModel(modelScenario(scenario, config));
        // Act
        const run = runReal(scenario, config);
        // Assert
        expect(run.error).toBeUndefined();
        expect(replay(run.log).outOfOrder).toEqual([]);
        expect(firings(run.log, 'event')).toEqual(firings(model.log, 'event'));
        expect(firings(run.log, 'processing')).toEqual(firings(model.log, 'processing'));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P3: no timer fires early: event timers only once the watermark has reached them, processing timers only once the clock has', () => {
    fc.assert(
      fc.property(
        scenarioArb({ processing: true, timerOps: true }), processingPolicyArb, eventPolicyArb,
        (scenario, processingTimersOnComplete, eventTimersOnComplete) => {
          // Arrange
          const config: RunConfig = { mode: 'virtual', processingTimersOnComplete, eventTimersOnComplete };
          // Act
          const run = runReal(scenario, config);
          // Assert
          expect(run.error).toBeUndefined();
          const calls = timerCalls(run.log);
          expect(calls.filter((c) => c.domain === 'event' && !(c.wm >= c.ts))).toEqual([]);
          expect(calls.filter((c) => c.domain === 'processing' && !(c.now >= c.ts))).toEqual([]);
          // ctx.timestamp is the timer's timestamp.
          expect(calls.filter((c) => c.timestamp !== c.ts)).toEqual([]);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('P4: event-timer outputs come after the previous forwarded watermark and before the one that fired them; forwarded watermarks are exactly the advancing ones', () => {
    fc.assert(
      fc.property(scenarioArb({ processing: false, timerOps: true }), (scenario) => {
        // Arrange
        const advancing: number[] = [];
        let current = -Infinity;
        for (const { el } of scenario.inputs) {
          if (el.kind === 'watermark' && el.timestamp > current) {
            advancing.push(el.timestamp);
            current = el.timestamp;
          }
        }
        // Act
        const run = runReal(scenario, { mode: 'sync' });
        // Assert
        expect(run.error).toBeUndefined();
        expect(run.completedAt).toBeDefined();
        const out = elementsOf(run.outputs);
        const forwarded = out.flatMap((el) => (el.kind === 'watermark' ? [el.timestamp] : []));
        expect(forwarded).toEqual(advancing);
        expect(forwarded.every((t, i) => i === 0 || t > forwarded[i - 1]!)).toBe(true);
        // The input watermark objects themselves are forwarded.
        const inputMarks = scenario.inputs.map((i) => i.el).filter((el) => el.kind === 'watermark');
        for (const el of out) if (el.kind === 'watermark') expect(inputMarks).toContain(el);
        const misplaced: unknown[] = [];
        let previous = -Infinity;
        out.forEach((el, i) => {
          if (el.kind === 'watermark') previous = el.timestamp;
          if (el.kind !== 'record' || el.value.from !== 'event') return;
          // W: the watermark that fired the timer (Infinity: the completion).
          const W = el.value.wm;
          const next = out.slice(i + 1).find((e) => e.kind === 'watermark');
          // Fired by an input watermark W: W has not been forwarded yet, and is the next watermark out. Fired at
          // completion (W = Infinity, no watermark follows): after every forwarded watermark, trivially.
          const atCompletion = W === Infinity && next === undefined;
          const ok = el.timestamp === el.value.ts && el.value.ts <= W && (atCompletion || (previous < W && next?.timestamp === W));
          if (!ok) misplaced.push({ at: i, el, previous, next });
        });
        expect(misplaced).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('P5: in event time the whole output (records with timestamps, side outputs, watermarks, barriers, completion) and the metrics equal the model', () => {
    fc.assert(
      fc.property(scenarioArb({ processing: false, timerOps: true }), (scenario) => {
        // Arrange: default options ('fire' at completion, with the watermark at Infinity).
        const config: RunConfig = { mode: 'sync' };
        const model = runModel(modelScenario(scenario, config));
        // Act
        const run = runReal(scenario, config);
        // Assert
        expect(run.error).toBeUndefined();
        expect(elementsOf(run.outputs)).toEqual(elementsOf(model.outputs));
        expect(run.completedAt).toBe(model.completedAt);
        expect(run.metrics).toEqual(model.metrics);
        const atCompletion = timerCalls(run.log).filter((c) => c.wm === Infinity);
        expect(atCompletion).toEqual(timerCalls(model.log).filter((c) => c.wm === Infinity));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it("P6: processing-time timers in virtual time: 'wait' fires every one at its time, 'drop' drops what is pending at completion", () => {
    fc.assert(
      fc.property(
        scenarioArb({ processing: true, timerOps: true }), processingPolicyArb, eventPolicyArb,
        (scenario, processingTimersOnComplete, eventTimersOnComplete) => {
          // Arrange
          const config: RunConfig = { mode: 'virtual', processingTimersOnComplete, eventTimersOnComplete };
          const model = runModel(modelScenario(scenario, config));
          // Act
          const run = runReal(scenario, config);
          // Assert
          expect(run.error).toBeUndefined();
          expect(run.outputs).toEqual(model.outputs);
          expect(run.log).toEqual(model.log);
          expect(run.completedAt).toBe(model.completedAt);
          expect(run.metrics).toEqual(model.metrics);
          if (processingTimersOnComplete === 'drop') {
            expect(run.metrics.processingTimersDropped).toBe(model.processingPendingAtCompletion);
            expect(run.completedAt).toBe(scenario.completeAt);
          } else {
            expect(run.metrics.processingTimersDropped).toBe(0);
            expect(replay(run.log).remaining.processing).toEqual([]);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('P7: no leaks: after completion or an unsubscribe at a random point the gauges are 0 and no scheduled action remains', () => {
    const endArb = fc.oneof(
      fc.constant({ kind: 'complete' as const }),
      fc.record({ kind: fc.constant('neverComplete' as const), at: fc.integer({ min: 0, max: 160 }) }),
      fc.record({ kind: fc.constant('unsubscribeAt' as const), at: fc.integer({ min: 0, max: 160 }) }),
      fc.record({ kind: fc.constant('afterOutputs' as const), n: fc.integer({ min: 1, max: 40 }) }),
    );
    fc.assert(
      fc.property(
        scenarioArb({ processing: true, timerOps: true }), processingPolicyArb, eventPolicyArb, endArb,
        (scenario, processingTimersOnComplete, eventTimersOnComplete, end) => {
          // Arrange: unsubscribe times are half-way between integers, so they never tie with anything.
          const config: RunConfig = {
            mode: 'virtual', processingTimersOnComplete, eventTimersOnComplete,
            ...(end.kind === 'neverComplete' ? { neverComplete: true, unsubscribeAt: end.at + 0.5 } : {}),
            ...(end.kind === 'unsubscribeAt' ? { unsubscribeAt: end.at + 0.5 } : {}),
            ...(end.kind === 'afterOutputs' ? { unsubscribeAfterOutputs: end.n } : {}),
          };
          const model = runModel(modelScenario(scenario, config));
          // Act
          const run = runReal(scenario, config);
          // Assert
          expect(run.error).toBeUndefined();
          expect(run.outputs).toEqual(model.outputs);
          expect(run.log).toEqual(model.log);
          expect({ completedAt: run.completedAt, unsubscribedAt: run.unsubscribedAt })
            .toEqual({ completedAt: model.completedAt, unsubscribedAt: model.unsubscribedAt });
          if (run.completedAt !== undefined || run.unsubscribedAt !== undefined) {
            expect(run.gaugesAfterEnd).toEqual({ eventTimers: 0, processingTimers: 0, keysWithState: 0 });
            expect(run.liveActionsAfterEnd).toBe(0);
          }
          expect(gaugesOf(run.metrics)).toEqual(gaugesOf(model.metrics));
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('P8: per-key state: the running sum each callback reads is the model\'s, keys never share state', () => {
    fc.assert(
      fc.property(scenarioArb({ processing: true, timerOps: true, maxItems: 40 }), (scenario) => {
        // Arrange
        const config: RunConfig = { mode: 'virtual', processingTimersOnComplete: 'wait' };
        const model = runModel(modelScenario(scenario, config));
        const states = (log: readonly CallEntry[]) =>
          log.map((e) => (e.call === 'processElement' ? { id: e.id, key: e.key, state: e.state } : { fire: e.fire, key: e.key, state: e.state }));
        const sums = (outputs: readonly Emission[]) =>
          outputs.flatMap(({ el }) => (el.kind === 'record' && el.value.from === 'processElement' ? [{ id: el.value.id, key: el.value.key, sum: el.value.sum }] : []));
        // Act
        const run = runReal(scenario, config);
        // Assert
        expect(run.error).toBeUndefined();
        expect(states(run.log)).toEqual(states(model.log));
        expect(sums(run.outputs)).toEqual(sums(model.outputs));
        expect(run.log.map((e) => e.gauges.keysWithState)).toEqual(model.log.map((e) => e.gauges.keysWithState));
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
