import Denque from 'denque';
import { describe } from '../shared/describe.js';
import { CheckpointEncodeError } from './CheckpointEncodeError.js';
import { type MutableCheckpointMetrics } from './checkpointMetrics.js';
import { FORMAT_VERSION, serializeCheckpoint } from './format.js';
import { andThen, type MaybePromise } from './maybePromise.js';
import { type ResolvedCheckpointableOptions } from './resolvedOptions.js';
import { type CheckpointedOutput } from './sink.js';
import { type StatefulDescriptor } from './stateful.js';
import { warningOf, type CheckpointWarning } from './warning.js';

/** A checkpoint between its barrier's injection and its save. */
export interface PendingCheckpoint {
  readonly checkpointId: number;
  /** The source position at the barrier, encoded at injection; null for "from the beginning". */
  readonly position: string | null;
  /** Encoded operator snapshots, by operator id, filled in as the barrier passes each operator. */
  readonly snapshots: Map<string, { readonly kind: string; readonly state: string }>;
  /** The ids of the operators the barrier has passed (snapshots included that the codec refused). */
  readonly passed: Set<string>;
  /** The first problem found; the checkpoint then fails. */
  error: unknown;
}

/** A checkpoint whose barrier has reached the end, queued to be saved. */
export interface CommitJob {
  readonly checkpoint: PendingCheckpoint;
  /** The epoch's outputs (held under 'exactly-once' or with a sink, else empty). */
  readonly outputs: CheckpointedOutput<unknown>[];
  /** True for the checkpoint taken once the pipeline has drained. */
  readonly final: boolean;
  /** True for the checkpoint that stops the run (the `stop` option): once durable, the run ends. */
  readonly stop: boolean;
}


/** What the saver needs from its run. */
export interface SaverHost {
  readonly closed: boolean;
  readonly options: ResolvedCheckpointableOptions;
  readonly metrics: MutableCheckpointMetrics;
  /** The stateful operators, in pipeline order. */
  readonly descriptors: readonly StatefulDescriptor[];
  /** Wraps a store or sink call so that the run knows it is in flight. */
  io<T>(step: () => MaybePromise<T>): () => MaybePromise<T>;
  /** The codec's encode, checked to return text. */
  encode(value: unknown): string;
  /** Releases an output downstream. */
  emit(output: CheckpointedOutput<unknown>): void;
  /** Counts outputs held (positive) or released (negative). */
  hold(count: number): void;
  /** A checkpoint in progress ended (completed or failed). */
  finish(): void;
  /** Checkpoint `checkpointId` is durable (and committed). */
  completedCheckpoint(checkpointId: number): void;
  warn(warning: CheckpointWarning): void;
  fail(err: unknown): void;
  /** The final checkpoint is durable: close and complete. */
  complete(): void;
  /** The stop checkpoint is durable: stop the operators, close and complete. */
  stopped(): void;
}

/**
 * Saves a run's checkpoints strictly one after another, in barrier order, through a queue; outputs and barriers
 * keep arriving meanwhile. A synchronous store and sink keep a whole save inside the current call (so
 * TestScheduler drives it); an asynchronous one resumes on its promise. After any await it re-checks `closed`:
 * an unsubscribe is a crash, and nothing may be emitted after it.
 */
export class CheckpointSaver {
  /** Outputs of checkpoints that certainly failed, for the next pre-commit. Cleared when staged, and by clear(). */
  private carried: CheckpointedOutput<unknown>[] = [];
  /**
   * Checkpoints whose store write failed ambiguously: their pre-commit stays, to be committed with the next
   * checkpoint. Cleared when that one is durable, and by clear().
   */
  private unsettled: { readonly checkpointId: number; readonly outputs: CheckpointedOutput<unknown>[] }[] = [];
  /** Checkpoints waiting to be saved, in barrier order. Cleared by clear(). */
  private readonly commits = new Denque<CommitJob>();
  /** True while a save is under way (possibly awaiting the store). */
  private committing = false;
  /** True while processCommits loops; a synchronous save finishing inside it does not recurse. */
  private processing = false;

  constructor(private readonly run: SaverHost) {}

  /** True when outputs of failed checkpoints wait for the next one: an interval tick should take it. */
  get outputsWaiting(): boolean {
    return this.carried.length !== 0 || this.unsettled.length !== 0;
  }

  /** Forgets everything queued (on teardown). */
  clear(): void {
    this.carried = [];
    this.unsettled = [];
    this.commits.clear();
  }

  /** Queues a checkpoint whose barrier has reached the end (or the final one); saves start in order. */
  enqueue(job: CommitJob): void {
    this.commits.push(job);
    this.processCommits();
  }

