import { type ConcurrencyLimiter, type LimiterSample } from './limiter.js';
import { PROBE_EVERY, WindowedSamples, type WindowParams } from './windowedSamples.js';

/** The settings of an {@link AimdLimiter} (internal; resolved from `concurrency.adaptive`). */
export interface AimdParams {
  /** The lowest limit (an integer >= 1). */
  readonly min: number;
  /** The highest limit (an integer >= min). */
  readonly max: number;
  /** The limit before the first window closes (an integer in [min, max]). */
  readonly initial: number;
  /** The multiplicative decrease, in [0.5, 1). */
  readonly backoffRatio: number;
  /** A window whose mean RTT exceeds tolerance * minRtt is a congestion signal (>= 1). */
  readonly tolerance: number;
  /** How samples are grouped into windows. */
  readonly window: WindowParams;
}

/**
 * Additive-increase / multiplicative-decrease on loss and on latency (internal): Netflix's `AIMDLimit`, fed one
 * sample per window (see {@link WindowedSamples}), with a latency signal so that the limit also falls when the
 * service slows down under load, not only when calls time out.
 *
 * Per closed window (`avg` = its mean RTT, `minRtt` = the no-load latency of {@link WindowedSamples}):
 * - if any call in it was dropped, or `avg > tolerance * minRtt`: `limit = max(min, floor(limit * backoffRatio))`
 *   (at least one less, since the limit is an integer and backoffRatio < 1);
 * - else, if the limit is being used (the window's highest in-flight count * 2 >= limit, Netflix's test): `limit + 1`;
 * - else (application-limited): no change;
 * - then clamp to [min, max].
 *
 * Against a service of C servers held at L > C calls in flight, `avg` is about `minRtt * L / C` (Little's law),
 * so the limit climbs to just over `tolerance * C` and is cut back by backoffRatio: it saws between about
 * `backoffRatio * tolerance * C` and `tolerance * C + 1` (about 11 to 13 for C = 8 and the defaults).
 *
 * `minRtt` only falls between probes; every {@link PROBE_EVERY} windows a probe re-measures it (see
 * {@link WindowedSamples}), so it can rise again when the service has become slower for good: the exposed limit
 * is `min(limit, max(min, floor(limit / 2)))` until the probe ends (minSamples calls started with at most that
 * many in flight), windows without a drop are skipped meanwhile (drops still cut the saved limit), and the limit
 * then returns to the saved one. When the limit is at min (`max(min, floor(limit / 2)) = limit`), a probe costs
 * nothing: it starts at once, and windows are acted on as usual. That matters here: a service that
 * became slower for good has every window cut the limit, down to min within a few windows, and at min a window
 * of minSamples calls lasts many round trips, so waiting for PROBE_EVERY of them would hold the limit there for
 * seconds. Netflix's AIMD has no latency signal beyond its fixed 5 s timeout.
 */
export class AimdLimiter implements ConcurrencyLimiter {
  /** Groups samples into windows and keeps minRtt; the limit moves once per closed window. */
  private readonly windows: WindowedSamples;
  /** The limit outside probes: always an integer within [min, max]; kept (and cut on drops) during a probe. */
  private current: number;
  /** Mean RTT of the last window acted on that had one; null before. */
  private lastRtt: number | null = null;

  constructor(private readonly params: AimdParams) {
    this.windows = new WindowedSamples(params.window);
    this.current = params.initial;
  }

  get limit(): number {
    const probe = this.windows.probeLimit;
    return probe === null ? this.current : Math.min(this.current, probe);
  }

  get minRtt(): number | null {
    return this.windows.minRtt;
  }

  get sampleRtt(): number | null {
    return this.lastRtt;
  }

  /** Whether a minRtt probe is under way (the limit is then the probe's). */
  get probing(): boolean {
    return this.windows.probeLimit !== null;
  }

  onSample(sample: LimiterSample, now: number): void {
    const window = this.windows.onSample(sample, now, this.current);
    if (window === null) return;
    const { min, max, backoffRatio, tolerance } = this.params;
    if (window.avgRtt !== null) this.lastRtt = window.avgRtt;
    const minRtt = this.windows.minRtt;
    // A window that has a mean RTT has a minRtt too (it is at most the window's own lowest RTT).
    const slow = window.avgRtt !== null && minRtt !== null && window.avgRtt > tolerance * minRtt;
    let next = this.current;
    if (window.dropped || slow) next = Math.floor(this.current * backoffRatio);
    else if (window.maxInFlight * 2 >= this.current) next = this.current + 1;
    this.current = Math.min(max, Math.max(min, next));
    this.windows.probeIfDue(this.current, Math.max(min, Math.floor(this.current / 2)));
  }
}
