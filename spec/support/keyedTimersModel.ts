/**
 * A reference model of keyedTimers for the property tests (spec/keyedTimers/keyedTimers.properties.spec.ts).
 *
 * The model plays a scenario (timed input elements, completion, an optional unsubscribe) through a deliberately
 * naive simulation of the semantics in docs/keyed-timers.md: timers live in plain arrays, "the next timer" is a linear scan
 * for the least (timestamp, registration number), state is a Map. It runs the same user program as the test's
 * KeyedProcessFunction (described below) and reports what a user can observe: the output elements with their
 * virtual times, a log of every callback (what it saw), completion, and the final metrics.
 *
 * The program (what the user function does):
 * - processElement(value, ctx): reads the key's state (a running sum), logs the call, emits
 *   `{ from: 'processElement', id, key, sum, wm, now }` (sum = state + value.add), performs value.ops (register
 *   / delete timers of both domains), then `state.clear()` if value.clear, else `state.update(sum)`.
 * - onTimer(ts, ctx): the n-th call overall (n = 0, 1, ...) follows step n of the program's plan (no step: only
 *   the emit). It reads the state, logs the call, emits `{ from: domain, fire: n, key, ts, state, wm, now }`,
 *   outputs `{ fire: n, domain }` on the side tag if step.side, performs step.ops (a registration in the firing
 *   timer's domain at or below its time moved to 1 ms after it, see resolveTimerOps), then clears the state if
 *   step.clear. The plan is finite, so timers that register timers
 *   always stop.
 *
 * Time: inputs carry the virtual time they arrive at (synchronous runs: all at 0). The processing-time wake-up
 * is ideal: it happens at max(earliest processing timer, now), and fires every processing timer due by then,
 * including those its callbacks register at or before now. An input (or the completion) and a wake-up at the
 * same virtual time: the input first, as the source's actions are scheduled at subscription, before any of
 * the operator's (a VirtualTimeScheduler runs actions of one time in scheduling order). An unsubscribe time
 * never ties with anything (the tests use half-integers).
 */
import { type KeyedTimersCounters, type StreamElement, type TimeDomain } from 'rxjs-sluice';

export type Key = string | number;

/** One timer operation of the program. */
export interface TimerOp {
  readonly domain: TimeDomain;
  readonly action: 'register' | 'delete';
  readonly time: number;
  /**
   * The time is relative: for an event timer to ctx.timestamp (the record's, or the firing timer's; 0 when the
   * record has none), for a processing timer to ctx.timerService.currentProcessingTime().
   */
  readonly relative?: boolean;
}

/** The value of an input record: who it is, its key, and what processElement does with it. */
export interface RecValue {
  readonly id: number;
  readonly key: Key;
  readonly add: number;
  readonly clear: boolean;
  readonly ops: readonly TimerOp[];
}

/** What the n-th onTimer call does. */
export interface TimerStep {
  readonly ops: readonly TimerOp[];
  readonly clear: boolean;
  readonly side: boolean;
}

export const SIDE_TAG = 'timers';

/** The absolute time of an op, given the callback's ctx.timestamp and processing time. */
export function resolveTime(op: TimerOp, timestamp: number | undefined, now: number): number {
  if (op.relative !== true) return op.time;
  return (op.domain === 'event' ? (timestamp ?? 0) : now) + op.time;
}

/** An op with its absolute time, as performed. */
export interface ResolvedOp {
  readonly domain: TimeDomain;
  readonly action: 'register' | 'delete';
  readonly time: number;
}

export const resolveOps = (ops: readonly TimerOp[], timestamp: number | undefined, now: number): ResolvedOp[] =>
  ops.map((op) => ({ domain: op.domain, action: op.action, time: resolveTime(op, timestamp, now) }));

/**
 * The ops of an onTimer call, resolved. A registration in the firing timer's domain at or below its time would
 * be refused with a TimerLoopError, so the program registers it 1 ms after the firing timer instead (and not at
 * all where 1 ms later is the same number: beyond 2^53).
 */
export const resolveTimerOps = (ops: readonly TimerOp[], domain: TimeDomain, ts: number, now: number): ResolvedOp[] =>
  resolveOps(ops, ts, now).flatMap((op) => {
    if (op.action !== 'register' || op.domain !== domain || op.time > ts) return [op];
    return ts + 1 > ts ? [{ ...op, time: ts + 1 }] : [];
  });

export interface Gauges {
  readonly eventTimers: number;
  readonly processingTimers: number;
  readonly keysWithState: number;
}

/** One callback, as the user function saw it. */
export type CallEntry =
  | {
      readonly call: 'processElement';
      readonly id: number;
      readonly key: Key;
      readonly timestamp: number | null;
      readonly state: number | null;
      readonly wm: number;
      readonly now: number;
      readonly ops: readonly ResolvedOp[];
      readonly gauges: Gauges;
    }
  | {
      readonly call: 'onTimer';
      readonly fire: number;
      readonly domain: TimeDomain;
      readonly key: Key;
      readonly ts: number;
      readonly timestamp: number | null;
      readonly state: number | null;
      readonly wm: number;
      readonly now: number;
      readonly ops: readonly ResolvedOp[];
      readonly gauges: Gauges;
    };