  private processCommits(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.run.closed && !this.committing && this.commits.length !== 0) {
        this.committing = true;
        this.save(this.commits.shift()!); // denque: O(1)
      }
    } finally {
      this.processing = false;
    }
  }

  /**
   * Two-phase: sink pre-commit, durable write, sink commit; then (exactly-once) release the outputs.
   *
   * Failures split in two. Before the write (a value the codec refuses, a failed preCommit) the checkpoint
   * certainly does not exist: the sink's pre-commit is aborted and the outputs are carried into the next
   * pre-commit. A failed write is ambiguous (a timeout, or a clean-up error after the rename, may hide a
   * checkpoint that is on disk): the pre-commit is kept and committed together with the next checkpoint, and
   * not repeated in it. A restore from either checkpoint then commits each epoch exactly once.
   */
  private save(job: CommitJob): void {
    const { checkpoint, final } = job;
    const { checkpointId } = checkpoint;
    /** What this checkpoint pre-commits: its epoch, plus epochs of checkpoints that certainly failed. */
    const staged = this.carried.length === 0 ? job.outputs : this.carried.concat(job.outputs);
    this.carried = [];
    const unsettled = this.unsettled;
    /** What it commits, and releases and stores for re-emission: also the epochs of ambiguous writes. */
    const committed = unsettled.length === 0 ? staged : unsettled.flatMap((u) => u.outputs).concat(staged);
    if (checkpoint.error !== undefined) {
      this.failed(job, staged, checkpoint.error, 'before');
      return;
    }
    const { exactlyOnce, sink, store } = this.run.options;
    let outputsText: string | null = null;
    if (exactlyOnce) {
      try {
        outputsText = this.run.encode(committed);
      } catch (err) {
        this.failed(job, staged, new CheckpointEncodeError(checkpointId, 'outputs', committed, err), 'before');
        return;
      }
    }
    /** The checkpoint's text, written once the sink's pre-commit has returned its receipt. */
    let text = '';
    const onDurable = (): void => {
      if (this.run.closed) return;
      this.run.metrics.completed++;
      this.run.completedCheckpoint(checkpointId);
      this.run.metrics.lastCompletedId = checkpointId;
      this.run.metrics.lastSize = text.length;
      this.run.finish();
      this.unsettled = [];
      if (exactlyOnce || sink !== undefined) this.run.hold(-committed.length);
      if (exactlyOnce) {
        for (const output of committed) {
          if (this.run.closed) return;
          this.run.emit(output);
        }
      }
      if (final) {
        this.run.complete();
        return;
      }
      if (job.stop) {
        this.run.stopped();
        return;
      }
      this.committing = false;
      this.processCommits();
    };
    /** The sink commits the ambiguous epochs first, then this one; the checkpoint is durable, so a failure
     * here is repaired by recover() on restart, and the run errors. */
    const commitAll = (index: number): void => {
      if (this.run.closed) return;
      if (sink === undefined) return onDurable();
      const id = index < unsettled.length ? unsettled[index]!.checkpointId : checkpointId;
      andThen(this.run.io(() => sink.commit(id)), () => (index < unsettled.length ? commitAll(index + 1) : onDurable()), (err) => this.run.fail(err));
    };
    const write = (): void => {
      if (this.run.closed) return;
      andThen(this.run.io(() => store.write(checkpointId, text)), () => commitAll(0), (err) => this.failed(job, staged, err, 'write'));
    };
    // The receipt stored in checkpoint n is the one its own preCommit returned: an ambiguous epoch committed
    // along with it was pre-committed (and receipted) by the checkpoint that wrote it.
    andThen(this.run.io(() => sink?.preCommit(checkpointId, staged)), (receipt) => {
      if (receipt !== undefined && typeof receipt !== 'string') {
        throw new TypeError(`checkpointable: sink.preCommit(${checkpointId}) returned ${describe(receipt)}; a receipt must be a string (or nothing)`);
      }
      text = serializeCheckpoint({
        checkpointId, version: FORMAT_VERSION, createdAt: this.run.options.scheduler.now(), codec: this.run.options.codec.name, final,
        position: checkpoint.position, outputs: outputsText, receipt: receipt ?? undefined,
        operators: this.run.descriptors.map((d) => ({ id: d.id!, ...checkpoint.snapshots.get(d.id!)! })),
      });
      write();
    }, (err) => this.failed(job, staged, err, 'preCommit'));
  }

  /**
   * A checkpoint failed: warn, and keep its outputs for the next one. `stage` says how far it got: nothing
   * written, a preCommit that failed (maybe half-written: aborted), or an ambiguous store write (kept).
   */
  private failed(job: CommitJob, staged: CheckpointedOutput<unknown>[], error: unknown, stage: 'before' | 'preCommit' | 'write'): void {
    if (this.run.closed) return;
    const { checkpointId } = job.checkpoint;
    this.run.metrics.failed++;
    this.run.finish();
    this.run.warn(warningOf('checkpoint-failed', checkpointId, error));
    const sink = this.run.options.sink;
    if (stage === 'write' && sink !== undefined) this.unsettled.push({ checkpointId, outputs: staged });
    else this.carried = staged;
    const next = (): void => {
      if (this.run.closed) return;
      if (job.final || job.stop) {
        // Completing now would drop the last epoch's outputs (or, for a stop, claim a checkpoint that does not
        // exist): fail instead, and a restart resumes from the previous checkpoint.
        this.run.fail(error);
        return;
      }
      this.committing = false;
      this.processCommits();
    };
    if (stage === 'preCommit' && sink !== undefined) andThen(this.run.io(() => sink.abort(checkpointId)), next, (err) => this.run.fail(err));
    else next();
  }
}
