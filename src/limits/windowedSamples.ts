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
 * A minRtt probe is due once this many windows have closed since the last probe ended (or since the first
 * sample): at least 500 calls with the default 10 samples per window, 0.5 to 1 s for a 5 ms service held near
 * its optimum (windows of two round trips). A probe lasts about one round trip (the calls started above the
 * probe limit drain) plus `minSamples` calls at the probe limit, 15 ms for that service: 2 to 3 % of the time at
 * half the limit. A shorter interval follows a slower service sooner, at a higher cost.
 */
export const PROBE_EVERY = 50;

/**
 * Groups call samples into windows, in the manner of Netflix's `WindowedLimit`, and keeps the no-load latency
 * estimate `minRtt`, re-measured by periodic probes (internal). A window keeps the lowest and mean RTT, the
 * highest in-flight count and whether any call was dropped, and a limiter updates once per closed window
 * rather than once per call, so one slow or fast call does not move the limit.
 *
 * Windows (`now` is the scheduler time at which the sample's call ended):
 * - The first sample opens the first window. A window closes when a sample arrives at or after its end and it
 *   then holds at least `minSamples` samples (that sample included). Netflix instead closes it on time and
 *   throws its samples away when there are fewer than `minSamples`, so a slow or lightly used service may never
 *   update; here the window stays open until it has enough.
 * - The next window opens as the previous one closes, and is `clamp(2 * m, minTime, maxTime)` long, where `m`
 *   is the closed window's lowest RTT (Netflix's rule), or `minRtt` if every call in it was dropped: about two
 *   round trips, one for a limit change to take effect and one to see its result.
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
 * minRtt (the no-load latency, the anchor of both limiters' latency rules):
 * - Between probes it only falls: it is the lowest non-dropped RTT seen since the last probe ended (since the
 *   first sample, before the first probe), the probe's own result included. Under sustained queueing every
 *   call waits, so a minimum over a sliding span would rise with the queue and unanchor the limit; a minimum
 *   that can only fall cannot drift up.
 * - It rises (when the service has become slower for good) only through a probe, as Vegas re-measures its base
 *   RTT and Envoy's gradient controller pins the limit low while it re-measures minRTT. A probe is due once
 *   {@link PROBE_EVERY} windows have closed since the last one ended, or at once when the probe limit is not
 *   below the limiter's limit (see {@link WindowedSamples.probeIfDue}); the limiter passes both after each
 *   closed window it acts on, and exposes the probe limit (half its limit) instead of its own while the probe
 *   lasts. The probe ends at the `minSamples`-th non-dropped sample whose call started with at most the probe
 *   limit in flight (calls started before the probe, with more in flight, do not count); the lowest RTT among
 *   those becomes `minRtt`, higher or lower than before.
 * - While a probe holds the limit down (its limit is below the limiter's own, which the limiter passes with
 *   each sample), windows close as usual but only those with a drop are returned (the limiter still cuts on
 *   loss): the others would only tell the limiter about the probe limit it set itself. When such a probe ends,
 *   the open window (calls at the probe limit) is discarded and the next sample opens a new one. A probe whose
 *   limit is not below the limiter's (a free probe: the limiter is at its min) leaves the windows alone.
 *
 * Everything is O(1) per sample.
 */
export class WindowedSamples {
  /** End of the open window, in ms of scheduler time; NaN when no window is open (before the first sample, after a probe). */
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
  /** The no-load RTT estimate (Infinity before the first non-dropped sample): only falls between probes. */
  private lowest = Infinity;
  /** Windows closed since the last probe ended (or since the start); a probe is due at PROBE_EVERY. */
  private windowsSinceProbe = 0;
  /** The probe's limit while a probe is under way, else null. */
  private probing: number | null = null;
  /** Qualifying samples of the probe under way (non-dropped, started with at most the probe limit in flight). */
  private probeCount = 0;
  /** Lowest RTT of the probe's qualifying samples (Infinity when none). */
  private probeMin = Infinity;

  constructor(private readonly params: WindowParams) {}

