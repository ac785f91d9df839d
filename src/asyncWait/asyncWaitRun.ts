import { from, isObservable, type Observable, type SchedulerLike, type Subscriber } from 'rxjs';
import { recordOf, type CheckpointBarrier, type StreamElement, type StreamRecord, type Watermark } from '../elements/streamElement.js';
import { AsyncCallError } from './AsyncCallError.js';
import { AsyncTimeoutError } from './AsyncTimeoutError.js';
import { MutableAsyncWaitMetrics } from './asyncWaitMetrics.js';
import { isPipelineBarrier, malformedStateError, snapshotAtBarrier, type OperatorCheckpointHandle } from '../checkpoint/stateful.js';
import { ChunkQueue } from '../shared/chunkQueue.js';
import { describe } from '../shared/describe.js';
import { subscribeSource } from '../shared/forwardingObserver.js';
import { scheduleAfter } from '../shared/schedulerDelay.js';
import { CallObserver, type CallSource } from './callObserver.js';
import { type Emitter, type HeldQueue } from './emitter.js';
import {
  CALL_WAIT, CALLING, CallContext, DONE, FALLBACK, HeldRecord, KEY_WAIT, ONE_RESULT, RETRY_WAIT, TIMEOUT_WAIT, dominantWatermark, resultsOf,
  type QueueNode,
} from './heldRecord.js';
import { InFlight } from './inFlight.js';
import { type AsyncFunction, type ResolvedAsyncWaitOptions, type RetryReason } from './options.js';
import { type CallerHost, type RecordCaller, type RecordCallerFactory } from './recordCaller.js';
import { type RecordTurns, type RecordTurnsFactory, type TurnHost } from './recordTurns.js';
import { flowSlot, outsideGate, withGate } from '../flow/flowGate.js';
import { FlowMember } from '../flow/flowMember.js';
import { makeCallGate, type CallGate, type CallOutcome } from '../limits/callGate.js';
import { RetryBudget } from '../limits/retryBudget.js';
import { StallWatch } from './stallWatch.js';
import { type AsyncWarning } from './asyncWarning.js';

/** The operators the run serves: asyncWait's two, and the batching ones built on it. */
export type AsyncWaitKind = 'asyncWaitOrdered' | 'asyncWaitUnordered' | 'asyncWaitKeyed' | 'asyncBatchOrdered' | 'asyncBatchUnordered';

/**
 * One subscription of an async-wait operator: the machinery shared by asyncWaitOrdered and
 * asyncWaitUnordered (as `mergeInternals` serves `mergeMap`). The two differ only in their HeldQueue.
 *
 * Concurrency model: everything runs on the JS event loop, but calls may complete synchronously and the
 * downstream may unsubscribe or push new input from inside `next`. So emission goes through one
 * non-reentrant drain loop, and every loop re-checks `closed` after each emission.
 */
export class AsyncWaitRun<I, O> implements Emitter<I, O>, CallerHost<I, O>, TurnHost<I, O> {
  /** True once the output has completed, errored or been unsubscribed; nothing runs after that. */
  closed = false;
  /** Capacity slots taken: records and side outputs admitted and not yet emitted; never above capacity. */
  private heldSlots = 0;
  /**
   * Inputs waiting beyond capacity, in input order: records and side outputs, the watermarks behind them
   * (adjacent ones coalesced) and barriers waiting out an emission loop (see onBarrier). `metrics.buffered` is
   * its length. Emptied on teardown. With `input: 'values'` it holds the bare values instead (see onValue).
   */
  private readonly pending = new ChunkQueue<StreamElement<I>>();
  /**
   * Records in flight, oldest first: the timeouts and the oldest-in-flight gauges. Null when neither a timeout
   * nor a user's metrics object reads it, which spares the hot path a clock read per record. Cleared on teardown.
   */
  private readonly inFlight: InFlight<I, O> | null;
  /** True once the source has completed. */
  private sourceDone = false;
  /** True while the drain loop runs; a re-entrant drain() only asks it to go round again. */
  private draining = false;
  /** Set by a re-entrant drain(): the running loop makes one more pass. */
  private redrain = false;
  /** Barriers waiting in `pending` (see onBarrier); 0 on teardown. */
  private pendingBarriers = 0;
  /** The user's metrics object, or a private one; its gauges are given back on teardown. */
  private readonly metrics: MutableAsyncWaitMetrics;
  /** Copies of options read on the hot path. */
  private readonly scheduler: SchedulerLike;
  private readonly capacity: number;
  /** Makes each record's calls when set (batching); null: `fn` is called once per record and attempt. */
  private readonly caller: RecordCaller<I, O> | null;
  /**
   * This operator's side of its chain's flow gate: full while `pending` holds inputs, which pauses the pull
   * sources upstream (see docs/flow-control.md). Set in start(), before the input is subscribed.
   */
  private flow: FlowMember | null = null;
  /**
   * When calls may start, under `concurrency.adaptive` or `rateLimit` (per-record calls only: a batching caller
   * keeps its own gate for its batches); null without either, which leaves the call path as it was.
   */
  private readonly gate: CallGate | null;
  /** Records admitted whose first call waits for the gate, in admission order (FIFO); entries no longer waiting are skipped. */
  private readonly callQueue = new ChunkQueue<HeldRecord<I, O>>();
  /**
   * Retries waiting for the gate, in the order they became due; they go before first calls: each was admitted
   * before every record still waiting for its first call, so its time budget runs out sooner.
   */
  private readonly retryQueue = new ChunkQueue<HeldRecord<I, O>>();
  /** True while pumpCalls() runs: a re-entrant call only lets the running loop go on. */
  private pumpingCalls = false;
  /** The retry budget (`retry.budget`), per subscription; null without one. */
  private readonly budget: RetryBudget | null;
  /** Reports records pending longer than `stallWarning`; null without it. */
  private readonly stalls: StallWatch<I, O> | null;
  /** Decides when an admitted record's first call may start (asyncWaitKeyed: its key's turn); null: at once. */
  private readonly turns: RecordTurns<I, O> | null;
  /** Records whose turn came, in the order it came, waiting for the loop that begins them (see turnCame). */
  private readonly turnQueue = new ChunkQueue<HeldRecord<I, O>>();
  /** True while beginTurns() runs: a turn that comes meanwhile (a call completing synchronously) only queues. */
  private beginningTurns = false;

