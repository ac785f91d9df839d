import Denque from 'denque';
import { type Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import { sideOutputOf } from '../elements/outputTag.js';
import { recordOf, type CheckpointBarrier, type StreamElement, type StreamRecord, type Watermark } from '../elements/streamElement.js';
import { KeyedProcessError, type FiredTimer } from './KeyedProcessError.js';
import { TimerLoopError } from './TimerLoopError.js';
import { MutableKeyedTimersMetrics } from './keyedTimersMetrics.js';
import { malformedStateError, snapshotAtBarrier, type OperatorCheckpointHandle } from '../checkpoint/stateful.js';
import { describe } from '../shared/describe.js';
import { subscribeSource } from '../shared/forwardingObserver.js';
import { CallbackContext, type ContextHost } from './callbackContext.js';
import { type KeyedProcessFunction, type OnTimerContext, type ResolvedKeyedTimersOptions, type TimeDomain } from './options.js';
import { ProcessingClock } from './processingClock.js';
import { TimerQueue, type TimerKey, type TimerNode } from './timerQueue.js';

const OPERATOR = 'keyedTimers';

/** What a keyedTimers snapshot holds (JSON-shaped: the watermark -Infinity is written as null). */
interface KeyedTimersSnapshot<K, S> {
  readonly watermark: number | null;
  readonly state: [K, S][];
  readonly eventTimers: [K, number][];
  readonly processingTimers: [K, number][];
}

function isKeyedTimersSnapshot(value: unknown): value is KeyedTimersSnapshot<TimerKey, unknown> {
  const snapshot = value as Record<string, unknown> | null;
  if (snapshot === null || typeof snapshot !== 'object') return false;
  const isKey = (key: unknown): boolean => typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key));
  const isPairs = (pairs: unknown, second: (v: unknown) => boolean): boolean =>
    Array.isArray(pairs) && pairs.every((pair) => Array.isArray(pair) && pair.length === 2 && isKey(pair[0]) && second(pair[1]));
  const watermark = snapshot['watermark'];
  return (watermark === null || typeof watermark === 'number') &&
    isPairs(snapshot['state'], () => true) &&
    isPairs(snapshot['eventTimers'], Number.isFinite) &&
    isPairs(snapshot['processingTimers'], Number.isFinite);
}
/** Mail: the physical processing-time timer went off. */
const PROCESSING_WAKE = Symbol('processing wake');
/** Mail: the source completed. */
const SOURCE_COMPLETE = Symbol('source complete');
type Mail<I> = StreamElement<I> | typeof PROCESSING_WAKE | typeof SOURCE_COMPLETE;
/** The metrics each time domain's timers count in. */
const METRICS_OF = {
  event: { gauge: 'eventTimers', fired: 'eventTimersFired', dropped: 'eventTimersDropped' },
  processing: { gauge: 'processingTimers', fired: 'processingTimersFired', dropped: 'processingTimersDropped' },
} as const;

/**
 * One subscription of keyedTimers: Flink's KeyedProcessOperator with its InternalTimerService.
 *
 * Concurrency model: Flink's mailbox. Inputs, processing-time wake-ups and completion are handled one at a
 * time by a single non-reentrant loop, so `processElement` and `onTimer` never interleave even when the
 * downstream pushes new input, or a synchronous scheduler fires, from inside a callback: such mail waits in
 * the mailbox until the current one is done. Every loop re-checks `closed` after each callback, because any
 * emission may unsubscribe us.
 */
