// Flow-control scenario, in three parts (three tables).
//
// 1. Memory: 1e7 values (1e6 with --quick) through asyncWaitOrdered(call, { capacity: 100, input: 'values' }),
//    where the call is a seeded mix: 79.9% resolve on a microtask, 20% after setImmediate, 0.1% after
//    setTimeout(1) (a setTimeout per call would hold the ordered operator's head for 1-2 ms each time: hours at
//    1e7). The input comes from a pull source, `pulled(generator)` (the values are made as they are read, never
//    held in an array), and from a push source, `range()`, which emits every value at once into the operator's
//    queue. Each runs in a child process of its own (node --expose-gc --max-old-space-size=2048): a push source
//    that ran out of heap ends only its child, and the report says how far it got. Peak: heapUsed sampled every
//    1000 values read, every 1000 out and every 10 ms, minus the heap after two forced gcs just before the run
//    (after a warm-up at 1e5).
// 2. Throughput: the flood scenario's pipeline (1e6 values, fn = x => Promise.resolve(2 * x), capacity 100),
//    asyncWaitOrdered and asyncWaitUnordered, input 'values' and records (toRecords()), fed by pulled(array),
//    pulled(generator) and range(). All twelve are warmed up, then measured in rounds (measureRounds), so the
//    ratios compare contenders in the same state of the JIT's type feedback.
// 3. Files: the lines of a generated 1e6-line NDJSON file (about 100 bytes a line, in os.tmpdir(), removed at the
//    end) read to the end by fileLinesSource against a readline loop, and by ndjsonSource against a readline
//    loop with JSON.parse. Measured in rounds too, after one warm-up read each (the file is then in the page
//    cache for every contender).
// Every result is checked after every run: sums, counts, line lengths.
import { spawn } from 'node:child_process';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { lastValueFrom, range, reduce, tap } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, pulled, sourceMetrics, toRecords } from 'rxjs-sluice';
import { fileLinesSource, ndjsonSource } from 'rxjs-sluice/node';
import { expectEqual, fmtMB, fmtMs, fmtN, fmtRate, fmtRatio, heapAfterGc, measureRounds, peakHeapSampler, settle } from './harness.mjs';

const CAPACITY = 100;

function* upTo(n) {
  for (let i = 0; i < n; i++) yield i;
}

// ------------------------------------------------------------------------------------------------ memory

/** The share of calls that resolve after setTimeout(1) and after setImmediate; the rest resolve on a microtask. */
const MIX = { timer: 0.001, immediate: 0.2 };
const SEED = 0x5eed;
/** The heap limit of each memory run's child process, in MB. */
const CHILD_HEAP_MB = 2048;
/** A child that has not finished by then is killed and reported as such. */
const CHILD_TIMEOUT_MS = 10 * 60 * 1000;
const PULL = 'pulled(generator)';
const PUSH = 'range()';

/** A seeded hash of x into [0, 1) (murmur3's finaliser): the same mix of calls for every source and run. */
function unitHash(x) {
  let h = Math.imul(x ^ SEED, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** The call: 2 * x, after setTimeout(1), setImmediate or a microtask, as unitHash(x) says. */
function mixedCall(x) {
  const u = unitHash(x);
  if (u < MIX.timer) return new Promise((resolve) => setTimeout(resolve, 1, 2 * x));
  if (u < MIX.timer + MIX.immediate) return new Promise((resolve) => setImmediate(resolve, 2 * x));
  return Promise.resolve(2 * x);
}

/**
 * One memory pass (in the child): n values from `kind`'s source through the ordered operator. `onSample(peak,
 * read)` is called after each heap sample. Resolves to the figures of the pass.
 */
function memoryPass(kind, n, onSample = () => {}) {
  const sampler = peakHeapSampler();
  const metrics = sourceMetrics();
  let read = 0; // values the source emitted
  let out = 0; // records the operator emitted
  let sum = 0;
  let mostHeld = 0; // the most values read and not yet out, at any read
  const sample = () => {
    sampler.sample();
    onSample(sampler.max, read);
  };
  const input = kind === PULL ? pulled(upTo(n), { metrics }) : range(0, n);
  const timer = setInterval(sample, 10);
  sample();
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    input.pipe(
      tap(() => {
        read++;
        if (read - out > mostHeld) mostHeld = read - out;
        if (read % 1000 === 0) sample();
      }),
      asyncWaitOrdered(mixedCall, { capacity: CAPACITY, input: 'values' }),
    ).subscribe({
      next: (el) => {
        if (el.kind !== 'record') return;
        out++;
        sum += el.value;
        if (out % 1000 === 0) sample();
      },
      error: reject,
      complete: () => {
        const ms = performance.now() - t0;
        clearInterval(timer);
        resolve({ n, count: out, sum, ms, peak: sampler.stop(), mostHeld, pauses: metrics.pauses, backPressuredMs: metrics.backPressuredTime });
      },
    });
  });
}

