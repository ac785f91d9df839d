// The job's figures: a latency histogram with flat memory, and the summary printed at the end.

/**
 * Latencies in ms, in log-spaced buckets 2% wide from 0.01 ms to about 10 minutes: percentiles within 2%, memory
 * flat however many calls are recorded.
 */
export class LatencyHistogram {
  static RATIO = 1.02;
  static MIN = 0.01;
  constructor() {
    this.buckets = new Float64Array(Math.ceil(Math.log(6e7) / Math.log(LatencyHistogram.RATIO)) + 1);
    this.count = 0;
    this.max = 0;
  }

  record(ms) {
    const index = ms <= LatencyHistogram.MIN ? 0 : Math.min(this.buckets.length - 1, Math.ceil(Math.log(ms / LatencyHistogram.MIN) / Math.log(LatencyHistogram.RATIO)));
    this.buckets[index]++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** The latency below which a share `p` (0..1) of the calls fall: the upper bound of its bucket, at most the max. */
  percentile(p) {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i];
      if (seen >= rank) return Math.min(this.max, LatencyHistogram.MIN * LatencyHistogram.RATIO ** i);
    }
    return this.max;
  }
}

/** 1234567 -> '1,234,567'. */
export const count = (n) => Math.round(n).toLocaleString('en-US');
/** 12.345 -> '12.3 ms'; 1234 -> '1.23 s'. */
export const duration = (ms) => (!Number.isFinite(ms) ? 'n/a' : ms < 1_000 ? `${ms.toFixed(ms < 10 ? 2 : 1)} ms` : `${(ms / 1_000).toFixed(2)} s`);
/** An event time as the display shows it; '-' before the first watermark. */
export const eventTime = (t) => (Number.isFinite(t) ? new Date(t).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '') : t === Infinity ? 'end of input' : '-');

/**
 * The summary's figures, from what the run measured. `run`: { events, readThisRun, startOffset, elapsedMs,
 * latencies, metrics (source, enrich, windows, checkpoints), progress (fallbacks), perRecord, service (stats),
 * outcome: 'completed' | 'stopped', resumedFrom }. Pure: the tests check its arithmetic.
 */
export function summaryFigures(run) {
  const { metrics, latencies } = run;
  const enrich = metrics.enrich;
  const seconds = run.elapsedMs / 1_000;
  return {
    outcome: run.outcome,
    targetPerSecond: run.targetPerSecond ?? null,
    eventsRead: run.readThisRun,
    eventsPerSecond: seconds > 0 ? run.readThisRun / seconds : 0,
    elapsedMs: run.elapsedMs,
    calls: latencies.count,
    callP50Ms: latencies.percentile(0.5),
    callP99Ms: latencies.percentile(0.99),
    batches: run.perRecord ? null : enrich.batchesSucceeded + enrich.batchesFailed,
    meanBatchSize: run.perRecord ? null : enrich.meanBatchSize,
    retries: enrich.retried,
    timeouts: enrich.timedOut,
    fallbacks: run.progress.fallbacks,
    // Committed by this run (a stopped run's operators may have produced more after its last checkpoint: that is
    // produced again by the next run, and counted there).
    lateEvents: run.committed?.late ?? metrics.windows.sideOutputs,
    windowsEmitted: run.committed?.windows ?? metrics.windows.emitted,
    checkpoints: metrics.checkpoints.completed,
    lastCheckpoint: metrics.checkpoints.lastCompletedId,
    backPressuredMs: metrics.source.backPressuredTime,
    serviceFailures: run.service?.failed ?? null,
  };
}

/** The summary, as lines of text. */
export function summaryLines(figures, where) {
  const f = figures;
  const lines = [
    f.outcome === 'stopped'
      ? `Stopped after checkpoint ${f.lastCheckpoint}: run \`npm start\` again to resume from it.`
      : 'Done: every event read, enriched, windowed and committed.',
    `  events      ${count(f.eventsRead)} read in ${duration(f.elapsedMs)}: ${count(f.eventsPerSecond)} events/s end to end`
      + (f.targetPerSecond === null ? '' : ` (target at this size: ${count(f.targetPerSecond)}: ${f.eventsPerSecond >= f.targetPerSecond ? 'met' : 'missed'})`),
    `  calls       ${count(f.calls)}${f.batches === null ? ' (one per event)' : ` batches of ${f.meanBatchSize.toFixed(0)} events on average`}; latency p50 ${duration(f.callP50Ms)}, p99 ${duration(f.callP99Ms)}`,
    `  failures    the service failed ${f.serviceFailures === null ? '?' : count(f.serviceFailures)} requests: ${count(f.retries)} events retried, ${count(f.timeouts)} timeouts, ${count(f.fallbacks)} fallbacks`,
    `  windows     ${count(f.windowsEmitted)} per-country minutes committed; ${count(f.lateEvents)} late events to the side output`,
    `  checkpoints ${count(f.checkpoints)} (last: ${f.lastCheckpoint}); the source was held back by back-pressure for ${duration(f.backPressuredMs)}`,
  ];
  if (where) lines.push(...where.map((line) => `  ${line}`));
  return lines;
}