export class KeyedTimersRun<I, O, K extends TimerKey, S> implements ContextHost<K, O, S> {
  /** True once the output has completed, errored or been unsubscribed; nothing runs after that. */
  private closed = false;
  /** True while the mail loop runs; mail posted meanwhile is queued. */
  private busy = false;
  /** Mail that arrived while busy, in arrival order; cleared on teardown. */
  private readonly mailbox = new Denque<Mail<I>>();
  /** Per-key value state; cleared on teardown. */
  private readonly states = new Map<K, S>();
  /** Event-time timers; cleared when fired or dropped at completion, and on teardown. */
  private readonly eventTimers = new TimerQueue<K>();
  /** Processing-time timers; cleared likewise. */
  private readonly processingTimers = new TimerQueue<K>();
  /** The one physical timer for the earliest processing-time timer; disarmed on teardown. */
  private readonly clock: ProcessingClock;
  /** The last watermark that advanced event time; Infinity once the source has completed. */
  private currentWatermark = -Infinity;
  /** True once the source has completed; completion then waits only for the processing-time policy. */
  private sourceDone = false;
  /**
   * Set under `processingTimersOnComplete: 'fire'` once completion starts firing processing-time timers: a
   * processing-time timer registered from then on is dropped (and counted) instead, so the firing ends even
   * when a timer re-arms itself. Never cleared.
   */
  private refuseProcessingTimers = false;
  /** The timer whose onTimer is running; null outside onTimer. Read to refuse timer loops. */
  private firingTimer: TimerNode<K> | null = null;
  /** The domain of firingTimer (meaningless while it is null). */
  private firingDomain: TimeDomain = 'event';
  /** The context handed to every callback (re-pointed per call). */
  private readonly ctx: CallbackContext<K, O, S>;
  /** The user's metrics object, or a private one; its gauges are given back on teardown. */
  private readonly metrics: MutableKeyedTimersMetrics;
  /** The processing-time clock (options.scheduler), read on every wake-up. */
  private readonly scheduler: SchedulerLike;

  constructor(
    private readonly subscriber: Subscriber<StreamElement<O>>,
    /** The user function, as the run calls it (ctx.emit typed O; the value types of its context are unchecked here). */
    private readonly fn: KeyedProcessFunction<I, O, K, S, O, unknown, number | undefined>,
    private readonly options: ResolvedKeyedTimersOptions,
    /** Restored state and the snapshot sink, inside a checkpointable pipeline; null outside one. */
    private readonly checkpoint: OperatorCheckpointHandle | null = null,
  ) {
    this.metrics = options.metrics ?? new MutableKeyedTimersMetrics();
    this.scheduler = options.scheduler;
    this.clock = new ProcessingClock(options.scheduler, () => this.post(PROCESSING_WAKE));
    this.ctx = new CallbackContext<K, O, S>(this);
  }

  /** Subscribes to the source; the teardown is registered first, so a synchronous unsubscribe runs it. */
  start(source: Observable<StreamElement<I>>): void {
    this.subscriber.add(() => this.teardown());
    if (!this.restore()) return;
    subscribeSource(source, this.subscriber, {
      next: (element) => this.post(element),
      error: (err) => this.fail(err),
      complete: () => this.post(SOURCE_COMPLETE),
    });
  }

  // ---- the mailbox -------------------------------------------------------------------------------------------

  private post(mail: Mail<I>): void {
    if (this.closed) return;
    if (this.busy) {
      this.mailbox.push(mail);
      return;
    }
    this.busy = true;
    try {
      for (;;) {
        this.handle(mail);
        if (this.closed) return;
        if (this.mailbox.length === 0) {
          this.afterMail(); // may itself post (a synchronous scheduler), which lands in the mailbox
          if (this.closed || this.mailbox.length === 0) return;
        }
        mail = this.mailbox.shift()!; // denque: O(1)
      }
    } finally {
      this.busy = false;
    }
  }

  private handle(mail: Mail<I>): void {
    if (mail === PROCESSING_WAKE) {
      this.fireProcessingTimers(this.scheduler.now());
    } else if (mail === SOURCE_COMPLETE) {
      this.sourceDone = true;
      this.currentWatermark = Infinity;
      // Inside a pipeline, interval checkpoints go on while it waits for timers: their barriers come as mail.
      this.checkpoint?.draining((barrier) => this.post(barrier));
    } else if (mail === null || typeof mail !== 'object') {
      this.fail(new TypeError(`${OPERATOR}: expected a StreamElement (record, watermark or barrier), got ${describe(mail)}; wrap plain values with toRecords()`));
    } else if (mail.kind === 'record') {
      this.onRecord(mail);
    } else if (mail.kind === 'watermark') {
      this.onWatermark(mail);
    } else if (mail.kind === 'barrier') {
      this.onBarrier(mail);
    } else {
      this.subscriber.next(mail); // barriers and side outputs from upstream keep their place
    }
  }

