import { type ConcurrencyLimiter, type LimiterSample } from './limiter.js';
import { WindowedSamples, type WindowParams } from './windowedSamples.js';

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
 * sample per window (see {@link WindowedSamples}), plus a latency signal so that the limit also falls when the
 * service slows down under load, not only when calls time out.
 *
 * Per closed window:
 * - if any call in it was dropped, or its mean RTT > tolerance * minRtt: `limit = max(min, floor(limit * backoffRatio))`
 *   (at least one less, since the limit is an integer and backoffRatio < 1);
 * - else, if the limit is being used (the window's highest in-flight count * 2 >= limit, Netflix's test): `limit + 1`;
 * - else (application-limited): no change;
 * - then clamp to [min, max].
 *
 * `minRtt` is the lowest RTT of the last 50 to 100 windows (see `MIN_RTT_EPOCH`), so it can rise again when the
 * service becomes slower for good. Netflix's AIMD has no latency signal beyond its fixed 5 s timeout.
 */
export class AimdLimiter implements ConcurrencyLimiter {
  /** Groups samples into windows; the limit moves once per closed window. */
  private readonly windows: WindowedSamples;
  /** The current limit: always an integer within [min, max]. */
  private current: number;
  /** Mean RTT of the last window that had one; null before. */
  private lastRtt: number | null = null;

  constructor(private readonly params: AimdParams) {
    this.windows = new WindowedSamples(params.window);
    this.current = params.initial;
  }

  get limit(): number {
    return this.current;
  }

  get minRtt(): number | null {
    return this.windows.minRtt;
  }

  get sampleRtt(): number | null {
    return this.lastRtt;
  }

  onSample(sample: LimiterSample, now: number): void {
    const window = this.windows.onSample(sample, now);
    if (window === null) return;
    const { min, max, backoffRatio, tolerance } = this.params;
    if (window.avgRtt !== null) this.lastRtt = window.avgRtt;
    const minRtt = this.windows.minRtt;
    // A window that has a mean RTT has a minRtt too (it includes the window's own lowest RTT).
    const slow = window.avgRtt !== null && minRtt !== null && window.avgRtt > tolerance * minRtt;
    let next = this.current;
    if (window.dropped || slow) next = Math.floor(this.current * backoffRatio);
    else if (window.maxInFlight * 2 >= this.current) next = this.current + 1;
    this.current = Math.min(max, Math.max(min, next));
  }
}
