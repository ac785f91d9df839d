import Denque from 'denque';
import {
  from, Observable, type ObservableInput, type Observer, type OperatorFunction, type SchedulerLike, type Subscriber,
  type Subscription,
} from 'rxjs';
import { type CheckpointCodec } from './codec.js';
import { type CheckpointedOutput, type CheckpointSink, type SinkRecovery } from './sink.js';
import { type ReplayableSource } from './source.js';
import { loadLatest, type CheckpointStore, type StoredCheckpoint } from './store.js';
import { warningOf, type CheckpointWarning } from './warning.js';
import { record, type CheckpointBarrier, type StreamElement } from '../elements/streamElement.js';
import { CheckpointEncodeError } from './CheckpointEncodeError.js';
import { CheckpointRestoreError } from './CheckpointRestoreError.js';
import { MutableCheckpointMetrics } from './checkpointMetrics.js';
import { describe } from '../shared/describe.js';
import { FORMAT_VERSION, serializeCheckpoint } from './format.js';
import { andThen, isThenable, type MaybePromise } from './maybePromise.js';
import { RunResources } from './lifecycle.js';
import { delayUntil, MAX_DELAY } from '../shared/schedulerDelay.js';
import { bindingSlot, statefulDescriptorOf, type OperatorCheckpointHandle, type PipelineBinding, type StatefulDescriptor } from './stateful.js';
import { CheckpointBindingError } from './CheckpointBindingError.js';

/** checkpointable's options, validated and defaulted. */
export interface ResolvedCheckpointableOptions {
  readonly source: ReplayableSource<unknown, unknown>;
  readonly records: number | undefined;
  readonly interval: number | undefined;
  readonly store: CheckpointStore;
  readonly exactlyOnce: boolean;
  readonly sink: CheckpointSink<unknown> | undefined;
  readonly codec: CheckpointCodec;
  readonly scheduler: SchedulerLike;
  readonly onWarning: ((warning: CheckpointWarning) => void) | undefined;
  readonly metrics: MutableCheckpointMetrics | undefined;
}

/** A checkpoint between its barrier's injection and its save. */
interface PendingCheckpoint {
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
interface CommitJob {
  readonly checkpoint: PendingCheckpoint;
  /** The epoch's outputs (held under 'exactly-once' or with a sink, else empty). */
  readonly outputs: CheckpointedOutput<unknown>[];
  /** True for the checkpoint taken once the pipeline has drained. */
  readonly final: boolean;
}

/**
 * One subscription of a checkpointable pipeline: restore, then run the source through the bound operators,
 * injecting barriers, collecting snapshots, and saving each checkpoint when its barrier reaches the end.
 *
 * Concurrency model: checkpoints are saved strictly one after another, in barrier order, through a queue;
 * outputs and barriers keep arriving meanwhile. A synchronous store and sink keep a whole save inside the
 * current call (so TestScheduler drives it); an asynchronous one resumes on its promise. After any await the
 * run re-checks `closed`: an unsubscribe is a crash, and nothing may be emitted after it.
 */
export class CheckpointRun {
  /** True once the output has completed, errored or been unsubscribed. */
  private closed = false;
  /** The id the next barrier gets (above every id ever used: see restore). */
  private nextCheckpointId = 1;
  /** The id of the last barrier that reached the end; outputs after it belong to epoch `lastBarrierAtEnd + 1`. */
  private lastBarrierAtEnd = 0;
  /** The next output's sequence number within its epoch. */
  private sequence = 0;
  /** 'at-least-once': the id of this run's start checkpoint, which every output of the run is stamped with. */
  private runStamp = 0;
  /** 'at-least-once': the next output's sequence number within the run. */
  private runSequence = 0;
  /** Outputs of the current epoch held for its checkpoint; handed to a CommitJob at the barrier. Cleared on teardown. */
  private epochOutputs: CheckpointedOutput<unknown>[] = [];
  /** Outputs of checkpoints that certainly failed, for the next pre-commit. Cleared when staged, and on teardown. */
  private carried: CheckpointedOutput<unknown>[] = [];
  /** Checkpoints whose store write failed ambiguously: their pre-commit stays, to be committed with the next
   * checkpoint. Cleared when that one is durable, and on teardown. */
  private unsettled: { readonly checkpointId: number; readonly outputs: CheckpointedOutput<unknown>[] }[] = [];
  /** Store and sink writes still running (they may outlive a crash). */
  private ioInFlight = 0;
  /** Called, and emptied, when the last write in flight settles (see afterIo). */
  private ioWaiters: (() => void)[] = [];
  /** The store and sink: claimed, opened, closed. */
  private readonly resources: RunResources;
  /** Checkpoints whose barrier is on its way, by id. Cleared on teardown. */
  private readonly pending = new Map<number, PendingCheckpoint>();
  /** Checkpoints waiting to be saved, in barrier order. Cleared on teardown. */
  private readonly commits = new Denque<CommitJob>();
  /** True while a save is under way (possibly awaiting the store). */
  private committing = false;
  /** True while processCommits loops; a synchronous save finishing inside it does not recurse. */
  private processing = false;
  /** The source position after the last record (restored position at first); undefined for the beginning. */
  private lastPosition: unknown = undefined;
  /** The id of the newest checkpoint this run restored or completed; 0 before any (for the 'close-failed' warning). */
  private lastCompletedId = 0;
  /** Records since the last barrier. */
  private recordsSinceBarrier = 0;
  /** What this run tells its stateful operators as they are subscribed (see run). */
  private readonly binding: PipelineBinding = {
    register: (operator, kind, id) => this.register(operator, kind, id),
    awaits: (operator) => this.awaits(operator),
    inFlight: (checkpointId) => this.pending.has(checkpointId),
  };
  /** True while run() subscribes the operators: stateful ones register then, and the source waits. */
  private subscribing = false;
  /** The ids of the stateful operators bound so far (each once). */
  private readonly registered = new Set<string>();
  /** Restored operator states by id, for the handles; emptied on teardown. */
  private restoredStates = new Map<string, unknown>();
  /** The restored checkpoint's id, for the handles; undefined on a fresh start. */
  private restoredFrom: number | undefined = undefined;
  /** Opens the source; set while the operators are being subscribed, run once they are all bound. */
  private openSource: (() => void) | null = null;
  /** True once the injecting source has been subscribed: a second subscription is refused. */
  private sourceSubscribed = false;
  /** True once the source is being opened: no stateful operator can be bound after that. */
  private sourceOpened = false;
  /** True once the source has completed: interval checkpoints then start at the draining operator. */
  private sourceDone = false;
  /** How to hand a barrier to each stateful operator that is draining (its input completed, it has not), by id. */
  private readonly draining = new Map<string, (barrier: CheckpointBarrier) => void>();
  /** The ids of the stateful operators whose subscription has ended (their state is spent). */
  private readonly ended = new Set<string>();
  /** The subscriber of the barrier-injecting source; null until the pipeline runs, and after it ends. */
  private injector: Subscriber<StreamElement<unknown>> | null = null;
  /** Outputs and checkpoints held in metrics gauges by this run, given back on teardown. */
  private heldOutputs = 0;
  private inProgress = 0;
  private readonly metrics: MutableCheckpointMetrics;

