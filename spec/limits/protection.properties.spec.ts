import fc from 'fast-check';
import { NEVER, Observable, Subscription, VirtualTimeScheduler, finalize, from, map, mergeMap, tap, throwError, timer } from 'rxjs';
import {
  asyncBatchMetrics, asyncBatchUnordered, asyncWaitMetrics, record, watermark,
  type AdaptiveConcurrencyOptions, type AsyncCallContext, type AsyncWaitCounters, type RateLimitOptions, type StreamElement,
} from 'rxjs-sluice';
import { operatorOf, type Mode } from '../support/marbles';
import { soak } from '../support/soak';

/**
 * Invariants of the call gate (`concurrency.adaptive`, `rateLimit`) under random scenarios, in virtual time (a
 * VirtualTimeScheduler drives the source, the calls and the operator's timers): the calls in flight never exceed the
 * limit in force when each starts, the limit stays within [min, max], the calls never outrun the token bucket, and
 * the rules of the async operators still hold with the gate in the way (order, exactly-once, watermarks).
 */

const NUM_RUNS = soak(60, 400);

// ---- scenarios -------------------------------------------------------------------------------------------------

/** What one call does: answers after `latency` ms, fails (plainly, or with an overload error), or never settles. */
interface Attempt {
  readonly outcome: 'ok' | 'fail' | 'overload' | 'hang';
  readonly latency: number;
}

interface RecordPlan {
  readonly kind: 'record';
  /** Its index among the records: also its input value. */
  readonly id: number;
  /** Values a successful call emits (1 or 2). */
  readonly outputs: number;
  /** Attempt n's plan at index n - 1; the last one repeats. */
  readonly attempts: readonly Attempt[];
}

interface Item {
  /** Virtual ms after the previous item. */
  readonly gap: number;
  readonly el: RecordPlan | { readonly kind: 'watermark'; readonly timestamp: number };
}

interface Scenario {
  readonly items: readonly Item[];
}

const attemptArb: fc.Arbitrary<Attempt> = fc.record({
  outcome: fc.constantFrom<Attempt['outcome']>('ok', 'ok', 'ok', 'fail', 'overload', 'hang'),
  latency: fc.integer({ min: 0, max: 25 }),
});

/** Records (with their call plans) and watermarks of increasing timestamps, arriving in bursts and gaps. */
const scenarioArb = (maxItems = 30): fc.Arbitrary<Scenario> =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 8 })),
        fc.oneof(
          { weight: 4, arbitrary: fc.record({ outputs: fc.integer({ min: 1, max: 2 }), attempts: fc.array(attemptArb, { minLength: 1, maxLength: 4 }) }) },
          { weight: 1, arbitrary: fc.constant(null) },
        ),
      ),
      { maxLength: maxItems },
    )
    .map((raw) => {
      let id = 0;
      let timestamp = 0;
      return {
        items: raw.map(([gap, plan]): Item => ({
          gap,
          el: plan === null ? { kind: 'watermark', timestamp: timestamp += 10 } : { kind: 'record', id: id++, ...plan },
        })),
      };
    });

/** Valid adaptive settings within a capacity, short windows so that the limit moves within a run. */
const adaptiveArb = (bound: number): fc.Arbitrary<Required<Omit<AdaptiveConcurrencyOptions, 'isOverload' | 'smoothing'>> & { smoothing?: number }> =>
  fc
    .record({
      limiter: fc.constantFrom<'aimd' | 'gradient'>('aimd', 'gradient'),
      min: fc.integer({ min: 1, max: bound }),
      maxAt: fc.double({ min: 0, max: 1, noNaN: true }),
      initialAt: fc.double({ min: 0, max: 1, noNaN: true }),
      backoffRatio: fc.double({ min: 0.5, max: 0.99, noNaN: true }),
      tolerance: fc.double({ min: 1, max: 3, noNaN: true }),
      smoothing: fc.double({ min: 0.05, max: 1, noNaN: true }),
      minTime: fc.integer({ min: 0, max: 10 }),
      extra: fc.integer({ min: 0, max: 30 }),
      minSamples: fc.integer({ min: 1, max: 4 }),
    })
    .map(({ limiter, min, maxAt, initialAt, smoothing, minTime, extra, minSamples, ...rest }) => {
      const max = min + Math.floor(maxAt * (bound - min));
      return {
        ...rest,
        limiter,
        min,
        max,
        initial: min + Math.floor(initialAt * (max - min)),
        window: { minTime, maxTime: minTime + extra, minSamples },
        ...(limiter === 'gradient' ? { smoothing } : {}),
      };
    });

