import { type SchedulerLike, type Subscriber } from 'rxjs';
import { flowSlot, withGate, type FlowGate, type GateReader } from './flowGate.js';
import { describe } from '../shared/describe.js';
import { type OpenInterval } from './intervalTotal.js';
import { type MutableSourceMetrics } from './sourceMetrics.js';

/** What a {@link Puller} yields: the next item, or the end. */
export type PullResult<T> = IteratorResult<T, unknown>;

/**
 * The readable side of a pull source (internal): arrays, iterables, async iterables, ReadableStreams and files
 * each implement it. `next()` answers at once when it can (an array, a buffered line) and with a promise when
 * it must wait (an async iterator, a disk read). Only one `next()` is outstanding at a time.
 */
export interface Puller<T> {
  next(): PullResult<T> | PromiseLike<PullResult<T>>;
  /** Releases the underlying resource early (iterator.return, reader.cancel, closing a file); called once at most. */
  close(): void;
}

/**
 * The one read loop every flow-controlled source runs (as mergeInternals serves mergeMap): it pulls an item
 * only while the gate of the operators it feeds is open, emits it, and pauses when the gate shuts; the gate
 * resumes it when the operators drain. Without a gate (no flow-controlled operator downstream) it reads as
 * fast as the puller answers.
 *
 * Re-entrancy: emitting an item may run the whole pipeline synchronously, and an operator that frees a slot
 * may call `resume()` from inside that emission. `reading` turns such a call into a no-op (the running loop
 * re-checks the gate itself); `waiting` does the same while a promise from the puller is outstanding.
 */
export class PullLoop<T> implements GateReader {
  /** True while the synchronous loop runs. */
  private reading = false;
  /** True while a promise from the puller is outstanding. */
  private waiting = false;
  /** True once the loop has ended (completed, errored, or unsubscribed); the puller is then closed. */
  private ended = false;
  /** The current pause, counted in the metrics (live); null while not paused. */
  private pause: OpenInterval | null = null;
  /** Set when the loop finds the gate shut; resume() reads it to tell a pause that goes on (see resume). */
  private shut = false;

  constructor(
    /** The source's name, for its error messages. */
    private readonly caller: string,
    private readonly subscriber: Subscriber<T>,
    private readonly puller: Puller<T>,
    /** The gate of the operators downstream, or null: read as fast as the puller answers. */
    private readonly gate: FlowGate | null,
    private readonly scheduler: SchedulerLike,
    private readonly metrics: MutableSourceMetrics | null,
  ) {}

  /**
   * Joins the gate and starts reading. The first, synchronous, read runs with the flow slot cleared: what the
   * pipeline subscribes while handling those items (an inner Observable, say) is not part of this chain.
   */
  start(): void {
    this.subscriber.add(() => this.stop());
    if (this.subscriber.closed) return;
    this.gate?.join(this);
    const slot = flowSlot();
    const previous = slot.current;
    slot.current = null;
    try {
      this.loop();
    } finally {
      slot.current = previous;
    }
  }

  /**
   * The gate opened. A source that reads until a member is full again before this returns is still in the same
   * pause, with no time in between: the pause goes on (no clock read, no `pauses` count per record under a fast
   * source). Only a read that leaves the gate open, or goes asynchronous, ends it.
   */
  resume(): void {
    if (this.reading) return; // the running loop re-checks the gate itself, and owns the pause
    this.shut = false;
    this.loop();
    if (!this.shut) this.endPause();
  }

  private loop(): void {
    if (this.reading || this.waiting || this.ended) return;
    this.reading = true;
    const subscriber = this.subscriber;
    const gate = this.gate;
    try {
      while (!this.ended) {
        if (gate !== null && !gate.open) {
          this.shut = true;
          this.beginPause();
          return;
        }
        let result: PullResult<T> | PromiseLike<PullResult<T>>;
        try {
          result = this.puller.next();
        } catch (err) {
          this.fail(err);
          return;
        }
        if (isPromiseLike(result)) {
          this.waiting = true;
          result.then((settled) => this.onAsync(settled), (err: unknown) => this.onAsyncError(err));
          return;
        }
        if (result === null || typeof result !== 'object') {
          this.fail(notAResult(this.caller, result));
          return;
        }
        if (result.done === true) {
          this.finish();
          return;
        }
        if (this.metrics !== null) this.metrics.read++;
        subscriber.next(result.value);
      }
    } finally {
      this.reading = false;
    }
  }

  private onAsync(result: PullResult<T>): void {
    this.waiting = false;
    if (this.ended) return;
    if (result === null || typeof result !== 'object') {
      this.fail(notAResult(this.caller, result));
      return;
    }
    if (result.done === true) {
      this.finish();
      return;
    }
    if (this.metrics !== null) this.metrics.read++;
    this.subscriber.next(result.value);
    this.loop();
  }

  private onAsyncError(err: unknown): void {
    this.waiting = false;
    if (!this.ended) this.fail(err);
  }

  /** Paused by the gate (shut by a full operator downstream): counted until resume() or the end. */
  private beginPause(): void {
    const metrics = this.metrics;
    if (metrics === null || this.pause !== null) return;
    metrics.paused++;
    metrics.pauses++;
    this.pause = metrics.pausedTime.begin(this.scheduler);
  }

  private endPause(): void {
    const metrics = this.metrics;
    if (metrics === null || this.pause === null) return;
    metrics.paused--;
    metrics.pausedTime.end(this.pause);
    this.pause = null;
  }

  /**
   * The end is delivered with this loop's gate in the flow slot: an operator between the source and the gate's
   * operators that resubscribes its input there (`repeat`, `retry`, `catchError`, `concat`) reopens the source
   * inside the same chain, and the new subscription reads under the same gate.
   */
  private finish(): void {
    this.ended = true; // the puller is exhausted: nothing to close
    this.leave();
    withGate(this.gate, () => this.subscriber.complete());
  }

  private fail(err: unknown): void {
    this.stop();
    withGate(this.gate, () => this.subscriber.error(err));
  }

  /** Ends the loop early (error or unsubscribe): closes the puller, leaves the gate, gives the gauge back. */
  private stop(): void {
    if (this.ended) return;
    this.ended = true;
    this.leave();
    try {
      this.puller.close();
    } catch {
      // Releasing a resource on the way out: the subscriber is closing, so there is no one to tell.
    }
  }

  private leave(): void {
    this.gate?.leave(this);
    this.endPause();
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** The error for an iterator whose next() answered (or resolved to) something other than `{ done, value }`. */
function notAResult(caller: string, result: unknown): TypeError {
  return new TypeError(`${caller}: the input's next() gave ${describe(result)}, not an iterator result ({ done, value })`);
}
