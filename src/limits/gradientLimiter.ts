import { type ConcurrencyLimiter, type LimiterSample } from './limiter.js';
import { PROBE_EVERY, WindowedSamples, type WindowParams } from './windowedSamples.js';

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
  /** The short RTT may reach tolerance * minRtt before the limit falls (>= 1). */
  readonly tolerance: number;
  /** How far each window moves the limit towards the gradient's target, in (0, 1]. */
  readonly smoothing: number;
  /** How samples are grouped into windows. */
  readonly window: WindowParams;
}

/**
 * A latency-gradient limit anchored on the no-load latency (internal): the update of Netflix's `Gradient2Limit`,
 * with the gradient taken against `minRtt` as in Envoy's adaptive-concurrency gradient controller (and TCP
 * Vegas) rather than against Gradient2's long-term average RTT, fed one sample per window (see
 * {@link WindowedSamples}), with drops honoured.
 *
 * Per closed window with no drop (`short` = the window's mean RTT, `minRtt` = the no-load latency of
 * {@link WindowedSamples}, `estimate` = the fractional limit):
 * 1. If the window's highest in-flight count < estimate / 2: no change (application-limited).
 * 2. `gradient = clamp(tolerance * minRtt / short, 0.5, 1)`.
 * 3. `target = estimate * gradient + sqrt(estimate)`: the headroom for queueing is Envoy's sqrt(limit), where
 *    Netflix adds a constant 4.
 * 4. `estimate = estimate * (1 - smoothing) + target * smoothing`, clamped to [min, max].
 *
 * A window with a drop skips all that: `estimate = max(min, estimate * backoffRatio)`. Gradient2 ignores drops,
 * a flaw for a service that sheds load by rejecting fast or by never answering: its latency looks healthy while
 * calls fail.
 *
 * Every {@link PROBE_EVERY} windows a probe re-measures minRtt (see {@link WindowedSamples}): with
 * `L = max(min, floor(estimate))`, the exposed limit is `min(L, max(min, floor(L / 2)))` until the probe ends
 * (minSamples calls started with at most that many in flight), windows without a drop are skipped meanwhile
 * (drops still cut the estimate), and the limit then returns to `L` (as cut). When L = min (then
 * `max(min, floor(L / 2)) = L`), a probe costs nothing: it starts at once, and windows are acted on as usual.
 *
 * Why minRtt and not Gradient2's long RTT: under steady queueing the long-term average catches up with the
 * queued latency, the gradient returns to 1 and the sqrt headroom keeps adding, so the limit rides up to the
 * service's rejection point. Against a fixed no-load latency, a service of C servers held at L > C calls in
 * flight answers in about `minRtt * L / C` (Little's law), so the gradient is `tolerance * C / L` and the limit
 * settles where `L = tolerance * C + sqrt(L)`: about 2C for C = 8 and tolerance 1.5 (16.1), 1.5C plus a
 * vanishing share for large C. Halving the limit during a probe measures the no-load latency as long as half
 * the limit is at most C, i.e. `tolerance * C + sqrt(L) <= 2C`; when it is not (a limit still high, or tolerance
 * >= 2), the probe measures some queueing, minRtt rises by at most the ratio of half the limit to C, and each
 * probe brings the limit down further while `tolerance < 2` (the next equilibrium is about tolerance / 2 of the
 * last, plus the headroom).
 *
 * The estimate stays fractional; the exposed `limit` is `floor(estimate)` (outside probes), which is at least
 * min. At the no-load latency with the limit in use, the gradient is 1 and the limit grows by
 * `smoothing * sqrt(estimate)` per window up to max; persistent drops take it to min. While the gradient is at
 * its floor (0.5), the limit heads for 4 (where 0.5 * L + sqrt(L) = L), so latency alone does not take it below
 * about 4; a service that became slower for good is followed at the next probe (minRtt rises).
 */
export class GradientLimiter implements ConcurrencyLimiter {
  /** Groups samples into windows and keeps minRtt; the limit moves once per closed window. */
  private readonly windows: WindowedSamples;
  /** The fractional limit estimate, within [min, max]; kept (and cut on drops) during a probe. */
  private estimate: number;
  /** Mean RTT of the last window acted on that had one; null before. */
  private lastRtt: number | null = null;

  constructor(private readonly params: GradientParams) {
    this.windows = new WindowedSamples(params.window);
    this.estimate = params.initial;
  }

  get limit(): number {
    const probe = this.windows.probeLimit;
    return probe === null ? this.ownLimit : Math.min(this.ownLimit, probe);
  }

  /** The limit outside probes: floor(estimate), at least min. */
  private get ownLimit(): number {
    return Math.max(this.params.min, Math.floor(this.estimate));
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
    const window = this.windows.onSample(sample, now, this.ownLimit);
    if (window === null) return;
    const { min, max, backoffRatio, tolerance, smoothing } = this.params;
    if (window.dropped) {
      this.estimate = Math.max(min, this.estimate * backoffRatio);
    } else {
      // A window without a drop has a mean RTT, and minRtt is at most its lowest RTT.
      const shortRtt = window.avgRtt!;
      this.lastRtt = shortRtt;
      if (window.maxInFlight >= this.estimate / 2) {
        const gradient = Math.max(0.5, Math.min(1, (tolerance * this.windows.minRtt!) / shortRtt));
        const target = this.estimate * gradient + Math.sqrt(this.estimate);
        const next = this.estimate * (1 - smoothing) + target * smoothing;
        this.estimate = Math.min(max, Math.max(min, next));
      }
    }
    const own = this.ownLimit;
    this.windows.probeIfDue(own, Math.max(min, Math.floor(own / 2)));
  }
}