/**
 * The child's side: a warm-up pass, a baseline after two forced gcs, the measured pass. It writes JSON lines to
 * stdout: the baseline, the peak so far whenever it has grown by 1 MB (so the parent knows how far a run that
 * runs out of heap got; a pipe's write is synchronous on Linux), then the result.
 */
async function memoryChild({ kind, n, warmN }) {
  const say = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  const warm = await memoryPass(kind, warmN);
  expectEqual(warm.count, warmN, `flowControl memory ${kind} n=${warmN} (warm-up): records out`);
  await settle();
  const baseline = heapAfterGc(2);
  say({ type: 'baseline', baseline });
  let reported = 0;
  const result = await memoryPass(kind, n, (peak, read) => {
    if (peak - reported >= 2 ** 20) {
      reported = peak;
      say({ type: 'progress', peak, read });
    }
  });
  say({ type: 'result', ...result, baseline });
}

/**
 * Runs one memory pass in a child process with a heap limit of `heapMB`. Resolves to { result } when it
 * finished, or { died } with how it ended (out of heap, or killed after CHILD_TIMEOUT_MS) and the last peak it
 * reported; rejects on any other failure (a wrong result, say).
 */
export function memoryInChild(kind, n, warmN, heapMB = CHILD_HEAP_MB) {
  const args = ['--expose-gc', `--max-old-space-size=${heapMB}`, fileURLToPath(import.meta.url), '--memory-child', JSON.stringify({ kind, n, warmN })];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const t0 = performance.now();
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, CHILD_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (s) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      const messages = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
      const result = messages.find((m) => m.type === 'result');
      if (code === 0 && result) {
        resolve({ result });
        return;
      }
      const baseline = messages.find((m) => m.type === 'baseline')?.baseline;
      const last = messages.filter((m) => m.type === 'progress').at(-1);
      const outOfHeap = /heap out of memory|Allocation failed/i.test(stderr);
      if (!outOfHeap && !timedOut) {
        reject(new Error(`flowControl memory ${kind} n=${n}: the child process failed (code ${code}, signal ${signal}):\n${stderr.slice(-4000)}`));
        return;
      }
      resolve({ died: { how: outOfHeap ? `ran out of heap (--max-old-space-size=${heapMB})` : `killed after ${CHILD_TIMEOUT_MS / 60000} min`, ms, baseline, peak: last?.peak, read: last?.read } });
    });
  });
}

