/**
 * Property tests of checkpointable pipelines: crash, restore, and compare with a run that never crashed
 * (semantics: Flink's checkpointing, with exactly-once and at-least-once delivery).
 *
 * Every property plays a random scenario: a source of random records (some with timestamps) that emits one item
 * per scheduled task (or a few in a synchronous burst), so a crash can land anywhere in it; async calls whose
 * completions are scheduled tasks too, released in a random order by `fc.scheduler()` (random latencies), a few
 * completing synchronously; a random async capacity and a random checkpoint trigger (`every.records` in 1..5); and
 * one to three crashes, each after a random number of scheduler steps or synchronously inside the subscriber at a
 * random output. A crash is an abrupt unsubscribe:
 * everything in memory is lost except the MemoryCheckpointStore. After each crash a fresh job (fresh source,
 * fresh async function, fresh operators) is built over the same store and subscribed: it restores from the
 * newest checkpoint; the last one runs to the end. Leftover tasks of a crashed run stay in the fc scheduler and
 * are released later: their results must go nowhere.
 *
 * The same pipeline runs once more without a crash, on a fresh store and with its own fc scheduler (another
 * random order of completions), as the reference (itself checked against what the pipeline computes):
 *
 * - exactly-once: the committed output (every output of every run, deduplicated by (checkpointId, sequence),
 *   keeping the first: what an idempotent sink keeps) equals the reference output, in order for ordered
 *   pipelines, as a multiset for asyncWaitUnordered. A repeated stamp carries an identical element, stamps go
 *   up without gaps, and a run emits nothing beyond the newest durable checkpoint (the one the next run restores).
 * - at-least-once: every reference output appears at least once across the runs, no stamp is used twice, and,
 *   exactly, the outputs of each crashed run up to the checkpoint the next run restores, followed by the next
 *   run's outputs, rebuild the reference output (Flink: after a restore, the job replays from the checkpoint, so what was emitted after it
 *   comes again, and nothing before it does).
 *
 * Pipelines: asyncWaitOrdered alone, asyncWaitUnordered alone, asyncWaitOrdered into keyedTimers with a running
 * sum per key (operator state must be restored, not rebuilt by replay), and withWatermarks into asyncWaitOrdered
 * into keyedTimers with event-time tumbling windows as well (timers and watermarks in the checkpoint).
 */
import fc from 'fast-check';
import { Observable, Subject, VirtualTimeScheduler, takeUntil } from 'rxjs';
import {
  MemoryCheckpointStore, asyncWaitOrdered, asyncWaitUnordered, checkpointMetrics, checkpointable, keyedTimers,
  readLatestCheckpoint, record, withWatermarks,
  type CheckpointCounters, type CheckpointMetrics, type CheckpointStore, type CheckpointWarning, type CheckpointedOutput,
  type ReplayableSource, type SourceItem, type StreamElement,
} from 'rxjs-sluice';
import { soak } from '../support/soak';

/** Runs per property: the soak variant (SLUICE_FULL=1, set by CI) tries five times as many scenarios. */
const NUM_RUNS = soak(60, 300);
/** fast-check's default per-property timeout does not apply to async properties; keep a generous jest timeout. */
const TIMEOUT = 60_000;

// ---- scenarios -------------------------------------------------------------------------------------------------

type Key = 'a' | 'b' | 'c';
type Delivery = 'exactly-once' | 'at-least-once';

/** A source record: its index (to tell outputs apart), key, amount, and an event time for some. */
interface Item {
  readonly id: number;
  readonly key: Key;
  readonly n: number;
  readonly t?: number;
}

/** Where a crash lands: after `k` scheduler steps of the run, or inside the subscriber, at the run's k-th output. */
type Crash = { readonly at: 'step'; readonly k: number } | { readonly at: 'output'; readonly k: number };