  constructor(
    private readonly operator: AsyncWaitKind,
    private readonly subscriber: Subscriber<StreamElement<O>>,
    /** The per-record function; null when a caller (batching) makes the calls. */
    private readonly fn: AsyncFunction<I, O> | null,
    private readonly options: ResolvedAsyncWaitOptions<I, O>,
    /** Held records and markers; cleared on teardown. */
    private readonly queue: HeldQueue<I, O>,
    /** Restored state and the snapshot sink, inside a checkpointable pipeline; null outside one. */
    private readonly checkpoint: OperatorCheckpointHandle | null,
    /** Replaces the per-record calls of `fn` (batching); omitted for asyncWait itself. */
    makeCaller?: RecordCallerFactory<I, O>,
    /** Holds records back until their turn (asyncWaitKeyed: per key); omitted: every record starts on admission. */
    makeTurns?: RecordTurnsFactory<I, O>,
  ) {
    this.metrics = options.metrics ?? new MutableAsyncWaitMetrics();
    this.caller = makeCaller === undefined ? null : makeCaller(this); // after metrics: the caller reports to them
    this.turns = makeTurns === undefined ? null : makeTurns(this);
    this.scheduler = options.scheduler;
    this.capacity = options.capacity;
    this.inFlight = options.timeout === Infinity && options.metrics === undefined && options.stallWarning === Infinity
      ? null
      : new InFlight<I, O>(options.scheduler, options.timeout, (held) => this.expire(held), () => this.closed);
    this.gate = this.caller !== null
      ? null
      : makeCallGate(options.scheduler, options.concurrency, options.rateLimit, options.capacity, this.metrics, () => this.pumpCalls());
    const budget = options.retry?.budget ?? null;
    this.budget = budget === null ? null : new RetryBudget(options.scheduler, budget);
    this.stalls = options.stallWarning === Infinity || this.inFlight === null
      ? null
      : new StallWatch<I, O>(options.scheduler, options.stallWarning, this.inFlight, (held, age) => this.stalled(held, age), () => this.closed);
  }

  /**
   * Subscribes to the source. The teardown is registered first, so a synchronous unsubscribe stops it;
   * subscribeSource attaches the source subscription to the subscriber, so teardown closes it too.
   */
  start(source: Observable<unknown>): void {
    // Before the teardown is registered: on a subscriber already closed, it runs at once and untracks.
    if (this.inFlight !== null && this.options.metrics !== undefined) this.metrics.track(this.inFlight);
    this.subscriber.add(() => this.teardown());
    if (this.options.valuesIn && this.checkpoint !== null) {
      this.fail(this.valuesInPipelineError());
      return;
    }
    // Restored inputs are called now: their calls must not see the gate of the operator downstream (see below).
    let replayed = true;
    outsideGate(() => (replayed = this.replayRestoredInputs()));
    if (!replayed) return;
    // The input is subscribed with this chain's gate in the flow slot, so the pull sources beneath join it. What
    // arrives during that subscribe (a synchronous source floods inside it) is handled outside the gate: a call
    // or a downstream operator that reads a pull source of its own must not join this chain's gate.
    const flow = (this.flow = FlowMember.join(this.scheduler, this.metrics));
    flow.update(this.pending.length !== 0); // restored inputs may already wait beyond capacity
    const slot = flowSlot();
    withGate(flow.gate, () => subscribeSource(source, this.subscriber, {
      // The slot is checked first: a closure per element only during a synchronous flood inside the subscribe.
      next: this.options.valuesIn
        ? (value) => (slot.current === null ? this.onValue(value as I) : outsideGate(() => this.onValue(value as I)))
        : (element) => (slot.current === null
          ? this.onInput(element as StreamElement<I>)
          : outsideGate(() => this.onInput(element as StreamElement<I>))),
      error: (err) => outsideGate(() => this.fail(err)),
      complete: () => outsideGate(() => this.onSourceComplete()),
    }));
    // Added after the input's subscription, so it runs after that is unsubscribed: a full operator that ended
    // lets the gate's other sources go on (see FlowMember.afterLeave).
    this.subscriber.add(() => flow.afterLeave());
  }

