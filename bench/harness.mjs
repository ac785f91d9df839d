// A small, honest benchmark harness: gc() then warm-up, steady-state measured runs, wall-clock time with
// process.hrtime.bigint(), the median of the measured runs, and every result verified after its run.
// Run the suite with `node --expose-gc` (npm run bench does), or gc() is not available.
import os from 'node:os';

/** The median of a list of numbers (the mean of the two middle values when the count is even). */
export function median(xs) {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** A full garbage collection. Throws when the process was not started with --expose-gc. */
export function gc() {
  if (typeof globalThis.gc !== 'function') {
    throw new Error('gc() is not exposed: run the benchmarks with `node --expose-gc` (npm run bench does)');
  }
  globalThis.gc();
}

/** Lets the event loop run once, so callbacks left over from the previous run do not land in the next one. */
export const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Times one call of `fn` (sync or async): returns { ms, result }. */
export async function timeOnce(fn) {
  const t0 = process.hrtime.bigint();
  const result = await fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, result };
}

/**
 * Measures `fn` (a zero-argument function, sync or async).
 * - `warmup`: a function or a list of functions run first, untimed (normally the same work at a smaller N).
 *   It is required: there is no measurement without a warm-up.
 * - `runs`: the number of measured runs (>= 1; the suite uses 5, or 3 with --quick).
 * - `verify(result, { warmup })`: called after every run, warm-ups included, outside the timed region; it
 *   must throw on a wrong result, so a broken contender can never look fast.
 * - `setup()`: called before every measured run, outside the timed region (e.g. a scenario that reads a heap
 *   baseline forces its own gc there).
 * verify may be async (it is awaited).
 *
 * gc() runs once, before the warm-up, so one contender's garbage is not collected on another's clock. It does
 * NOT run between measured runs: a full gc makes V8 drop optimised code that holds weak references (about
 * 16 deoptimisations per run of an RxJS pipeline were seen), so every run would start cold and pay 15-35 ms
 * of re-optimisation, which is not what a long-running pipeline pays. Measured runs therefore follow each
 * other in steady state, each one's garbage collected as it would be in production, and the median absorbs
 * the run that happens to take a major gc.
 * Returns { median, times, results }.
 */
export async function measure(fn, { runs, warmup, verify, setup } = {}) {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`measure: runs must be a positive integer, got ${runs}`);
  if (!warmup) throw new Error('measure: a warm-up is required');
  await settle();
  gc();
  for (const w of Array.isArray(warmup) ? warmup : [warmup]) {
    await settle();
    const result = await w();
    await verify?.(result, { warmup: true });
  }
  const times = [];
  const results = [];
  for (let i = 0; i < runs; i++) {
    await settle();
    await setup?.();
    const { ms, result } = await timeOnce(fn);
    await verify?.(result, { warmup: false });
    times.push(ms);
    results.push(result);
  }
  return { median: median(times), times, results };
}

/**
 * Measures several contenders whose figures are read as ratios between them, in rounds: every contender is
 * warmed up first (`warmup`, a function or a list, as for measure()), then each round runs every contender once,
 * in turn. So the contenders are measured in the same state of V8's type feedback (every one of them has run,
 * whatever the order), and a slow spell of a busy machine falls on all of them instead of on one.
 * - `contenders`: [{ name, fn, warmup, verify? }], each as measure()'s `fn`, `warmup` and `verify`.
 * - `runs`: the number of rounds (>= 1).
 * gc() runs once, after the warm-ups (see measure() for why not between runs), with one turn of the event loop
 * before every run. Returns a Map from name to { median, times, results }.
 */
export async function measureRounds(contenders, { runs } = {}) {
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`measureRounds: runs must be a positive integer, got ${runs}`);
  for (const { name, warmup, verify } of contenders) {
    if (!warmup) throw new Error(`measureRounds: a warm-up is required (${name})`);
    for (const w of Array.isArray(warmup) ? warmup : [warmup]) {
      await settle();
      const result = await w();
      await verify?.(result, { warmup: true });
    }
  }
  await settle();
  gc();
  const out = new Map(contenders.map(({ name }) => [name, { times: [], results: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const { name, fn, verify } of contenders) {
      await settle();
      const { ms, result } = await timeOnce(fn);
      await verify?.(result, { warmup: false });
      out.get(name).times.push(ms);
      out.get(name).results.push(result);
    }
  }
  for (const m of out.values()) m.median = median(m.times);
  return out;
}

/** Throws unless `actual === expected`. */
export function expectEqual(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

/**
 * Tracks the peak of process.memoryUsage().heapUsed. Call `sample()` at the points that matter (it is
 * cheap enough for once every 1000 elements), and/or `start(ms)` to sample on an interval as well (an
 * interval cannot fire during synchronous work, hence the on-demand samples). `stop()` ends the interval
 * and returns the peak in bytes; `max` reads it at any time.
 */
export function peakHeapSampler() {
  let max = 0;
  let samples = 0;
  let timer;
  const sample = () => {
    const used = process.memoryUsage().heapUsed;
    samples++;
    if (used > max) max = used;
    return used;
  };
  return {
    sample,
    start(intervalMs = 5) {
      sample();
      timer = setInterval(sample, intervalMs);
      timer.unref?.();
      return this;
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      sample();
      return max;
    },
    get max() { return max; },
    get samples() { return samples; },
  };
}

/** Heap in use after a full gc (twice: the first pass can leave work for the second), in bytes. */
export function heapAfterGc(times = 2) {
  for (let i = 0; i < times; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** The machine the suite runs on. */
export function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    cpuCount: cpus.length,
    totalMemGB: os.totalmem() / 2 ** 30,
    platform: `${os.type()} ${os.release()} (${os.arch()})`,
    node: process.version,
    v8: process.versions.v8,
    date: new Date().toISOString(),
  };
}

// Formatting helpers shared by the scenarios and the report.
export const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
export const fmtRatio = (r) => (Number.isFinite(r) ? `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}x` : 'n/a');
export const fmtN = (n) => (n >= 1e3 && Number.isInteger(Math.log10(n)) ? `1e${Math.log10(n)}` : n.toLocaleString('en-US'));
export const fmtRate = (perSec) => (perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)} M/s` : perSec >= 1e3 ? `${(perSec / 1e3).toFixed(1)} k/s` : `${perSec.toFixed(0)} /s`);
export const fmtMB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
export const fmtPct = (x) => `${(100 * x).toFixed(1)}%`;