interface Scenario {
  readonly items: readonly Item[];
  /** Before item i is emitted, the virtual clock moves one watermark interval on (withWatermarks pipeline only). */
  readonly ticks: readonly boolean[];
  /** Item i goes out in the same task as item i - 1, synchronously after it (a burst). */
  readonly bursts: readonly boolean[];
  /** The call for item i completes synchronously (its result is an array), inside the operator's admit. */
  readonly syncCalls: readonly boolean[];
  readonly records: number;
  readonly capacity: number;
  readonly crashes: readonly Crash[];
}

const MAX_ITEMS = 24;

/** Where a crash lands, as a fraction of the run: scaled to the scenario's size below. */
const crashArb = fc.record({
  at: fc.oneof({ weight: 3, arbitrary: fc.constant('step' as const) }, { weight: 1, arbitrary: fc.constant('output' as const) }),
  permille: fc.integer({ min: 0, max: 1000 }),
});

/**
 * `timed`: every item has an event time with bounded disorder: t = base + jitter, base non-decreasing and jitter
 * in [0, JITTER], so no record is ever behind a watermark of maxOutOfOrderness JITTER (no late data).
 */
const JITTER = 3;
const scenarioArb = (timed: boolean, maxCrashes = 3): fc.Arbitrary<Scenario> =>
  fc
    .record({
      raw: fc.array(
        fc.record({
          key: fc.constantFrom<Key>('a', 'b', 'c'),
          n: fc.integer({ min: -9, max: 9 }),
          step: fc.integer({ min: 0, max: 4 }),
          jitter: fc.integer({ min: 0, max: JITTER }),
          stamped: fc.boolean(),
          tick: fc.boolean(),
          burst: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
          sync: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
        }),
        { maxLength: MAX_ITEMS, size: 'large' },
      ),
      records: fc.integer({ min: 1, max: 5 }),
      capacity: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(100)),
      crashes: fc.array(crashArb, { minLength: 1, maxLength: maxCrashes }),
    })
    .map(({ raw, records, capacity, crashes }) => {
      let base = 0;
      const items = raw.map(({ key, n, step, jitter, stamped }, id): Item => {
        base += step;
        // No `t` key at all when unstamped: the strict jsonCodec rejects undefined in a snapshot.
        return timed || stamped ? { id, key, n, t: base + jitter } : { id, key, n };
      });
      // An uninterrupted run takes about 2n + 1 steps (n source items, n calls, the completion); a crash at the
      // k-th output needs k <= n outputs to happen at all.
      const scaled = crashes.map(({ at, permille }): Crash =>
        at === 'step'
          ? { at, k: Math.floor((permille / 1000) * (2 * items.length + 2)) }
          : { at, k: 1 + Math.floor((permille / 1000) * items.length) });
      return {
        items, ticks: raw.map((r) => r.tick), bursts: raw.map((r) => r.burst), syncCalls: raw.map((r) => r.sync), records, capacity,
        crashes: scaled,
      };
    });

// ---- the environment of one run: source, async function, clock ---------------------------------------------------

/**
 * A replayable source that emits its items in fc-scheduled tasks, one per task or several in a burst (the first
 * item after an open always has a task of its own), and completes in a task of its own; `beforeItem` runs just
 * before an item goes out. Closed (crashed), it drops whatever its pending tasks bring.
 */
function scheduledSource(s: fc.Scheduler, scenario: Scenario, beforeItem: (index: number) => void = () => {}): ReplayableSource<Item, number> {
  const { items, bursts } = scenario;
  return {
    open: (position = 0) =>
      new Observable<SourceItem<Item, number>>((subscriber) => {
        let next = position;
        const step = (): void => {
          void s.schedule(Promise.resolve(), next < items.length ? `source[${next}]` : 'source end').then(() => {
            do {
              if (subscriber.closed) return;
              if (next >= items.length) {
                subscriber.complete();
                return;
              }
              const index = next;
              beforeItem(index);
              const item = items[index]!;
              next = index + 1;
              subscriber.next(item.t === undefined ? { value: item, position: next } : { value: item, position: next, timestamp: item.t });
            } while (next < items.length && bursts[next]);
            step();
          });
        };
        step();
      }),
  };
}