const rateArb = (minBurst: number): fc.Arbitrary<Required<RateLimitOptions>> =>
  fc.record({
    perSecond: fc.oneof(fc.integer({ min: 20, max: 1000 }), fc.double({ min: 5, max: 500, noNaN: true })),
    burst: fc.integer({ min: minBurst, max: minBurst + 4 }),
  });

// ---- the runner ------------------------------------------------------------------------------------------------

class Overload extends Error {}

/** One call: when it started, how many calls were running then (itself included), and the limit then. */
interface Start {
  readonly id: number;
  readonly attempt: number;
  readonly at: number;
  readonly running: number;
  readonly limit: number | null;
  /** When the operator stopped listening to it, and why: an answer, a failure, or a cancellation (timeout). */
  endedAt?: number;
  end?: 'answered' | 'cancelled';
}

interface Run {
  readonly outputs: StreamElement<string>[];
  readonly starts: Start[];
  /** metrics.concurrencyLimit at every call start and every output. */
  readonly limits: (number | null)[];
  readonly completed: boolean;
  readonly error: unknown;
  readonly metrics: AsyncWaitCounters;
}

interface RunSettings {
  readonly mode: Mode;
  readonly capacity: number;
  readonly timeout: number;
  readonly maxRetries: number;
  readonly retryDelay: number;
  readonly adaptive?: AdaptiveConcurrencyOptions;
  readonly rateLimit?: RateLimitOptions;
}

const records = (scenario: Scenario): RecordPlan[] => scenario.items.flatMap((item) => (item.el.kind === 'record' ? [item.el] : []));

/** Plays `scenario` through asyncWaitOrdered / asyncWaitUnordered with the gate, and records what happens. */
function play(scenario: Scenario, settings: RunSettings): Run {
  const sched = new VirtualTimeScheduler(undefined, Infinity);
  const plans = records(scenario);
  const metrics = asyncWaitMetrics();
  const starts: Start[] = [];
  const limits: (number | null)[] = [];
  let running = 0;

  const fn = (id: number, ctx: AsyncCallContext): Observable<string> => {
    const plan = plans[id]!;
    const attempt = plan.attempts[Math.min(ctx.attempt, plan.attempts.length) - 1]!;
    running++;
    const start: Start = { id, attempt: ctx.attempt, at: sched.now(), running, limit: metrics.concurrencyLimit };
    starts.push(start);
    limits.push(metrics.concurrencyLimit);
    const values = Array.from({ length: plan.outputs }, (_, k) => `${id}:${k}@${ctx.attempt}`);
    const answer = attempt.outcome === 'hang'
      ? NEVER
      : timer(attempt.latency, sched).pipe(mergeMap(() => {
        if (attempt.outcome === 'ok') return from(values);
        return throwError(() => (attempt.outcome === 'overload' ? new Overload('full') : new Error('bug')));
      }));
    const end = (how: 'answered' | 'cancelled') => {
      if (start.end !== undefined) return;
      running--;
      start.endedAt = sched.now();
      start.end = how;
    };
    // The call ends when it answers (before the operator hears of it), or when the operator drops it (a timeout).
    return answer.pipe(
      tap({ complete: () => end('answered'), error: () => end('answered') }),
      finalize(() => end('cancelled')),
    );
  };

  const source = new Observable<StreamElement<number>>((subscriber) => {
    const actions = new Subscription();
    let at = 0;
    for (const item of scenario.items) {
      at += item.gap;
      const el = item.el;
      const element = el.kind === 'record' ? record(el.id) : watermark(el.timestamp);
      actions.add(sched.schedule(() => subscriber.next(element), at));
    }
    actions.add(sched.schedule(() => subscriber.complete(), at + 1));
    return actions;
  });

  const outputs: StreamElement<string>[] = [];
  let completed = false;
  let error: unknown;
  source.pipe(operatorOf(settings.mode)(fn, {
    capacity: settings.capacity,
    timeout: settings.timeout,
    onTimeout: (id) => [`${id}:T`],
    onError: (_error, id) => [`${id}:E`],
    retry: { maxRetries: settings.maxRetries, delay: settings.retryDelay },
    scheduler: sched,
    metrics,
    ...(settings.adaptive === undefined ? {} : { concurrency: { adaptive: { ...settings.adaptive, isOverload: (e) => e instanceof Overload } } }),
    ...(settings.rateLimit === undefined ? {} : { rateLimit: settings.rateLimit }),
  })).subscribe({
    next: (el) => {
      outputs.push(el);
      limits.push(metrics.concurrencyLimit);
    },
    error: (e: unknown) => (error = e),
    complete: () => (completed = true),
  });
  sched.flush();
  return { outputs, starts, limits, completed, error, metrics: metrics.snapshot() };
}