  /** After the mailbox empties: completion work, then the physical timer for the current earliest timer. */
  private afterMail(): void {
    if (this.sourceDone) {
      this.settleCompletion();
      if (this.closed) return;
    }
    const head = this.processingTimers.peek();
    if (head === undefined) this.clock.disarm();
    else this.clock.armFor(head.timestamp);
  }

  // ---- records and watermarks --------------------------------------------------------------------------------

  private onRecord(input: StreamRecord<I>): void {
    const value = input.value;
    const timestamp = input.timestamp;
    if (timestamp === undefined && this.options.requireTimestamps) {
      this.fail(new TypeError(`${OPERATOR}: option "requireTimestamps" is set, but a record has no timestamp (its value: ${describe(value)})`));
      return;
    }
    let key: K;
    try {
      key = this.fn.key(value);
    } catch (err) {
      this.fail(new KeyedProcessError(OPERATOR, 'key', value, undefined, err));
      return;
    }
    if (typeof key !== 'string') {
      // A key must survive a checkpoint: a string or a finite number (NaN and ±Infinity have no JSON), refused
      // here, where it appears, and also without an id, so that adding one never breaks a running pipeline.
      if (typeof key !== 'number' || !Number.isFinite(key)) {
        const cause = new TypeError(`${OPERATOR}: fn.key must return a string or a finite number, got ${describe(key)}`);
        this.fail(new KeyedProcessError(OPERATOR, 'key', value, undefined, cause));
        return;
      }
      if (key === 0) key = 0 as K; // -0 and 0 are one key (as for a Map): the callbacks, timers and snapshots see 0
    }
    this.metrics.records++;
    if (timestamp !== undefined && timestamp <= this.currentWatermark) this.metrics.lateRecords++;
    const ctx = this.ctx;
    ctx.enter(key, timestamp, undefined, timestamp);
    let returned: unknown;
    try {
      returned = this.fn.processElement(value, ctx);
    } catch (err) {
      this.fail(new KeyedProcessError(OPERATOR, 'processElement', value, key, err));
    } finally {
      ctx.exit();
    }
    if (returned !== undefined) this.emitReturned(returned, 'processElement', () => value, key, timestamp);
  }

  /**
   * Emits what a callback returned, in order, as ctx.emit would (after what it emitted itself); anything but an
   * array (or undefined) fails the output. `input` builds the error's input only when one is needed.
   */
  private emitReturned(returned: unknown, callback: 'processElement' | 'onTimer', input: () => I | FiredTimer<K>, key: K, timestamp: number | undefined): void {
    if (this.closed) return;
    if (!Array.isArray(returned)) {
      const cause = new TypeError(`${OPERATOR}: ${callback} returned ${describe(returned)}; it may return an array of outputs, or nothing`);
      this.fail(new KeyedProcessError<I, K>(OPERATOR, callback, input(), key, cause));
      return;
    }
    // Each emit may end the run (a downstream take(n)): stop at once, as ctx.emit calls would.
    for (let i = 0; i < returned.length && !this.closed; i++) this.emit(returned[i] as O, timestamp);
  }

  /** Flink's order: advance, fire every due event-time timer (including ones registered meanwhile), then forward. */
  private onWatermark(mark: Watermark): void {
    if (!(mark.timestamp > this.currentWatermark)) {
      this.metrics.watermarksIgnored++;
      return;
    }
    this.currentWatermark = mark.timestamp;
    this.fireEventTimers(mark.timestamp);
    if (this.closed) return;
    this.metrics.watermarksForwarded++;
    this.subscriber.next(mark);
  }

  // ---- checkpoints -------------------------------------------------------------------------------------------

  /**
   * Flink's snapshot of a KeyedProcessOperator: every key's state, both timer sets (in firing order, so ties
   * restore in registration order) and the current watermark. It runs as mail, so no callback is half done.
   */
  private onBarrier(element: CheckpointBarrier): void {
    const error = snapshotAtBarrier(this.checkpoint, OPERATOR, this.options.id, element, (): KeyedTimersSnapshot<K, S> => ({
      // After the input has ended the watermark is +Infinity, which a restore reaches again when the (replayed,
      // finished) input completes: stored as null, since no codec need encode Infinity.
      watermark: this.currentWatermark === -Infinity || this.sourceDone ? null : this.currentWatermark,
      state: [...this.states],
      eventTimers: this.eventTimers.entries(),
      processingTimers: this.processingTimers.entries(),
    }));
    if (error !== null) this.fail(error);
    else this.subscriber.next(element);
  }