async function runMemory({ quick, log }) {
  const n = quick ? 1e6 : 1e7;
  const warmN = 1e5;
  const rows = [];
  const targets = [];
  const res = {};
  for (const kind of [PULL, PUSH]) {
    log(`  flowControl memory n=${fmtN(n)} ${kind}: a child process (warm-up at ${fmtN(warmN)}, 1 run)...`);
    const outcome = await memoryInChild(kind, n, warmN);
    res[kind] = outcome;
    const contender = kind; // the title names the pipeline
    if (outcome.died) {
      const d = outcome.died;
      const growth = d.peak !== undefined && d.baseline !== undefined ? d.peak - d.baseline : undefined;
      rows.push({
        contender,
        n,
        medianMs: d.ms,
        runs: 1,
        times: [d.ms],
        extra: { 'baseline heap': d.baseline === undefined ? 'n/a' : fmtMB(d.baseline), 'sampled peak growth': growth === undefined ? 'n/a' : `>= ${fmtMB(growth)}` },
        note: `${d.how} after reading ${d.read === undefined ? 'an unknown number of' : fmtN(d.read)} values; median ms = the child's wall time until then`,
      });
      log(`  flowControl memory ${kind}: ${d.how}, last sampled peak growth ${growth === undefined ? 'n/a' : fmtMB(growth)}`);
      continue;
    }
    const r = outcome.result;
    expectEqual(r.count, n, `flowControl memory ${kind} n=${n}: records out`);
    expectEqual(r.sum, n * (n - 1), `flowControl memory ${kind} n=${n}: sum`);
    const growth = r.peak - r.baseline;
    rows.push({
      contender,
      n,
      medianMs: r.ms,
      runs: 1,
      times: [r.ms],
      extra: {
        'baseline heap': fmtMB(r.baseline),
        'sampled peak growth': fmtMB(growth),
        'most values held (read, not yet out)': fmtN(r.mostHeld),
        throughput: fmtRate(n / (r.ms / 1000)),
        'source pauses': kind === PULL ? fmtN(r.pauses) : '-',
        'back-pressured time': kind === PULL ? `${fmtMs(r.backPressuredMs)} ms` : '-',
      },
    });
    log(`  flowControl memory ${kind}: ${fmtMs(r.ms)} ms, sampled peak growth ${fmtMB(growth)}, at most ${r.mostHeld} values held`);
  }

  const pull = res[PULL];
  if (pull.died) {
    targets.push({ target: `Flow control, memory: ${PULL} peak heap growth < 20 MB`, measured: pull.died.how, pass: false, setAtN: 1e7, measuredAtN: n });
  } else {
    const growth = pull.result.peak - pull.result.baseline;
    targets.push({
      target: `Flow control, memory: ${PULL} -> asyncWaitOrdered (capacity 100), sampled peak heap growth < 20 MB`,
      measured: `${fmtMB(growth)} (at most ${fmtN(pull.result.mostHeld)} values read and not yet out)`,
      pass: growth < 20 * 2 ** 20,
      setAtN: 1e7,
      measuredAtN: n,
    });
  }
  const push = res[PUSH];
  targets.push({
    target: `Flow control, memory: the same pipeline fed by ${PUSH}, sampled peak heap growth (reported, no threshold)`,
    measured: push.died
      ? `${push.died.how} after ${push.died.read === undefined ? 'an unknown number of' : fmtN(push.died.read)} values, last sampled growth ${push.died.peak === undefined ? 'n/a' : fmtMB(push.died.peak - push.died.baseline)}`
      : `${fmtMB(push.result.peak - push.result.baseline)} at N = ${fmtN(n)} (${fmtN(push.result.mostHeld)} values held at most)`,
    pass: null,
  });
  return {
    id: 'flowControlMemory',
    title: `Flow control, memory: ${fmtN(n)} values through asyncWaitOrdered (capacity 100, input 'values'), each call `
      + `resolving on a microtask (${(100 * (1 - MIX.timer - MIX.immediate)).toFixed(1)}%), after setImmediate `
      + `(${(100 * MIX.immediate).toFixed(1)}%) or after setTimeout(1) (${(100 * MIX.timer).toFixed(1)}%), seeded; `
      + `pull source against push source, each in a child process`,
    rows,
    targets,
  };
}

// -------------------------------------------------------------------------------------------- throughput

const fn = (x) => Promise.resolve(2 * x);
const sumRecords = reduce((acc, el) => (el.kind === 'record' ? acc + el.value : acc), 0);
const OPERATORS = { asyncWaitOrdered, asyncWaitUnordered };
const SOURCES = {
  [PUSH]: () => (n) => range(0, n),
  // The arrays are made once, outside the timed region (one for the warm-up's N).
  'pulled(array)': (n, warmN) => {
    const values = Array.from({ length: n }, (_, i) => i);
    const warm = values.slice(0, warmN);
    return (k) => pulled(k === n ? values : warm);
  },
  [PULL]: () => (k) => pulled(upTo(k)),
};

/** The pipeline of one contender: `source(k)`, then the operator, fed values or records. */
function pipelineOf(operator, records, source) {
  const op = OPERATORS[operator];
  return (k) => lastValueFrom(records
    ? source(k).pipe(toRecords(), op(fn, { capacity: CAPACITY }), sumRecords)
    : source(k).pipe(op(fn, { capacity: CAPACITY, input: 'values' }), sumRecords));
}