/** The async call: its result arrives when the fc scheduler releases it, or at once for the scenario's sync calls. */
interface Enriched {
  readonly id: number;
  readonly key: Key;
  readonly x: number;
}
const enrich = (s: fc.Scheduler, scenario: Scenario) => (item: Item): Promise<Enriched> | Enriched[] => {
  const result = { id: item.id, key: item.key, x: 2 * item.n };
  return scenario.syncCalls[item.id] ? [result] : s.schedule(Promise.resolve(result), `call(${item.id})`);
};

/** Per-key state of the keyed pipelines: a running total, and the open tumbling windows' sums by end time. */
interface KeyState {
  readonly total: number;
  readonly windows: Record<string, number>;
}
type Summary =
  | { readonly type: 'total'; readonly id: number; readonly key: Key; readonly total: number }
  | { readonly type: 'window'; readonly key: Key; readonly end: number; readonly sum: number };

const WINDOW = 5;
const WATERMARK_INTERVAL = 10;

type Output = CheckpointedOutput<unknown>;
/** What every job of a run is given besides its own fresh source, function and operators. */
interface RunEnv {
  readonly s: fc.Scheduler;
  readonly store: CheckpointStore;
  readonly onWarning: (warning: CheckpointWarning) => void;
  readonly metrics: CheckpointMetrics;
}
/** Builds a fresh job over the store and returns its output: a new run each call. */
type Build = (env: RunEnv) => Observable<Output>;

function orderedPipeline(scenario: Scenario, delivery: Delivery): Build {
  return ({ s, store, onWarning, metrics }) =>
    checkpointable({ source: scheduledSource(s, scenario), store, delivery, every: { records: scenario.records }, onWarning, metrics })
      .pipe(asyncWaitOrdered(enrich(s, scenario), { id: 'enrich', capacity: scenario.capacity }));
}

function unorderedPipeline(scenario: Scenario, delivery: Delivery): Build {
  return ({ s, store, onWarning, metrics }) =>
    checkpointable({ source: scheduledSource(s, scenario), store, delivery, every: { records: scenario.records }, onWarning, metrics })
      .pipe(asyncWaitUnordered(enrich(s, scenario), { id: 'enrich', capacity: scenario.capacity }));
}

/** asyncWaitOrdered into keyedTimers keeping a running total per key. */
function keyedPipeline(scenario: Scenario, delivery: Delivery): Build {
  return ({ s, store, onWarning, metrics }) =>
    checkpointable({ source: scheduledSource(s, scenario), store, delivery, every: { records: scenario.records }, onWarning, metrics }).pipe(
      asyncWaitOrdered(enrich(s, scenario), { id: 'enrich', capacity: scenario.capacity }),
      keyedTimers<Enriched, Summary, Key, KeyState>(
        {
          key: (e) => e.key,
          processElement: (e, ctx) => {
            const total = (ctx.state.value()?.total ?? 0) + e.x;
            ctx.state.update({ total, windows: {} });
            ctx.emit({ type: 'total', id: e.id, key: ctx.key, total });
          },
        },
        { id: 'sum' },
      ),
    );
}

/**
 * withWatermarks (event time from the items, bounded disorder JITTER) into asyncWaitOrdered into keyedTimers with
 * a running total and tumbling event-time windows per key. The watermark clock is a VirtualTimeScheduler of the
 * run's own, moved on by one interval before each item whose tick flag is set.
 */