  constructor(
    private readonly subscriber: Subscriber<CheckpointedOutput<unknown>>,
    private readonly options: ResolvedCheckpointableOptions,
    private readonly operators: readonly OperatorFunction<unknown, unknown>[],
    private readonly descriptors: readonly StatefulDescriptor[],
  ) {
    this.metrics = options.metrics ?? new MutableCheckpointMetrics();
    this.resources = new RunResources(options.store, options.sink);
  }

  /**
   * Claims the store and sink, waits for a crashed run's writes on them, opens them (store, then sink), and
   * loads the newest valid checkpoint. A failing open errors the output.
   */
  start(): void {
    const taken = this.resources.claim();
    if (taken !== null) {
      this.subscriber.error(taken);
      return;
    }
    this.subscriber.add(() => this.teardown());
    const load = (): void => {
      if (this.closed) return;
      loadLatest(this.options.store, (warning) => this.warn(warning), (checkpoint, highest) => this.restore(checkpoint, highest), (err) => this.fail(err));
    };
    this.resources.acquire((step) => this.io(step), () => this.closed, load, (err) => this.fail(err));
  }

  // ---- restore -----------------------------------------------------------------------------------------------

  /**
   * Restores `checkpoint` (undefined: a fresh start). New checkpoint ids start above every id ever used for a
   * stamp: the restored one, the highest the store lists (a damaged newer checkpoint included, whose outputs may
   * have been released) and the highest epoch the sink reports from `recover`. So no stamp is ever used for two
   * different outputs, even after a fallback past a damaged checkpoint.
   */
  private restore(checkpoint: StoredCheckpoint | undefined, highestListed: number): void {
    if (this.closed) return;
    const states = new Map<string, unknown>();
    let replay: CheckpointedOutput<unknown>[] = [];
    if (checkpoint !== undefined) {
      try {
        replay = this.decodeCheckpoint(checkpoint, states);
      } catch (err) {
        this.fail(err);
        return;
      }
      this.metrics.restored++;
      this.metrics.lastCompletedId = this.lastCompletedId = checkpoint.checkpointId;
    }
    const sink = this.options.sink;
    const recovery: SinkRecovery = { checkpointId: checkpoint?.checkpointId, receipt: checkpoint?.receipt, codec: this.options.codec };
    andThen(this.io(() => sink?.recover(checkpoint?.checkpointId, recovery)), (sinkHighest) => {
      if (this.closed) return;
      if (sinkHighest !== undefined && (typeof sinkHighest !== 'number' || !Number.isSafeInteger(sinkHighest) || sinkHighest < 0)) {
        throw new TypeError(`checkpointable: sink.recover returned ${describe(sinkHighest)}; it may return the highest epoch id it has seen (an integer >= 0), or nothing`);
      }
      const highest = Math.max(checkpoint?.checkpointId ?? 0, highestListed, sinkHighest ?? 0);
      this.nextCheckpointId = highest + 1;
      this.lastBarrierAtEnd = highest;
      for (const output of replay) {
        if (this.closed) return;
        this.metrics.reEmitted++;
        this.emit(output);
      }
      // A final checkpoint means the pipeline finished: its operators applied their end-of-input rules (event
      // time ran to +Infinity, timers fired or were dropped), so there is nothing left to resume.
      if (checkpoint?.final === true) this.complete();
      else if (this.options.exactlyOnce) this.run(states, checkpoint?.checkpointId);
      else this.writeStartCheckpoint(checkpoint, () => this.run(states, checkpoint?.checkpointId));
    }, (err) => this.fail(err));
  }

