import { from, isObservable, type Observable, type Subscription } from 'rxjs';
import { type HeldRecord } from '../asyncWait/heldRecord.js';
import { type CallerHost, type RecordCaller } from '../asyncWait/recordCaller.js';
import { ChunkQueue } from '../shared/chunkQueue.js';
import { describe } from '../shared/describe.js';
import { scheduleAfter } from '../shared/schedulerDelay.js';
import { AsyncBatchError } from './AsyncBatchError.js';
import { MutableAsyncBatchMetrics } from './asyncBatchMetrics.js';
import { Batch, BatchContext, ENDED, OPEN, READY, RUNNING, type BatchOwner, type FlushReason } from './batch.js';
import { entryKind, type BatchFailure, type BatchResults } from './batchEntries.js';
import { type BatchFunction, type ResolvedAsyncBatchOptions } from './options.js';
import { makeCallGate, type CallGate, type CallOutcome, type Permit } from '../limits/callGate.js';

/**
 * The calls of a batching operator: the RecordCaller that asyncWait's run hands each record attempt to. Records
 * join the open batch; a batch is flushed when it is full (`maxBatchSize`, `maxBatchWeight`) and becomes due
 * when `linger` has passed, its records hold every capacity slot, or the input has ended. Flushed batches start in
 * order, at most `maxInFlightBatches` at a time; a due batch starts as soon as a slot is free, and keeps
 * taking records until then (so a saturated service gets fuller batches, never later ones). Each record's
 * entry in the result goes back to the run as that record's outcome: the run does the rest (retries per
 * record, timeouts, fallbacks, ordering, snapshots).
 *
 * Concurrency model: batchFn may complete synchronously, and delivering results re-enters the run (emission,
 * admission of queued input, new records joining the open batch, even teardown). So starting batches goes
 * through one non-reentrant loop (pump), which re-checks `host.closed` after every start.
 */
export class Batcher<I, O> implements RecordCaller<I, O>, BatchOwner {
  /** The batch taking records; null until a record arrives after the last one left. */
  private open: Batch<I, O> | null = null;
  /** Flushed batches waiting for a call slot, oldest first. Emptied on clear(). */
  private readonly ready = new ChunkQueue<Batch<I, O>>();
  /** Batches whose call is in flight: at most maxInFlightBatches. Cancelled on clear(). */
  private readonly running = new Set<Batch<I, O>>();
  /** The open batch's timer (linger, or 0 ms after the end of input); null when none is armed. */
  private lingerTimer: Subscription | null = null;
  /** True once the source has completed: every batch is then due at once. */
  private ended = false;
  /** True while pump() runs; a re-entrant pump() only asks it to go round again. */
  private pumping = false;
  /** Set by a re-entrant pump(): the running loop makes one more pass. */
  private repump = false;
  /** The per-batch counters: the user's metrics object, or a private one. */
  private readonly metrics: MutableAsyncBatchMetrics;
  /**
   * When batches may start under `concurrency.adaptive` (batches in flight) and `rateLimit` (a token per record);
   * null without either: then `maxInFlightBatches` alone bounds them.
   */
  private readonly gate: CallGate | null;
  /** The gate permit of each running batch. */
  private readonly permits = new Map<Batch<I, O>, Permit>();

  constructor(
    private readonly operator: string,
    private readonly host: CallerHost<I, O>,
    private readonly fn: BatchFunction<I, O>,
    private readonly options: ResolvedAsyncBatchOptions<I, O>,
  ) {
    this.metrics = options.batchMetrics ?? new MutableAsyncBatchMetrics();
    this.gate = makeCallGate(options.scheduler, options.concurrency, options.rateLimit, options.maxInFlightBatches, host.gateCounters, () => this.pump());
  }

  // ---- records in ----------------------------------------------------------------------------------------

