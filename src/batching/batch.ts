import { type Subscription } from 'rxjs';
import { type HeldRecord } from '../asyncWait/heldRecord.js';
import { type BatchCallContext } from './options.js';

/** Phase of a batch. Plain numbers, as in heldRecord.ts. */
export const OPEN = 0; // taking records (the batcher's open batch)
export const READY = 1; // flushed, waiting for a call slot
export const RUNNING = 2; // its call is in flight
export const ENDED = 3; // its call settled, or it was cancelled

/** Why a batch was flushed: the keys of metrics.flushes. */
export type FlushReason = 'size' | 'weight' | 'linger' | 'capacity' | 'end';

/** What a batch tells its batcher (the Batcher). */
export interface BatchOwner {
  /** `held` withdrew from `batch` (it timed out, or the run is tearing down). */
  withdraw(batch: object, held: object): void;
}

/**
 * A batch of held records: open while it takes records, then ready, then running one call. It is the `call` of
 * each of its members (see RecordCaller), so cancelling a member's work withdraws just that member.
 */
export class Batch<I, O> {
  /** See the phase constants above. */
  state = OPEN;
  /** The records, in the order they joined; a withdrawn one is replaced by null until the batch is sent. */
  members: (HeldRecord<I, O> | null)[] = [];
  /** Each member's weight, index-aligned (null when the operator has no weight limit). */
  weights: number[] | null;
  /** Members not withdrawn. */
  live = 0;
  /** The sum of the live members' weights. */
  weight = 0;
  /** Why it should go as soon as a call slot is free, though it is not full; null while nothing asks it to. */
  due: FlushReason | null = null;
  /** The running call when it is an Observable or a foreign thenable; cleared when it ends or is cancelled. */
  subscription: Subscription | null = null;
  /** Bumped when the call settles or is cancelled: a native promise settling late is then ignored. */
  callId = 0;
  /** The controller behind ctx.signal, created on first read; cleared when aborted. */
  controller: AbortController | null = null;
  /** True once the call was abandoned (every member withdrew, or teardown), and why. */
  cancelled = false;
  cancelReason: unknown = undefined;

  constructor(private readonly owner: BatchOwner, weighing: boolean) {
    this.weights = weighing ? [] : null;
  }

  /** Withdraws `held` (HeldRecord.cancelWork calls this with the record). */
  unsubscribe(held?: object): void {
    if (held !== undefined) this.owner.withdraw(this, held);
  }

  /** Abandons the call: aborts ctx.signal (if it was read), and any later read of it sees it aborted. */
  cancel(reason: unknown): void {
    this.cancelled = true;
    this.cancelReason = reason;
    this.callId++;
    const subscription = this.subscription;
    this.subscription = null;
    if (subscription !== null) subscription.unsubscribe();
    const controller = this.controller;
    this.controller = null;
    if (controller !== null) controller.abort(reason);
  }
}

/** The `ctx` of one batch call. The signal is created lazily, because most functions never read it. */
export class BatchContext implements BatchCallContext {
  constructor(
    private readonly batch: Batch<unknown, unknown>,
    readonly attempt: number,
    readonly attempts: readonly number[],
    readonly timestamps: readonly (number | undefined)[],
  ) {}

  get signal(): AbortSignal {
    const batch = this.batch;
    // Read after the batch was cancelled: an aborted signal (a completed batch's stays live).
    if (batch.cancelled && batch.controller === null) return AbortSignal.abort(batch.cancelReason);
    return (batch.controller ??= new AbortController()).signal;
  }
}