async function runThroughput({ runs, log }) {
  const n = 1e6;
  const warmN = n / 10;
  const groups = [];
  const contenders = [];
  for (const operator of Object.keys(OPERATORS)) {
    for (const records of [false, true]) {
      const group = `${operator}, ${records ? 'records (toRecords())' : "input: 'values'"}`;
      groups.push(group);
      for (const [sourceName, makeSource] of Object.entries(SOURCES)) {
        const run = pipelineOf(operator, records, makeSource(n, warmN));
        const name = `${sourceName} -> ${group}`;
        contenders.push({
          name,
          group,
          sourceName,
          fn: () => run(n),
          warmup: async () => ({ warm: await run(warmN) }),
          verify: (r, { warmup }) => (warmup
            ? expectEqual(r.warm, warmN * (warmN - 1), `flowControl ${name} n=${warmN} (warm-up)`)
            : expectEqual(r, n * (n - 1), `flowControl ${name} n=${n}`)),
        });
      }
    }
  }
  log(`  flowControl throughput n=${fmtN(n)}: ${contenders.length} contenders, warm-ups at ${fmtN(warmN)}, then ${runs} rounds...`);
  const m = await measureRounds(contenders, { runs });
  const msOf = (group, sourceName) => m.get(`${sourceName} -> ${group}`).median;
  const rows = [];
  const targets = [];
  for (const c of contenders) {
    const { median, times } = m.get(c.name);
    const push = msOf(c.group, PUSH);
    rows.push({
      contender: c.name,
      n,
      medianMs: median,
      runs,
      times,
      extra: {
        'ns a value': ((median * 1e6) / n).toFixed(0),
        throughput: fmtRate(n / (median / 1000)),
        'vs range()': fmtRatio(push / median),
      },
    });
    log(`  flowControl ${c.name}: median ${fmtMs(median)} ms [${times.map(fmtMs).join(', ')}]`);
  }
  for (const group of groups) {
    for (const sourceName of Object.keys(SOURCES).filter((s) => s !== PUSH)) {
      const ratio = msOf(group, PUSH) / msOf(group, sourceName);
      targets.push({
        target: `Flow control, ${sourceName} -> ${group}: throughput >= 0.8x range()'s`,
        measured: `${fmtRatio(ratio)} (${fmtRate(n / (msOf(group, sourceName) / 1000))} against ${fmtRate(n / (msOf(group, PUSH) / 1000))})`,
        pass: ratio >= 0.8,
        setAtN: 1e6,
        measuredAtN: n,
      });
    }
  }
  return {
    id: 'flowControl',
    title: `Flow control, throughput: ${fmtN(n)} values from pull sources (pulled(array), pulled(generator)) against a push source (range()), capacity 100, fn = x => Promise.resolve(2x)`,
    rows,
    targets,
  };
}

// ------------------------------------------------------------------------------------------------- files

const EVENTS = ['click', 'view', 'purchase', 'signup'];

/** Line i of the generated file: an NDJSON-like object of about 100 bytes, its id = i. */
function lineOf(i) {
  const head = `{"id":${i},"user":"user-${i % 9973}","event":"${EVENTS[i % EVENTS.length]}","amount":${(i % 10000) / 100},"at":${1_700_000_000_000 + i}`;
  return `${head},"pad":"${'x'.repeat(Math.max(1, 90 - head.length))}"}`;
}

/** Writes n lines to `path`; returns the total characters of the lines (without their '\n'). */
function writeLines(path, n) {
  const fd = openSync(path, 'w');
  let chars = 0;
  try {
    for (let i = 0; i < n;) {
      const lines = [];
      for (const end = Math.min(n, i + 10_000); i < end; i++) {
        const line = lineOf(i);
        chars += line.length;
        lines.push(line);
      }
      writeSync(fd, `${lines.join('\n')}\n`);
    }
  } finally {
    closeSync(fd);
  }
  return chars;
}

/** `for await` over readline on fs.createReadStream: every line goes to `each`. */
async function readlineLoop(path, each) {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) each(line);
}

const READLINE = 'readline loop (for await, fs.createReadStream)';
const LINES = 'fileLinesSource';
const READLINE_JSON = 'readline loop + JSON.parse';
const NDJSON = 'ndjsonSource';

