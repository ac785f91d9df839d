import { spawn, type ChildProcess } from 'child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { readCommitted } from 'rxjs-sluice/node';
import { soak } from '../support/soak';
import { tempDirs } from '../support/tempDirs';
import { transpilePackage } from '../support/transpiledPackage';

/**
 * Flow control at process level: a child Node process reads an NDJSON file of N events (2e5 in `npm test`, 2e6
 * under SLUICE_FULL=1, as in CI) through an exactly-once checkpointable pipeline over FileCheckpointStore and
 * FileSink:
 *
 *   ndjsonSource → withWatermarks (bounded out-of-orderness) → asyncWaitOrdered (1 ms calls, capacity 100)
 *     → keyedTimers (per key, a count and a sum per tumbling event-time window, emitted when the window's timer fires)
 *
 * The calls are far slower than the file, so without flow control the source would be read whole into the async
 * operator's queue: memory, and every checkpoint (which stores that queue), would grow with N. With it:
 * - the source pauses whenever the operator has an input waiting beyond capacity, so the records read but not yet
 *   emitted by the operator never exceed capacity + 1 (the one read that found it full), and its `buffered` gauge
 *   never exceeds 2: that record, and at most one watermark behind it (withWatermarks ticks on its own timer while
 *   the source is paused; adjacent watermarks coalesce into one). No barrier ever waits there: barriers overtake
 *   what the operator holds, and the source only resumes after the operator's emission loop;
 * - a checkpoint holds the operator's ≤ capacity + 1 inputs, the keyed state of the open windows (100 keys, a few
 *   windows each, as the watermark lags the data by about one tick) and the epoch's outputs (exactly-once
 *   checkpoints store them, a FileSink or not: a few hundred window aggregates per epoch of EVERY records), about
 *   55 KB whatever N, well under the 1 MB asserted;
 * - the child's peak RSS stays under 150 MB whatever N.
 *
 * The output is deterministic although watermarks follow the wall clock: the data's disorder (DISORDER) is within
 * the watermarks' maxOutOfOrderness, so no record is ever late, every window's aggregate is complete when its timer
 * fires, and timers fire in (window end, first registration) order however the watermarks fall. The test computes
 * that output from the data itself and checks the committed output of an uninterrupted run against it, then that of
 * a run SIGKILLed KILLS times at seeded random moments and restarted each time.
 *
 * The child loads the package transpiled to CommonJS from src/ (see sigkill.spec.ts).
 */

const root = join(__dirname, '..', '..');
/** Events in the file: the soak variant (SLUICE_FULL=1, set by CI) reads twenty times as many. */
const N = soak(100_000, 2_000_000);
/** A checkpoint every EVERY records: N / EVERY barrier checkpoints, and a final one. */
const EVERY = 5000;
const CAPACITY = 100;
const USERS = 5000;
/** keyedTimers keys: user % KEYS. */
const KEYS = 100;
/** Tumbling event-time windows, ms. */
const WINDOW = 10_000;
/** Event times are T0 + line index, minus up to DISORDER - 1 ms for one line in ten. */
const T0 = 1_700_000_000_000;
const DISORDER = 40;
/** withWatermarks' bound: above DISORDER, so that no record is ever late. */
const MAX_OUT_OF_ORDERNESS = 50;
const KILLS = 5;
const MIB = 1024 * 1024;
/** Seed of the kill moments; set SLUICE_FLOW_SEED to replay another sequence. */
const SEED = Number(process.env['SLUICE_FLOW_SEED'] ?? 20_241_205);
/** Seed of the data's disorder. */
const DATA_SEED = 7;
/** A child that outlives this is killed, failing its test rather than the suite. */
const CHILD_LIMIT_MS = soak(60_000, 300_000);

/**
 * The child: runs the pipeline on `<file> <stateDir>`. It says `start` once subscribed, `checkpoint <id> <bytes>`
 * after each checkpoint is durable (the bytes of every checkpoint it writes), and at completion `done <report>`:
 * its peak RSS, the source's and the operators' metrics, and the highest `buffered` of the async operator and of
 * records read but not yet emitted by it, sampled as each record leaves the source and as each call ends.
 */
