import { type LimiterSample } from './limiter.js';

/** How samples are grouped into windows (internal; resolved from `concurrency.adaptive.window`). */
export interface WindowParams {
  /** The shortest window, in ms of scheduler time (>= 0). */
  readonly minTime: number;
  /** The longest window, in ms of scheduler time (>= minTime). */
  readonly maxTime: number;
  /** The fewest samples a window must hold before it may close on time (an integer >= 1). */
  readonly minSamples: number;
}

/** What one closed window tells a limiter (internal). */
export interface SampleWindow {
  /** Mean RTT of the window's calls that were not dropped, in ms; null when every call in it was dropped. */
  readonly avgRtt: number | null;
  /** Lowest RTT of the window's calls that were not dropped, in ms; null when every call in it was dropped. */
  readonly minRtt: number | null;
  /** The most calls in flight any of its calls started with. */
  readonly maxInFlight: number;
  /** Whether any of its calls was dropped (timed out, or failed with an overload error). */
  readonly dropped: boolean;
  /** How many samples it holds, dropped ones included. */
  readonly count: number;
}

/**
 * RTTs below this many ms are counted as this: the scheduler's clock (Date.now for asyncScheduler) counts whole
 * ms, so a 0 ms call means "under a ms", and a 0 ms minimum would make every later ms of jitter look like
 * unbounded queueing (Netflix's WindowedLimit likewise ignores samples under 100 µs).
 */
export const RTT_FLOOR = 1;

/**
 * The no-load RTT estimate (`minRtt`) is the lowest RTT of the current and the previous epoch of this many
 * windows, so of the last 50 to 100 windows (at least 500 calls with the default 10 samples per window): it
 * falls at once when a faster call is seen and rises again when the service has become slower for good, the
 * role of Vegas's periodic minRTT probe, without pinning the limit or any randomness. Sustained queueing does
 * not creep into it, because the limiters cut the limit (bringing latency back down) long before an epoch ends.
 */
export const MIN_RTT_EPOCH = 50;

/**
 * Groups call samples into windows, in the manner of Netflix's `WindowedLimit` (internal): a window keeps the
 * lowest and mean RTT, the highest in-flight count and whether any call was dropped, and a limiter updates once
 * per closed window rather than once per call, so one slow or fast call does not move the limit.
 *
 * Rules (`now` is the scheduler time at which the sample's call ended):
 * - The first sample opens the first window. A window closes when a sample arrives at or after its end and it
 *   then holds at least `minSamples` samples (that sample included). Netflix instead closes it on time and
 *   throws its samples away when there are fewer than `minSamples`, so a slow or lightly used service may never
 *   update; here the window stays open until it has enough.
 * - The next window opens as the previous one closes, and is `clamp(2 * m, minTime, maxTime)` long, where `m`
 *   is the closed window's lowest RTT (Netflix's rule), or the recent `minRtt` if every call in it was dropped:
 *   about two round trips, one for a limit change to take effect and one to see its result.
 * - A dropped call closes its window at once, whatever its length and count, so a limiter reacts to loss
 *   without waiting out the window (Netflix waits). The exception: when the previous window was itself closed
 *   at once by a drop, further drops only mark the current window, which then closes by the rules above. A
 *   burst of calls timing out together (all started under the same, too high limit) thus costs one immediate
 *   cut and one more at the end of the next window, not one cut per call.
 * - A dropped call's RTT is left out of the window's RTTs and of `minRtt`: a timeout measures the timeout, and
 *   a fast rejection would pull the no-load estimate down and make every later healthy call look congested. It
 *   still counts towards `count`, `maxInFlight` and `dropped`.
 * - RTTs are counted as at least {@link RTT_FLOOR} ms.
 *
 * Everything is O(1) per sample.
 */
export class WindowedSamples {
  /** End of the open window, in ms of scheduler time; NaN before the first sample (no window is open). */
  private end = NaN;
  /** Samples in the open window, dropped ones included. */
  private count = 0;
  /** Samples in the open window that were not dropped: the ones whose RTTs are summed. */
  private rttCount = 0;
  /** Sum of the open window's non-dropped RTTs. */
  private rttSum = 0;
  /** Lowest non-dropped RTT of the open window (Infinity when none). */
  private windowMin = Infinity;
  /** Highest in-flight count of the open window's samples. */
  private maxInFlight = 0;
  /** Whether a sample of the open window was dropped. */
  private dropped = false;
  /** Whether the last window closed at once on a drop: then drops only mark the open window (see the class doc). */
  private closedByDrop = false;
  /** Lowest non-dropped RTT of the current minRtt epoch (Infinity when none). */
  private epochMin = Infinity;
  /** Lowest non-dropped RTT of the previous minRtt epoch (Infinity when none). */
  private previousEpochMin = Infinity;
  /** Windows closed in the current minRtt epoch. */
  private epochWindows = 0;

  constructor(private readonly params: WindowParams) {}

  /** The no-load RTT estimate: the lowest RTT of the last 50 to 100 windows (see {@link MIN_RTT_EPOCH}); null before any. */
  get minRtt(): number | null {
    const min = Math.min(this.epochMin, this.previousEpochMin);
    return min === Infinity ? null : min;
  }

  /** Adds one sample; returns the window it closed, or null when the window stays open. */
  onSample(sample: LimiterSample, now: number): SampleWindow | null {
    this.count++;
    if (sample.inFlight > this.maxInFlight) this.maxInFlight = sample.inFlight;
    if (sample.dropped) {
      this.dropped = true;
    } else {
      const rtt = Math.max(sample.rtt, RTT_FLOOR);
      this.rttCount++;
      this.rttSum += rtt;
      if (rtt < this.windowMin) this.windowMin = rtt;
      if (rtt < this.epochMin) this.epochMin = rtt;
    }
    // The first sample opens the first window, sized by its own RTT (or minTime when it was dropped).
    if (Number.isNaN(this.end)) this.end = now + this.lengthAfter(this.windowMin);
    if (sample.dropped && !this.closedByDrop) return this.close(now, true);
    if (now >= this.end && this.count >= this.params.minSamples) return this.close(now, false);
    return null;
  }

  /** Closes the open window at `now`, opens the next one, and returns the closed window's summary. */
  private close(now: number, byDrop: boolean): SampleWindow {
    const hasRtt = this.rttCount > 0;
    const window: SampleWindow = {
      avgRtt: hasRtt ? this.rttSum / this.rttCount : null,
      minRtt: hasRtt ? this.windowMin : null,
      maxInFlight: this.maxInFlight,
      dropped: this.dropped,
      count: this.count,
    };
    if (++this.epochWindows === MIN_RTT_EPOCH) {
      this.previousEpochMin = this.epochMin;
      this.epochMin = Infinity;
      this.epochWindows = 0;
    }
    this.end = now + this.lengthAfter(this.windowMin);
    this.closedByDrop = byDrop;
    this.count = 0;
    this.rttCount = 0;
    this.rttSum = 0;
    this.windowMin = Infinity;
    this.maxInFlight = 0;
    this.dropped = false;
    return window;
  }

  /** The next window's length: clamp(2 * m, minTime, maxTime), m = the window's lowest RTT, else minRtt, else 0. */
  private lengthAfter(windowMin: number): number {
    const m = windowMin !== Infinity ? windowMin : (this.minRtt ?? 0);
    return Math.min(Math.max(2 * m, this.params.minTime), this.params.maxTime);
  }
}
