import { type Subscription } from 'rxjs';
import { type StreamElement, type StreamRecord, type Watermark } from '../elements/streamElement.js';
import { type AsyncCallContext } from './options.js';
import { type Permit } from '../limits/callGate.js';

/** Phase of a held record. Plain numbers (not a const enum) so that isolated-module builds stay simple. */
export const CALLING = 0; // fn's call (first or retry) is running
export const RETRY_WAIT = 1; // waiting for the retry delay to pass
export const TIMEOUT_WAIT = 2; // no retry fits before the deadline: the timeout will settle the record
export const FALLBACK = 3; // onTimeout / onError results are being collected
export const DONE = 4; // results complete, waiting for emission (or already emitted)
export const CALL_WAIT = 5; // admitted, its call waits for a call slot (adaptive concurrency) or a token (rate limit)
export const KEY_WAIT = 6; // admitted, waiting for its turn (asyncWaitKeyed: its key is busy); no call, no deadline yet

/**
 * Anything that can cancel the running call: an inner subscription, a promise guard, or the batch the record is
 * in (which withdraws only that record: hence the record passed along).
 */
export interface Cancellable {
  unsubscribe(held?: object): void;
}

/**
 * One admitted input record and everything its processing needs: Flink's `StreamRecordQueueEntry`.
 * It doubles as a node of the unordered queue's intrusive list (`prev`/`next`).
 */
export class HeldRecord<I, O> {
  /** Always false: tells a record node from a marker node in the unordered list. */
  readonly isMarker = false;
  /** See the phase constants above. */
  state = CALLING;
  /** Calls made so far, retries included. */
  attempts = 0;
  /** The final results; set on completion, cleared on emission. ONE_RESULT means the single value is in `result`. */
  results: O[] | null = null;
  /** The single result, when `results` is ONE_RESULT (a promise's value: no array is allocated); cleared on emission. */
  result: O | undefined = undefined;
  /** The running call (fn or fallback) when it is an Observable or a thenable; cleared when it ends or is cancelled. */
  call: Cancellable | null = null;
  /**
   * Identifies the current native-promise call: bumped when a call starts, settles or is cancelled, so a
   * promise that settles late (after a timeout, retry or teardown) sees a different number and is ignored.
   */
  callId = 0;
  /** The scheduled retry; cleared when it fires or is cancelled. */
  retryAction: Subscription | null = null;
  /** The failure behind the pending retry, reported as the cause if the timeout then fires; cleared on success. */
  lastFailure: unknown = undefined;
  /** Scheduler time at which the time budget runs out; Infinity without a timeout. */
  deadline = Infinity;
  /**
   * Scheduler time its pending work began: admission for its own calls (retries included), the fallback's
   * start for a fallback. Set only when an InFlight tracks the run (a timeout or a metrics object).
   */
  since = 0;
  /** The HeldList (InFlight's `calls` or `fallbacks`) the record is in, and its neighbours there; null when in none. */
  list: object | null = null;
  listPrev: HeldRecord<I, O> | null = null;
  listNext: HeldRecord<I, O> | null = null;
  /** The controller behind ctx.signal, created on first read; cleared when aborted. */
  controller: AbortController | null = null;
  /** Bumped each time the signal is aborted: a context from an older phase then reports an aborted signal. */
  signalPhase = 0;
  /** Why the last signal was aborted. */
  abortReason: unknown = undefined;
  /** The call gate's permit for the running call (adaptive concurrency, rate limit); null otherwise. */
  permit: Permit | null = null;
  /** True once reported as stalled (see stallWarning): each record is reported once. */
  stallWarned = false;
  /** Batching: the record's index among its batch's members (set by the batcher while it is in one). */
  batchIndex = -1;
  /** asyncWaitKeyed: the record's key entry (owned by its KeyTable) while it is in it; null otherwise. */
  keySlot: unknown = null;
  /** asyncWaitKeyed: the next record of the same key in input order, while both are in the key's entry. */
  keyNext: HeldRecord<I, O> | null = null;
  /** Unordered mode: the watermark-delimited segment this record belongs to (owned by UnorderedQueue); cleared on clear(). */
  segment: unknown = null;
  /** Unordered mode: neighbours in input order; cleared on unlink and on clear(). */
  prev: QueueNode<I, O> | null = null;
  next: QueueNode<I, O> | null = null;