const CHILD = `'use strict';
const { tap } = require('rxjs');
const sluice = require('./pkg/index.js');
const { FileCheckpointStore, FileSink, ndjsonSource } = require('./pkg/node/index.js');

const [file, stateDir] = process.argv.slice(2);
const KEYS = ${KEYS};
const WINDOW = ${WINDOW};
const source = sluice.sourceMetrics();
const enrich = sluice.asyncWaitMetrics();
const windows = sluice.keyedTimersMetrics();
const checkpoints = sluice.checkpointMetrics();
let maxBuffered = 0;
let maxAhead = 0;
const sample = () => {
  if (enrich.buffered > maxBuffered) maxBuffered = enrich.buffered;
  if (source.read - enrich.emitted > maxAhead) maxAhead = source.read - enrich.emitted;
};
let maxCheckpointBytes = 0;
class MeasuredStore extends FileCheckpointStore {
  write(id, text) {
    const bytes = Buffer.byteLength(text);
    maxCheckpointBytes = Math.max(maxCheckpointBytes, bytes);
    return super.write(id, text).then(() => { process.stdout.write('checkpoint ' + id + ' ' + bytes + '\\n'); });
  }
}

const job = sluice.checkpointable({
  source: ndjsonSource(file, { timestampOf: (e) => e.ts, metrics: source }),
  every: { records: ${EVERY} },
  delivery: 'exactly-once',
  store: new MeasuredStore(stateDir + '/checkpoints'),
  sink: new FileSink(stateDir + '/output'),
  metrics: checkpoints,
});
process.stdout.write('start\\n');
job.pipe(
  tap(sample),
  sluice.withWatermarks({ input: 'elements', id: 'watermarks', timestampOf: (e) => e.ts, maxOutOfOrderness: ${MAX_OUT_OF_ORDERNESS} }),
  sluice.asyncWaitOrdered(
    (e) => new Promise((resolve) => setTimeout(() => {
      sample();
      resolve({ key: e.user % KEYS, page: Number(e.url.slice(3)) });
    }, 1)),
    { id: 'enrich', capacity: ${CAPACITY}, metrics: enrich },
  ),
  sluice.keyedTimers({
    key: (e) => e.key,
    processElement: (e, ctx) => {
      const end = ctx.timestamp - (ctx.timestamp % WINDOW) + WINDOW;
      const open = ctx.state.value() || {};
      const w = open[end] || (open[end] = { count: 0, sum: 0 });
      w.count++;
      w.sum += e.page;
      ctx.state.update(open);
      ctx.timerService.registerEventTimeTimer(end);
    },
    onTimer: (end, ctx) => {
      const open = ctx.state.value();
      const w = open[end];
      delete open[end];
      if (Object.keys(open).length === 0) ctx.state.clear();
      ctx.emit({ key: ctx.key, end, count: w.count, sum: w.sum });
    },
  }, { id: 'windows', metrics: windows, requireTimestamps: true }),
).subscribe({
  complete: () => process.stdout.write('done ' + JSON.stringify({
    maxRssKiB: process.resourceUsage().maxRSS, maxBuffered, maxAhead, maxCheckpointBytes,
    source: source.snapshot(), enrich: enrich.snapshot(), windows: windows.snapshot(), checkpoints: checkpoints.snapshot(),
  }) + '\\n'),
  error: (err) => {
    process.stderr.write('pipeline error: ' + (err && err.stack ? err.stack : String(err)) + '\\n');
    process.exitCode = 1;
  },
});
`;

/** What the child reports at completion. */
interface Report {
  /** process.resourceUsage().maxRSS: KiB. */
  readonly maxRssKiB: number;
  readonly maxBuffered: number;
  /** The highest source.read − enrich.emitted sampled. */
  readonly maxAhead: number;
  readonly maxCheckpointBytes: number;
  readonly source: { read: number; pauses: number; backPressuredTime: number; skipped: number; paused: number };
  readonly enrich: { emitted: number; backPressureTime: number; buffered: number };
  readonly windows: { records: number; lateRecords: number; emitted: number; eventTimersDropped: number };
  readonly checkpoints: { started: number; completed: number; failed: number; restored: number };
}