  /**
   * 'at-least-once' releases outputs before their checkpoint exists, so a crash can lose the ids they were
   * stamped with. So each run first writes a start checkpoint (the restored state again, under a new id S), and
   * stamps its outputs (S, 0), (S, 1), …: S is durable before any of them is released, and every later run
   * starts above it. A failed write errors the output: without it, stamps could repeat.
   */
  private writeStartCheckpoint(restored: StoredCheckpoint | undefined, then: () => void): void {
    const checkpointId = this.nextCheckpointId++;
    this.lastBarrierAtEnd = checkpointId;
    const text = serializeCheckpoint({
      checkpointId, version: FORMAT_VERSION, createdAt: this.options.scheduler.now(), codec: this.options.codec.name, final: false,
      position: restored?.position ?? null, operators: restored?.operators ?? [], outputs: null, receipt: restored?.receipt,
    });
    this.metrics.started++;
    andThen(this.io(() => this.options.store.write(checkpointId, text)), () => {
      if (this.closed) return;
      this.metrics.completed++;
      this.metrics.lastCompletedId = this.lastCompletedId = checkpointId;
      this.metrics.lastSize = text.length;
      this.runStamp = checkpointId;
      then();
    }, (err) => this.fail(err));
  }

  /** Checks the checkpoint against the pipeline and decodes it; fills `states`, returns the outputs to re-emit. */
  private decodeCheckpoint(checkpoint: StoredCheckpoint, states: Map<string, unknown>): CheckpointedOutput<unknown>[] {
    const { checkpointId } = checkpoint;
    const codec = this.options.codec;
    if (checkpoint.codec !== codec.name) {
      throw new CheckpointRestoreError(checkpointId, checkpoint.codec, `it was written with codec "${checkpoint.codec}", but the pipeline uses "${codec.name}"`);
    }
    const decode = (what: string, text: string): unknown => {
      try {
        return codec.decode(text);
      } catch (err) {
        throw new CheckpointRestoreError(checkpointId, text, `cannot decode ${what}`, err);
      }
    };
    for (const stored of checkpoint.operators) {
      const descriptor = this.descriptors.find((d) => d.id === stored.id);
      if (descriptor === undefined) {
        const ids = this.descriptors.map((d) => describe(d.id)).join(', ') || 'none';
        throw new CheckpointRestoreError(
          checkpointId, stored.id,
          `it holds state for operator id ${describe(stored.id)} (a ${stored.kind}), which the pipeline does not have (its ids: ${ids}); restoring would silently drop that state`,
        );
      }
      if (descriptor.kind !== stored.kind) {
        throw new CheckpointRestoreError(checkpointId, stored.id, `operator id ${describe(stored.id)} was a ${stored.kind} and is now a ${descriptor.kind}`);
      }
      states.set(stored.id, decode(`the state of ${describe(stored.id)}`, stored.state));
    }
    this.lastPosition = checkpoint.position === null ? undefined : decode('the source position', checkpoint.position);
    this.lastBarrierAtEnd = checkpointId;
    if (checkpoint.outputs === null) return [];
    const outputs = decode('the committed outputs', checkpoint.outputs);
    if (!Array.isArray(outputs) || !outputs.every(isCheckpointedOutput)) {
      throw new CheckpointRestoreError(checkpointId, outputs, 'its committed outputs are malformed');
    }
    return outputs;
  }