  /** The no-load RTT estimate (see the class doc); null before the first non-dropped sample. */
  get minRtt(): number | null {
    return this.lowest === Infinity ? null : this.lowest;
  }

  /** The limit of the probe under way, or null when none is: the limiter exposes it instead of its own limit. */
  get probeLimit(): number | null {
    return this.probing;
  }

  /**
   * Starts a probe with limit `probeLimit` (an integer >= 1) if one is due and none is under way: once
   * PROBE_EVERY windows have closed since the last one ended, or at once when `probeLimit` is not below the
   * limiter's `limit` (a limiter at its min: the probe then costs nothing, and a limit cut to min by latency
   * learns the service's new latency after minSamples calls rather than PROBE_EVERY long windows). The limiter
   * calls it after each update it makes of a closed window.
   */
  probeIfDue(limit: number, probeLimit: number): void {
    if (this.probing !== null || (this.windowsSinceProbe < PROBE_EVERY && probeLimit < limit)) return;
    this.probing = probeLimit;
    this.probeCount = 0;
    this.probeMin = Infinity;
  }

  /**
   * Adds one sample; returns the window it closed, or null when none is to be acted on: the window stays open,
   * or a probe holds the limit down and the window had no drop, or the sample ended such a probe.
   *
   * @param limit the limiter's own limit (outside probes): a probe holds it down while its limit is lower.
   */
  onSample(sample: LimiterSample, now: number, limit: number): SampleWindow | null {
    this.count++;
    if (sample.inFlight > this.maxInFlight) this.maxInFlight = sample.inFlight;
    if (sample.dropped) {
      this.dropped = true;
    } else {
      const rtt = Math.max(sample.rtt, RTT_FLOOR);
      this.rttCount++;
      this.rttSum += rtt;
      if (rtt < this.windowMin) this.windowMin = rtt;
      if (rtt < this.lowest) this.lowest = rtt;
      if (this.probing !== null && sample.inFlight <= this.probing) {
        if (rtt < this.probeMin) this.probeMin = rtt;
        if (++this.probeCount >= this.params.minSamples) {
          const held = this.probing < limit;
          this.endProbe(held);
          if (held) return null;
        }
      }
    }
    // The first sample opens the first window, sized by its own RTT (or minTime when it was dropped); likewise
    // the first sample after a probe.
    if (Number.isNaN(this.end)) this.end = now + this.lengthAfter(this.windowMin);
    let window: SampleWindow | null = null;
    if (sample.dropped && !this.closedByDrop) window = this.close(now, true);
    else if (now >= this.end && this.count >= this.params.minSamples) window = this.close(now, false);
    const held = this.probing !== null && this.probing < limit;
    return window !== null && (!held || window.dropped) ? window : null;
  }

  /**
   * Ends the probe: its lowest RTT becomes minRtt and the count to the next one restarts; if it held the limit
   * down, the open window (calls at the probe limit) is discarded.
   */
  private endProbe(held: boolean): void {
    this.lowest = this.probeMin;
    this.probing = null;
    this.windowsSinceProbe = 0;
    if (!held) return;
    this.end = NaN;
    this.closedByDrop = false;
    this.reset();
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
    if (this.probing === null) this.windowsSinceProbe++;
    this.end = now + this.lengthAfter(this.windowMin);
    this.closedByDrop = byDrop;
    this.reset();
    return window;
  }

  /** Empties the open window's accumulators. */
  private reset(): void {
    this.count = 0;
    this.rttCount = 0;
    this.rttSum = 0;
    this.windowMin = Infinity;
    this.maxInFlight = 0;
    this.dropped = false;
  }

  /** The next window's length: clamp(2 * m, minTime, maxTime), m = the window's lowest RTT, else minRtt, else 0. */
  private lengthAfter(windowMin: number): number {
    const m = windowMin !== Infinity ? windowMin : (this.minRtt ?? 0);
    return Math.min(Math.max(2 * m, this.params.minTime), this.params.maxTime);
  }
}
