/**
 * What an adaptive concurrency limiter learns from one finished call (internal): how long it took, how many
 * calls were in flight when it started, and whether it was dropped (timed out, or failed with an error the
 * user marks as overload). A call that failed for another reason gives no sample (Netflix's onIgnore).
 */
export interface LimiterSample {
  /** The call's round-trip time in ms of scheduler time, from its start to its end. */
  readonly rtt: number;
  /** Calls in flight when it started, itself included. */
  readonly inFlight: number;
  /** True for a timeout or an overload error: loss-based limits cut hard. */
  readonly dropped: boolean;
}

/**
 * An adaptive limit on the calls in flight (internal). It sees every finished call's sample, at the scheduler
 * time `now`, and may move `limit` (always an integer within [min, max]).
 */
export interface ConcurrencyLimiter {
  /** The current limit on calls in flight. */
  readonly limit: number;
  /**
   * The no-load latency estimate in ms: the lowest round-trip time since the last probe (dropped calls left out),
   * which only a probe at half the limit may raise; null before the first sample.
   */
  readonly minRtt: number | null;
  /** The latency the last update was based on (a window's average), in ms; null before the first update. */
  readonly sampleRtt: number | null;
  onSample(sample: LimiterSample, now: number): void;
}