  private valuesInPipelineError(): TypeError {
    return new TypeError(
      `${this.operator}: option input: 'values' cannot be used inside a checkpointable pipeline, whose stream carries ` +
        "records and barriers; leave input at its default 'elements'",
    );
  }

  // ---- checkpoints -------------------------------------------------------------------------------------

  /**
   * Flink's restore (testRestartWithFullQueue): the inputs held at the checkpoint go through the normal path
   * again, with fresh calls, timeouts and attempt counts, before any new input. False if the run ended.
   */
  private replayRestoredInputs(): boolean {
    const handle = this.checkpoint;
    const restored = handle?.restored;
    if (handle === null || restored === undefined || restored === null) return true;
    if (!Array.isArray(restored) || !restored.every(isHeldInput)) {
      this.fail(malformedStateError(this.operator, this.options.id, handle, 'an array of records and watermarks'));
      return false;
    }
    for (const element of restored) {
      if (this.closed) return false;
      this.onInput(element as StreamElement<I>);
    }
    return !this.closed;
  }

  /**
   * Flink's snapshot: the input of everything held, in input order, with watermarks in their places: calls in
   * flight, results done but not yet emitted, and inputs queued beyond capacity. Results are not stored.
   */
  private heldInputs(): StreamElement<I>[] {
    const inputs: StreamElement<I>[] = [];
    this.queue.forEach((node) => {
      if (node.isMarker) inputs.push(node.element as StreamElement<I>);
      else if (node.input !== null) inputs.push(node.input);
    });
    // Queued inputs count up to the first barrier waiting among them: what follows it arrived after it.
    this.pending.visit((element) => {
      if (element.kind === 'barrier') return false;
      inputs.push(element);
      return true;
    });
    return inputs;
  }

  /**
   * A barrier does not queue behind held records: the operator snapshots what it holds, and the barrier
   * overtakes it downstream (as in Flink, where it never enters the async queue). What it overtakes goes out
   * after it, and is replayed from the snapshot on restore, so nothing is lost or duplicated.
   *
   * Re-entrancy: a barrier that arrives while the drain loop is emitting (a downstream pushing input from
   * inside `next`) cannot go out in the middle of the loop, where it would split one record's results. It waits
   * in `pending` instead, and so does every input after it: nothing that arrived after it may be admitted, or
   * emitted, before it. It leaves once the loop ends and the inputs ahead of it have been admitted; its snapshot
   * is then what is held at that moment. A barrier behind another waiting barrier waits too, so barriers keep
   * their order.
   */
  private onBarrier(element: CheckpointBarrier): void {
    if (this.draining || this.pendingBarriers !== 0) {
      this.pending.push(element);
      this.metrics.buffered++;
      this.pendingBarriers++;
      this.flow?.update(true);
      return;
    }
    this.forwardBarrier(element);
  }

  private forwardBarrier(element: CheckpointBarrier): void {
    if (this.snapshotFor(element)) this.subscriber.next(element as StreamElement<O>);
  }

  /** Takes the barrier's snapshot (or fails an unbound operator); false if the run ended. */
  private snapshotFor(element: CheckpointBarrier): boolean {
    const error = snapshotAtBarrier(this.checkpoint, this.operator, this.options.id, element, () => this.heldInputs());
    if (error !== null) this.fail(error);
    return !this.closed;
  }

  // ---- input -------------------------------------------------------------------------------------------

  private onInput(element: StreamElement<I>): void {
    if (this.closed) return;
    if (element === null || typeof element !== 'object') {
      this.fail(new TypeError(
        `${this.operator}: expected a StreamElement (record, watermark or barrier), got ${describe(element)}; wrap plain values with toRecords(), or pass input: 'values'`,
      ));
      return;
    }
    if (element.kind === 'barrier') {
      this.onBarrier(element);
      return;
    }
    const pending = this.pending;
    const kind = element.kind;
    if (kind === 'watermark') {
      this.onWatermark(element);
    } else if (pending.length === 0 && this.heldSlots < this.capacity) {
      // FIFO beyond capacity: a newcomer never overtakes inputs already waiting.
      if (kind === 'record') {
        this.admit(element);
      } else {
        this.admitMarker(element);
        this.drain();
      }
    } else {
      pending.push(element);
      this.metrics.buffered++;
      this.flow?.update(true); // O(1): only a change reaches the gate
    }
  }

  /**
   * A watermark takes no slot, but a run of them with nothing in between coalesces into one (see
   * dominantWatermark), wherever it waits: behind a held record, or in `pending`. So whatever the watermark
   * rate, at most one waits between two records or side outputs, and what is held stays O(capacity).
   * Only the tail is compared: O(1).
   */
  private onWatermark(mark: Watermark): void {
    const pending = this.pending;
    if (pending.length === 0) {
      // Absorbed by a held watermark: that one is blocked behind a record, so there is nothing to drain.
      if (this.queue.addWatermark(mark)) this.metrics.watermarksCoalesced++;
      else this.drain();
      return;
    }
    const tail = pending.peekBack()!;
    if (tail.kind === 'watermark') {
      pending.replaceBack(dominantWatermark(tail, mark));
      this.metrics.watermarksCoalesced++;
    } else {
      pending.push(mark);
      this.metrics.buffered++;
    }
  }