const runSettingsArb = (mode: fc.Arbitrary<Mode> = fc.constantFrom<Mode>('ordered', 'unordered')) =>
  fc.record({
    mode,
    capacity: fc.integer({ min: 1, max: 12 }),
    timeout: fc.integer({ min: 5, max: 60 }),
    maxRetries: fc.integer({ min: 0, max: 3 }),
    retryDelay: fc.integer({ min: 0, max: 5 }),
  });

/** The token bucket's bound: over [start of call i, start of call j], at most burst + perSecond · (t_j − t_i) / 1000 tokens. */
function overdrawn(takes: readonly { at: number; tokens: number }[], rate: Required<RateLimitOptions>): string | null {
  for (let i = 0; i < takes.length; i++) {
    let tokens = 0;
    for (let j = i; j < takes.length; j++) {
      tokens += takes[j]!.tokens;
      const allowed = rate.burst + (rate.perSecond * (takes[j]!.at - takes[i]!.at)) / 1000;
      if (tokens > allowed + 1e-6) return `${tokens} tokens in [${takes[i]!.at}, ${takes[j]!.at}], at most ${allowed} allowed`;
    }
  }
  return null;
}

/** Output records grouped by the record they answer, in order of appearance; and where each watermark went out. */
function groups(outputs: readonly StreamElement<string>[]) {
  const order: number[] = [];
  const values = new Map<number, string[]>();
  const positions = new Map<number, number>(); // record id -> index of its group among the groups
  const watermarkAfterGroups: { timestamp: number; groupsBefore: number }[] = [];
  let last = -1;
  for (const el of outputs) {
    if (el.kind === 'watermark') {
      watermarkAfterGroups.push({ timestamp: el.timestamp, groupsBefore: order.length });
      last = -1;
      continue;
    }
    if (el.kind !== 'record') continue;
    const id = Number(el.value.split(':')[0]);
    if (id !== last) {
      if (positions.has(id)) throw new Error(`record ${id} answered in two separate places: ${JSON.stringify(outputs)}`);
      positions.set(id, order.length);
      order.push(id);
      values.set(id, []);
      last = id;
    }
    values.get(id)!.push(el.value);
  }
  return { order, values, positions, watermarkAfterGroups };
}

/** One record's results: all of one successful attempt (k = 0 … outputs−1), or its single fallback result. */
function isWholeAnswer(plan: RecordPlan, answer: readonly string[]): boolean {
  if (answer.length === 1 && (answer[0] === `${plan.id}:T` || answer[0] === `${plan.id}:E`)) return true;
  const attempt = /@(\d+)$/.exec(answer[0] ?? '')?.[1];
  return answer.length === plan.outputs && answer.every((v, k) => v === `${plan.id}:${k}@${attempt}`);
}

// ---- properties ------------------------------------------------------------------------------------------------

