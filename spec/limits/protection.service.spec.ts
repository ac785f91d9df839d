import { Observable, VirtualTimeScheduler, range } from 'rxjs';
import { asyncWaitMetrics, asyncWaitUnordered, type AsyncWaitCounters } from 'rxjs-sluice';
import { soak } from '../support/soak';

/**
 * Adaptive concurrency against a simulated service, in virtual time (a VirtualTimeScheduler drives the operator and
 * the service alike, so every run is exact and repeatable).
 *
 * The service: 8 servers, each call takes 5 ms of service, a FIFO queue of at most 16 calls in front of them; a call
 * that finds the servers busy and the queue full is rejected at once with an OverloadError (`overload: true`). It
 * never learns that a caller gave up: a call abandoned by its timeout is served all the same.
 *
 * The optimum: 8 calls in flight (the servers). That is the service's whole throughput (1.6 calls per ms) at its
 * no-load latency; each call beyond 8 only waits in the queue (5/8 ms more latency per extra call), and the 25th is
 * rejected. No queue is counted as acceptable: the 16 places are the service's buffer against bursts, not a target.
 * "Within 2x" then means: the time-averaged limit over the last half of the run, to the nearest whole call, lies in
 * [optimum / 2, 2 · optimum] = [4, 16]; and it stays there: in the last half, the limit never leaves [4, 24], 24 being
 * the most calls the service takes without rejecting one (headroom of 8 above 2 · optimum).
 *
 * The load: a backlog of records (a flood: the source is read as fast as `capacity` admits) through
 * asyncWaitUnordered with capacity 100, timeout 100, 3 retries with backoff, and fallbacks for timeouts and errors.
 *
 * A slowed service: the same, but each call takes 20 ms from t = SLOWED_AT on (a quarter of the throughput, 0.4
 * calls per ms; the optimum stays 8 calls in flight). The timeout is then 1,000 ms: the timeout counts the time an
 * admitted record waits for a call slot, and 100 records at 0.4 calls per ms wait 250 ms, so a 100 ms timeout
 * would fail records whatever the limit.
 */

const SERVERS = 8;
const SERVICE_MS = 5;
const QUEUE = 16;
const OPTIMUM = SERVERS;
const RECORDS = soak(2_000, 10_000);
const SLOWED_AT = 500;
const SLOWED_MS = 20;
const SLOWED_RECORDS = soak(3_000, 10_000);

class OverloadError extends Error {
  readonly overload = true;
}

/** The simulated service (see the file's header), on a virtual clock. */
class SimulatedService {
  /** Calls being served. */
  private serving = 0;
  /** Calls waiting for a server, oldest first: each starts its service when one is free. */
  private readonly queue: (() => void)[] = [];
  /** Index of the oldest waiting call in `queue`. */
  private head = 0;
  /** Calls rejected because the queue was full. */
  rejected = 0;
  /** Calls served after their caller had given up. */
  wasted = 0;

  constructor(
    private readonly scheduler: VirtualTimeScheduler,
    private readonly queueLimit: number,
    /** How long a call takes to serve when its service starts at `now`. */
    private readonly serviceMs: (now: number) => number,
  ) {}

  /** Calls in the service: served or queued. */
  get load(): number {
    return this.serving + this.queue.length - this.head;
  }

  call<T>(answer: T): Observable<T> {
    return new Observable<T>((subscriber) => {
      if (this.serving >= SERVERS && this.queue.length - this.head >= this.queueLimit) {
        this.rejected++;
        subscriber.error(new OverloadError('the service queue is full'));
        return;
      }
      let abandoned = false;
      const serve = () => {
        this.serving++;
        this.scheduler.schedule(() => {
          this.serving--;
          if (this.head < this.queue.length) this.queue[this.head++]!();
          if (abandoned) {
            this.wasted++;
            return;
          }
          subscriber.next(answer);
          subscriber.complete();
        }, this.serviceMs(this.scheduler.now()));
      };
      if (this.serving < SERVERS) serve();
      else this.queue.push(serve);
      return () => {
        abandoned = true;
      };
    });
  }
}