  /**
   * `input: 'values'`: every value is a record without a timestamp. Queued values stay bare (no record object
   * for each of a flood's million waiting inputs); admitPending() makes the record when one is admitted.
   * `pending` then holds nothing else: no markers or barriers can arrive in this mode.
   */
  private onValue(value: I): void {
    if (this.closed) return;
    if (isPipelineBarrier(value)) {
      this.fail(this.valuesInPipelineError());
      return;
    }
    if (this.pending.length === 0 && this.heldSlots < this.capacity) {
      this.admit({ kind: 'record', value });
    } else {
      (this.pending as ChunkQueue<unknown>).push(value);
      this.metrics.buffered++;
      this.flow?.update(true); // O(1): only a change reaches the gate
    }
  }

  private onSourceComplete(): void {
    this.sourceDone = true;
    this.caller?.inputEnded();
    // Inside a pipeline, interval checkpoints go on while it flushes: they hand their barriers in here.
    this.checkpoint?.draining((barrier) => this.onBarrier(barrier));
    this.maybeComplete();
  }

  /** Moves waiting inputs into the queue while capacity allows. */
  private admitPending(): void {
    if (this.options.valuesIn) {
      this.admitPendingValues();
      return;
    }
    const pending = this.pending;
    const metrics = this.metrics;
    while (!this.closed && pending.length !== 0) {
      const element = pending.peekFront()!;
      const kind = element.kind;
      if (kind === 'watermark') {
        pending.shift(); // ChunkQueue: O(1)
        metrics.buffered--;
        // It may meet a held watermark: one that a barrier, now gone, stood between.
        if (this.queue.addWatermark(element)) metrics.watermarksCoalesced++;
      } else if (kind === 'barrier') {
        if (this.draining) return; // it leaves after the loop (see onBarrier)
        // Snapshot while it still heads `pending`: the inputs queued behind it arrived after it.
        if (!this.snapshotFor(element)) return;
        pending.shift(); // ChunkQueue: O(1)
        metrics.buffered--;
        this.pendingBarriers--;
        this.subscriber.next(element as StreamElement<O>);
      } else {
        if (this.heldSlots >= this.capacity) return;
        pending.shift(); // ChunkQueue: O(1)
        metrics.buffered--;
        if (kind === 'record') this.admit(element);
        else this.admitMarker(element);
      }
    }
  }

  /** admitPending() for `input: 'values'`: `pending` holds only bare values. */
  private admitPendingValues(): void {
    const pending = this.pending as ChunkQueue<unknown>;
    while (!this.closed && pending.length !== 0 && this.heldSlots < this.capacity) {
      const value = pending.shift() as I; // ChunkQueue: O(1)
      this.metrics.buffered--;
      this.admit({ kind: 'record', value });
    }
  }

  /** Flink's order: enter the queue, start the timeout, then invoke. */
  private admit(input: StreamRecord<I>): void {
    const held = new HeldRecord<I, O>(input);
    const turns = this.turns;
    if (turns !== null && (!turns.enter(held) || this.closed)) return; // its key threw: the output has errored
    this.heldSlots++;
    this.metrics.inFlight++;
    this.queue.addRecord(held);
    if (turns !== null && !turns.take(held)) {
      // Its turn has not come (its key is busy): it holds its slot and its place, but no call, timeout or age yet.
      held.state = KEY_WAIT;
      this.metrics.waitingForKey++;
      return;
    }
    this.begin(held);
  }

  /** The record's own work begins: its time budget starts, then its first call (through the call gate, if any). */
  private begin(held: HeldRecord<I, O>): void {
    this.metrics.started++;
    if (this.inFlight !== null) this.inFlight.admitted(held); // stamps it, and sets its deadline
    this.startAttempt(held);
  }

  /**
   * The turns let a waiting record start (a record of its key settled). It is begun by one non-reentrant loop: its
   * call may complete synchronously and let the next record's turn come, which then queues instead of nesting a
   * call per record of a hot key on the stack. Turns come in order, and are begun in that order.
   */
  turnCame(held: HeldRecord<I, O>): void {
    this.turnQueue.push(held);
    if (this.beginningTurns) return;
    this.beginningTurns = true;
    try {
      const queue = this.turnQueue;
      while (!this.closed && queue.length !== 0) {
        const next = queue.shift()!; // ChunkQueue: O(1)
        this.metrics.waitingForKey--;
        this.begin(next);
      }
    } finally {
      this.beginningTurns = false;
    }
  }

  /**
   * A side output (or an element of a kind sluice does not know) takes a slot, like a record: it is data, which
   * cannot be coalesced, so this is what bounds how many wait behind a slow record. It is complete on arrival, so
   * it counts as waiting until its turn comes (see emitMarker).
   */
  private admitMarker(element: StreamElement<I>): void {
    this.heldSlots++;
    this.metrics.waiting++;
    this.queue.addMarker(element);
  }