interface ChildResult {
  /** Exit code (null when killed). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
  /** The pipeline completed, and the child said so with its report. */
  readonly report: Report | undefined;
  /** Bytes of each checkpoint this launch made durable, in order. */
  readonly checkpointBytes: number[];
  /** The largest checkpoint file (temporary ones included) seen on disk while it ran, or after. */
  readonly largestFileSeen: number;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Writes N events to `path`, 10,000 lines per write, and returns the committed output the pipeline must produce:
 * for each window end in ascending order, each key's aggregate, keys in the order in which they first appeared in
 * that window (their timers' registration order).
 */
function writeEvents(path: string): string {
  const random = mulberry32(DATA_SEED);
  const windows = new Map<number, Map<number, { count: number; sum: number }>>();
  const fd = openSync(path, 'w');
  try {
    let lines: string[] = [];
    for (let i = 0; i < N; i++) {
      const user = i % USERS;
      const ts = T0 + i - (random() < 0.1 ? Math.floor(random() * DISORDER) : 0);
      const page = (i * 7919) % 1000;
      lines.push(JSON.stringify({ user, ts, url: `/p/${page}` }));
      if (lines.length === 10_000 || i === N - 1) {
        writeSync(fd, lines.join('\n') + '\n');
        lines = [];
      }
      const end = ts - (ts % WINDOW) + WINDOW;
      let keys = windows.get(end);
      if (keys === undefined) windows.set(end, (keys = new Map()));
      let aggregate = keys.get(user % KEYS);
      if (aggregate === undefined) keys.set(user % KEYS, (aggregate = { count: 0, sum: 0 }));
      aggregate.count++;
      aggregate.sum += page;
    }
  } finally {
    closeSync(fd);
  }
  const expected: string[] = [];
  for (const end of [...windows.keys()].sort((a, b) => a - b)) {
    for (const [key, { count, sum }] of windows.get(end)!) {
      expected.push(JSON.stringify({ kind: 'record', value: { key, end, count, sum }, timestamp: end }));
    }
  }
  return expected.join('\n') + '\n';
}

/** The largest checkpoint file in `dir` (temporary ones included), 0 if none. Files may vanish meanwhile. */
function largestCheckpointFile(dir: string): number {
  if (!existsSync(dir)) return 0;
  let largest = 0;
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('checkpoint-')) continue;
    try {
      largest = Math.max(largest, statSync(join(dir, name)).size);
    } catch {
      // Deleted by the store's retention between readdir and stat.
    }
  }
  return largest;
}

let work: string;
let file: string;
let expected: string;
const children = new Set<ChildProcess>();
const freshDir = tempDirs('sluice-flow-');

/**
 * Runs the child on `stateDir`, polling its checkpoint directory every 20 ms for the largest file. With `kill`, it
 * is SIGKILLed `kill.delay` ms after it has made `kill.checkpoints` checkpoints of its own durable.
 */
function runChild(stateDir: string, kill?: { checkpoints: number; delay: number }): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(work, 'child.cjs'), file, stateDir], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const checkpointDir = join(stateDir, 'checkpoints');
    let largestFileSeen = 0;
    const poll = setInterval(() => (largestFileSeen = Math.max(largestFileSeen, largestCheckpointFile(checkpointDir))), 20);
    const safety = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    let stdout = '';
    let stderr = '';
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const checkpointBytes: number[] = [];
    let lineStart = 0;
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      for (let end = stdout.indexOf('\n', lineStart); end !== -1; end = stdout.indexOf('\n', lineStart)) {
        const line = /^checkpoint \d+ (\d+)$/.exec(stdout.slice(lineStart, end));
        lineStart = end + 1;
        if (line !== null) checkpointBytes.push(Number(line[1]));
      }
      if (kill !== undefined && killTimer === undefined && checkpointBytes.length >= kill.checkpoints) {
        killTimer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }, kill.delay);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(safety);
      if (killTimer !== undefined) clearTimeout(killTimer);
      children.delete(child);
      const done = /^done (.*)$/m.exec(stdout);
      resolve({
        code, signal, stderr, checkpointBytes,
        report: done === null ? undefined : (JSON.parse(done[1]!) as Report),
        largestFileSeen: Math.max(largestFileSeen, largestCheckpointFile(checkpointDir)),
      });
    });
  });
}

/** Where two texts first differ, by line; undefined when equal. */
function firstDifference(actual: string, expected: string): { line: number; actual?: string; expected?: string } | undefined {
  if (actual === expected) return undefined;
  const a = actual.split('\n');
  const e = expected.split('\n');
  let line = 0;
  while (line < a.length && line < e.length && a[line] === e[line]) line++;
  return { line, actual: a[line], expected: e[line] };
}