function windowedPipeline(scenario: Scenario, delivery: Delivery): Build {
  return ({ s, store, onWarning, metrics }) => {
    const clock = new VirtualTimeScheduler();
    const advance = (index: number): void => {
      if (!scenario.ticks[index]) return;
      clock.maxFrames = clock.now() + WATERMARK_INTERVAL;
      clock.flush();
    };
    return checkpointable({
      source: scheduledSource(s, scenario, advance), store, delivery, every: { records: scenario.records }, scheduler: clock,
      onWarning, metrics,
    }).pipe(
      withWatermarks<Item>({
        input: 'elements', id: 'watermarks', timestampOf: (item) => item.t!, maxOutOfOrderness: JITTER,
        interval: WATERMARK_INTERVAL, scheduler: clock,
      }),
      asyncWaitOrdered(enrich(s, scenario), { id: 'enrich', capacity: scenario.capacity }),
      keyedTimers<Enriched, Summary, Key, KeyState>(
        {
          key: (e) => e.key,
          processElement: (e, ctx) => {
            const state = ctx.state.value() ?? { total: 0, windows: {} };
            const end = Math.floor(ctx.timestamp! / WINDOW) * WINDOW + WINDOW - 1;
            const total = state.total + e.x;
            ctx.state.update({ total, windows: { ...state.windows, [end]: (state.windows[end] ?? 0) + e.x } });
            ctx.timerService.registerEventTimeTimer(end);
            ctx.emit({ type: 'total', id: e.id, key: ctx.key, total });
          },
          onTimer: (end, ctx) => {
            const state = ctx.state.value()!;
            const { [end]: sum, ...open } = state.windows;
            ctx.state.update({ total: state.total, windows: open });
            ctx.emit({ type: 'window', key: ctx.key, end, sum: sum! });
          },
        },
        { id: 'windows' },
      ),
    );
  };
}

// ---- running, crashing, restoring ---------------------------------------------------------------------------------

/** Lets every pending promise callback run (fc releases a task; its continuations are microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What one subscription did. */
interface RunLog {
  /** The id of the checkpoint the run restored from (undefined: it started fresh). */
  readonly restoredId: number | undefined;
  readonly outputs: Output[];
  /**
   * For each output, the epoch it belongs to: 1 + the newest checkpoint written when it was emitted. (Under
   * 'at-least-once' with a synchronous store, a checkpoint is written the moment its barrier reaches the end, so
   * this is the epoch; the stamps name the run instead.)
   */
  readonly epochs: number[];
  readonly completed: boolean;
  readonly crashed: boolean;
  readonly error: unknown;
  /** Failed checkpoints and skipped corrupt ones: none are expected here. */
  readonly warnings: CheckpointWarning[];
  readonly metrics: CheckpointCounters;
}

/**
 * Subscribes a fresh job over `store` and drives the fc scheduler one task at a time until the run completes,
 * errors or crashes (unsubscribed after `crash.k` steps, or from inside its k-th output).
 */
async function runOnce(s: fc.Scheduler, store: CheckpointStore, build: Build, run: number, crash: Crash | undefined): Promise<RunLog> {
  const restoredId = (await readLatestCheckpoint(store))?.checkpointId;
  const warnings: CheckpointWarning[] = [];
  const metrics = checkpointMetrics();
  const outputs: Output[] = [];
  const epochs: number[] = [];
  let completed = false;
  let crashed = false;
  let error: unknown = undefined;
  const crash$ = new Subject<void>();
  const doCrash = (): void => {
    crashed = true;
    crash$.next();
  };
  const subscription = build({ s, store, onWarning: (w) => warnings.push(w), metrics }).pipe(takeUntil(crash$)).subscribe({
    next: (output) => {
      if (crashed) return;
      outputs.push(output);
      epochs.push(metrics.lastCompletedId + 1);
      if (crash?.at === 'output' && outputs.length === crash.k) doCrash();
    },
    error: (err: unknown) => {
      error = err;
    },
    complete: () => {
      if (!crashed) completed = true;
    },
  });
  let steps = 0;
  for (;;) {
    await settle();
    if (completed || crashed || error !== undefined) break;
    if (crash?.at === 'step' && steps >= crash.k) {
      doCrash();
      break;
    }
    if (s.count() === 0) {
      error = new Error(`run ${run} is stuck: no task is scheduled, and it has neither completed nor crashed`);
      break;
    }
    await s.waitOne();
    steps++;
  }
  subscription.unsubscribe();
  return { restoredId, outputs, epochs, completed, crashed, error, warnings, metrics: metrics.snapshot() };
}