/** One sample of the operator's gauges, every ms of the run. */
interface Point {
  readonly t: number;
  readonly limit: number | null;
  readonly sampleRtt: number | null;
  readonly minRtt: number | null;
  /** Records emitted so far. */
  readonly emitted: number;
}

interface Outcome {
  readonly end: number;
  readonly emitted: number;
  readonly completed: boolean;
  readonly rejected: number;
  readonly wasted: number;
  readonly metrics: AsyncWaitCounters;
  readonly trajectory: Point[];
}

/** How a run differs from the default one. */
interface Variant {
  readonly queueLimit?: number;
  /** How long a call takes to serve when its service starts at `now` (SERVICE_MS by default). */
  readonly serviceMs?: (now: number) => number;
  readonly timeout?: number;
  readonly records?: number;
}

/** Runs RECORDS records through the service, with an adaptive limiter or a fixed limit of `capacity` calls. */
function simulate(limiter: 'aimd' | 'gradient' | 'fixed', variant: Variant = {}): Outcome {
  const { queueLimit = QUEUE, serviceMs = () => SERVICE_MS, timeout = 100, records = RECORDS } = variant;
  const scheduler = new VirtualTimeScheduler(undefined, Infinity);
  const service = new SimulatedService(scheduler, queueLimit, serviceMs);
  const metrics = asyncWaitMetrics();
  const trajectory: Point[] = [];
  let done = false;
  const sample = () => {
    trajectory.push({ t: scheduler.now(), limit: metrics.concurrencyLimit, sampleRtt: metrics.sampleRtt, minRtt: metrics.minRtt, emitted });
    if (!done) scheduler.schedule(sample, 1);
  };
  let emitted = 0;
  scheduler.schedule(sample, 0);
  range(0, records).pipe(asyncWaitUnordered((x: number) => service.call(x), {
    input: 'values',
    capacity: 100,
    timeout,
    retry: { maxRetries: 3, delay: { initial: 5, multiplier: 2, max: 40 } },
    onTimeout: () => [-1],
    onError: () => [-2],
    scheduler,
    metrics,
    ...(limiter === 'fixed' ? {} : {
      concurrency: { adaptive: { limiter, isOverload: (e: unknown) => (e as { overload?: unknown }).overload === true } },
    }),
  })).subscribe({ next: () => emitted++, complete: () => (done = true) });
  scheduler.flush();
  return { end: scheduler.now(), emitted, completed: done, rejected: service.rejected, wasted: service.wasted, metrics: metrics.snapshot(), trajectory };
}

/** The limits of the last half of the run, and their time average (one sample per ms). */
function lastHalf(outcome: Outcome): { limits: number[]; average: number } {
  const limits = outcome.trajectory.filter((p) => p.t >= outcome.end / 2).map((p) => p.limit!);
  return { limits, average: limits.reduce((sum, l) => sum + l, 0) / limits.length };
}

/** The trajectory every 50 ms, for the failure message: t, limit, sampleRtt, minRtt. */
const summary = (outcome: Outcome): string =>
  outcome.trajectory.filter((p) => p.t % 50 === 0).map((p) => `${p.t}:${p.limit}/${p.sampleRtt?.toFixed(1)}/${p.minRtt}`).join(' ');

const runs = new Map<string, Outcome>();
/** Each configuration is simulated once, whichever tests read it. */
const outcomeOf = (limiter: 'aimd' | 'gradient' | 'fixed', queueLimit = QUEUE): Outcome => {
  const key = `${limiter}/${queueLimit}`;
  if (!runs.has(key)) runs.set(key, simulate(limiter, { queueLimit }));
  return runs.get(key)!;
};

