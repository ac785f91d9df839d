import { type Watermark } from '../elements/streamElement.js';
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
  /** A side output or other non-record element: it takes a capacity slot, which the run accounts for. */
  addMarker(element: unknown): void;
  /**
   * A watermark. If the last element held is a watermark (so nothing came between them), the two coalesce into
   * one node and this returns true; O(1), it looks at the tail only.
   */
  addWatermark(mark: Watermark): boolean;
  /** `held` has just reached DONE. */
  recordDone(held: HeldRecord<I, O>): void;
  /** Emits everything that may go now, in the right order. Tolerates re-entrant adds and completions. */
  flush(out: Emitter<I, O>): void;
  /** Visits held records and markers in input order (teardown, and checkpoint snapshots). */
  forEach(visit: (node: QueueNode<I, O>) => void): void;
  /** Drops every reference, the links between held nodes included (a node kept alive by a pending call then
   * keeps none of its neighbours alive). */
  clear(): void;
}