/** Runs with the scenario's crashes, each restart a fresh job over the same store, the last run to the end. */
async function crashAndRestore(s: fc.Scheduler, build: Build, crashes: readonly Crash[]): Promise<{ runs: RunLog[]; store: MemoryCheckpointStore }> {
  const store = new MemoryCheckpointStore();
  const runs: RunLog[] = [];
  for (const crash of crashes) runs.push(await runOnce(s, store, build, runs.length, crash));
  runs.push(await runOnce(s, store, build, runs.length, undefined));
  return { runs, store };
}

async function uninterrupted(s: fc.Scheduler, build: Build): Promise<RunLog> {
  return runOnce(s, new MemoryCheckpointStore(), build, 0, undefined);
}

// ---- what is compared ---------------------------------------------------------------------------------------------

const stampOf = (o: Output): string => `${o.checkpointId}:${o.sequence}`;
const elementsOf = (outputs: readonly Output[]): StreamElement<unknown>[] => outputs.map((o) => o.element);
/** A canonical, order-free form of a list of elements. */
const multiset = (elements: readonly StreamElement<unknown>[]): string[] => elements.map((e) => JSON.stringify(e)).sort();

/**
 * No run errored or warned (no checkpoint failed, so every epoch's outputs are committed by its own checkpoint),
 * each restored from the newest checkpoint in the store (metrics agree), and the last run and the reference
 * completed.
 */
function expectCleanEnd(runs: readonly RunLog[], reference: RunLog): void {
  for (const run of [...runs, reference]) {
    expect(run.error).toBeUndefined();
    // A restart that restores a final checkpoint over the live log (whose end is announced asynchronously) warns
    // 'final-restored', as documented: growth cannot be ruled out at once. Nothing else may warn.
    expect(run.warnings.filter((w) => w.kind !== 'final-restored')).toEqual([]);
    expect(run.metrics.failed).toBe(0);
    expect(run.metrics.restored).toBe(run.restoredId === undefined ? 0 : 1);
    expect(run.metrics.emitted).toBe(run.outputs.length);
    // a crash gives the gauges back
    expect(run.metrics.heldOutputs).toBe(0);
    expect(run.metrics.inProgress).toBe(0);
  }
  // what a run's metrics call its newest checkpoint is what its successor restores
  runs.slice(0, -1).forEach((run, index) => expect(run.metrics.lastCompletedId).toBe(runs[index + 1]!.restoredId ?? 0));
  expect(reference.completed).toBe(true);
  expect(runs[runs.length - 1]!.completed).toBe(true);
}

/** The id a run's successor restored from; for the last run, the newest checkpoint in the store after it. */
async function durableAfter(runs: readonly RunLog[], index: number, store: CheckpointStore): Promise<number | undefined> {
  return index + 1 < runs.length ? runs[index + 1]!.restoredId : (await readLatestCheckpoint(store))?.checkpointId;
}

/**
 * Exactly-once: checks the stamps and returns the committed output (first occurrence of each stamp, in order).
 * - a run emits only outputs of durable checkpoints: from the one it restored up to the one its successor restores;
 * - a stamp seen again carries the very same element;
 * - committed stamps go up, and within an epoch the sequences are 0, 1, 2, ... without a gap.
 */
async function committedOutput(runs: readonly RunLog[], store: CheckpointStore): Promise<Output[]> {
  const seen = new Map<string, Output>();
  const committed: Output[] = [];
  for (const [index, run] of runs.entries()) {
    const upTo = await durableAfter(runs, index, store);
    // the restored checkpoint's outputs come first, and are all that carry its id
    const reEmitted = run.outputs.filter((o) => o.checkpointId === run.restoredId);
    expect(reEmitted).toEqual(run.outputs.slice(0, run.metrics.reEmitted));
    for (const output of run.outputs) {
      // (with no failed checkpoint, a checkpoint holds only its own epoch's outputs: none carried from before)
      expect(output.checkpointId).toBeLessThanOrEqual(upTo ?? 0);
      expect(output.checkpointId).toBeGreaterThanOrEqual(run.restoredId ?? 1);
      const first = seen.get(stampOf(output));
      if (first !== undefined) {
        expect(output.element).toEqual(first.element);
        continue;
      }
      seen.set(stampOf(output), output);
      committed.push(output);
    }
  }
  committed.forEach((output, i) => {
    const previous = committed[i - 1];
    if (previous === undefined || previous.checkpointId !== output.checkpointId) {
      expect(output.sequence).toBe(0);
      if (previous !== undefined) expect(output.checkpointId).toBeGreaterThan(previous.checkpointId);
    } else {
      expect(output.sequence).toBe(previous.sequence + 1);
    }
  });
  return committed;
}