  /**
   * Puts the restored state back before any input. Processing-time timers that came due while the pipeline
   * was down fire as soon as the scheduler runs (Flink does the same); event-time timers wait for a watermark.
   * False if the run ended (malformed state).
   */
  private restore(): boolean {
    const handle = this.checkpoint;
    const restored = handle?.restored as KeyedTimersSnapshot<K, S> | null | undefined;
    if (handle === null || restored === undefined || restored === null) return true;
    if (!isKeyedTimersSnapshot(restored)) {
      this.fail(malformedStateError(OPERATOR, this.options.id, handle, '{ watermark, state, eventTimers, processingTimers }'));
      return false;
    }
    const metrics = this.metrics;
    this.currentWatermark = restored.watermark ?? -Infinity;
    for (const [key, value] of restored.state) this.states.set(key, value);
    metrics.keysWithState += this.states.size;
    for (const [key, time] of restored.eventTimers) if (this.eventTimers.add(key, time)) metrics.eventTimers++;
    for (const [key, time] of restored.processingTimers) if (this.processingTimers.add(key, time)) metrics.processingTimers++;
    const head = this.processingTimers.peek();
    if (head !== undefined) this.clock.armFor(head.timestamp);
    return true;
  }

  // ---- timers ------------------------------------------------------------------------------------------------

  private fireEventTimers(upTo: number): void {
    this.fireTimers('event', upTo);
  }

  private fireProcessingTimers(upTo: number): void {
    this.fireTimers('processing', upTo);
  }

  /** Fires, in (timestamp, registration) order, every timer of a domain at or below `upTo`, including ones the callbacks register meanwhile. */
  private fireTimers(timeDomain: TimeDomain, upTo: number): void {
    const timers = this.queueOf(timeDomain);
    const { gauge, fired } = METRICS_OF[timeDomain];
    for (let head = timers.peek(); !this.closed && head !== undefined && head.timestamp <= upTo; head = timers.peek()) {
      timers.poll();
      this.metrics[gauge]--;
      this.metrics[fired]++;
      // Flink's rule: event-time timers stamp their output with the timer's time, processing-time ones with none.
      this.invokeOnTimer(head, timeDomain, timeDomain === 'event' ? head.timestamp : undefined);
    }
  }

  private queueOf(timeDomain: TimeDomain): TimerQueue<K> {
    return timeDomain === 'event' ? this.eventTimers : this.processingTimers;
  }

  private invokeOnTimer(timer: TimerNode<K>, timeDomain: TimeDomain, outputTimestamp: number | undefined): void {
    if (this.fn.onTimer === undefined) return;
    const ctx = this.ctx;
    ctx.enter(timer.key, timer.timestamp, timeDomain, outputTimestamp);
    this.firingTimer = timer;
    this.firingDomain = timeDomain;
    let returned: unknown;
    try {
      returned = this.fn.onTimer(timer.timestamp, ctx as OnTimerContext<K, O, S>);
    } catch (err) {
      this.fail(new KeyedProcessError<I, K>(OPERATOR, 'onTimer', firedTimer(timer, timeDomain), timer.key, err));
    } finally {
      this.firingTimer = null;
      ctx.exit();
    }
    if (returned !== undefined) this.emitReturned(returned, 'onTimer', () => firedTimer(timer, timeDomain), timer.key, outputTimestamp);
  }

  // ---- completion --------------------------------------------------------------------------------------------

  /**
   * Runs after every mail once the source has completed: applies both completion policies to whatever timers
   * exist now, event time first (Flink: MAX_WATERMARK, then the processing-time service quiesces). Timers the
   * fired callbacks register are included; under 'fire', processing-time timers pending once the event-time
   * ones have settled fire once each, and any registered after that are refused. Then completes, unless
   * processing-time timers are still awaited ('wait').
   */
  private settleCompletion(): void {
    const { eventTimersOnComplete, processingTimersOnComplete } = this.options;
    for (;;) {
      if (eventTimersOnComplete === 'fire') this.fireEventTimers(Infinity);
      else this.drop('event');
      if (this.closed) return;
      if (processingTimersOnComplete !== 'fire' || this.processingTimers.size === 0) break;
      this.refuseProcessingTimers = true;
      this.fireProcessingTimers(Infinity); // ends: no processing-time timer can be added any more
      if (this.closed) return;
    }
    if (processingTimersOnComplete !== 'wait') this.drop('processing');
    if (this.processingTimers.size === 0 && this.eventTimers.size === 0) this.subscriber.complete();
  }

