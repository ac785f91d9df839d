import { type MutableAsyncWaitMetrics } from './asyncWaitMetrics.js';
import { type HeldRecord } from './heldRecord.js';

/** What {@link RecordTurns} sees of the run it schedules for (implemented by AsyncWaitRun). */
export interface TurnHost<I, O> {
  /** True once the output has ended or been unsubscribed: start nothing more. */
  readonly closed: boolean;
  /** Errors the output (teardown follows). */
  fail(err: unknown): void;
  /** `held`, which waited for its turn, may start now: the run begins its first call (through its call gate). */
  turnCame(held: HeldRecord<I, O>): void;
  /** The run's metrics object, where the turns keep their gauges (`activeKeys`). */
  readonly gateCounters: MutableAsyncWaitMetrics;
}

/**
 * When an admitted record's first call may start (asyncWaitKeyed: once its key has a free slot). Without one, a
 * record starts the moment it is admitted. A record that must wait keeps its capacity slot and its place in the
 * held queue (so snapshots and teardown see it), and starts when the turns call `host.turnCame`.
 *
 * Contract: `enter` is called once per admitted record, in admission order, before it joins the held queue;
 * `take` right after it joined; `settled` once, when it reaches DONE (from its call or a fallback). Retries never
 * ask: a record keeps its turn until it settles.
 */
export interface RecordTurns<I, O> {
  /** A record is being admitted: learn what it waits on. False after failing the output (its key could not be had). */
  enter(held: HeldRecord<I, O>): boolean;
  /** True if `held` may start now (its turn is taken); false: it waits for `host.turnCame`. */
  take(held: HeldRecord<I, O>): boolean;
  /** `held` has its final results: its turn ends, and the next waiting record's may come. */
  settled(held: HeldRecord<I, O>): void;
  /** Teardown: drop every reference. */
  clear(): void;
}

/** Makes the turns of one subscription. */
export type RecordTurnsFactory<I, O> = (host: TurnHost<I, O>) => RecordTurns<I, O>;