/** Values on the main output. */
export type OutValue =
  | { readonly from: 'processElement'; readonly id: number; readonly key: Key; readonly sum: number; readonly wm: number; readonly now: number }
  | { readonly from: TimeDomain; readonly fire: number; readonly key: Key; readonly ts: number; readonly state: number | null; readonly wm: number; readonly now: number };

/** Values on the side output. */
export interface SideValue {
  readonly fire: number;
  readonly domain: TimeDomain;
}

export interface TimedInput {
  readonly at: number;
  readonly el: StreamElement<RecValue>;
}

export interface Emission {
  readonly at: number;
  readonly el: StreamElement<OutValue>;
}

export interface ModelScenario {
  /** In arrival order, `at` non-decreasing. */
  readonly inputs: readonly TimedInput[];
  /** When the source completes (after the last input); undefined: never. */
  readonly completeAt: number | undefined;
  readonly plan: readonly TimerStep[];
  readonly processingTimersOnComplete: 'drop' | 'wait';
  readonly eventTimersOnComplete: 'fire' | 'drop';
  /** Unsubscribe at this time (never ties with anything else). */
  readonly unsubscribeAt?: number;
  /** Unsubscribe synchronously from the downstream, right after the n-th output element (1-based). */
  readonly unsubscribeAfterOutputs?: number;
}

export interface ModelResult {
  readonly outputs: Emission[];
  readonly log: CallEntry[];
  readonly completedAt: number | undefined;
  readonly unsubscribedAt: number | undefined;
  /** The metrics once the run has ended (gauges 0 after completion or unsubscribe). */
  readonly metrics: KeyedTimersCounters;
  /** Processing timers pending when the source completed (including those registered while settling it). */
  readonly processingPendingAtCompletion: number | undefined;
}

interface Timer {
  readonly key: Key;
  readonly ts: number;
  readonly seq: number;
}

type Totals = { -readonly [K in keyof KeyedTimersCounters]: KeyedTimersCounters[K] };

const outRecord = <T>(value: T, timestamp: number | undefined): StreamElement<T> =>
  timestamp === undefined ? { kind: 'record', value } : { kind: 'record', value, timestamp };

const outSide = (value: SideValue, timestamp: number | undefined): StreamElement<OutValue> =>
  timestamp === undefined ? { kind: 'sideOutput', tag: SIDE_TAG, value } : { kind: 'sideOutput', tag: SIDE_TAG, value, timestamp };

class Model {
  private wm = -Infinity;
  private now = 0;
  private readonly timers: Record<TimeDomain, Timer[]> = { event: [], processing: [] };
  private seq = 0;
  private readonly states = new Map<Key, number>();
  private fires = 0;
  private sourceDone = false;
  private closed = false;
  readonly outputs: Emission[] = [];
  readonly log: CallEntry[] = [];
  completedAt: number | undefined;
  unsubscribedAt: number | undefined;
  processingPendingAtCompletion: number | undefined;
  readonly totals: Totals = {
    records: 0, lateRecords: 0, emitted: 0, sideOutputs: 0, eventTimersFired: 0, processingTimersFired: 0,
    watermarksForwarded: 0, watermarksIgnored: 0, eventTimersDropped: 0, processingTimersDropped: 0,
    keysWithState: 0, eventTimers: 0, processingTimers: 0,
  };

  constructor(private readonly s: ModelScenario) {}

  run(): void {
    const { inputs, completeAt, unsubscribeAt } = this.s;
    let i = 0;
    while (!this.closed) {
      const nextInput = i < inputs.length ? inputs[i]!.at : this.sourceDone || completeAt === undefined ? Infinity : completeAt;
      const procs = this.timers.processing;
      const nextWake = procs.length === 0 ? Infinity : Math.max(Math.min(...procs.map((t) => t.ts)), this.now);
      const next = Math.min(nextInput, nextWake);
      if (unsubscribeAt !== undefined && unsubscribeAt < next) {
        this.now = unsubscribeAt;
        this.unsubscribedAt = unsubscribeAt;
        this.closed = true;
        break;
      }
      if (next === Infinity) break; // nothing will ever happen again
      this.now = next;
      if (nextInput <= nextWake) {
        if (i < inputs.length) this.handle(inputs[i++]!.el);
        else {
          this.sourceDone = true;
          this.wm = Infinity;
        }
      } else {
        this.fireDue('processing', this.now);
      }
      if (!this.closed && this.sourceDone) this.settleCompletion();
    }
  }

  metrics(): KeyedTimersCounters {
    const gauges = this.closed ? { eventTimers: 0, processingTimers: 0, keysWithState: 0 } : this.gauges();
    return { ...this.totals, ...gauges };
  }

  private gauges(): Gauges {
    return { eventTimers: this.timers.event.length, processingTimers: this.timers.processing.length, keysWithState: this.states.size };
  }