  /** Drops every timer of a domain, counting them as dropped. */
  private drop(timeDomain: TimeDomain): void {
    const timers = this.queueOf(timeDomain);
    const { gauge, dropped } = METRICS_OF[timeDomain];
    this.metrics[dropped] += timers.size;
    this.metrics[gauge] -= timers.size;
    timers.clear();
  }

  // ---- ContextHost: what ctx does ------------------------------------------------------------------------------

  emit(value: O, timestamp: number | undefined): void {
    if (this.closed) return;
    this.metrics.emitted++;
    this.subscriber.next(recordOf(value, timestamp));
  }

  output(tag: string, value: unknown, timestamp: number | undefined): void {
    if (this.closed) return;
    this.metrics.sideOutputs++;
    this.subscriber.next(sideOutputOf(tag, value, timestamp));
  }

  /** The key's value; with an initialState, a key without one gets initialState(), stored (unless undefined). */
  stateValue(key: K): S | undefined {
    const value = this.states.get(key);
    const fn = this.fn;
    if (value !== undefined || fn.initialState === undefined) return value;
    const seed = fn.initialState(); // user code: a throw surfaces in the callback that read the state
    if (seed !== undefined && !this.closed) {
      this.states.set(key, seed);
      this.metrics.keysWithState++;
    }
    return seed;
  }

  // After teardown (a downstream that unsubscribed inside emit, say) the callback may still be running: its
  // writes must not touch the released structures or the shared gauges.

  stateUpdate(key: K, value: S): void {
    if (this.closed) return;
    const states = this.states;
    const before = states.size;
    states.set(key, value);
    if (states.size !== before) this.metrics.keysWithState++;
  }

  stateClear(key: K): void {
    if (this.closed) return;
    if (this.states.delete(key)) this.metrics.keysWithState--;
  }

  registerTimer(domain: TimeDomain, key: K, time: number): void {
    if (this.closed) return;
    if (domain === 'processing' && this.refuseProcessingTimers) {
      this.metrics.processingTimersDropped++; // completing under 'fire': nothing new fires, so nothing can loop
      return;
    }
    const firing = this.firingTimer;
    // A timer at or below the firing one, in its domain, is due at once: the firing loop would run it next, and
    // forever if it re-registers itself each time. Refused, so that every firing pass moves time forward and ends.
    if (firing !== null && this.firingDomain === domain && time <= firing.timestamp) {
      throw new TimerLoopError<K>(OPERATOR, { key, timestamp: time, timeDomain: domain }, firedTimer(firing, domain));
    }
    if (this.queueOf(domain).add(key, time)) this.metrics[METRICS_OF[domain].gauge]++;
  }

  deleteTimer(domain: TimeDomain, key: K, time: number): void {
    if (this.closed) return;
    if (this.queueOf(domain).remove(key, time)) this.metrics[METRICS_OF[domain].gauge]--;
  }

  processingTime(): number {
    return this.scheduler.now();
  }

  watermark(): number {
    return this.currentWatermark;
  }

  // ---- the end -----------------------------------------------------------------------------------------------

  private fail(err: unknown): void {
    if (this.closed) return;
    this.subscriber.error(err);
  }

  /** Runs once, on completion, error or unsubscribe: cancels the physical timer and releases every structure. */
  private teardown(): void {
    this.closed = true;
    this.clock.disarm();
    const metrics = this.metrics;
    metrics.eventTimers -= this.eventTimers.size;
    metrics.processingTimers -= this.processingTimers.size;
    metrics.keysWithState -= this.states.size;
    this.eventTimers.clear();
    this.processingTimers.clear();
    this.states.clear();
    this.mailbox.clear();
  }
}

/** A timer as errors report it. */
function firedTimer<K extends TimerKey>(timer: TimerNode<K>, timeDomain: TimeDomain): FiredTimer<K> {
  return { key: timer.key, timestamp: timer.timestamp, timeDomain };
}