describe('adaptive concurrency against a simulated service (8 servers, 5 ms, a queue of 16)', () => {
  it.each(['aimd', 'gradient'] as const)('%s: the limit settles within 2x of the optimum (8 calls in flight) and stays there', (limiter) => {
    // Act
    const outcome = outcomeOf(limiter);

    // Assert
    const { limits, average } = lastHalf(outcome);
    const context = `${limiter}: average ${average.toFixed(2)}, range [${Math.min(...limits)}, ${Math.max(...limits)}]; t:limit/sampleRtt/minRtt ${summary(outcome)}`;
    expect({ context, ok: Math.round(average) >= OPTIMUM / 2 && Math.round(average) <= 2 * OPTIMUM }).toEqual({ context, ok: true });
    expect({ context, ok: limits.every((l) => l >= OPTIMUM / 2 && l <= SERVERS + QUEUE) }).toEqual({ context, ok: true });
    expect(outcome.emitted).toBe(RECORDS);
    expect(outcome.completed).toBe(true);
  });

  it.each(['aimd', 'gradient'] as const)('%s: without an overload signal (an unbounded queue), latency alone keeps the limit within 2x of the optimum', (limiter) => {
    // Act
    const outcome = outcomeOf(limiter, Infinity);

    // Assert
    const { limits, average } = lastHalf(outcome);
    const context = `${limiter}: average ${average.toFixed(2)}, range [${Math.min(...limits)}, ${Math.max(...limits)}]; t:limit/sampleRtt/minRtt ${summary(outcome)}`;
    expect({ context, ok: Math.round(average) >= OPTIMUM / 2 && Math.round(average) <= 2 * OPTIMUM }).toEqual({ context, ok: true });
    expect(outcome.emitted).toBe(RECORDS);
  });

  it.each(['aimd', 'gradient'] as const)('%s: far fewer rejections and lost records than a fixed limit of capacity (100) calls', (limiter) => {
    // Act
    const adaptive = outcomeOf(limiter);
    const fixed = outcomeOf('fixed');

    // Assert: the fixed limit floods the queue, and its retries flood it again; most of its failures are for good.
    const lost = (o: Outcome) => o.metrics.failed + o.metrics.timedOut;
    expect(fixed.rejected).toBeGreaterThan(RECORDS);
    expect(lost(fixed)).toBeGreaterThan(RECORDS / 4);
    expect(adaptive.rejected * 10).toBeLessThan(fixed.rejected);
    expect(lost(adaptive) * 10).toBeLessThan(lost(fixed));
    expect(adaptive.emitted).toBe(RECORDS);
    // The adaptive limit costs no throughput: the service's 1.6 calls per ms, within 5%.
    expect(adaptive.end).toBeLessThanOrEqual((RECORDS / (SERVERS / SERVICE_MS)) * 1.05);
  });

  it.each(['aimd', 'gradient'] as const)('%s: when the service slows from 5 to 20 ms a call, minRtt follows within a probe interval, and throughput recovers', (limiter) => {
    // Act
    const outcome = simulate(limiter, {
      serviceMs: (now) => (now < SLOWED_AT ? SERVICE_MS : SLOWED_MS), timeout: 1_000, records: SLOWED_RECORDS,
    });

    // Assert: minRtt is 20 within 3 s of the change (at most a probe interval, 50 windows of two round trips, 40 to
    // 60 ms, plus the probe; 'aimd', cut to its min 1 by latency, probes there at once) and stays there; from 1 s
    // after that to the last second of the run, the service's whole new throughput (8 / 20 calls per ms) within
    // 10%; nothing lost.
    const { trajectory } = outcome;
    const context = `${limiter}: t:limit/sampleRtt/minRtt ${summary(outcome)}`;
    const followedAt = trajectory.find((p) => p.t >= SLOWED_AT && p.minRtt === SLOWED_MS)?.t ?? Infinity;
    const stays = trajectory.every((p) => p.t < followedAt || p.minRtt === SLOWED_MS);
    expect({ context, ok: followedAt - SLOWED_AT <= 3_000 && stays }).toEqual({ context, ok: true });
    const from = trajectory.find((p) => p.t === followedAt + 1_000)!;
    const to = trajectory.find((p) => p.t === outcome.end - 1_000)!;
    const rate = (to.emitted - from.emitted) / (to.t - from.t);
    expect({ context, rate, ok: rate >= 0.9 * (SERVERS / SLOWED_MS) }).toEqual({ context, rate, ok: true });
    expect(outcome.emitted).toBe(SLOWED_RECORDS);
    expect(outcome.metrics.failed + outcome.metrics.timedOut).toBe(0);
  });
});