  private push(el: StreamElement<OutValue>): void {
    if (this.closed) return;
    this.outputs.push({ at: this.now, el });
    const limit = this.s.unsubscribeAfterOutputs;
    if (limit !== undefined && this.outputs.length >= limit) {
      this.unsubscribedAt = this.now;
      this.closed = true;
    }
  }

  private handle(el: StreamElement<RecValue>): void {
    if (el.kind === 'record') {
      this.totals.records++;
      if (el.timestamp !== undefined && el.timestamp <= this.wm) this.totals.lateRecords++;
      this.processElement(el.value, el.timestamp);
    } else if (el.kind === 'watermark') {
      if (!(el.timestamp > this.wm)) {
        this.totals.watermarksIgnored++;
        return;
      }
      this.wm = el.timestamp;
      this.fireDue('event', el.timestamp);
      if (this.closed) return;
      this.totals.watermarksForwarded++;
      this.push(el);
    } else {
      this.push(el as StreamElement<OutValue>);
    }
  }

  private settleCompletion(): void {
    if (this.s.eventTimersOnComplete === 'fire') this.fireDue('event', Infinity);
    else {
      this.totals.eventTimersDropped += this.timers.event.length;
      this.timers.event = [];
    }
    if (this.closed) return;
    if (this.processingPendingAtCompletion === undefined) this.processingPendingAtCompletion = this.timers.processing.length;
    if (this.s.processingTimersOnComplete === 'drop') {
      this.totals.processingTimersDropped += this.timers.processing.length;
      this.timers.processing = [];
    }
    if (this.timers.event.length === 0 && this.timers.processing.length === 0) {
      this.completedAt = this.now;
      this.closed = true;
    }
  }

  /** Fires, one at a time, the least (ts, seq) timer of the domain with ts <= upTo, until none is left. */
  private fireDue(domain: TimeDomain, upTo: number): void {
    for (;;) {
      if (this.closed) return;
      const queue = this.timers[domain];
      let best = -1;
      for (let j = 0; j < queue.length; j++) {
        const t = queue[j]!;
        if (t.ts > upTo) continue;
        if (best < 0 || t.ts < queue[best]!.ts || (t.ts === queue[best]!.ts && t.seq < queue[best]!.seq)) best = j;
      }
      if (best < 0) return;
      const [timer] = queue.splice(best, 1);
      if (domain === 'event') this.totals.eventTimersFired++;
      else this.totals.processingTimersFired++;
      this.onTimer(timer!, domain);
    }
  }

  private processElement(value: RecValue, timestamp: number | undefined): void {
    const state = this.states.get(value.key) ?? null;
    const sum = (state ?? 0) + value.add;
    const ops = resolveOps(value.ops, timestamp, this.now);
    this.log.push({
      call: 'processElement', id: value.id, key: value.key, timestamp: timestamp ?? null, state, wm: this.wm, now: this.now, ops, gauges: this.gauges(),
    });
    this.emit({ from: 'processElement', id: value.id, key: value.key, sum, wm: this.wm, now: this.now }, timestamp);
    this.apply(value.key, ops);
    if (value.clear) this.states.delete(value.key);
    else this.states.set(value.key, sum);
  }

  private onTimer(timer: Timer, domain: TimeDomain): void {
    const fire = this.fires++;
    const step = this.s.plan[fire];
    const state = this.states.get(timer.key) ?? null;
    const ops = resolveTimerOps(step?.ops ?? [], domain, timer.ts, this.now);
    const outTs = domain === 'event' ? timer.ts : undefined;
    this.log.push({
      call: 'onTimer', fire, domain, key: timer.key, ts: timer.ts, timestamp: timer.ts, state, wm: this.wm, now: this.now, ops, gauges: this.gauges(),
    });
    this.emit({ from: domain, fire, key: timer.key, ts: timer.ts, state, wm: this.wm, now: this.now }, outTs);
    if (step?.side === true && !this.closed) {
      this.totals.sideOutputs++;
      this.push(outSide({ fire, domain }, outTs));
    }
    this.apply(timer.key, ops);
    if (step?.clear === true) this.states.delete(timer.key);
  }

  private emit(value: OutValue, timestamp: number | undefined): void {
    if (this.closed) return;
    this.totals.emitted++;
    this.push(outRecord(value, timestamp));
  }

  private apply(key: Key, ops: readonly ResolvedOp[]): void {
    for (const op of ops) {
      const queue = this.timers[op.domain];
      const at = queue.findIndex((t) => t.key === key && t.ts === op.time);
      if (op.action === 'register') {
        if (at < 0) queue.push({ key, ts: op.time, seq: this.seq++ });
      } else if (at >= 0) {
        queue.splice(at, 1);
      }
    }
  }
}

/** Plays a scenario through the reference model. */
export function runModel(scenario: ModelScenario): ModelResult {
  const model = new Model(scenario);
  model.run();
  return {
    outputs: model.outputs,
    log: model.log,
    completedAt: model.completedAt,
    unsubscribedAt: model.unsubscribedAt,
    metrics: model.metrics(),
    processingPendingAtCompletion: model.processingPendingAtCompletion,
  };
}