  // ---- run ---------------------------------------------------------------------------------------------------

  /**
   * Subscribes the operators, binding the stateful ones as they are subscribed (see statefulOperator): while the
   * chain is subscribed synchronously, this run is the BindingSlot's current pipeline, and each stateful operator
   * registers with it (one subscribed late finds it among the live runs: see awaits). The source is opened only
   * after the synchronous subscribe, once every stateful operator is known to be bound, so no record flows
   * through an operator the checkpoints do not cover.
   */
  private run(states: Map<string, unknown>, restoredFrom: number | undefined): void {
    this.restoredStates = states;
    this.restoredFrom = restoredFrom;
    let output: Observable<unknown> = this.injectingSource();
    for (const operator of this.operators) output = operator(output);
    const slot = bindingSlot();
    slot.live.add(this.binding);
    const previous = slot.current;
    slot.current = this.binding;
    this.subscribing = true;
    try {
      this.subscriber.add(output.subscribe({
        next: (element) => this.onOutput(element as StreamElement<unknown>),
        error: (err) => this.fail(err),
        complete: () => this.onPipelineComplete(),
      }));
    } finally {
      slot.current = previous;
      this.subscribing = false;
    }
    const open = this.openSource;
    this.openSource = null;
    open?.();
    if (this.closed) return;
    this.startIntervalTrigger();
  }

  /**
   * `every.interval`: a tick on a fixed grid from here until the pipeline completes. An interval beyond
   * setInterval's limit (MAX_DELAY, about 24.8 days; Node would run a longer delay after 1 ms) wakes at the limit
   * and re-arms on the scheduler's clock until the tick is due.
   *
   * Each tick is a fresh action, not one that reschedules itself. rxjs recycles a self-rescheduling action's
   * setInterval, and under TestScheduler.run (rxjs 7.8) such a timer keeps its place in the table of timers
   * while its turn in the queue moves on: when a timer due in the same frame is then cancelled by another's
   * handler (an unsubscribe, a crash), the frame's last turn finds nothing due and rxjs throws "Expected a due
   * immediate or interval". One timer per tick costs nothing at checkpoint rates.
   */
  private startIntervalTrigger(): void {
    const interval = this.options.interval;
    if (interval === undefined) return;
    const scheduler = this.options.scheduler;
    const long = interval > MAX_DELAY;
    /** When the next tick is due. */
    let due = scheduler.now() + interval;
    /** The armed wake-up; cancelled on teardown. */
    let armed: Subscription | null = null;
    const arm = (): void => {
      armed = scheduler.schedule(tick, delayUntil(scheduler, due)); // on the grid, whatever the last tick's lateness
    };
    const tick = (): void => {
      if (this.closed) return;
      if (long && scheduler.now() < due) {
        arm(); // woke at the limit: not due yet
        return;
      }
      // Also when outputs wait for a checkpoint (results a barrier overtook, timers that fired): a quiet
      // source must not hold them back until it next speaks.
      if (this.recordsSinceBarrier > 0 || this.epochOutputs.length > 0 || this.carried.length > 0 || this.unsettled.length > 0) {
        if (this.injector !== null) this.injectBarrier();
        else if (this.sourceDone) this.injectTailBarrier();
      }
      if (this.closed) return;
      // Until the pipeline completes, not just the source: a slow tail must not become one final epoch.
      due += interval;
      arm();
    };
    this.subscriber.add(() => armed?.unsubscribe());
    arm();
  }

  /**
   * True for one of pipe()'s stateful operators not bound yet while the source is not open: an operator before
   * it subscribes it late (subscribeOn, delaySubscription), and it binds to this run then.
   */
  private awaits(operator: object): boolean {
    if (this.closed || this.sourceOpened || !this.operators.includes(operator as OperatorFunction<unknown, unknown>)) return false;
    const descriptor = statefulDescriptorOf(operator);
    return descriptor !== undefined && this.descriptors.includes(descriptor) && !this.registered.has(descriptor.id!);
  }