  /** Where a caller's gate reports the adaptive limit: this run's metrics object. */
  get gateCounters(): MutableAsyncWaitMetrics {
    return this.metrics;
  }

  /** True when the caller's open batch (`inBatch` records) holds every capacity slot (see CallerHost). */
  onlyHeldBy(inBatch: number): boolean {
    return this.heldSlots >= this.capacity && this.heldSlots === inBatch;
  }

  // ---- calls -------------------------------------------------------------------------------------------

  private startAttempt(held: HeldRecord<I, O>): void {
    if (this.closed) return;
    if (held.attempts === 0) this.budget?.deposit();
    this.stalls?.watch(); // a record waiting for the gate can stall too
    const gate = this.gate;
    if (gate !== null) {
      // Retries first, then first calls in admission order: a call never overtakes one waiting ahead of it.
      const retry = held.attempts !== 0;
      const ahead = this.retryQueue.length + (retry ? 0 : this.callQueue.length);
      const permit = ahead === 0 ? gate.tryAcquire(1) : null;
      if (permit === null) {
        held.state = CALL_WAIT;
        (retry ? this.retryQueue : this.callQueue).push(held);
        this.metrics.waitingForCall++;
        return;
      }
      held.permit = permit;
    }
    this.makeCall(held);
  }

  /** Makes the record's next call now (the gate, if any, has given it a permit). */
  private makeCall(held: HeldRecord<I, O>): void {
    held.state = CALLING;
    const attempt = ++held.attempts;
    if (attempt > 1) this.metrics.retried++;
    if (this.caller !== null) {
      this.caller.call(held);
      return;
    }
    const input = held.input!;
    let result: unknown;
    try {
      result = this.fn!(input.value, new CallContext(held, attempt, input.timestamp));
    } catch (err) {
      // A synchronous throw is that call failing.
      this.callErrored(held, err, 'fn');
      return;
    }
    this.subscribeTo(held, result, 'fn');
  }

  /**
   * Starts the waiting calls the gate allows now, oldest first: after a call ends, and when tokens are there again.
   * Entries that stopped waiting (their record timed out, or the run ended) are skipped.
   */
  private pumpCalls(): void {
    const gate = this.gate;
    if (gate === null || this.pumpingCalls) return;
    this.pumpingCalls = true;
    try {
      while (!this.closed) {
        const queue = this.retryQueue.length !== 0 ? this.retryQueue : this.callQueue;
        if (queue.length === 0) return;
        const held = queue.peekFront()!;
        if (held.state !== CALL_WAIT) {
          queue.shift(); // ChunkQueue: O(1)
          continue;
        }
        if (held.deadline <= this.scheduler.now()) {
          // Its budget is spent: its expiry is due in this same instant (the timeouts fire one by one, and a slot
          // freed by the first may reach the next here). It must not be called: it leaves the queue, and the
          // expiry settles it (and gives back its place in the waitingForCall gauge).
          queue.shift();
          continue;
        }
        const permit = gate.tryAcquire(1);
        if (permit === null) return;
        queue.shift();
        this.metrics.waitingForCall--;
        held.permit = permit;
        this.makeCall(held);
      }
    } finally {
      this.pumpingCalls = false;
    }
  }

  /** The record's call ended (answered, failed, or cancelled by its timeout): its gate permit goes back. */
  private releaseCall(held: HeldRecord<I, O>, outcome: CallOutcome): void {
    const permit = held.permit;
    if (permit === null) return;
    held.permit = null;
    this.gate!.release(permit, outcome);
  }

  /** Subscribes to what fn (or a fallback) returned, with fast paths for promises and arrays. */
  private subscribeTo(held: HeldRecord<I, O>, result: unknown, source: CallSource): void {
    // The user function may itself have unsubscribed us (re-entrantly): then start nothing that outlives us.
    if (this.closed) return;
    // Only the intrinsic then() of a native promise is trusted not to throw or call back twice: subclasses,
    // promises given an own `then`, and thenables take the guarded path below.
    if (result instanceof Promise && Object.getPrototypeOf(result) === Promise.prototype && result.then === nativeThen) {
      this.awaitPromise(held, result as Promise<O>, source);
      return;
    }
    if (Array.isArray(result)) {
      if (result.length === 1) this.callCompletedOne(held, result[0] as O, source);
      else this.callCompleted(held, result.slice() as O[], source);
      return;
    }
    let observable: Observable<O> | null = null;
    if (isObservable(result)) {
      observable = result as Observable<O>;
    } else if (typeof result === 'string') {
      // A string is an iterable of characters to RxJS: 'abc' would become three results. Almost always a
      // function that meant one result, so refused (wrap it: [s] or of(s)) rather than split silently.
      this.invalidResult(held, result, source);
      return;
    } else if (!isPromiseLike(result)) {
      try {
        observable = from(result as never);
      } catch {
        this.invalidResult(held, result, source);
        return;
      }
    }
    const call = new CallObserver<O, HeldRecord<I, O>>(this, held, source);
    held.call = call;
    if (observable !== null) {
      observable.subscribe(call);
      return;
    }
    // A foreign thenable: its then() may call back twice or throw, so the CallObserver guards it.
    try {
      (result as PromiseLike<O>).then(
        (value) => {
          call.next(value);
          call.complete();
        },
        (err: unknown) => call.error(err),
      );
    } catch (err) {
      call.error(err); // a thenable whose then() throws is a failed call, not a crash of the source
    }
  }

