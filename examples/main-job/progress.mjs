// The live display. On a terminal: a panel redrawn five times a second. Elsewhere (a log, CI): one line every
// few seconds. Both read the operators' metrics objects; neither slows the job down.
import { count, duration, eventTime } from './summary.mjs';

/** A bar of `width` cells for a share 0..1. */
const bar = (share, width = 24) => {
  const full = Math.max(0, Math.min(width, Math.round(share * width)));
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
};

/** What the display shows, from the job's state at this instant. Pure: no clock, no terminal. */
export function progressView(job, now) {
  const { metrics, progress } = job;
  const enrich = metrics.enrich.snapshot();
  const source = metrics.source.snapshot();
  const read = job.eventsBefore + source.read;
  const elapsed = Math.max(1, now - job.startedAt);
  const recent = job.lastSample ? (source.read - job.lastSample.read) / Math.max(1, now - job.lastSample.at) * 1_000 : 0;
  return {
    read, total: job.events, share: job.events > 0 ? read / job.events : 1,
    perSecond: recent, average: (source.read / elapsed) * 1_000,
    enriched: enrich.emitted, windows: metrics.windows.emitted, late: metrics.windows.sideOutputs,
    inFlight: enrich.inFlight, batchesInFlight: enrich.batchesInFlight ?? null, retries: enrich.retried, limit: enrich.concurrencyLimit,
    fallbacks: progress.fallbacks, watermark: progress.watermark,
    checkpoints: metrics.checkpoints.completed, lastCheckpoint: metrics.checkpoints.lastCompletedId,
    pausedShare: source.backPressuredTime / elapsed, paused: source.paused > 0, elapsed,
  };
}

/** The panel's lines. */
export function panelLines(view, title) {
  const v = view;
  const calls = (v.batchesInFlight === null ? `${count(v.inFlight)} calls in flight` : `${count(v.batchesInFlight)} batches in flight (${count(v.inFlight)} events)`)
    + (v.limit === null ? '' : ` (adaptive limit ${count(v.limit)})`);
  return [
    title,
    `  read        ${count(v.read)} / ${count(v.total)}  ${bar(v.share)} ${(v.share * 100).toFixed(0).padStart(3)}%   ${count(v.perSecond)} events/s`,
    `  emitted     ${count(v.enriched)} enriched → ${count(v.windows)} window counts, ${count(v.late)} late`,
    `  service     ${calls}   events retried ${count(v.retries)}   fallbacks ${count(v.fallbacks)}`,
    `  event time  watermark ${eventTime(v.watermark)}   checkpoints ${count(v.checkpoints)} (last #${v.lastCheckpoint})`,
    `  flow        source ${v.paused ? 'paused by back-pressure' : 'reading'}, held back ${(v.pausedShare * 100).toFixed(0)}% of the time   elapsed ${duration(v.elapsed)}`,
  ];
}

/** The single line for logs. */
export function progressLine(view) {
  const v = view;
  const calls = (v.batchesInFlight === null ? `${count(v.inFlight)} calls` : `${count(v.batchesInFlight)} batches`)
    + (v.limit === null ? '' : ` (limit ${count(v.limit)})`);
  return `[${duration(v.elapsed).padStart(8)}] read ${count(v.read)}/${count(v.total)} (${(v.share * 100).toFixed(0)}%) ${count(v.perSecond)} ev/s`
    + ` | in flight ${calls} | retries ${count(v.retries)} | late ${count(v.late)} | watermark ${eventTime(v.watermark)}`
    + ` | checkpoints ${count(v.checkpoints)} | held back ${(v.pausedShare * 100).toFixed(0)}%`;
}

/**
 * Starts the display for `job` in `mode` ('tty', 'lines', 'none'); returns stop(), which draws a last time.
 * The panel redraws in place with ANSI cursor moves.
 */
export function startProgress(job, mode, title, out = process.stdout) {
  if (mode === 'none') return () => {};
  let drawn = 0; // lines of the panel on screen
  const draw = (last = false) => {
    const now = performance.now();
    const view = progressView(job, now);
    if (last) view.perSecond = view.average; // the closing line: the run's rate, not the last instant's
    job.lastSample = { at: now, read: job.metrics.source.read };
    if (mode === 'tty') {
      const lines = panelLines(view, title);
      out.write(`${drawn > 0 ? `\x1b[${drawn}F` : ''}${lines.map((l) => `\x1b[2K${l}`).join('\n')}\n`);
      drawn = lines.length;
    } else out.write(`${progressLine(view)}\n`);
  };
  if (mode === 'lines') out.write(`${title}\n`);
  const timer = setInterval(draw, mode === 'tty' ? 200 : 2_000);
  return () => {
    clearInterval(timer);
    draw(true);
  };
}