  constructor(
    /** The input record; released (set to null) once the results are emitted. */
    public input: StreamRecord<I> | null,
  ) {}

  /** Aborts the current signal (if one was handed out) and starts a new phase. */
  abortSignal(reason: unknown): void {
    this.signalPhase++;
    this.abortReason = reason;
    const controller = this.controller;
    this.controller = null;
    if (controller !== null) controller.abort(reason);
  }

  /** Cancels the running call and any pending retry. */
  cancelWork(): void {
    this.callId++; // a native promise still pending is ignored when it settles
    const call = this.call;
    const retry = this.retryAction;
    this.call = null;
    this.retryAction = null;
    if (call !== null) call.unsubscribe(this);
    if (retry !== null) retry.unsubscribe();
  }
}

/**
 * A watermark, side output or other non-record element held in a queue, in its input position (barriers never
 * are: they overtake what is held). Every kind but a watermark takes a capacity slot (see the run's onInput).
 */
export class MarkerNode<I, O> {
  /** Always true: tells a marker node from a record node. */
  readonly isMarker = true;
  /** Unordered mode: neighbours in input order; cleared on unlink and on clear(). */
  prev: QueueNode<I, O> | null = null;
  next: QueueNode<I, O> | null = null;
  /** The element; a held watermark is replaced by a later one that reaches it (see absorb). */
  constructor(public element: unknown) {}

  /**
   * Coalescing: `mark` arrived with nothing after this node, so if this node holds a watermark, the two are
   * adjacent and this node keeps the dominant one. True if `mark` was absorbed; false if this is not a watermark.
   */
  absorb(mark: Watermark): boolean {
    const held = this.element as StreamElement<unknown>;
    if (held.kind !== 'watermark') return false;
    this.element = dominantWatermark(held, mark);
    return true;
  }
}

/**
 * Of two adjacent watermarks, the one that goes out for both: the later one, unless it is lower (a regression,
 * which a downstream that tracks event time ignores anyway, as Flink's watermark valve does), so a run goes
 * out as its highest watermark. When either timestamp does not compare (NaN), the later one is kept.
 */
export function dominantWatermark(earlier: Watermark, later: Watermark): Watermark {
  return later.timestamp < earlier.timestamp ? earlier : later;
}

export type QueueNode<I, O> = HeldRecord<I, O> | MarkerNode<I, O>;

/** The `results` of a record whose only result sits in `held.result`: shared, never written to. */
export const ONE_RESULT: never[] = Object.freeze([]) as never[];

/** A record's results as an array (a fresh one for a single result); for retryOnResult and snapshots of it. */
export function resultsOf<O>(held: HeldRecord<unknown, O>, results: O[]): O[] {
  return results === ONE_RESULT ? [held.result as O] : results;
}

/** The `ctx` handed to one call. The signal is created lazily, because most functions never read it. */
export class CallContext implements AsyncCallContext {
  /** The record's signal phase when this call started. */
  private readonly phase: number;
  readonly timestamp?: number;

  constructor(
    private readonly held: HeldRecord<unknown, unknown>,
    readonly attempt: number,
    timestamp: number | undefined,
  ) {
    this.phase = held.signalPhase;
    if (timestamp !== undefined) this.timestamp = timestamp;
  }

  get signal(): AbortSignal {
    const held = this.held;
    // A context from before the last abort must look aborted, even if a later phase has a live signal.
    if (this.phase !== held.signalPhase) return AbortSignal.abort(held.abortReason);
    return (held.controller ??= new AbortController()).signal;
  }
}