  /**
   * The hot path of a flood: a native promise settles exactly once, so no CallObserver or results array is
   * needed. `callId` stands in for the observer's `closed`: cancelWork() bumps it, so a promise that settles
   * after a timeout, a retry or teardown is ignored.
   */
  private awaitPromise(held: HeldRecord<I, O>, promise: Promise<O>, source: CallSource): void {
    const id = ++held.callId;
    promise.then(
      (value) => {
        if (held.callId !== id) return;
        held.callId++;
        this.callCompletedOne(held, value as O, source);
      },
      (err: unknown) => {
        if (held.callId !== id) return;
        held.callId++;
        this.callErrored(held, err, source);
      },
    );
  }

  /** A function returned something that is not an ObservableInput: a bug, so neither retried nor handed to onError. */
  private invalidResult(held: HeldRecord<I, O>, result: unknown, source: CallSource): void {
    const problem = new TypeError(typeof result === 'string'
      ? `${this.operator}: ${source} returned the string ${describe(result)}; return [value] or of(value) for one result (a bare string would be split into its characters)`
      : `${this.operator}: ${source} returned ${describe(result)}, which is not an ObservableInput (Observable, Promise, array, iterable, async iterable or ReadableStream)`);
    if (source !== 'fn') this.fail(problem);
    else this.fail(new AsyncCallError(this.operator, held.input!.value, problem, held.attempts, problem.message));
  }

  /** A call's single result, kept out of an array (see ONE_RESULT): a promise's value, or `of(x)`'s. */
  callCompletedOne(held: HeldRecord<I, O>, result: O, source: CallSource): void {
    held.result = result;
    this.callCompleted(held, ONE_RESULT, source);
  }

  callCompleted(held: HeldRecord<I, O>, results: O[], source: CallSource): void {
    held.call = null;
    if (this.closed) return;
    if (held.permit !== null) {
      this.releaseCall(held, 'ok');
      this.callCompletedAfterRelease(held, results, source);
      this.pumpCalls(); // after the record is settled: the freed slot goes to the next waiting call
      return;
    }
    this.callCompletedAfterRelease(held, results, source);
  }