describe('the call gate: properties', () => {
  it('never has more calls in flight than the limit in force when each starts, nor than max; the limit stays in [min, max]', () => {
    const arb = runSettingsArb().chain((settings) => fc.record({
      settings: fc.constant(settings),
      adaptive: adaptiveArb(settings.capacity),
      scenario: scenarioArb(),
    }));
    fc.assert(
      fc.property(arb, ({ settings, adaptive, scenario }) => {
        // Act
        const run = play(scenario, { ...settings, adaptive });

        // Assert
        expect(run.error).toBeUndefined();
        for (const start of run.starts) {
          expect(start.running).toBeLessThanOrEqual(start.limit!);
          expect(start.running).toBeLessThanOrEqual(adaptive.max);
        }
        for (const limit of run.limits) {
          expect(Number.isInteger(limit)).toBe(true);
          expect(limit).toBeGreaterThanOrEqual(adaptive.min);
          expect(limit).toBeLessThanOrEqual(adaptive.max);
        }
        expect(run.metrics.waitingForCall).toBe(0);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never starts calls faster than the token bucket allows (asyncWait: a token per call, retries included)', () => {
    const arb = runSettingsArb().chain((settings) => fc.record({
      settings: fc.constant(settings),
      rateLimit: rateArb(1),
      adaptive: fc.option(adaptiveArb(settings.capacity), { nil: undefined }),
      scenario: scenarioArb(),
    }));
    fc.assert(
      fc.property(arb, ({ settings, rateLimit, adaptive, scenario }) => {
        // Act
        const run = play(scenario, { ...settings, rateLimit, ...(adaptive === undefined ? {} : { adaptive }) });

        // Assert
        expect(run.error).toBeUndefined();
        expect(overdrawn(run.starts.map((s) => ({ at: s.at, tokens: 1 })), rateLimit)).toBeNull();
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never starts batches faster than the token bucket allows (asyncBatch: a token per record), nor more batches than the limit', () => {
    const arb = fc
      .record({
        maxBatchSize: fc.integer({ min: 1, max: 5 }),
        maxInFlightBatches: fc.integer({ min: 1, max: 4 }),
        linger: fc.integer({ min: 0, max: 6 }),
        latencies: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 10 }),
        gaps: fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 })), { maxLength: 40 }),
      })
      .chain((shape) => fc.record({
        shape: fc.constant(shape),
        rateLimit: rateArb(shape.maxBatchSize),
        adaptive: adaptiveArb(shape.maxInFlightBatches),
      }));
    fc.assert(
      fc.property(arb, ({ shape, rateLimit, adaptive }) => {
        // Arrange
        const sched = new VirtualTimeScheduler(undefined, Infinity);
        const metrics = asyncBatchMetrics();
        const batches: { at: number; tokens: number; running: number; limit: number | null }[] = [];
        let running = 0;
        const batchFn = (values: number[]) => {
          running++;
          batches.push({ at: sched.now(), tokens: values.length, running, limit: metrics.concurrencyLimit });
          const latency = shape.latencies[batches.length % shape.latencies.length]!;
          let ended = false;
          const end = () => {
            if (!ended) running--;
            ended = true;
          };
          // The call ends as it answers, before the operator hears of it (and may start the next batch).
          return timer(latency, sched).pipe(map(() => values.map((x) => 10 * x)), tap({ complete: end, error: end }), finalize(end));
        };
        const source = new Observable<StreamElement<number>>((subscriber) => {
          let at = 0;
          shape.gaps.forEach((gap, i) => sched.schedule(() => subscriber.next(record(i)), (at += gap)));
          sched.schedule(() => subscriber.complete(), at + 1);
        });
        const outputs: number[] = [];
        let error: unknown;

        // Act
        source.pipe(asyncBatchUnordered(batchFn, {
          maxBatchSize: shape.maxBatchSize, maxInFlightBatches: shape.maxInFlightBatches, linger: shape.linger,
          scheduler: sched, metrics, rateLimit, concurrency: { adaptive },
        })).subscribe({ next: (el) => el.kind === 'record' && outputs.push(el.value), error: (e: unknown) => (error = e) });
        sched.flush();

        // Assert
        expect(error).toBeUndefined();
        expect(outputs.sort((x, y) => x - y)).toEqual(shape.gaps.map((_, i) => 10 * i));
        expect(overdrawn(batches, rateLimit)).toBeNull();
        for (const batch of batches) expect(batch.running).toBeLessThanOrEqual(batch.limit!);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('with adaptive concurrency, ordered output is the mapped input, each record answered exactly once, watermarks in place', () => {
    const arb = runSettingsArb(fc.constant<Mode>('ordered')).chain((settings) => fc.record({
      settings: fc.constant(settings),
      adaptive: adaptiveArb(settings.capacity),
      scenario: scenarioArb(),
    }));
    fc.assert(
      fc.property(arb, ({ settings, adaptive, scenario }) => {
        // Act
        const run = play(scenario, { ...settings, adaptive });

        // Assert: the groups come in input order, each whole, and each watermark right after the records before it.
        expect(run.error).toBeUndefined();
        expect(run.completed).toBe(true);
        const plans = records(scenario);
        const { order, values, watermarkAfterGroups } = groups(run.outputs);
        expect(order).toEqual(plans.map((p) => p.id));
        for (const plan of plans) expect(isWholeAnswer(plan, values.get(plan.id)!)).toBe(true);
        let recordsBefore = 0;
        const expectedPlaces = new Map<number, number>();
        for (const item of scenario.items) {
          if (item.el.kind === 'record') recordsBefore++;
          else expectedPlaces.set(item.el.timestamp, recordsBefore);
        }
        for (const mark of watermarkAfterGroups) expect(mark.groupsBefore).toBe(expectedPlaces.get(mark.timestamp));
        expect(watermarkAfterGroups.map((m) => m.timestamp)).toEqual([...watermarkAfterGroups.map((m) => m.timestamp)].sort((x, y) => x - y));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('with adaptive concurrency, unordered output answers each record exactly once, and no record crosses a watermark', () => {
    const arb = runSettingsArb(fc.constant<Mode>('unordered')).chain((settings) => fc.record({
      settings: fc.constant(settings),
      adaptive: adaptiveArb(settings.capacity),
      scenario: scenarioArb(),
    }));
    fc.assert(
      fc.property(arb, ({ settings, adaptive, scenario }) => {
        // Act
        const run = play(scenario, { ...settings, adaptive });

        // Assert
        expect(run.error).toBeUndefined();
        expect(run.completed).toBe(true);
        const plans = records(scenario);
        const { order, values, positions, watermarkAfterGroups } = groups(run.outputs);
        expect([...order].sort((x, y) => x - y)).toEqual(plans.map((p) => p.id));
        for (const plan of plans) expect(isWholeAnswer(plan, values.get(plan.id)!)).toBe(true);
        // A record before watermark W in the input goes out before W; one after W goes out after it.
        const watermarkOf = new Map(watermarkAfterGroups.map((m) => [m.timestamp, m.groupsBefore]));
        let timestamps: number[] = [];
        const before = new Map<number, number[]>(); // record id -> watermarks before it in the input
        for (const item of scenario.items) {
          if (item.el.kind === 'record') before.set(item.el.id, timestamps);
          else timestamps = [...timestamps, item.el.timestamp];
        }
        for (const plan of plans) {
          const position = positions.get(plan.id)!;
          for (const [timestamp, groupsBefore] of watermarkOf) {
            if (before.get(plan.id)!.includes(timestamp)) expect(position).toBeGreaterThanOrEqual(groupsBefore);
            else expect(position).toBeLessThan(groupsBefore);
          }
        }
        // The last watermark of every run of adjacent ones goes out (earlier ones may coalesce into it).
        const lastOfRuns = scenario.items.flatMap((item, i) => {
          const next = scenario.items[i + 1]?.el;
          return item.el.kind === 'watermark' && next?.kind !== 'watermark' ? [item.el.timestamp] : [];
        });
        for (const timestamp of lastOfRuns) expect(watermarkOf.has(timestamp)).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('never starts a call once its record\'s time budget is spent: no call is cut off at the instant it starts', () => {
    const arb = runSettingsArb().chain((settings) => fc.record({
      settings: fc.constant(settings),
      adaptive: adaptiveArb(settings.capacity),
      rateLimit: fc.option(rateArb(1), { nil: undefined }),
      scenario: scenarioArb(),
    }));
    fc.assert(
      fc.property(arb, ({ settings, adaptive, rateLimit, scenario }) => {
        // Act
        const run = play(scenario, { ...settings, adaptive, ...(rateLimit === undefined ? {} : { rateLimit }) });

        // Assert: every time in a scenario is a whole ms, so a call started before its deadline runs for 1 ms at least.
        // (The case needs a record timing out as it waits, at the instant a call ends: hence more runs.)
        const cutOffAtOnce = run.starts.filter((s) => s.end === 'cancelled' && s.endedAt === s.at);
        expect(cutOffAtOnce).toEqual([]);
      }),
      { numRuns: 3 * NUM_RUNS },
    );
  });
});
