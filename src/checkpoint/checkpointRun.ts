import { from, Observable, Subscription, take, type ObservableInput, type Observer, type OperatorFunction, type Subscriber } from 'rxjs';
import { type CheckpointedOutput, type SinkRecovery } from './sink.js';
import { loadLatest, type StoredCheckpoint } from './store.js';
import { warningOf, type CheckpointWarning } from './warning.js';
import { record, type StreamElement } from '../elements/streamElement.js';
import { CheckpointEncodeError } from './CheckpointEncodeError.js';
import { CheckpointRestoreError } from './CheckpointRestoreError.js';
import { MutableCheckpointMetrics } from './checkpointMetrics.js';
import { describe } from '../shared/describe.js';
import { FORMAT_VERSION, serializeCheckpoint } from './format.js';
import { andThen, isThenable, type MaybePromise } from './maybePromise.js';
import { RunResources } from './lifecycle.js';
import { CheckpointSaver, type PendingCheckpoint } from './checkpointSaver.js';
import { type ResolvedCheckpointableOptions } from './resolvedOptions.js';
import { everyInterval } from './intervalTrigger.js';
import { decodeCheckpoint } from './decodeCheckpoint.js';
import { OperatorBindings } from './operatorBindings.js';
import { bindingSlot, type StatefulDescriptor } from './stateful.js';
import { CheckpointBindingError } from './CheckpointBindingError.js';
import { flowSlot, withGate } from '../flow/flowGate.js';

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
  /** True once the run has failed, or its output has completed, errored or been unsubscribed (read by the bindings). */
  closed = false;
  /** The operators' subscription and the interval ticks: stopped at once on failure, before the output errors. */
  private readonly work = new Subscription();
  /** True once teardown() has run (on failure, then again when the output ends: the second call does nothing). */
  private tornDown = false;
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
  /** Store and sink writes still running (they may outlive a crash). */
  private ioInFlight = 0;
  /** Called, and emptied, when the last write in flight settles (see afterIo). */
  private ioWaiters: (() => void)[] = [];
  /** The store and sink: claimed, opened, closed. */
  private readonly resources: RunResources;
  /** Saves the checkpoints, one at a time, in order. */
  private readonly saver: CheckpointSaver;
  /** Checkpoints whose barrier is on its way, by id. Cleared on teardown. */
  private readonly pending = new Map<number, PendingCheckpoint>();
  /** The source position after the last record (restored position at first); undefined for the beginning. */
  private lastPosition: unknown = undefined;
  /** The id of the newest checkpoint this run restored or completed; 0 before any (for the 'close-failed' warning). */
  private lastCompletedId = 0;
  /** Records since the last barrier. */
  private recordsSinceBarrier = 0;
  /** True while run() subscribes the operators: stateful ones register then, and the source waits. */
  private subscribing = false;
  /** The stateful operators, bound as they are subscribed. */
  private readonly bindings: OperatorBindings;
  /** Opens the source; set while the operators are being subscribed, run once they are all bound. */
  private openSource: (() => void) | null = null;
  /** True once the injecting source has been subscribed: a second subscription is refused. */
  private sourceSubscribed = false;
  /** True once the source is being opened: no stateful operator can be bound after that (read by the bindings). */
  sourceOpened = false;
  /** True once the source has completed: interval checkpoints then start at the draining operator. */
  private sourceDone = false;
  /** The subscriber of the barrier-injecting source; null until the pipeline runs, after it ends, and after a stop. */
  private injector: Subscriber<StreamElement<unknown>> | null = null;
  /** The source's subscription while it reads; unsubscribed by a stop. */
  private sourceSubscription: Subscription | null = null;
  /** True once the `stop` notifier has emitted. */
  private stopRequested = false;
  /** The id of the stop checkpoint's barrier, once injected (0 before): nothing is read or injected after it. */
  private stopId = 0;
  /** Outputs and checkpoints held in metrics gauges by this run, given back on teardown. */
  private heldOutputs = 0;
  private inProgress = 0;
  readonly metrics: MutableCheckpointMetrics;

  constructor(
    private readonly subscriber: Subscriber<CheckpointedOutput<unknown>>,
    readonly options: ResolvedCheckpointableOptions,
    private readonly operators: readonly OperatorFunction<unknown, unknown>[],
    readonly descriptors: readonly StatefulDescriptor[],
  ) {
    this.metrics = options.metrics ?? new MutableCheckpointMetrics();
    this.resources = new RunResources(options.store, options.sink);
    this.bindings = new OperatorBindings(this, operators, descriptors);
    this.saver = new CheckpointSaver(this);
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
    this.subscriber.add(() => void this.teardown());
    this.subscriber.add(this.work);
    this.listenForStop();
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
    let states = new Map<string, unknown>();
    let replay: CheckpointedOutput<unknown>[] = [];
    if (checkpoint !== undefined) {
      try {
        const decoded = decodeCheckpoint(checkpoint, this.descriptors, this.options.codec);
        states = decoded.states;
        replay = decoded.outputs;
        this.lastPosition = decoded.position;
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
      if (highest >= Number.MAX_SAFE_INTEGER) {
        // Above 2^53 - 1 ids stop increasing, and stamps would repeat: refuse rather than reuse.
        throw new CheckpointRestoreError(highest, highest,
          `checkpoint ids are exhausted: ${highest} is already used, and no id above it is a safe integer; start from a new store and sink`);
      }
      this.nextCheckpointId = highest + 1;
      this.lastBarrierAtEnd = highest;
      for (const output of replay) {
        if (this.closed) return;
        this.metrics.reEmitted++;
        this.emit(output);
      }
      // A final checkpoint means the pipeline finished: its operators applied their end-of-input rules (event
      // time ran to +Infinity, timers fired or were dropped), so there is nothing left to resume.
      if (checkpoint?.final === true) this.completeFinished(checkpoint.checkpointId);
      else if (this.options.exactlyOnce) this.run(states, checkpoint?.checkpointId);
      else this.writeStartCheckpoint(checkpoint, () => this.run(states, checkpoint?.checkpointId));
    }, (err) => this.fail(err));
  }

  /**
   * A final checkpoint was restored: the run had finished, and its operators' state is spent, so the source is not
   * read again. It is opened once at the final position, to learn whether records were appended since: a source
   * that emits one at once errors the output with CheckpointRestoreError (this lineage can never process them);
   * one that completes at once means nothing was appended. One that answers later (a live log) cannot be judged
   * without waiting for it, so the restore completes with a warning ('final-restored') and metrics.finalRestored.
   */
  private completeFinished(checkpointId: number): void {
    /** What the probe saw synchronously: an item, the end, or nothing yet (a box: callbacks write it). */
    const probe: { seen: 'item' | 'end' | 'nothing' } = { seen: 'nothing' };
    /** What the source failed with, boxed (an error may be any value). */
    let failure: { error: unknown } | null = null;
    try {
      from(this.options.source.open(this.lastPosition) as ObservableInput<unknown>).pipe(take(1)).subscribe({
        next: () => (probe.seen = 'item'),
        error: (error: unknown) => (failure = { error }),
        complete: () => {
          if (probe.seen === 'nothing') probe.seen = 'end';
        },
      }).unsubscribe();
    } catch (error) {
      failure = { error };
    }
    if (failure !== null) {
      this.fail((failure as { error: unknown }).error);
      return;
    }
    if (probe.seen === 'item') {
      this.fail(new CheckpointRestoreError(checkpointId, this.lastPosition,
        `checkpoint ${checkpointId} is final: the pipeline finished at source position ${describe(this.lastPosition)}, but the source now has ` +
          'records beyond it, which this store and sink can never process (the operators applied their end-of-input rules); ' +
          'process them with a new store and sink'));
      return;
    }
    if (probe.seen === 'nothing') {
      this.metrics.finalRestored++;
      this.warn({
        kind: 'final-restored', checkpointId, error: undefined,
        message: `checkpoint ${checkpointId} is final: the pipeline had finished, and the source is not read again; records appended to it since (if any) are not processed`,
      });
    }
    this.complete();
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

  // ---- run ---------------------------------------------------------------------------------------------------

  /**
   * Subscribes the operators, binding the stateful ones as they are subscribed (see statefulOperator): while the
   * chain is subscribed synchronously, this run is the BindingSlot's current pipeline, and each stateful operator
   * registers with it (one subscribed late finds it among the live runs: see OperatorBindings). The source is opened only
   * after the synchronous subscribe, once every stateful operator is known to be bound, so no record flows
   * through an operator the checkpoints do not cover.
   */
  private run(states: Map<string, unknown>, restoredFrom: number | undefined): void {
    this.bindings.restore(states, restoredFrom);
    let output: Observable<unknown> = this.injectingSource();
    for (const operator of this.operators) output = operator(output);
    const slot = bindingSlot();
    const { binding } = this.bindings;
    slot.live.add(binding);
    const previous = slot.current;
    slot.current = binding;
    this.subscribing = true;
    try {
      this.work.add(output.subscribe({
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
    const interval = this.options.interval;
    if (this.closed || interval === undefined) return;
    this.work.add(everyInterval(this.options.scheduler, interval, () => this.onTick()));
  }

  /**
   * An interval tick, from subscription until the pipeline completes (not just the source: a slow tail must not
   * become one final epoch). A barrier only if a record arrived or outputs wait for a checkpoint (results a
   * barrier overtook, timers that fired: a quiet source must not hold them back until it next speaks).
   */
  private onTick(): void {
    if (this.closed) return;
    if (this.recordsSinceBarrier === 0 && this.epochOutputs.length === 0 && !this.saver.outputsWaiting) return;
    if (this.injector !== null) this.injectBarrier();
    else if (this.sourceDone) this.injectTailBarrier();
  }

  /**
   * Subscribes the `stop` notifier from the start, before the restore loads: a stop requested meanwhile (a Ctrl-C
   * during start-up) is remembered, and open() then stops the source instead of reading. As with takeUntil, only
   * the first value counts: the notifier is unsubscribed then, so an error it raises afterwards is not the run's.
   */
  private listenForStop(): void {
    const stop = this.options.stop;
    if (stop === undefined) return;
    /** The notifier's subscription; null while subscribe() runs (a synchronous first value arrives before it is set). */
    let listening: Subscription | null = null;
    /** True once the first value arrived: the notifier is then unsubscribed, at once or right after subscribe(). */
    let emitted = false;
    listening = from(stop).subscribe({
      next: () => {
        emitted = true;
        listening?.unsubscribe();
        this.requestStop();
      },
      error: (err) => this.fail(err),
    });
    if (emitted) listening.unsubscribe();
    else this.work.add(listening);
  }

  /**
   * The `stop` notifier emitted: stop reading and checkpoint after the last record read (see stopSource). Before
   * the source is open, open() stops it instead of reading; after it has ended, the pipeline drains as usual.
   */
  private requestStop(): void {
    if (this.closed || this.stopRequested) return;
    this.stopRequested = true;
    if (this.injector !== null) this.stopSource();
  }

  /**
   * Unsubscribes the source (without completing the operators' input: no end-of-input flush, no timers fired at
   * +Infinity) and injects the stop barrier after the last record. The run ends once that checkpoint is durable
   * (see stopped). A synchronous source may still be inside its subscribe call: the observer drops what it
   * delivers after this (those records follow the barrier's position, so the next run reads them).
   */
  private stopSource(): void {
    this.sourceSubscription?.unsubscribe();
    this.sourceSubscription = null;
    this.stopId = this.nextCheckpointId;
    this.injectBarrier();
    this.injector = null;
  }

  /** True while barrier `checkpointId` is on its way to the end (for the bindings). */
  inFlight(checkpointId: number): boolean {
    return this.pending.has(checkpointId);
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
      /**
       * The flow gate of the operators this source feeds, seen now (they are subscribing it): the source is opened
       * later, so it is handed the gate then, and a flow-controlled source reads only while they have room.
       */
      const gate = flowSlot().current;
      const open = (): void => {
        if (injector.closed) return;
        this.sourceOpened = true;
        // Every stateful operator downstream has been subscribed by now (each registers before it subscribes its
        // input), unless the chain does something unusual: then it cannot be bound, and nothing may flow.
        const unbound = this.bindings.unbound();
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
        if (this.stopRequested) {
          this.stopSource(); // stopped before reading anything: the checkpoint repeats the restored position
          return;
        }
        const observer = this.sourceObserver(injector);
        subscription = withGate(gate, () => from(opened).subscribe(observer));
        // A stop requested while a synchronous source was emitting could not unsubscribe it yet.
        if (this.stopId !== 0) subscription.unsubscribe();
        else this.sourceSubscription = subscription;
      };
      if (this.subscribing) this.openSource = open;
      else open();
      return () => {
        this.injector = null;
        this.sourceSubscription = null;
        subscription?.unsubscribe();
      };
    });
  }

  /** Turns source items into records, and injects barriers by record count. */
  private sourceObserver(injector: Subscriber<StreamElement<unknown>>): Partial<Observer<unknown>> {
    const records = this.options.records;
    return {
      next: (item) => {
        if (this.stopId !== 0) return; // after the stop barrier: read again by the next run
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
        // this.injector is null if that record stopped the run (the stop barrier follows it) or ended it.
        if (records !== undefined && this.recordsSinceBarrier >= records && this.injector !== null && !this.closed) this.injectBarrier();
      },
      error: (err) => {
        if (this.stopId === 0) injector.error(err);
      },
      complete: () => {
        if (this.stopId !== 0) return; // stopped: the operators' input does not end
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
    const take = this.bindings.drainingTake();
    if (take === undefined) return;
    const checkpointId = this.nextCheckpointId++;
    const checkpoint = this.begin(checkpointId);
    for (const descriptor of this.descriptors) {
      if (this.bindings.ended(descriptor)) this.snapshotInto(checkpoint, descriptor, null);
    }
    this.recordsSinceBarrier = 0;
    this.pending.set(checkpointId, checkpoint);
    take({ kind: 'barrier', checkpointId });
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

  /** An operator's snapshot for checkpoint n: encoded at once, so it is an immutable copy (for the bindings). */
  onSnapshot(descriptor: StatefulDescriptor, checkpointId: number, state: unknown): void {
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
    this.saver.enqueue({ checkpoint, outputs, final: false, stop: checkpointId === this.stopId });
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
    this.saver.enqueue({ checkpoint, outputs, final: true, stop: false });
  }

  /**
   * Wraps a store or sink write so that the run knows it is in flight. A crashed run's write may still land;
   * the next run on the same store waits for it (see start), so it cannot overwrite a newer checkpoint.
   */
  io<T>(step: () => MaybePromise<T>): () => MaybePromise<T> {
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
  encode(value: unknown): string {
    const codec = this.options.codec;
    const text = codec.encode(value);
    if (typeof text !== 'string') throw new TypeError(`codec "${codec.name}": encode returned ${describe(text)}, not a string`);
    return text;
  }

  finish(): void {
    this.metrics.inProgress--;
    this.inProgress--;
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  emit(output: CheckpointedOutput<unknown>): void {
    this.metrics.emitted++;
    this.subscriber.next(output);
  }

  hold(count: number): void {
    this.heldOutputs += count;
    this.metrics.heldOutputs += count;
  }

  warn(warning: CheckpointWarning): void {
    if (warning.kind === 'corrupt-skipped') this.metrics.corruptSkipped++;
    try {
      this.options.onWarning?.(warning);
    } catch {
      // A warning hook must not take the pipeline down.
    }
  }

  /**
   * The run failed: everything stops at once (operators, source, ticks; nothing more is emitted), and the output
   * errors once the store and sink are closed, as completion does. So a restart subscribed from the error (retry(),
   * catchError) finds them released: a new FileCheckpointStore on the same directory takes its lock.
   */
  fail(err: unknown): void {
    if (this.closed) return;
    const settled = this.teardown();
    this.work.unsubscribe();
    if (settled === undefined) this.subscriber.error(err);
    else void settled.then(() => this.subscriber.error(err));
  }

  /**
   * The pipeline finished: the store and sink are closed first, so that completion means everything is released;
   * a failing close errors the output instead (the final checkpoint is durable, so a rerun just completes).
   */
  complete(): void {
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

  /**
   * The stop checkpoint is durable, and its outputs emitted: the operators are unsubscribed (their in-flight calls
   * aborted: those inputs are in the checkpoint), then the store and sink closed and the output completed. What
   * the operators emitted after the stop barrier belongs to no checkpoint: the next run produces it again.
   */
  stopped(): void {
    this.metrics.stops++;
    this.work.unsubscribe();
    this.complete();
  }

  /** Checkpoint `checkpointId` is durable and committed (for the saver). */
  completedCheckpoint(checkpointId: number): void {
    this.lastCompletedId = checkpointId;
  }

  /** Runs `then` once no store or sink call is in flight (at once, usually). */
  private afterIo(then: () => void): void {
    if (this.ioInFlight === 0) then();
    else this.ioWaiters.push(then);
  }

  /**
   * Runs once, on failure, completion, error or unsubscribe (a crash, as far as checkpoints go). Store and sink writes
   * under way are not cancelled (they may land, as after a real crash); once they have settled, the store and sink
   * are closed (unless completion closed them already), and a new run on them waits for all of that. A close that
   * fails here has no output left to error: it goes to onWarning ('close-failed') and metrics.closeFailed.
   * Returns a promise that resolves once all of that is done; undefined when it was done at once.
   */
  private teardown(): Promise<void> | undefined {
    if (this.tornDown) return undefined;
    this.tornDown = true;
    this.closed = true;
    const closeFailed = (err: unknown): void => {
      this.metrics.closeFailed++;
      this.warn(warningOf('close-failed', this.lastCompletedId, err));
    };
    // Before anything settles: a restart in this process (retry() after an error raised downstream, which
    // reaches this run as an unsubscribe) then waits for this run's close instead of finding the lock taken.
    this.resources.ending(closeFailed);
    const release = (): Promise<void> | undefined => this.resources.release(closeFailed);
    let settled: Promise<void> | undefined;
    if (this.ioInFlight === 0) settled = release();
    else settled = new Promise<void>((resolve) => this.ioWaiters.push(resolve)).then(release);
    this.resources.unclaim(settled ?? null);
    this.metrics.heldOutputs -= this.heldOutputs;
    this.metrics.inProgress -= this.inProgress;
    this.heldOutputs = this.inProgress = 0;
    this.epochOutputs = [];
    this.saver.clear();
    this.pending.clear();
    this.injector = null;
    this.openSource = null;
    this.bindings.clear();
    return settled;
  }
}