  /**
   * A stateful operator is being subscribed (BindingSlot.current is this run, or it awaits it): it must be one of pipe()'s
   * arguments, subscribed once. Returns its handle: its restored state and where its snapshots go.
   */
  private register(operator: object, kind: string, id: string | undefined): OperatorCheckpointHandle {
    const index = this.operators.indexOf(operator as OperatorFunction<unknown, unknown>);
    const descriptor = index === -1 ? undefined : statefulDescriptorOf(operator);
    const named = `${kind}${id === undefined ? '' : ` (id ${describe(id)})`}`;
    if (descriptor === undefined || !this.descriptors.includes(descriptor)) {
      throw new CheckpointBindingError(
        { kind, id },
        `the ${named} is inside a composed operator (it is subscribed with the pipeline, but is not one of pipe()'s arguments), ` +
          'so the pipeline cannot check its id before it runs; pass it to pipe() as an argument of its own',
      );
    }
    if (this.registered.has(descriptor.id!)) {
      throw new CheckpointBindingError({ kind, id }, `the ${named} is subscribed twice in one pipeline; its state can only be checkpointed once`);
    }
    this.registered.add(descriptor.id!);
    return {
      restored: this.restoredStates.get(descriptor.id!),
      restoredFrom: this.restoredFrom,
      snapshot: (checkpointId, state) => this.onSnapshot(descriptor, checkpointId, state),
      draining: (take) => {
        if (take !== null) {
          this.draining.set(descriptor.id!, take);
          return;
        }
        this.draining.delete(descriptor.id!);
        this.ended.add(descriptor.id!);
      },
    };
  }

  /**
   * The source, reopened at the restored position, with a record per item and barriers injected in line. It is
   * opened once the operators are bound (see run); it may be subscribed once only.
   */
  private injectingSource(): Observable<StreamElement<unknown>> {
    return new Observable<StreamElement<unknown>>((injector) => {
      if (this.sourceSubscribed) {
        injector.error(new CheckpointBindingError(
          { kind: 'source' },
          "the pipeline's source was subscribed twice (by an operator that subscribes its input more than once); records and barriers must flow once",
        ));
        return undefined;
      }
      this.sourceSubscribed = true;
      /** The source's subscription, once opened. */
      let subscription: Subscription | null = null;
      const open = (): void => {
        if (injector.closed) return;
        this.sourceOpened = true;
        // Every stateful operator downstream has been subscribed by now (each registers before it subscribes its
        // input), unless the chain does something unusual: then it cannot be bound, and nothing may flow.
        const unbound = this.descriptors.find((descriptor) => !this.registered.has(descriptor.id!));
        if (unbound !== undefined) {
          injector.error(new CheckpointBindingError(
            { kind: unbound.kind, id: unbound.id },
            `the ${unbound.kind} ${describe(unbound.id)} had not been subscribed when the pipeline's source was, so it cannot be bound to the checkpoints`,
          ));
          return;
        }
        let opened: ObservableInput<unknown>;
        try {
          opened = this.options.source.open(this.lastPosition);
        } catch (err) {
          injector.error(err);
          return;
        }
        this.injector = injector;
        subscription = from(opened).subscribe(this.sourceObserver(injector));
      };
      if (this.subscribing) this.openSource = open;
      else open();
      return () => {
        this.injector = null;
        subscription?.unsubscribe();
      };
    });
  }

  /** Turns source items into records, and injects barriers by record count. */
  private sourceObserver(injector: Subscriber<StreamElement<unknown>>): Partial<Observer<unknown>> {
    const records = this.options.records;
    return {
      next: (item) => {
        if (item === null || typeof item !== 'object' || !('position' in item)) {
          injector.error(new TypeError(`checkpointable: the source must emit { value, position, timestamp? } items, got ${describe(item)}`));
          return;
        }
        const { value, position, timestamp } = item as { value: unknown; position: unknown; timestamp?: number };
        if (position === undefined) {
          // undefined means "from the beginning": a checkpoint taken here would replay into restored state.
          injector.error(new TypeError(`checkpointable: a source item's position must not be undefined (item ${describe(item)})`));
          return;
        }
        let element: StreamElement<unknown>;
        try {
          element = record(value, timestamp);
        } catch (err) {
          injector.error(err);
          return;
        }
        this.lastPosition = position;
        this.recordsSinceBarrier++;
        injector.next(element);
        if (records !== undefined && this.recordsSinceBarrier >= records && !this.closed) this.injectBarrier();
      },
      error: (err) => injector.error(err),
      complete: () => {
        this.injector = null;
        this.sourceDone = true;
        injector.complete();
      },
    };
  }

  /** Begins checkpoint n: records the source position, then sends barrier n down the pipeline. */
  private injectBarrier(): void {
    const checkpointId = this.nextCheckpointId++;
    const checkpoint = this.begin(checkpointId);
    this.recordsSinceBarrier = 0;
    this.pending.set(checkpointId, checkpoint);
    // A plain barrier: operators recognise it by shape and id (copies included), not by identity.
    this.injector!.next({ kind: 'barrier', checkpointId });
  }