  call(held: HeldRecord<I, O>): void {
    const options = this.options;
    let weight = 0;
    if (options.weigh !== undefined) {
      const weighed = this.weightOf(held);
      if (weighed === null) return;
      weight = weighed;
      const full = this.open;
      if (full !== null && full.weight + weight > options.maxBatchWeight) this.flush(full, 'weight');
    }
    let batch = this.open;
    const fresh = batch === null;
    if (batch === null) batch = this.open = new Batch<I, O>(this, options.weigh !== undefined);
    held.call = batch;
    held.batchIndex = batch.members.length;
    batch.members.push(held);
    batch.live++;
    if (batch.weights !== null) {
      batch.weights.push(weight);
      batch.weight += weight;
    }
    if (batch.live >= options.maxBatchSize) this.flush(batch, 'size');
    else if (batch.weight >= options.maxBatchWeight) this.flush(batch, 'weight');
    else if (this.host.onlyHeldBy(batch.live)) this.makeDue(batch, 'capacity');
    // After the end of input only retries come: they go at the end of the current task (a 0 ms timer), so
    // the retries that fall due together share a batch, without waiting for linger.
    else if (fresh) this.armTimer(batch, this.ended ? 0 : options.linger, this.ended ? 'end' : 'linger');
  }

  /** The record's weight, or null after failing the output (weigh threw, or returned no valid weight). */
  private weightOf(held: HeldRecord<I, O>): number | null {
    const value = held.input!.value;
    let weight: unknown;
    try {
      weight = this.options.weigh!(value);
    } catch (err) {
      this.host.fail(err);
      return null;
    }
    if (this.host.closed) return null; // weigh may have unsubscribed us
    const limit = this.options.maxBatchWeight;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      this.host.fail(new AsyncBatchError(this.operator, 'weight', value, weight,
        `option "weigh" returned ${describe(weight)} for ${describe(value)}; it must return a finite number >= 0`, limit));
      return null;
    }
    if (weight > limit) {
      this.host.fail(new AsyncBatchError(this.operator, 'weight', value, weight,
        `a record weighs ${weight}, more than "maxBatchWeight" (${limit}) by itself: no batch can take it`, limit, weight));
      return null;
    }
    return weight;
  }

  inputEnded(): void {
    this.ended = true;
    const open = this.open;
    if (open !== null) this.makeDue(open, 'end');
  }

  /** The open batch is complete: it waits for a call slot (in order behind earlier ones), and a new one opens. */
  private flush(batch: Batch<I, O>, reason: FlushReason): void {
    this.metrics.flushes[reason]++;
    this.open = null;
    this.cancelLinger();
    batch.state = READY;
    this.ready.push(batch);
    this.pump();
  }

  /**
   * The open batch should go as soon as a call slot is free. Until then it stays open and keeps taking records
   * (a full one is flushed as usual); the first reason is the one counted, when it starts.
   */
  private makeDue(batch: Batch<I, O>, reason: FlushReason): void {
    if (batch.due === null) batch.due = reason;
    this.cancelLinger();
    this.pump();
  }

  /**
   * Arms the timer of a batch that has just opened: it becomes due (for `reason`) after `delay` ms. There is
   * one timer at a time, cancelled whenever its batch leaves, so it never flushes a later batch early. A
   * synchronous scheduler may run it at once.
   */
  private armTimer(batch: Batch<I, O>, delay: number, reason: FlushReason): void {
    let ran = false;
    const timer = scheduleAfter(this.options.scheduler, delay, () => {
      ran = true;
      this.lingerTimer = null;
      if (this.open === batch) this.makeDue(batch, reason);
    });
    if (!ran) this.lingerTimer = timer;
  }

  private cancelLinger(): void {
    const timer = this.lingerTimer;
    this.lingerTimer = null;
    if (timer !== null) timer.unsubscribe();
  }

  /** A record withdrew from its batch (HeldRecord.cancelWork: it timed out, or the run is tearing down). */
  withdraw(withdrawn: object, record: object): void {
    const batch = withdrawn as Batch<I, O>;
    batch.live--;
    if (batch.state === OPEN || batch.state === READY) {
      const index = (record as HeldRecord<I, O>).batchIndex;
      batch.members[index] = null;
      if (batch.weights !== null) batch.weight -= batch.weights[index]!;
      if (batch.live === 0 && batch === this.open) {
        this.open = null;
        this.cancelLinger();
      }
      return;
    }
    if (batch.state === RUNNING && batch.live === 0) {
      // Nobody waits for this call any more: abandon it (unsubscribe it, abort its signal: cancel() needs the
      // subscription that end() drops, so it comes first), and give its slot to the next batch.
      batch.cancel(undefined);
      this.end(batch, 'drop'); // every record timed out waiting for it: a drop, for the limiter
      this.pump();
    }
  }

  // ---- calls ---------------------------------------------------------------------------------------------

  /** Starts ready batches, then a due open one, while call slots are free. Not re-entrant (see the class). */
  private pump(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        while (!this.host.closed && this.running.size < this.options.maxInFlightBatches) {
          let batch = this.ready.peekFront();
          const fromOpen = batch === undefined;
          if (batch === undefined) {
            const open = this.open;
            if (open === null || open.due === null) break;
            batch = open;
          }
          // The gate (adaptive limit, rate limit: a token per record) is asked before the batch leaves its place,
          // so a batch it holds back keeps its turn. One whose records all timed out while it waited is dropped.
          const permit = batch.live === 0 || this.gate === null ? null : this.gate.tryAcquire(batch.live);
          if (batch.live !== 0 && this.gate !== null && permit === null) break; // a batch ends, or tokens come
          if (fromOpen) {
            this.metrics.flushes[batch.due!]++;
            this.open = null;
          } else {
            this.ready.shift(); // ChunkQueue: O(1)
          }
          if (batch.live === 0) continue;
          if (permit !== null) this.permits.set(batch, permit);
          this.start(batch);
        }
      } while (this.repump && !this.host.closed);
    } finally {
      this.pumping = false;
    }
  }

  private start(batch: Batch<I, O>): void {
    // The members as sent: the withdrawn ones left out, each record's index now its entry's index.
    const members: HeldRecord<I, O>[] = [];
    const values: I[] = [];
    const attempts: number[] = [];
    const timestamps: (number | undefined)[] = [];
    let attempt = 1;
    for (const held of batch.members) {
      if (held === null) continue;
      held.batchIndex = members.length;
      members.push(held);
      const input = held.input!;
      values.push(input.value);
      timestamps.push(input.timestamp);
      attempts.push(held.attempts);
      if (held.attempts > attempt) attempt = held.attempts;
    }
    batch.members = members;
    batch.state = RUNNING;
    this.running.add(batch);
    this.metrics.batchStarted(members.length);
    let result: unknown;
    try {
      result = this.fn(values, new BatchContext(batch as Batch<unknown, unknown>, attempt, Object.freeze(attempts), Object.freeze(timestamps)));
    } catch (err) {
      this.batchFailed(batch, err); // a synchronous throw is that call failing
      return;
    }
    if (batch.state !== RUNNING) return; // fn unsubscribed us, or withdrew every record, re-entrantly
    if (Array.isArray(result)) {
      this.batchDone(batch, values, result);
      return;
    }
    this.subscribeTo(batch, values, result);
  }

  /** Waits for what batchFn returned: a Promise or an Observable (any ObservableInput) of one array. */
  private subscribeTo(batch: Batch<I, O>, values: I[], result: unknown): void {
    const id = batch.callId;
    if (result instanceof Promise) {
      try {
        result.then(
          (value: unknown) => batch.callId === id && this.batchDone(batch, values, value),
          (err: unknown) => batch.callId === id && this.batchFailed(batch, err),
        );
      } catch (err) {
        this.batchFailed(batch, err); // a Promise subclass whose then() throws: that call failed
      }
      return;
    }
    let observable: Observable<unknown>;
    try {
      observable = isObservable(result) ? result : from(result as never);
    } catch {
      this.resultTypeError(batch, values, result, `batchFn returned ${describe(result)}, which is neither an array nor an ObservableInput of one`);
      return;
    }
    /** The values the call emitted: it must emit exactly one. */
    let emitted = 0;
    let first: unknown;
    const subscription = observable.subscribe({
      next: (value) => {
        if (batch.callId !== id) return;
        if (++emitted === 1) first = value;
      },
      error: (err: unknown) => batch.callId === id && this.batchFailed(batch, err),
      complete: () => {
        if (batch.callId !== id) return;
        if (emitted === 1) this.batchDone(batch, values, first);
        else this.resultTypeError(batch, values, emitted, `batchFn's call emitted ${emitted} values; it must emit exactly one array`);
      },
    });
    // A synchronous call has settled already; else keep the subscription to cancel it.
    if (batch.callId === id && batch.state === RUNNING) batch.subscription = subscription;
    else subscription.unsubscribe();
  }

  /**
   * The call settled (or was abandoned): the batch leaves the running set and frees its slot; its gate permit
   * goes back with what the limiter learns from it.
   */
  private end(batch: Batch<I, O>, outcome: CallOutcome = 'ignore'): void {
    const permit = this.permits.get(batch);
    if (permit !== undefined) {
      this.permits.delete(batch);
      this.gate!.release(permit, outcome);
    }
    batch.state = ENDED;
    batch.callId++;
    batch.subscription = null;
    this.running.delete(batch);
    this.metrics.batchesInFlight--;
  }

  private resultTypeError(batch: Batch<I, O>, values: I[], cause: unknown, message: string): void {
    if (batch.state !== RUNNING) return;
    this.end(batch);
    this.host.fail(new AsyncBatchError(this.operator, 'result-type', values, cause, message));
  }

  /** The call delivered `result`: each entry goes to its record, unless that record withdrew meanwhile. */
  private batchDone(batch: Batch<I, O>, values: I[], result: unknown): void {
    if (batch.state !== RUNNING) return;
    if (!Array.isArray(result)) {
      this.resultTypeError(batch, values, result, `batchFn's call delivered ${describe(result)}; it must deliver one array, with one entry per value (${values.length})`);
      return;
    }
    const members = batch.members;
    if (result.length !== members.length) {
      this.end(batch);
      this.host.fail(new AsyncBatchError(this.operator, 'result-length', values, result,
        `batchFn returned ${result.length} entries for ${members.length} values; it must return exactly one entry per value, in order (results are never padded or truncated)`,
        members.length, result.length));
      return;
    }
    this.end(batch, 'ok');
    this.metrics.batchesSucceeded++;
    batch.members = [];
    const host = this.host;
    for (let i = 0; i < members.length; i++) {
      if (host.closed) return;
      const held = members[i]!;
      if (held.call !== batch) continue; // it timed out while the call ran
      deliver(host, held, result[i]);
    }
    this.pump();
  }

  /** The call failed as a whole: every record in it failed with that error (each is retried on its own). */
  private batchFailed(batch: Batch<I, O>, err: unknown): void {
    if (batch.state !== RUNNING) return;
    let overload = false;
    const isOverload = this.options.concurrency?.isOverload;
    if (this.permits.has(batch) && isOverload !== undefined) {
      try {
        overload = isOverload(err) === true;
      } catch (hookError) {
        this.end(batch);
        this.host.fail(hookError);
        return;
      }
    }
    this.end(batch, overload ? 'drop' : 'ignore');
    this.metrics.batchesFailed++;
    const members = batch.members;
    batch.members = [];
    const host = this.host;
    for (let i = 0; i < members.length; i++) {
      if (host.closed) return;
      const held = members[i]!;
      if (held.call === batch) host.callErrored(held, err, 'fn');
    }
    this.pump();
  }

  /** Teardown: every record has withdrawn already; cancel what is left, the timer included. */
  clear(): void {
    this.cancelLinger();
    this.open = null;
    this.ready.clear();
    for (const batch of [...this.running]) {
      batch.cancel(undefined); // before end(), which drops the subscription cancel() unsubscribes
      this.end(batch);
    }
    this.permits.clear();
    this.gate?.clear();
  }
}

/** Hands one record its entry: a result, several (batchResults), or a failure (an Error, batchFailure). */
function deliver<I, O>(host: CallerHost<I, O>, held: HeldRecord<I, O>, entry: unknown): void {
  switch (entryKind(entry)) {
    case 'results':
      host.callCompleted(held, (entry as BatchResults<O>).results as O[], 'fn');
      return;
    case 'failure':
      host.callErrored(held, (entry as BatchFailure).error, 'fn');
      return;
    default:
      if (entry instanceof Error) host.callErrored(held, entry, 'fn');
      else host.callCompletedOne(held, entry as O, 'fn');
  }
}
