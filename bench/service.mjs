// The simulated service the scenarios call in real time (batching, saturation): a queueing model with a number of
// slots (servers) and a FIFO queue in front of them, optionally bounded (it then rejects with an overload error)
// and optionally slower while a backlog waits (a service past its knee). The time is real: the service computes
// when each request is done and answers then, never earlier.

/**
 * Calls `cb` once performance.now() has reached `due`. Node timers count whole ms from the event loop's cached
 * time, so they fire up to about 1 ms early or late: a timer covers all but the last 1-2 ms, then setImmediate
 * turns poll the clock (each turn also runs whatever else is due, so the operators are not held up).
 */
export function wakeAt(due, cb) {
  const wait = due - performance.now();
  if (wait >= 2) setTimeout(wakeAt, Math.floor(wait) - 1, due, cb);
  else if (wait > 0) setImmediate(wakeAt, due, cb);
  else cb();
}

/** What the service rejects a request with when its queue is full: an Error whose `overload` is true. */
export class OverloadError extends Error {
  constructor() {
    super('overload: the service queue is full');
    this.name = 'OverloadError';
    this.overload = true;
  }
}

/**
 * The simulated service. `request(cost, answer, signal)` takes a slot for `cost` ms (stretched by the slowdown,
 * below), then resolves to `answer()`. At most `slots` requests are served at once; the others wait in a FIFO
 * queue of at most `queueLimit` (default: unbounded); a request that finds the slots busy and the queue full is
 * rejected at once with an {@link OverloadError}.
 *
 * Slowdown: a request starting while more than `knee` others wait in the queue costs
 * `cost * (1 + slowdown * (waiting - knee))` (the memory, cache misses and lock contention a backlog costs a real
 * service). 0 by default: the cost is the cost.
 *
 * The service never learns that a caller gave up: a request whose `signal` is aborted by the time it is answered
 * (its record timed out) was served all the same, and is counted as wasted. With `trace`, every answer's time and
 * latency (from the request to the answer, queueing included) are kept for the figures and the chart.
 */
export class SimulatedService {
  constructor({ slots, queueLimit = Infinity, knee = 0, slowdown = 0, trace = false }) {
    this.slots = slots;
    this.queueLimit = queueLimit;
    this.knee = knee;
    this.slowdown = slowdown;
    this.createdAt = performance.now();
    this.serving = 0;
    this.queue = [];
    this.queueHead = 0;
    this.requests = 0; // answered
    this.rejected = 0;
    this.wasted = 0; // answered after the caller had given up
    this.busySlotMs = 0; // from taking a slot to answering
    this.modelledMs = 0; // the cost model's time for the requests served (stretched by the slowdown)
    this.lateMs = 0; // answers after their due time (the thread was busy, or timer granularity)
    this.maxQueued = 0;
    // With trace: when each request was answered (ms since createdAt) and its latency (ms), one entry an answer.
    this.answeredAt = trace ? [] : null;
    this.latencies = trace ? [] : null;
    this.idleWaiters = [];
  }

  /** Resolves once nothing is being served (and so nothing queued): the calls its callers gave up on are done. */
  idle() {
    return this.serving === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  request(cost, answer, signal) {
    if (this.serving >= this.slots && this.queue.length - this.queueHead >= this.queueLimit) {
      this.rejected++;
      return Promise.reject(new OverloadError());
    }
    return new Promise((resolve) => {
      const job = { cost, answer, signal, resolve, arrived: performance.now(), start: 0, due: 0 };
      if (this.serving < this.slots) this.serve(job);
      else {
        this.queue.push(job);
        const queued = this.queue.length - this.queueHead;
        if (queued > this.maxQueued) this.maxQueued = queued;
      }
    });
  }

  serve(job) {
    this.serving++;
    job.start = performance.now();
    const backlog = this.queue.length - this.queueHead - this.knee;
    const cost = backlog > 0 && this.slowdown > 0 ? job.cost * (1 + this.slowdown * backlog) : job.cost;
    this.modelledMs += cost;
    job.due = job.start + cost;
    wakeAt(job.due, () => this.answer(job));
  }

  answer(job) {
    const now = performance.now();
    this.busySlotMs += now - job.start;
    this.lateMs += now - job.due;
    this.serving--;
    this.requests++;
    if (job.signal?.aborted) this.wasted++;
    if (this.latencies !== null) {
      this.answeredAt.push(now - this.createdAt);
      this.latencies.push(now - job.arrived);
    }
    if (this.queueHead < this.queue.length) {
      const next = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined;
      if (this.queueHead === this.queue.length) this.queue.length = this.queueHead = 0;
      this.serve(next);
    }
    job.resolve(job.answer());
    if (this.serving === 0 && this.idleWaiters.length > 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** The figures of a finished run. */
  stats() {
    const wallMs = performance.now() - this.createdAt;
    return {
      wallMs,
      requests: this.requests,
      rejected: this.rejected,
      wasted: this.wasted,
      maxQueued: this.maxQueued,
      busy: this.busySlotMs / (this.slots * wallMs),
      modelled: this.modelledMs / (this.slots * wallMs),
      meanLateMs: this.requests === 0 ? 0 : this.lateMs / this.requests,
    };
  }
}