  private callCompletedAfterRelease(held: HeldRecord<I, O>, results: O[], source: CallSource): void {
    const retry = this.options.retry;
    if (source === 'fn' && retry !== undefined && retry.retryOnResult !== undefined && held.attempts <= retry.maxRetries) {
      const seen = resultsOf(held, results);
      let again: boolean;
      try {
        again = retry.retryOnResult(seen);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (this.closed) return; // the predicate may have unsubscribed us (re-entrantly): teardown has run
      if (again && this.retryAllowed(held, undefined)) {
        this.scheduleRetry(held, { kind: 'result', results: seen });
        return;
      }
      if (this.closed) return;
    }
    if (source === 'fn') this.metrics.succeeded++;
    this.settle(held, results);
  }

  callErrored(held: HeldRecord<I, O>, error: unknown, source: CallSource): void {
    held.call = null;
    if (this.closed) return;
    if (held.permit !== null) {
      let overload = false;
      const isOverload = this.options.concurrency?.isOverload;
      if (isOverload !== undefined) {
        try {
          overload = isOverload(error) === true;
        } catch (err) {
          this.fail(err);
          return;
        }
        if (this.closed) return; // the hook may have unsubscribed us (re-entrantly)
      }
      this.releaseCall(held, overload ? 'drop' : 'ignore');
      this.callErroredAfterRelease(held, error, source);
      this.pumpCalls();
      return;
    }
    this.callErroredAfterRelease(held, error, source);
  }

  private callErroredAfterRelease(held: HeldRecord<I, O>, error: unknown, source: CallSource): void {
    // What a fallback fails with goes downstream unchanged: it is the user's own verdict.
    if (source !== 'fn') {
      this.fail(error);
      return;
    }
    const retry = this.options.retry;
    if (retry !== undefined && held.attempts <= retry.maxRetries) {
      let again = true;
      if (retry.retryOnError !== undefined) {
        try {
          again = retry.retryOnError(error);
        } catch (err) {
          this.fail(err);
          return;
        }
        if (this.closed) return; // the predicate may have unsubscribed us (re-entrantly): teardown has run
      }
      if (again && this.retryAllowed(held, error)) {
        this.scheduleRetry(held, { kind: 'error', error });
        return;
      }
      if (this.closed) return; // the warning hook may have unsubscribed us
    }
    this.metrics.failed++;
    const value = held.input!.value;
    const onError = this.options.onError;
    if (onError === undefined) {
      this.fail(new AsyncCallError(this.operator, value, error, held.attempts));
      return;
    }
    this.startFallback(held, 'onError', () => onError(error, value));
  }

  /**
   * Whether the retry budget lets this retry happen; a refusal is counted and reported (`'retry-denied'`), and the
   * record then fails for good, or keeps its result, as if its retries were spent. `error` is undefined for a
   * result that retryOnResult rejected.
   */
  private retryAllowed(held: HeldRecord<I, O>, error: unknown): boolean {
    const budget = this.budget;
    if (budget === null || budget.tryWithdraw()) return true;
    this.metrics.retriesDenied++;
    const what = error === undefined ? 'a rejected result' : 'a failed call';
    this.warn({
      kind: 'retry-denied', input: held.input!.value, age: undefined, error,
      message: `${this.operator}: the retry budget refused a retry after ${what} (attempt ${held.attempts}); the record ${error === undefined ? 'keeps its result' : 'fails for good'}`,
    });
    return false;
  }

  /** A record pending longer than `stallWarning` (see StallWatch). */
  private stalled(held: HeldRecord<I, O>, age: number): void {
    this.metrics.stalls++;
    this.warn({
      kind: 'stall', input: held.input?.value, age, error: undefined,
      message: `${this.operator}: a call has been pending for ${age} ms (stallWarning ${this.options.stallWarning} ms)${this.options.timeout === Infinity ? ', and there is no timeout: it may never settle' : ''}`,
    });
  }

  /** Reports a warning; what the hook throws is ignored (a warning hook must not take the pipeline down). */
  private warn(warning: AsyncWarning): void {
    const onWarning = this.options.onWarning;
    if (onWarning === undefined) return;
    try {
      onWarning(warning);
    } catch {
      // See above: documented on the option.
    }
  }

  private scheduleRetry(held: HeldRecord<I, O>, reason: RetryReason<O>): void {
    const retryNumber = held.attempts;
    let delay: number;
    try {
      delay = this.options.retry!.delayOf(retryNumber, reason);
    } catch (err) {
      this.fail(err);
      return;
    }
    if (this.closed) return; // the delay function may have unsubscribed us: no timer may outlive teardown
    held.result = undefined; // a rejected single result is not kept while the retry waits
    if (typeof delay !== 'number' || !(delay >= 0) || delay === Infinity) {
      this.fail(new TypeError(`${this.operator}: option "retry.delay" returned ${describe(delay)} for retry ${retryNumber}; it must return a finite number >= 0`));
      return;
    }
    held.lastFailure = reason.kind === 'error' ? reason.error : undefined;
    // A retry never outlives the budget: if it could not start before the deadline, the timeout settles
    // the record (FLINK-38082: no retry after the timeout; FLINK-40456: and the record must not hang).
    if (this.scheduler.now() + delay >= held.deadline) {
      held.state = TIMEOUT_WAIT;
      return;
    }
    held.state = RETRY_WAIT;
    // scheduleAfter honours a delay beyond setInterval's limit (a 30-day backoff), re-arming as needed. A
    // scheduler may run a 0 ms retry synchronously (queueScheduler), and that attempt may schedule the next
    // retry: then there is nothing of this one to keep, and `ran` stops it overwriting the next one's handle.
    let ran = false;
    const action = scheduleAfter(this.scheduler, delay, () => {
      ran = true;
      held.retryAction = null;
      this.startAttempt(held);
    });
    if (!ran) held.retryAction = action;
  }

  /** The record's time budget ran out while its call, retry wait or timeout wait was pending. */
  private expire(held: HeldRecord<I, O>): void {
    if (held.state === CALL_WAIT) this.metrics.waitingForCall--; // it leaves the call queue (skipped there)
    held.cancelWork();
    const permit = held.permit;
    if (permit !== null) {
      // A timeout is a drop only if the call itself ran for at least half the budget. A record that waited for a
      // call slot and was called with little budget left times out without the service being slow: counting it
      // would cut the limit, which makes records wait longer, which makes more such timeouts (a collapse to 1).
      const ran = this.scheduler.now() - permit.startedAt;
      this.releaseCall(held, ran >= this.options.timeout / 2 ? 'drop' : 'ignore');
      this.expireReleased(held);
      this.pumpCalls();
      return;
    }
    this.expireReleased(held);
  }

  private expireReleased(held: HeldRecord<I, O>): void {
    const value = held.input!.value;
    const timeout = new AsyncTimeoutError(this.operator, value, this.options.timeout, held.attempts, held.lastFailure);
    held.abortSignal(timeout);
    // The user's abort listener may have ended the subscription (and released this record): nothing more to do.
    if (this.closed) return;
    this.metrics.timedOut++;
    const onTimeout = this.options.onTimeout;
    if (onTimeout === undefined) {
      this.fail(timeout);
      return;
    }
    const ctx = new CallContext(held, held.attempts, held.input!.timestamp);
    this.startFallback(held, 'onTimeout', () => onTimeout(value, ctx));
  }

  /** Runs onTimeout / onError and collects its results (no retry, no timeout) as the record's final results. */
  private startFallback(held: HeldRecord<I, O>, source: CallSource, invoke: () => unknown): void {
    if (this.inFlight !== null) this.inFlight.fallbackStarted(held);
    held.state = FALLBACK;
    let result: unknown;
    try {
      result = invoke();
    } catch (err) {
      this.fail(err);
      return;
    }
    this.subscribeTo(held, result, source);
  }

  /** The record has its final results: it now waits for its turn. */
  private settle(held: HeldRecord<I, O>, results: O[]): void {
    if (this.inFlight !== null) this.inFlight.settled(held);
    held.state = DONE;
    held.results = results;
    held.lastFailure = undefined;
    this.metrics.inFlight--;
    this.metrics.waiting++;
    this.queue.recordDone(held);
    // Its turn ends: the next record of its key may start (before the drain: its call overlaps the emission).
    if (this.turns !== null) this.turns.settled(held);
    this.drain();
  }

  // ---- output ------------------------------------------------------------------------------------------

  private drain(): void {
    if (this.draining) {
      this.redrain = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.redrain = false;
        this.queue.flush(this);
      } while (this.redrain && !this.closed);
    } finally {
      this.draining = false;
    }
    if (this.pendingBarriers !== 0 && !this.closed) {
      // Barriers that arrived during the loop may leave now, with what follows them; a marker admitted after
      // them may be emittable at once, hence another pass. No progress (capacity full ahead of the barrier):
      // the next completion's drain tries again.
      const waiting = this.pending.length;
      this.admitPending();
      if (this.pending.length !== waiting) {
        this.drain();
        return;
      }
    }
    // After the loop, at a consistent point: a drained operator reopens the gate, which may resume a source
    // synchronously, and its items then arrive here as new input (onInput copes: the loop is not running).
    if (!this.closed) this.flow?.update(this.pending.length !== 0);
    this.maybeComplete();
  }