  /**
   * After the source has completed, an interval checkpoint starts at the stateful operator that is still
   * draining (the one whose input has completed and that has not: in a chain, at most one at a time). Every
   * operator upstream of it has ended, its state spent (null, as in a final checkpoint); the source position is
   * the end. Nothing to start from (a user operator delays the end, say) or more than one candidate: no checkpoint.
   */
  private injectTailBarrier(): void {
    if (this.draining.size !== 1) return;
    const [take] = this.draining.values();
    const checkpointId = this.nextCheckpointId++;
    const checkpoint = this.begin(checkpointId);
    for (const descriptor of this.descriptors) {
      if (this.ended.has(descriptor.id!)) this.snapshotInto(checkpoint, descriptor, null);
    }
    this.recordsSinceBarrier = 0;
    this.pending.set(checkpointId, checkpoint);
    take!({ kind: 'barrier', checkpointId });
  }

  private begin(checkpointId: number): PendingCheckpoint {
    this.metrics.started++;
    this.metrics.inProgress++;
    this.inProgress++;
    const position = this.lastPosition;
    let encoded: string | null = null;
    let error: unknown = undefined;
    if (position !== undefined) {
      try {
        encoded = this.encode(position);
      } catch (err) {
        error = new CheckpointEncodeError(checkpointId, 'source position', position, err);
      }
    }
    return { checkpointId, position: encoded, snapshots: new Map(), passed: new Set(), error };
  }

  /** An operator's snapshot for checkpoint n: encoded at once, so it is an immutable copy. */
  private onSnapshot(descriptor: StatefulDescriptor, checkpointId: number, state: unknown): void {
    const checkpoint = this.pending.get(checkpointId);
    if (checkpoint !== undefined) this.snapshotInto(checkpoint, descriptor, state);
  }

  /** Encodes an operator's state into a checkpoint; a value the codec refuses fails the checkpoint. */
  private snapshotInto(checkpoint: PendingCheckpoint, descriptor: StatefulDescriptor, state: unknown): void {
    checkpoint.passed.add(descriptor.id!);
    if (checkpoint.error !== undefined) return;
    try {
      checkpoint.snapshots.set(descriptor.id!, { kind: descriptor.kind, state: this.encode(state) });
    } catch (err) {
      checkpoint.error = new CheckpointEncodeError(checkpoint.checkpointId, descriptor.id!, state, err);
    }
  }

  // ---- the end of the pipeline -------------------------------------------------------------------------------

  private onOutput(element: StreamElement<unknown>): void {
    if (this.closed) return;
    switch (element?.kind) {
      case 'record':
      case 'sideOutput': {
        // 'exactly-once': (epoch, place in it), as stored in the checkpoint that releases it. 'at-least-once':
        // (the run's start checkpoint, place in the run); see writeStartCheckpoint.
        const output: CheckpointedOutput<unknown> = this.options.exactlyOnce
          ? { checkpointId: this.lastBarrierAtEnd + 1, sequence: this.sequence++, element }
          : { checkpointId: this.runStamp, sequence: this.runSequence++, element };
        if (this.options.exactlyOnce || this.options.sink !== undefined) {
          this.epochOutputs.push(output);
          this.hold(1);
        }
        if (!this.options.exactlyOnce) this.emit(output);
        return;
      }
      case 'barrier':
        this.onBarrierAtEnd(element.checkpointId);
        return;
      case 'watermark':
        return; // event time ends here: a sink has no timers
      default:
        this.fail(new TypeError(`checkpointable: the pipeline emitted ${describe(element)}, which is not a StreamElement`));
    }
  }

  /** Barrier n reached the end: checkpoint n is complete, and is queued to be saved. */
  private onBarrierAtEnd(checkpointId: number): void {
    const checkpoint = this.pending.get(checkpointId);
    if (checkpoint === undefined) return; // a barrier the pipeline made itself: not ours to complete
    const [oldest] = this.pending.keys(); // ids are inserted in increasing order
    if (oldest !== undefined && oldest < checkpointId) {
      this.fail(this.lostBarrierError(oldest, `barrier ${checkpointId} did`));
      return;
    }
    const missed = this.descriptors.find((descriptor) => !checkpoint.passed.has(descriptor.id!));
    if (missed !== undefined) {
      // Its state would be missing from the checkpoint (or stale in it): no checkpoint, and no silent restore.
      this.fail(new CheckpointBindingError(
        { kind: missed.kind, id: missed.id },
        `barrier ${checkpointId} reached the end of the pipeline without passing through the ${missed.kind} ${describe(missed.id)} ` +
          '(an operator before it dropped the barrier, or routed it around the operator), so the checkpoint would miss its state; ' +
          'every barrier must pass through every operator, in order',
      ));
      return;
    }
    this.pending.delete(checkpointId);
    this.lastBarrierAtEnd = checkpointId;
    this.sequence = 0;
    const outputs = this.epochOutputs;
    this.epochOutputs = [];
    this.enqueue({ checkpoint, outputs, final: false });
  }