/**
 * At-least-once: the outputs of each crashed run in epochs up to the checkpoint its successor restores, then the
 * next run's, and so on: what the runs contribute once the replayed part is cut away.
 */
function replayFreeOutput(runs: readonly RunLog[]): Output[] {
  return runs.flatMap((run, index) => {
    const next = runs[index + 1];
    if (next === undefined) return run.outputs;
    return run.outputs.filter((_o, i) => run.epochs[i]! <= (next.restoredId ?? 0));
  });
}

/**
 * At-least-once: nothing is emitted again on restore (checkpoints hold no outputs); each run stamps its outputs
 * (its start checkpoint, 0, 1, 2, ...), above the checkpoint it restored; and no stamp is ever used twice, even
 * for a repeat after a crash.
 */
function expectAtLeastOnceStamps(runs: readonly RunLog[]): void {
  const seen = new Set<string>();
  for (const run of runs) {
    expect(run.metrics.reEmitted).toBe(0);
    run.outputs.forEach((output, i) => {
      expect(output.checkpointId).toBeGreaterThan(run.restoredId ?? 0);
      expect(output.checkpointId).toBe(run.outputs[0]!.checkpointId);
      expect(output.sequence).toBe(i);
      expect(seen.has(stampOf(output))).toBe(false);
      seen.add(stampOf(output));
    });
  }
}

/** Every element of `expected` occurs in `actual` at least as often. */
function expectMultisetInclusion(actual: readonly StreamElement<unknown>[], expected: readonly StreamElement<unknown>[]): void {
  const counts = new Map<string, number>();
  for (const e of actual) counts.set(JSON.stringify(e), (counts.get(JSON.stringify(e)) ?? 0) + 1);
  const missing: string[] = [];
  for (const e of expected) {
    const key = JSON.stringify(e);
    const left = counts.get(key) ?? 0;
    if (left === 0) missing.push(key);
    else counts.set(key, left - 1);
  }
  expect(missing).toEqual([]);
}

// ---- what the pipelines compute (so the reference itself is checked) ----------------------------------------------

const recordAt = <V>(value: V, t: number | undefined): StreamElement<V> => (t === undefined ? record(value) : record(value, t));
const enriched = (scenario: Scenario): StreamElement<Enriched>[] =>
  scenario.items.map((item) => recordAt({ id: item.id, key: item.key, x: 2 * item.n }, item.t));
const runningTotals = (scenario: Scenario): StreamElement<Summary>[] => {
  const totals = new Map<Key, number>();
  return scenario.items.map((item) => {
    const total = (totals.get(item.key) ?? 0) + 2 * item.n;
    totals.set(item.key, total);
    return recordAt<Summary>({ type: 'total', id: item.id, key: item.key, total }, item.t);
  });
};
const windowSums = (scenario: Scenario): StreamElement<Summary>[] => {
  const sums = new Map<string, Summary & { type: 'window' }>();
  for (const item of scenario.items) {
    const end = Math.floor(item.t! / WINDOW) * WINDOW + WINDOW - 1;
    const previous = sums.get(`${item.key}@${end}`);
    sums.set(`${item.key}@${end}`, { type: 'window', key: item.key, end, sum: (previous?.sum ?? 0) + 2 * item.n });
  }
  return [...sums.values()].map((summary) => record(summary, summary.end));
};

