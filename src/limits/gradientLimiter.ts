import { type ConcurrencyLimiter, type LimiterSample } from './limiter.js';
import { WindowedSamples, type WindowParams } from './windowedSamples.js';

/** The settings of a {@link GradientLimiter} (internal; resolved from `concurrency.adaptive`). */
export interface GradientParams {
  /** The lowest limit (an integer >= 1). */
  readonly min: number;
  /** The highest limit (an integer >= min). */
  readonly max: number;
  /** The limit before the first window closes (an integer in [min, max]). */
  readonly initial: number;
  /** The multiplicative decrease on a window with a drop, in [0.5, 1). */
  readonly backoffRatio: number;
  /** Gradient2's rttTolerance: the short RTT may reach tolerance * long RTT before the limit falls (>= 1). */
  readonly tolerance: number;
  /** How far each window moves the limit towards the gradient's target, in (0, 1]. */
  readonly smoothing: number;
  /** How samples are grouped into windows. */
  readonly window: WindowParams;
}

/** The long RTT's averaging span, in windows: an EMA with factor 2 / (LONG_WINDOW + 1). */
export const LONG_WINDOW = 100;

/** The long RTT is the plain mean of the first this many windows, before the EMA takes over. */
export const LONG_WARMUP = 10;

/**
 * Netflix's `Gradient2Limit`, fed one sample per window (see {@link WindowedSamples}), with drops honoured
 * (internal).
 *
 * Per closed window with no drop (`short` = the window's mean RTT):
 * 1. `long` = the long-term RTT: the plain mean of the first 10 windows' short RTTs, then an EMA with factor
 *    2 / (100 + 1). Netflix averages 600 samples; it is usually fed one sample per call, whereas here each
 *    sample is a window of at least 10 calls, so 100 windows cover at least 1,000 calls: a comparable span, of
 *    1 to 100 s with the default windows (10 ms to 1 s).
 * 2. If `long / short > 2`, `long *= 0.95` after this update (recovery after a long overload, as Netflix).
 * 3. If the window's highest in-flight count < estimate / 2: no change (application-limited).
 * 4. `gradient = clamp(tolerance * long / short, 0.5, 1)`.
 * 5. `target = estimate * gradient + sqrt(estimate)`: the headroom for queueing is Envoy's sqrt(limit), where
 *    Netflix adds a constant 4; sqrt grows a high limit faster (about 70 windows from 10 to 100, against about
 *    110), and while the gradient is at its floor (0.5) the limit heads for 4 (where 0.5 * L + sqrt(L) = L)
 *    rather than 8, so a small limit can still be cut by latency.
 * 6. `estimate = estimate * (1 - smoothing) + target * smoothing`, clamped to [min, max].
 *
 * A window with a drop skips all that (its RTTs measure timeouts or fast rejections, and do not feed `long`):
 * `estimate = max(min, estimate * backoffRatio)`. Gradient2 ignores drops, a flaw for a service that sheds load
 * by rejecting fast or by never answering: its latency looks healthy while calls fail.
 *
 * The estimate stays fractional; the exposed `limit` is `floor(estimate)`, which is at least min. At a steady
 * latency with the limit in use, the gradient is 1 and the limit grows by `smoothing * sqrt(estimate)` per
 * window up to max; persistent drops take it to min. Latency alone cannot take it below about 4, and a lasting
 * rise is absorbed as the long RTT catches up (by design: Gradient2 follows a service that became slower).
 */
export class GradientLimiter implements ConcurrencyLimiter {
  /** Groups samples into windows; the limit moves once per closed window. */
  private readonly windows: WindowedSamples;
  /** The fractional limit estimate, within [min, max]. */
  private estimate: number;
  /** The long-term RTT (see step 1); 0 before the first window with an RTT. */
  private longRtt = 0;
  /** Windows averaged into longRtt so far, up to LONG_WARMUP (then the EMA takes over). */
  private longCount = 0;
  /** Mean RTT of the last window that had one; null before. */
  private lastRtt: number | null = null;

  constructor(private readonly params: GradientParams) {
    this.windows = new WindowedSamples(params.window);
    this.estimate = params.initial;
  }

  get limit(): number {
    return Math.max(this.params.min, Math.floor(this.estimate));
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
    const { min, max, backoffRatio, tolerance, smoothing } = this.params;
    if (window.dropped) {
      this.estimate = Math.max(min, this.estimate * backoffRatio);
      return;
    }
    // A window without a drop has at least one RTT.
    const shortRtt = window.avgRtt!;
    this.lastRtt = shortRtt;
    const longRtt = this.addLong(shortRtt);
    if (longRtt / shortRtt > 2) this.longRtt *= 0.95;
    if (window.maxInFlight < this.estimate / 2) return;
    const gradient = Math.max(0.5, Math.min(1, (tolerance * longRtt) / shortRtt));
    const target = this.estimate * gradient + Math.sqrt(this.estimate);
    const next = this.estimate * (1 - smoothing) + target * smoothing;
    this.estimate = Math.min(max, Math.max(min, next));
  }

  /** Folds a window's mean RTT into the long-term RTT and returns it (step 1). */
  private addLong(rtt: number): number {
    if (this.longCount < LONG_WARMUP) {
      this.longCount++;
      this.longRtt += (rtt - this.longRtt) / this.longCount; // running mean
    } else {
      const factor = 2 / (LONG_WINDOW + 1);
      this.longRtt = this.longRtt * (1 - factor) + rtt * factor;
    }
    return this.longRtt;
  }
}
