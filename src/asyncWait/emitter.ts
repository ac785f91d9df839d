import { type HeldRecord, type QueueNode } from './heldRecord.js';

/** What a held queue emits into: the run. */
export interface Emitter<I, O> {
  /** True once the output has ended or been unsubscribed: stop emitting at once. */
  readonly closed: boolean;
  emitRecord(held: HeldRecord<I, O>): void;
  emitMarker(element: unknown): void;
}

/**
 * The emission discipline of an async-wait operator: Flink's `StreamElementQueue`. It holds admitted records
 * and non-record elements in input order and decides what may be emitted.
 */
export interface HeldQueue<I, O> {
  /** True when nothing is held. */
  isEmpty(): boolean;
  addRecord(held: HeldRecord<I, O>): void;
  addMarker(element: unknown): void;
  /** `held` has just reached DONE. */
  recordDone(held: HeldRecord<I, O>): void;
  /** Emits everything that may go now, in the right order. Tolerates re-entrant adds and completions. */
  flush(out: Emitter<I, O>): void;
  /** Visits held records and markers in input order (teardown, and checkpoint snapshots). */
  forEach(visit: (node: QueueNode<I, O>) => void): void;
  /** Drops every reference. */
  clear(): void;
}
