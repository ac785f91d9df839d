/**
 * Test harness for the asyncWaitKeyed properties: random keyed scenarios (records of a few keys, watermarks with
 * rising timestamps, side outputs; a latency, a result shape and maybe a first failure for every record) played
 * through the operator in virtual time, recording what a user can observe: the outputs, every call's start and
 * end, the calls in flight per key and in all, and the metrics at every step.
 */
import fc from 'fast-check';
import { Observable, VirtualTimeScheduler, map, of, throwError, timer, type Subscription } from 'rxjs';
import {
  asyncWaitKeyed, asyncWaitMetrics, record, watermark,
  type AsyncCallContext, type AsyncWaitCounters, type AsyncWaitMetrics, type StreamElement,
} from 'rxjs-sluice';

export interface KeyedRecordPlan {
  readonly kind: 'record';
  /** Index among the scenario's records: also the input value's id. */
  readonly id: number;
  readonly key: number;
  /** The call's latency in virtual ms; 'sync' answers synchronously. */
  readonly latency: number | 'sync';
  /** True: the first call fails (after its latency), and the retry answers. */
  readonly failsOnce: boolean;
}

export type KeyedItem =
  | { readonly gap: number; readonly el: KeyedRecordPlan }
  | { readonly gap: number; readonly el: { readonly kind: 'watermark'; readonly timestamp: number } }
  | { readonly gap: number; readonly el: { readonly kind: 'other'; readonly tag: number } };

export interface KeyedScenario {
  readonly items: readonly KeyedItem[];
  readonly capacity: number;
  readonly perKeyConcurrency: number;
  readonly order: 'key' | 'input';
}

export function keyedScenarioArb(options: { maxItems?: number; keys?: number } = {}): fc.Arbitrary<KeyedScenario> {
  const keys = options.keys ?? 4;
  const raw = fc.array(fc.tuple(
    fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 3, arbitrary: fc.integer({ min: 1, max: 6 }) }),
    fc.oneof(
      { weight: 8, arbitrary: fc.record({
        kind: fc.constant('record' as const),
        key: fc.integer({ min: 0, max: keys - 1 }),
        latency: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 20 }) }, { weight: 1, arbitrary: fc.constant('sync' as const) }),
        failsOnce: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }) },
      { weight: 2, arbitrary: fc.constant({ kind: 'watermark' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'other' as const }) },
    ),
  ), { maxLength: options.maxItems ?? 40 });
  return fc.record({
    raw,
    capacity: fc.integer({ min: 1, max: 8 }),
    perKeyConcurrency: fc.integer({ min: 1, max: 3 }),
    order: fc.constantFrom('key' as const, 'input' as const),
  }).map(({ raw: items, capacity, perKeyConcurrency, order }) => {
    let id = 0;
    let wm = 0;
    return {
      capacity,
      perKeyConcurrency: Math.min(perKeyConcurrency, capacity),
      order,
      items: items.map(([gap, el], i): KeyedItem => {
        if (el.kind === 'record') return { gap, el: { ...el, id: id++ } };
        if (el.kind === 'watermark') return { gap, el: { kind: 'watermark', timestamp: ++wm } }; // rising: a run coalesces into its last
        return { gap, el: { kind: 'other', tag: i } };
      }),
    };
  });
}

export interface CallLog {
  readonly id: number;
  readonly key: number;
  readonly attempt: number;
  readonly start: number;
  end: number | undefined;
  /** Calls in flight when it started (itself included), in all and of its key. */
  readonly inFlight: number;
  readonly inFlightOfKey: number;
  aborted: boolean;
}

export interface KeyedRun {
  /** Output elements in order, with their virtual time. */
  readonly outputs: Array<{ readonly el: StreamElement<number>; readonly t: number }>;
  readonly calls: CallLog[];
  /** Metrics read at every call start and every output. */
  readonly readings: AsyncWaitCounters[];
  readonly finalMetrics: AsyncWaitCounters;
  readonly completed: boolean;
  readonly error: unknown;
}

/** The records of a scenario, in input order. */
export const recordsOf = (scenario: KeyedScenario): KeyedRecordPlan[] =>
  scenario.items.flatMap((item) => (item.el.kind === 'record' ? [item.el] : []));

const inputOf = (item: KeyedItem): StreamElement<number> => {
  const el = item.el;
  if (el.kind === 'record') return record(el.id);
  if (el.kind === 'watermark') return watermark(el.timestamp);
  return el as unknown as StreamElement<number>;
};

/**
 * Plays a scenario through asyncWaitKeyed in virtual time; with `unsubscribeAt`, the subscriber unsubscribes then.
 * Each record's call answers its id after its latency (a failing first call errors instead; retry: one, at once).
 */
export function runKeyed(scenario: KeyedScenario, unsubscribeAt?: number): KeyedRun {
  const scheduler = new VirtualTimeScheduler(undefined, Infinity);
  const metrics: AsyncWaitMetrics = asyncWaitMetrics();
  const plans = new Map(recordsOf(scenario).map((r) => [r.id, r]));
  const calls: CallLog[] = [];
  const running = new Set<CallLog>();
  const readings: AsyncWaitCounters[] = [];
  const outputs: KeyedRun['outputs'] = [];
  let completed = false;
  let error: unknown;

  const fn = (id: number, ctx: AsyncCallContext): Observable<number> => {
    const plan = plans.get(id)!;
    const log: CallLog = {
      id, key: plan.key, attempt: ctx.attempt, start: scheduler.now(), end: undefined, aborted: false,
      inFlight: running.size + 1, inFlightOfKey: [...running].filter((c) => c.key === plan.key).length + 1,
    };
    calls.push(log);
    readings.push(metrics.snapshot());
    ctx.signal.addEventListener('abort', () => (log.aborted = true));
    const fail = plan.failsOnce && ctx.attempt === 1;
    const settle = (): void => {
      log.end = scheduler.now();
      running.delete(log);
    };
    if (plan.latency === 'sync') {
      settle();
      return fail ? throwError(() => new Error(`fail ${id}`)) : of(id);
    }
    running.add(log);
    return timer(plan.latency, scheduler).pipe(map(() => {
      settle();
      if (fail) throw new Error(`fail ${id}`);
      return id;
    }));
  };

  let t = 0;
  const source = new Observable<StreamElement<number>>((subscriber) => {
    const actions: Subscription[] = [];
    for (const item of scenario.items) {
      t += item.gap;
      actions.push(scheduler.schedule(() => subscriber.next(inputOf(item)), t));
    }
    actions.push(scheduler.schedule(() => subscriber.complete(), t + 1));
    return () => actions.forEach((a) => a.unsubscribe());
  });
  const subscription = source.pipe(asyncWaitKeyed(fn, {
    key: (id: number) => plans.get(id)!.key,
    capacity: scenario.capacity,
    perKeyConcurrency: scenario.perKeyConcurrency,
    order: scenario.order,
    retry: { maxRetries: 1, delay: 0 },
    scheduler,
    metrics,
  })).subscribe({
    next: (el) => {
      outputs.push({ el, t: scheduler.now() });
      readings.push(metrics.snapshot());
    },
    error: (err: unknown) => (error = err),
    complete: () => (completed = true),
  });
  if (unsubscribeAt !== undefined) scheduler.schedule(() => subscription.unsubscribe(), unsubscribeAt);
  scheduler.flush();
  return { outputs, calls, readings, finalMetrics: metrics.snapshot(), completed, error };
}