  /** The error for barrier `lost`, which never reached the end of the pipeline although `evidence`. */
  private lostBarrierError(lost: number, evidence: string): CheckpointBindingError {
    return new CheckpointBindingError(
      { kind: 'barrier', checkpointId: lost },
      `barrier ${lost} never reached the end of the pipeline, but ${evidence}: an operator dropped or reordered it ` +
        '(a filter, say); every barrier must pass through every operator, in order, or no checkpoint can complete',
    );
  }

  /** The pipeline drained: a final checkpoint commits the last epoch, and then the output completes. */
  private onPipelineComplete(): void {
    if (this.closed) return;
    const [lost] = this.pending.keys();
    if (lost !== undefined) {
      this.fail(this.lostBarrierError(lost, 'the pipeline completed'));
      return;
    }
    const checkpointId = this.nextCheckpointId++;
    const checkpoint = this.begin(checkpointId);
    // Every operator has drained: the final checkpoint carries no operator state.
    for (const descriptor of this.descriptors) {
      this.snapshotInto(checkpoint, descriptor, null);
    }
    const outputs = this.epochOutputs;
    this.epochOutputs = [];
    this.enqueue({ checkpoint, outputs, final: true });
  }

  // ---- saving ------------------------------------------------------------------------------------------------

  private enqueue(job: CommitJob): void {
    this.commits.push(job);
    this.processCommits();
  }

  private processCommits(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed && !this.committing && this.commits.length !== 0) {
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
    const { exactlyOnce, sink, store } = this.options;
    let outputsText: string | null = null;
    if (exactlyOnce) {
      try {
        outputsText = this.encode(committed);
      } catch (err) {
        this.failed(job, staged, new CheckpointEncodeError(checkpointId, 'outputs', committed, err), 'before');
        return;
      }
    }
    /** The checkpoint's text, written once the sink's pre-commit has returned its receipt. */
    let text = '';
    const onDurable = (): void => {
      if (this.closed) return;
      this.metrics.completed++;
      this.metrics.lastCompletedId = this.lastCompletedId = checkpointId;
      this.metrics.lastSize = text.length;
      this.finish();
      this.unsettled = [];
      if (exactlyOnce || sink !== undefined) this.hold(-committed.length);
      if (exactlyOnce) {
        for (const output of committed) {
          if (this.closed) return;
          this.emit(output);
        }
      }
      if (final) {
        this.complete();
        return;
      }
      this.committing = false;
      this.processCommits();
    };
    /** The sink commits the ambiguous epochs first, then this one; the checkpoint is durable, so a failure
     * here is repaired by recover() on restart, and the run errors. */
    const commitAll = (index: number): void => {
      if (this.closed) return;
      if (sink === undefined) return onDurable();
      const id = index < unsettled.length ? unsettled[index]!.checkpointId : checkpointId;
      andThen(this.io(() => sink.commit(id)), () => (index < unsettled.length ? commitAll(index + 1) : onDurable()), (err) => this.fail(err));
    };
    const write = (): void => {
      if (this.closed) return;
      andThen(this.io(() => store.write(checkpointId, text)), () => commitAll(0), (err) => this.failed(job, staged, err, 'write'));
    };
    // The receipt stored in checkpoint n is the one its own preCommit returned: an ambiguous epoch committed
    // along with it was pre-committed (and receipted) by the checkpoint that wrote it.
    andThen(this.io(() => sink?.preCommit(checkpointId, staged)), (receipt) => {
      if (receipt !== undefined && typeof receipt !== 'string') {
        throw new TypeError(`checkpointable: sink.preCommit(${checkpointId}) returned ${describe(receipt)}; a receipt must be a string (or nothing)`);
      }
      text = serializeCheckpoint({
        checkpointId, version: FORMAT_VERSION, createdAt: this.options.scheduler.now(), codec: this.options.codec.name, final,
        position: checkpoint.position, outputs: outputsText, receipt: receipt ?? undefined,
        operators: this.descriptors.map((d) => ({ id: d.id!, ...checkpoint.snapshots.get(d.id!)! })),
      });
      write();
    }, (err) => this.failed(job, staged, err, 'preCommit'));
  }

  /**
   * A checkpoint failed: warn, and keep its outputs for the next one. `stage` says how far it got: nothing
   * written, a preCommit that failed (maybe half-written: aborted), or an ambiguous store write (kept).
   */
  private failed(job: CommitJob, staged: CheckpointedOutput<unknown>[], error: unknown, stage: 'before' | 'preCommit' | 'write'): void {
    if (this.closed) return;
    const { checkpointId } = job.checkpoint;
    this.metrics.failed++;
    this.finish();
    this.warn(warningOf('checkpoint-failed', checkpointId, error));
    const sink = this.options.sink;
    if (stage === 'write' && sink !== undefined) this.unsettled.push({ checkpointId, outputs: staged });
    else this.carried = staged;
    const next = (): void => {
      if (this.closed) return;
      if (job.final) {
        // Completing now would drop the last epoch's outputs: fail instead, and a restart resumes.
        this.fail(error);
        return;
      }
      this.committing = false;
      this.processCommits();
    };
    if (stage === 'preCommit' && sink !== undefined) andThen(this.io(() => sink.abort(checkpointId)), next, (err) => this.fail(err));
    else next();
  }