beforeAll(() => {
  // The package as CommonJS, in a private folder whose node_modules resolves rxjs; the events next to it. (Shared
  // by the tests, so not one of tempDirs' per-test dirs; the state dirs are.)
  work = mkdtempSync(join(tmpdir(), 'sluice-flow-work-'));
  transpilePackage(join(work, 'pkg'));
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  writeFileSync(join(work, 'child.cjs'), CHILD);
  file = join(work, 'events.ndjson');
  expected = writeEvents(file);
}, 120_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('a checkpointable pipeline reading an NDJSON file through slow async calls, in a child process', () => {
  it(`reads ${N} events at the pace of its calls: peak RSS < 150 MB, no checkpoint > 1 MB, and the expected output`, async () => {
    // Arrange
    const stateDir = join(freshDir(), 'state');

    // Act
    const run = await runChild(stateDir);

    // Assert: it completed, and committed the output computed from the data (no record was late: it is the
    // same however the watermarks fell).
    expect({ code: run.code, stderr: run.stderr, completed: run.report !== undefined }).toEqual({ code: 0, stderr: '', completed: true });
    const report = run.report!;
    expect(report.windows).toMatchObject({ records: N, lateRecords: 0, eventTimersDropped: 0 });
    const actual = readCommitted(join(stateDir, 'output'));
    expect({ lines: actual.split('\n').length, firstDifference: firstDifference(actual, expected) })
      .toEqual({ lines: expected.split('\n').length, firstDifference: undefined });
    // The source was flow-controlled: it paused while the async operator was full, which then never held more
    // than one record beyond its capacity (and a watermark behind it).
    expect(report.source).toMatchObject({ read: N, skipped: 0, paused: 0 });
    expect(report.source.pauses).toBeGreaterThan(0);
    expect(report.source.backPressuredTime).toBeGreaterThan(0);
    expect(report.enrich.backPressureTime).toBeGreaterThan(0);
    expect(report.maxBuffered).toBeGreaterThanOrEqual(1);
    expect(report.maxBuffered).toBeLessThanOrEqual(2);
    expect(report.maxAhead).toBeLessThanOrEqual(CAPACITY + 1);
    // So memory and checkpoints stay small whatever N.
    expect(report.maxRssKiB).toBeLessThan(150 * 1024);
    expect(report.checkpoints).toMatchObject({ completed: N / EVERY + 1, failed: 0, restored: 0 });
    expect(run.checkpointBytes).toHaveLength(N / EVERY + 1);
    expect(Math.max(...run.checkpointBytes)).toBe(report.maxCheckpointBytes);
    expect(report.maxCheckpointBytes).toBeLessThanOrEqual(MIB);
    expect(run.largestFileSeen).toBeGreaterThan(0);
    expect(run.largestFileSeen).toBeLessThanOrEqual(MIB);
  }, soak(90_000, 600_000));

  it(`killed with SIGKILL ${KILLS} times at random moments and restarted, commits exactly the output of an uninterrupted run`, async () => {
    // Arrange: kill moments, each after the launch has made progress (1 to `most` checkpoints of its own durable),
    // then 0-99 ms on. Five launches use at most about half of the run, so none completes before its kill.
    const stateDir = join(freshDir(), 'state');
    const random = mulberry32(SEED);
    const most = Math.max(1, Math.floor(N / EVERY / (4 * KILLS)));
    const moments = Array.from({ length: KILLS }, () => ({
      checkpoints: 1 + Math.floor(random() * most),
      delay: Math.floor(random() * 100),
    }));

    // Act
    const killed: ChildResult[] = [];
    for (const moment of moments) killed.push(await runChild(stateDir, moment));
    const final = await runChild(stateDir);
    const actual = readCommitted(join(stateDir, 'output'));

    // Assert: each launch was killed by us, after its progress, and nothing else.
    const context = { seed: SEED, moments };
    const launches = killed.map((k, i) => ({
      signal: k.signal, completed: k.report !== undefined, stderr: k.stderr, progressed: k.checkpointBytes.length >= moments[i]!.checkpoints,
    }));
    expect({ ...context, launches })
      .toEqual({ ...context, launches: moments.map(() => ({ signal: 'SIGKILL', completed: false, stderr: '', progressed: true })) });
    // The last launch completed, resuming from a checkpoint rather than starting over.
    expect({ code: final.code, stderr: final.stderr, completed: final.report !== undefined }).toEqual({ code: 0, stderr: '', completed: true });
    const report = final.report!;
    expect(report.checkpoints.restored).toBe(1);
    expect(report.checkpoints.completed).toBeLessThan(N / EVERY + 1);
    expect(report.source.read).toBeLessThan(N);
    // Exactly-once: the committed output is the uninterrupted run's (which the test above checks against the same
    // text), and no pending epoch or temporary checkpoint file is left.
    expect({ lines: actual.split('\n').length, firstDifference: firstDifference(actual, expected) })
      .toEqual({ lines: expected.split('\n').length, firstDifference: undefined });
    expect(readdirSync(join(stateDir, 'output')).filter((n) => n.endsWith('.pending'))).toEqual([]);
    expect(readdirSync(join(stateDir, 'checkpoints')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // Restored runs are flow-controlled and small too.
    expect(report.maxBuffered).toBeLessThanOrEqual(2);
    expect(report.maxAhead).toBeLessThanOrEqual(CAPACITY + 1);
    expect(report.maxRssKiB).toBeLessThan(150 * 1024);
    expect(Math.max(...[...killed, final].flatMap((l) => [...l.checkpointBytes, l.largestFileSeen]))).toBeLessThanOrEqual(MIB);
  }, soak(90_000, 600_000));
});