const fileContenders = {
  [READLINE]: async (path) => {
    const acc = { lines: 0, chars: 0 };
    await readlineLoop(path, (line) => {
      acc.lines++;
      acc.chars += line.length;
    });
    return acc;
  },
  [LINES]: (path) => lastValueFrom(fileLinesSource(path).open(undefined).pipe(reduce((acc, item) => {
    acc.lines++;
    acc.chars += item.value.length;
    return acc;
  }, { lines: 0, chars: 0 }))),
  [READLINE_JSON]: async (path) => {
    const acc = { lines: 0, ids: 0 };
    await readlineLoop(path, (line) => {
      acc.lines++;
      acc.ids += JSON.parse(line).id;
    });
    return acc;
  },
  [NDJSON]: (path) => lastValueFrom(ndjsonSource(path).open(undefined).pipe(reduce((acc, item) => {
    acc.lines++;
    acc.ids += item.value.id;
    return acc;
  }, { lines: 0, ids: 0 }))),
};

/** Each contender's plain peer: its throughput is reported against this one's. */
const PEER = { [READLINE]: READLINE, [LINES]: READLINE, [READLINE_JSON]: READLINE_JSON, [NDJSON]: READLINE_JSON };

async function runFiles({ runs, log }) {
  const n = 1e6;
  const dir = mkdtempSync(join(os.tmpdir(), 'sluice-bench-'));
  try {
    const path = join(dir, 'events.ndjson');
    const chars = writeLines(path, n);
    const bytes = statSync(path).size;
    log(`  flowControl files: wrote ${fmtN(n)} lines, ${fmtMB(bytes)}, to ${path}; a warm-up read each, then ${runs} rounds...`);
    const check = (name, r) => {
      expectEqual(r.lines, n, `flowControl ${name}: lines`);
      if ('chars' in r) expectEqual(r.chars, chars, `flowControl ${name}: characters`);
      else expectEqual(r.ids, (n * (n - 1)) / 2, `flowControl ${name}: sum of ids`);
    };
    const m = await measureRounds(Object.entries(fileContenders).map(([name, read]) => ({
      name,
      fn: () => read(path),
      warmup: () => read(path),
      verify: (r) => check(name, r),
    })), { runs });
    const ms = (name) => m.get(name).median;
    const rows = Object.keys(fileContenders).map((name) => {
      const { median, times } = m.get(name);
      log(`  flowControl ${name}: median ${fmtMs(median)} ms [${times.map(fmtMs).join(', ')}]`);
      return {
        contender: name,
        n,
        medianMs: median,
        runs,
        times,
        extra: {
          'lines/s': fmtRate(n / (median / 1000)),
          'MB/s': (bytes / 2 ** 20 / (median / 1000)).toFixed(0),
          'vs its readline loop': fmtRatio(ms(PEER[name]) / median),
        },
      };
    });
    const linesRatio = ms(READLINE) / ms(LINES);
    const ndjsonRatio = ms(READLINE_JSON) / ms(NDJSON);
    return {
      id: 'flowControlFile',
      title: `Flow control, files: ${fmtN(n)} lines of about ${Math.round(bytes / n)} bytes (NDJSON, ${fmtMB(bytes)}) read to the end, from the page cache`,
      rows,
      targets: [
        {
          target: `Flow control, files: ${LINES} throughput >= 0.7x a readline loop's`,
          measured: `${fmtRatio(linesRatio)} (${fmtRate(n / (ms(LINES) / 1000))} against ${fmtRate(n / (ms(READLINE) / 1000))} lines)`,
          pass: linesRatio >= 0.7,
          setAtN: 1e6,
          measuredAtN: n,
        },
        {
          target: `Flow control, files: ${NDJSON} against a readline loop with JSON.parse (reported, no threshold)`,
          measured: `${fmtRatio(ndjsonRatio)} its throughput (${fmtRate(n / (ms(NDJSON) / 1000))} against ${fmtRate(n / (ms(READLINE_JSON) / 1000))} records)`,
          pass: null,
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The three parts; the suite prints (and writes) them as three scenarios. */
export async function run({ quick = false, runs = quick ? 3 : 5, log = console.error } = {}) {
  return [await runMemory({ quick, log }), await runThroughput({ runs, log }), await runFiles({ runs, log })];
}

// A memory pass's child process (see memoryInChild): node --expose-gc bench/flowControl.mjs --memory-child '{…}'
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv[2] === '--memory-child') {
  await memoryChild(JSON.parse(process.argv[3]));
}
