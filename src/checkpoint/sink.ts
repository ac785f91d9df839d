import { type SideOutputRecord, type StreamRecord } from '../elements/streamElement.js';
import { type CheckpointCodec } from './codec.js';
import { type MaybePromise } from './maybePromise.js';

/**
 * What a {@link checkpointable} pipeline emits: each output record (or side-output record) of the pipeline,
 * with a stamp `(checkpointId, sequence)` that names it. A stamp is never used for two different outputs, across
 * every run over the same store (and sink):
 *
 * - `'exactly-once'`: `checkpointId` is the epoch (the checkpoint that commits it) and `sequence` its place in
 *   the epoch. An output is released only once its checkpoint is durable; a restore emits the restored
 *   checkpoint's outputs again with the same stamps, so a consumer drops a repeated stamp. A run numbers new
 *   epochs above every checkpoint the store lists (a damaged one included) and every epoch the sink reports.
 * - `'at-least-once'`: outputs are released before their checkpoint exists, so `checkpointId` is the run's
 *   start checkpoint (written before the run emits anything) and `sequence` the output's place in the run. An
 *   output repeated after a crash gets a new stamp: stamps tell emissions apart, they do not deduplicate.
 *
 * ## Example
 * ```ts
 * import { type CheckpointedOutput } from 'rxjs-sluice';
 * const seen = new Set<string>();
 * const writeOnce = (out: CheckpointedOutput<number>) => {
 *   const key = `${out.checkpointId}:${out.sequence}`;
 *   if (seen.has(key)) return; // a repeat after a restart ('exactly-once')
 *   seen.add(key);
 *   if (out.element.kind === 'record') console.log(out.element.value);
 * };
 * ```
 */
export interface CheckpointedOutput<O> {
  /**
   * `'exactly-once'`: the epoch, 1 + the id of the last barrier that reached the end of the pipeline before this
   * output. That is the checkpoint that commits it, unless that one fails; a later checkpoint then commits it,
   * and the stamp stays as it was. `'at-least-once'`: the id of the run's start checkpoint.
   */
  readonly checkpointId: number;
  /** Its position within the epoch (`'exactly-once'`) or the run (`'at-least-once'`), from 0. */
  readonly sequence: number;
  /** The output itself. */
  readonly element: StreamRecord<O> | SideOutputRecord;
}

/**
 * What a {@link checkpointable} pipeline tells its sink when it starts, in {@link CheckpointSink.recover}.
 *
 * ## Example
 * ```ts
 * import { type SinkRecovery } from 'rxjs-sluice';
 * const describeStart = (r: SinkRecovery) => `restoring ${r.checkpointId ?? 'nothing'} with codec ${r.codec.name}`;
 * ```
 */
export interface SinkRecovery {
  /** The restored checkpoint's id; undefined on a fresh start. */
  readonly checkpointId: number | undefined;
  /**
   * The receipt the sink's `preCommit` returned for the restored checkpoint, as stored in that checkpoint;
   * undefined on a fresh start, or when the sink returned none.
   */
  readonly receipt: string | undefined;
  /** The pipeline's codec: a sink that writes elements as text encodes them with it, unless it has its own. */
  readonly codec: CheckpointCodec;
}

/**
 * A sink that commits together with the checkpoints: Flink's `TwoPhaseCommitSinkFunction`. For each completed
 * checkpoint `n` the pipeline calls `preCommit(n, outputs)` (make the epoch's outputs durable, but invisible),
 * then saves checkpoint `n`, then calls `commit(n)` (make them visible). A checkpoint whose `preCommit`
 * fails gets `abort(n)`, and its outputs are pre-committed again with the next checkpoint. One whose save
 * fails may still exist (the failure is ambiguous), so its pre-commit is kept and committed, before the next
 * checkpoint's own, once that one is durable. On start, `recover(n)` is called
 * with the restored checkpoint's id (undefined on a fresh start): it must commit every pre-committed epoch
 * up to `n` that is not committed yet, and abort any later one. `commit` and `recover` must be idempotent.
 * `FileSink` in `rxjs-sluice/node` implements this with a temporary file per epoch.
 *
 * ## Example
 * ```ts
 * import { type CheckpointSink, type CheckpointedOutput } from 'rxjs-sluice';
 * // Commits into a Map, e.g. for a test:
 * const staged = new Map<number, CheckpointedOutput<string>[]>();
 * const committed = new Map<number, CheckpointedOutput<string>[]>();
 * const mapSink: CheckpointSink<string> = {
 *   preCommit: (id, outputs) => void staged.set(id, [...outputs]),
 *   commit: (id) => { if (staged.has(id)) committed.set(id, staged.get(id)!); staged.delete(id); },
 *   abort: (id) => void staged.delete(id),
 *   recover: (id) => { for (const k of [...staged.keys()]) if (id !== undefined && k <= id) mapSink.commit(k); else staged.delete(k); },
 * };
 * ```
 */
export interface CheckpointSink<O = unknown> {
  /**
   * Makes the outputs of checkpoint `checkpointId` durable but not yet visible. It may return a receipt: a
   * short text the pipeline stores inside checkpoint `checkpointId` and hands back to `recover` when that
   * checkpoint is restored, so that the sink can verify what it committed up to there (a running checksum of
   * its epochs, say). It should stay small: it is part of every checkpoint.
   */
  preCommit(checkpointId: number, outputs: readonly CheckpointedOutput<O>[]): MaybePromise<string | void>;
  /** Makes them visible; called once checkpoint `checkpointId` is durable. Idempotent. */
  commit(checkpointId: number): MaybePromise<void>;
  /** Discards what `preCommit` wrote (perhaps partly) for a checkpoint that failed. Must tolerate nothing written. */
  abort(checkpointId: number): MaybePromise<void>;
  /**
   * On start, before anything else: commits pre-committed epochs up to `recovery.checkpointId`, aborts later
   * ones, and verifies what is committed against `recovery.receipt` (throwing a named error on damage).
   * `recovery.checkpointId` repeats `checkpointId`. Idempotent. It may return the highest epoch id it has ever
   * seen (pre-committed, committed or aborted): the pipeline then numbers new epochs above it, so that an epoch
   * id, and the output stamps that carry it, are never used twice even if the store lost its newest checkpoints.
   */
  recover(checkpointId: number | undefined, recovery: SinkRecovery): MaybePromise<number | void>;
  /**
   * Optional. Called once when a checkpointable pipeline using this sink is subscribed, after the store's `open`
   * and before `recover` (and after a crashed run's calls on it have settled and its `close` has run): take a
   * lock, open a connection. If it throws or rejects, the output errors with that error, the store is closed,
   * and this sink's `close` is not called.
   */
  open?(): MaybePromise<void>;
  /**
   * Optional. Called once when the pipeline ends, after its calls on this sink have settled, and before the
   * store's `close`: release what `open` took. On completion it runs before the output completes, and a failure
   * errors the output instead; after an error or an unsubscribe a failure goes to `onWarning` (`'close-failed'`)
   * and `metrics.closeFailed`. Not called when `open` failed.
   */
  close?(): MaybePromise<void>;
  /**
   * Optional. Called once, synchronously, the moment the pipeline ends (completes, errors or is unsubscribed),
   * before its writes have settled and long before `close`: a store that holds a lock may then let a successor
   * in this process wait for that `close` rather than refuse it (the file store and sink do), since the run
   * holding it will not write anything new. A throw goes to `onWarning` (`'close-failed'`). Not called when
   * `open` was not.
   */
  ending?(): void;
}
