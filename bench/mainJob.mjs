// Main-job scenario: `npm start` itself, end to end, in child processes: the NDJSON input, the lookup service over
// HTTP in its own process (2 ms a request), asyncBatchUnordered, keyedTimers windows, checkpoints every second and
// the exactly-once FileSink. Three runs from scratch (--fresh) at the default size, 1e6 events (1e5 with --quick),
// and one run of the per-record variant (asyncWaitUnordered, 64 requests in flight) at 1e5 for comparison. Each
// run's throughput is the job's own figure (events read / wall time of the pipeline, service start excluded), read
// from its summary.json; every run is checked: window clicks + late events = the input, no fallback.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmtMs, fmtN, median } from './harness.mjs';

const cli = fileURLToPath(new URL('../examples/main-job/cli.mjs', import.meta.url));
const TARGET = 100_000;

/** One run of the job; returns its summary figures, after checking its output accounts for every event. */
function once(dir, events, extra = []) {
  execFileSync(process.execPath, [cli, '--events', String(events), '--dir', dir, '--fresh', '--progress', 'none', ...extra], { stdio: 'pipe' });
  const results = join(dir, 'job', 'results');
  const summary = JSON.parse(readFileSync(join(results, 'summary.json'), 'utf8'));
  const clicks = readFileSync(join(results, 'windows.ndjson'), 'utf8').split('\n').filter(Boolean).reduce((sum, line) => sum + JSON.parse(line).clicks, 0);
  const late = readFileSync(join(results, 'late.ndjson'), 'utf8').split('\n').filter(Boolean).length;
  if (clicks + late !== events || summary.fallbacks !== 0 || late !== summary.inputLateEvents) {
    throw new Error(`main job: ${clicks} window clicks + ${late} late != ${events} events, or ${summary.fallbacks} fallbacks, or late != the input's ${summary.inputLateEvents}`);
  }
  return summary;
}

const rate = (s) => `${Math.round(s.eventsPerSecond).toLocaleString('en-US')} /s`;

export async function run({ quick = false, log = console.error } = {}) {
  const n = quick ? 1e5 : 1e6;
  const runs = quick ? 1 : 3;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-main-job-'));
  try {
    once(dir, n / 10); // warm-up: the input generated, the page cache and the build warm
    const batched = [];
    for (let i = 0; i < runs; i++) {
      const s = once(dir, n);
      batched.push(s);
      log(`  mainJob n=${fmtN(n)} batched run ${i + 1}: ${rate(s)}, ${s.batches} batches (mean ${s.meanBatchSize.toFixed(0)}), call p50/p99 ${fmtMs(s.callP50Ms)}/${fmtMs(s.callP99Ms)} ms, ${s.retries} record retries, ${s.checkpoints} checkpoints`);
    }
    const perRecordN = quick ? 1e4 : 1e5;
    const perRecord = once(dir, perRecordN, ['--per-record']);
    log(`  mainJob n=${fmtN(perRecordN)} per-record: ${rate(perRecord)}, call p50/p99 ${fmtMs(perRecord.callP50Ms)}/${fmtMs(perRecord.callP99Ms)} ms`);
    const mid = [...batched].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[Math.floor(batched.length / 2)];
    const medianRate = median(batched.map((s) => s.eventsPerSecond));
    const row = (contender, s, count, all) => ({
      contender, n: count, medianMs: s.elapsedMs, runs: all.length, times: all.map((x) => x.elapsedMs),
      extra: {
        'events/s end to end': all.map(rate).join(', '),
        'calls (mean batch)': s.batches === null ? `${fmtN(s.calls)} (one per event)` : `${fmtN(s.batches)} (${s.meanBatchSize.toFixed(0)})`,
        'call latency p50 / p99': `${fmtMs(s.callP50Ms)} / ${fmtMs(s.callP99Ms)} ms`,
        'record retries / fallbacks': `${s.retries} / ${s.fallbacks}`,
        'checkpoints': String(s.checkpoints),
      },
    });
    return {
      id: 'mainJob',
      title: `The main job (npm start): ${fmtN(n)} click events from NDJSON, enriched over HTTP from a service in its own process (2 ms a request, 1% failing), per-country one-minute windows, checkpoints every second, an exactly-once FileSink`,
      rows: [
        row('asyncBatchUnordered, batches of 500, 4 in flight (the job)', mid, n, batched),
        row('asyncWaitUnordered, one request per event, 64 in flight (--per-record)', perRecord, perRecordN, [perRecord]),
      ],
      targets: [{
        target: `Main job: >= ${TARGET.toLocaleString('en-US')} events/s end to end at 1e6 (median of 3 runs)`,
        measured: `${Math.round(medianRate).toLocaleString('en-US')} /s`, pass: medianRate >= TARGET, setAtN: 1e6, measuredAtN: n,
      }],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