/** Checks the uninterrupted run against what the pipeline computes. */
type Model = (scenario: Scenario, outputs: readonly StreamElement<unknown>[]) => void;
const orderedModel: Model = (scenario, outputs) => expect(outputs).toEqual(enriched(scenario));
const unorderedModel: Model = (scenario, outputs) => expect(multiset(outputs)).toEqual(multiset(enriched(scenario)));
const keyedModel: Model = (scenario, outputs) => expect(outputs).toEqual(runningTotals(scenario));
/** Totals in input order; each window once, with its sum, stamped with its end, after its last record's total. */
const windowedModel: Model = (scenario, outputs) => {
  const summaries = outputs as StreamElement<Summary>[];
  const isWindow = (e: StreamElement<Summary>): boolean => e.kind === 'record' && e.value.type === 'window';
  expect(summaries.filter((e) => !isWindow(e))).toEqual(runningTotals(scenario));
  expect(multiset(summaries.filter(isWindow))).toEqual(multiset(windowSums(scenario)));
};

// ---- properties ---------------------------------------------------------------------------------------------------

const PIPELINES = [
  { name: 'asyncWaitOrdered', build: orderedPipeline, model: orderedModel, ordered: true, timed: false },
  { name: 'asyncWaitUnordered', build: unorderedPipeline, model: unorderedModel, ordered: false, timed: false },
  { name: 'asyncWaitOrdered → keyedTimers (running sum per key)', build: keyedPipeline, model: keyedModel, ordered: true, timed: false },
  {
    name: 'withWatermarks → asyncWaitOrdered → keyedTimers (running sum, event-time windows)', build: windowedPipeline, model: windowedModel,
    ordered: true, timed: true,
  },
] as const;

describe('checkpointable properties: crash at a random moment, restore, run to the end', () => {
  describe.each(PIPELINES)('$name', ({ build, model, ordered, timed }) => {
    it(`exactly-once: the committed output (deduplicated by stamp) equals the uninterrupted run's${ordered ? ', in order' : ' as a multiset'}; repeated stamps agree; nothing is emitted before its checkpoint is durable`, async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(timed), fc.scheduler(), fc.scheduler(), async (scenario, s, sRef) => {
          // Arrange
          const pipeline = build(scenario, 'exactly-once');

          // Act
          const { runs, store } = await crashAndRestore(s, pipeline, scenario.crashes);
          const reference = await uninterrupted(sRef, pipeline);

          // Assert
          expectCleanEnd(runs, reference);
          model(scenario, elementsOf(reference.outputs));
          const committed = elementsOf(await committedOutput(runs, store));
          const expected = elementsOf(reference.outputs);
          if (ordered) expect(committed).toEqual(expected);
          else expect(multiset(committed)).toEqual(multiset(expected));
        }),
        { numRuns: NUM_RUNS },
      );
    }, TIMEOUT);

    it(`at-least-once: every output of the uninterrupted run comes at least once, and the outputs up to each restored checkpoint plus the last run's rebuild it${ordered ? ' in order' : ' as a multiset'}`, async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(timed), fc.scheduler(), fc.scheduler(), async (scenario, s, sRef) => {
          // Arrange
          const pipeline = build(scenario, 'at-least-once');

          // Act
          const { runs } = await crashAndRestore(s, pipeline, scenario.crashes);
          const reference = await uninterrupted(sRef, pipeline);

          // Assert
          expectCleanEnd(runs, reference);
          model(scenario, elementsOf(reference.outputs));
          expectAtLeastOnceStamps(runs);
          const expected = elementsOf(reference.outputs);
          expectMultisetInclusion(runs.flatMap((run) => elementsOf(run.outputs)), expected);
          const rebuilt = elementsOf(replayFreeOutput(runs));
          if (ordered) expect(rebuilt).toEqual(expected);
          else expect(multiset(rebuilt)).toEqual(multiset(expected));
        }),
        { numRuns: NUM_RUNS },
      );
    }, TIMEOUT);
  });
});