  /**
   * Wraps a store or sink write so that the run knows it is in flight. A crashed run's write may still land;
   * the next run on the same store waits for it (see start), so it cannot overwrite a newer checkpoint.
   */
  private io<T>(step: () => MaybePromise<T>): () => MaybePromise<T> {
    return () => {
      const result = step();
      if (isThenable(result)) {
        this.ioInFlight++;
        const settled = (): void => {
          if (--this.ioInFlight !== 0) return;
          const waiters = this.ioWaiters;
          this.ioWaiters = [];
          for (const waiter of waiters) waiter();
        };
        result.then(settled, settled);
      }
      return result;
    };
  }

  /** The codec's encode, checked to return text. */
  private encode(value: unknown): string {
    const codec = this.options.codec;
    const text = codec.encode(value);
    if (typeof text !== 'string') throw new TypeError(`codec "${codec.name}": encode returned ${describe(text)}, not a string`);
    return text;
  }

  private finish(): void {
    this.metrics.inProgress--;
    this.inProgress--;
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  private emit(output: CheckpointedOutput<unknown>): void {
    this.metrics.emitted++;
    this.subscriber.next(output);
  }

  private hold(count: number): void {
    this.heldOutputs += count;
    this.metrics.heldOutputs += count;
  }

  private warn(warning: CheckpointWarning): void {
    if (warning.kind === 'corrupt-skipped') this.metrics.corruptSkipped++;
    try {
      this.options.onWarning?.(warning);
    } catch {
      // A warning hook must not take the pipeline down.
    }
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.subscriber.error(err);
  }

  /**
   * The pipeline finished: the store and sink are closed first, so that completion means everything is released;
   * a failing close errors the output instead (the final checkpoint is durable, so a rerun just completes).
   */
  private complete(): void {
    /** The first close error, boxed. */
    let closeError: { error: unknown } | null = null;
    const finish = (): void => {
      if (this.closed) return;
      if (closeError === null) this.subscriber.complete();
      else this.subscriber.error(closeError.error);
    };
    const release = (): void => {
      const closing = this.resources.release((err) => (closeError = { error: err }));
      if (closing === undefined) finish();
      else closing.then(finish);
    };
    this.afterIo(release);
  }

  /** Runs `then` once no store or sink call is in flight (at once, usually). */
  private afterIo(then: () => void): void {
    if (this.ioInFlight === 0) then();
    else this.ioWaiters.push(then);
  }

  /**
   * Runs once, on completion, error or unsubscribe (a crash, as far as checkpoints go). Store and sink writes
   * under way are not cancelled (they may land, as after a real crash); once they have settled, the store and sink
   * are closed (unless completion closed them already), and a new run on them waits for all of that. A close that
   * fails here has no output left to error: it goes to onWarning ('close-failed') and metrics.closeFailed.
   */
  private teardown(): void {
    this.closed = true;
    const release = (): Promise<void> | undefined => this.resources.release((err) => {
      this.metrics.closeFailed++;
      this.warn(warningOf('close-failed', this.lastCompletedId, err));
    });
    let settled: Promise<void> | undefined;
    if (this.ioInFlight === 0) settled = release();
    else settled = new Promise<void>((resolve) => this.ioWaiters.push(resolve)).then(release);
    this.resources.unclaim(settled ?? null);
    this.metrics.heldOutputs -= this.heldOutputs;
    this.metrics.inProgress -= this.inProgress;
    this.heldOutputs = this.inProgress = 0;
    this.epochOutputs = [];
    this.carried = [];
    this.unsettled = [];
    this.pending.clear();
    this.commits.clear();
    this.injector = null;
    this.openSource = null;
    this.draining.clear();
    this.restoredStates = new Map();
    bindingSlot().live.delete(this.binding);
  }
}

function isCheckpointedOutput(value: unknown): value is CheckpointedOutput<unknown> {
  const output = value as Record<string, unknown> | null;
  if (output === null || typeof output !== 'object') return false;
  const element = output['element'] as Record<string, unknown> | null;
  return typeof output['checkpointId'] === 'number' && typeof output['sequence'] === 'number' &&
    element !== null && typeof element === 'object' && (element['kind'] === 'record' || element['kind'] === 'sideOutput');
}