  emitRecord(held: HeldRecord<I, O>): void {
    const results = held.results!;
    const timestamp = held.input!.timestamp;
    held.results = null;
    held.input = null;
    this.heldSlots--;
    const subscriber = this.subscriber;
    const metrics = this.metrics;
    metrics.waiting--;
    if (results === ONE_RESULT) {
      const value = held.result as O;
      held.result = undefined;
      metrics.emitted++;
      subscriber.next(recordOf(value, timestamp));
      this.admitPending();
      return;
    }
    for (let i = 0; i < results.length; i++) {
      if (this.closed) return;
      metrics.emitted++;
      subscriber.next(recordOf(results[i], timestamp));
    }
    this.admitPending();
  }

  emitMarker(element: unknown): void {
    if (!takesSlot(element)) {
      this.subscriber.next(element as StreamElement<O>);
      return;
    }
    this.heldSlots--;
    this.metrics.waiting--;
    this.subscriber.next(element as StreamElement<O>);
    this.admitPending(); // its slot is free: the next input may start
  }

  private maybeComplete(): void {
    if (this.sourceDone && !this.closed && !this.draining && this.pending.length === 0 && this.queue.isEmpty()) {
      this.closed = true;
      this.subscriber.complete();
    }
  }

  /** Errors the output. Teardown (abort, cancel, release) follows from the subscriber's finalizer. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.error(err);
  }

  /** Runs once, on complete, error or unsubscribe: nothing keeps running afterwards. */
  private teardown(): void {
    this.closed = true; // from here on, anything the source still delivers is ignored
    const metrics = this.metrics;
    this.queue.forEach((node: QueueNode<I, O>) => {
      if (node.isMarker) {
        if (takesSlot(node.element)) metrics.waiting--;
        return;
      }
      if (node.state === DONE) {
        metrics.waiting--;
      } else {
        if (node.state === CALL_WAIT) metrics.waitingForCall--;
        else if (node.state === KEY_WAIT) metrics.waitingForKey--;
        node.permit = null;
        metrics.inFlight--;
        node.cancelWork();
        node.abortSignal(undefined);
      }
      node.results = null;
      node.result = undefined;
      node.input = null;
    });
    metrics.buffered -= this.pending.length;
    this.heldSlots = 0;
    this.caller?.clear(); // every held record was withdrawn from its batch above
    this.queue.clear(); // unlinks the held nodes from each other too
    this.pending.clear();
    this.pendingBarriers = 0;
    this.flow?.leave();
    this.callQueue.clear();
    this.retryQueue.clear();
    this.turnQueue.clear();
    this.turns?.clear(); // after the queue: the records are unlinked from their keys too
    this.gate?.clear();
    this.stalls?.clear();
    if (this.inFlight !== null) {
      this.inFlight.clear();
      if (this.options.metrics !== undefined) this.metrics.untrack(this.inFlight);
    }
  }
}

/** True for a held non-record element that took a capacity slot: anything but a watermark (see admitMarker). */
function takesSlot(element: unknown): boolean {
  return (element as StreamElement<unknown>).kind !== 'watermark';
}

/** What an async-wait snapshot may hold: records, watermarks and side outputs from upstream. */
function isHeldInput(value: unknown): boolean {
  const kind = (value as { kind?: unknown } | null)?.kind;
  return kind === 'record' || kind === 'watermark' || kind === 'sideOutput';
}

/** Promise.prototype.then as loaded: see subscribeTo. */
const nativeThen = Promise.prototype.then as <T>(this: Promise<T>, onFulfilled: (value: T) => void, onRejected: (err: unknown) => void) => Promise<void>;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as PromiseLike<unknown>).then === 'function';
}
