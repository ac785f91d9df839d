import { type CallSink } from './callObserver.js';
import { type HeldRecord } from './heldRecord.js';
import { type CallGateCounters } from '../limits/callGate.js';

/**
 * What a {@link RecordCaller} sees of the run it calls for: where each record's results go (the CallSink), and
 * the run's state. Implemented by AsyncWaitRun.
 */
export interface CallerHost<I, O> extends CallSink<O, HeldRecord<I, O>> {
  /** True once the output has ended or been unsubscribed: start nothing more. */
  readonly closed: boolean;
  /**
   * True when every capacity slot is taken and `inBatch` of them are all the slots held: the records waiting in
   * the caller's open batch hold the whole capacity, so no slot can free up, and no record can join them, until
   * they are sent.
   */
  onlyHeldBy(inBatch: number): boolean;
  /** Errors the output (teardown follows). */
  fail(err: unknown): void;
  /** Where a caller's call gate reports the adaptive limit (the run's metrics object). */
  readonly gateCounters: CallGateCounters;
}

/**
 * How the run calls the user's function for a record. By default (no caller) it calls `fn` once per record and
 * attempt; a caller replaces that, for instance by gathering records into batches (the batching operators). A
 * batch is only a way of calling: holding, ordering, timeouts, retries, snapshots and teardown stay the run's.
 *
 * Contract: `call(held)` starts or queues the record's current attempt and sets `held.call` to something whose
 * `unsubscribe(held)` withdraws that record from it (a timeout, teardown). Each record's outcome goes to the
 * host's `callCompleted`/`callCompletedOne`/`callErrored` exactly once per attempt, with source 'fn'.
 */
export interface RecordCaller<I, O> {
  /** The record's attempt (already counted in `held.attempts`) is to be made. */
  call(held: HeldRecord<I, O>): void;
  /** The source completed: nothing new will be admitted, though retries may still come. */
  inputEnded(): void;
  /** Teardown, after every held record was withdrawn: cancel timers, abort signals, drop references. */
  clear(): void;
}

/** Makes the caller of one subscription. */
export type RecordCallerFactory<I, O> = (host: CallerHost<I, O>) => RecordCaller<I, O>;
