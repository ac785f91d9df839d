import { spawn, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { lastValueFrom, toArray } from 'rxjs';
import { arraySource, checkpointable, readLatestCheckpoint } from 'rxjs-sluice';
import { DirectoryLockedError, FileCheckpointStore, FileSink, readCommitted } from 'rxjs-sluice/node';
import { transpilePackage } from '../support/transpiledPackage';
import { soak } from '../support/soak';

/**
 * The process-level crash test: a child Node process runs an
 * exactly-once pipeline over FileCheckpointStore and FileSink; it is SIGKILLed at random moments (no unsubscribe,
 * no finally blocks, no flushing: the process just stops) at least 3 times (8 with SLUICE_FULL=1, as in CI) and
 * restarted each time, then runs to completion. Its committed output must equal that of an uninterrupted run of the same child.
 *
 * The child loads the package compiled to CommonJS from src/ in a private temp dir, not dist/, which a checkout
 * may lack or hold stale (npm test does not build it).
 */

const root = join(__dirname, '..', '..');
const RECORDS = 5000;
const EVERY = 50;
/** Kills to land before the run may complete: the soak variant (SLUICE_FULL=1, set by CI) lands more. */
const KILLS = soak(3, 8);
/** Seed of the kill delays; set SLUICE_SIGKILL_SEED to replay another sequence. */
const SEED = Number(process.env['SLUICE_SIGKILL_SEED'] ?? 20_240_611);

/**
 * The child: RECORDS values through arraySource, paced one checkpoint interval at a time (the next EVERY records
 * are read once the asyncWait holds nothing, so barriers fall in the same places in every run); an async call with
 * a real delay (capacity 20); then keyedTimers with per-key running state and a per-key total at end of input.
 */
const CHILD = `'use strict';
const { Observable, from } = require('rxjs');
const sluice = require('./pkg/index.js');
const { FileCheckpointStore, FileSink } = require('./pkg/node/index.js');

const stateDir = process.argv[2];
const RECORDS = ${RECORDS};
const EVERY = ${EVERY};
const values = Array.from({ length: RECORDS }, (_, i) => i);
const waits = sluice.asyncWaitMetrics();
const idle = () => waits.inFlight + waits.waiting + waits.buffered === 0;

const inner = sluice.arraySource(values);
const source = {
  open: (position) => new Observable((subscriber) => {
    const items = [];
    from(inner.open(position)).subscribe((item) => items.push(item));
    let next = 0;
    let timer;
    const pump = () => {
      if (idle()) {
        for (const end = Math.min(next + EVERY, items.length); next < end && !subscriber.closed; next++) subscriber.next(items[next]);
        if (next >= items.length) return subscriber.complete();
      }
      timer = setTimeout(pump, 1);
    };
    timer = setTimeout(pump, 0);
    return () => clearTimeout(timer);
  }),
};

const metrics = sluice.checkpointMetrics();
const job = sluice.checkpointable({
  source,
  every: { records: EVERY },
  delivery: 'exactly-once',
  store: new FileCheckpointStore(stateDir + '/checkpoints'),
  sink: new FileSink(stateDir + '/output'),
  metrics,
});
process.stdout.write('start\\n');
job.pipe(
  sluice.asyncWaitOrdered(
    (v) => new Promise((resolve) => setTimeout(() => resolve({ v, score: (v * 7919) % 1009 }), 2 + (v % 3))),
    { id: 'enrich', capacity: 20, metrics: waits },
  ),
  sluice.keyedTimers({
    key: (e) => e.v % 7,
    processElement: (e, ctx) => {
      const state = ctx.state.value() || { n: 0, sum: 0 };
      if (state.n === 0) ctx.timerService.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
      const next = { n: state.n + 1, sum: state.sum + e.score };
      ctx.state.update(next);
      ctx.emit({ key: ctx.key, v: e.v, n: next.n, sum: next.sum });
    },
    onTimer: (_t, ctx) => ctx.emit({ key: ctx.key, total: ctx.state.value() }),
  }, { id: 'running' }),
).subscribe({
  complete: () => process.stdout.write('done ' + JSON.stringify(metrics.snapshot()) + '\\n'),
  error: (err) => {
    process.stderr.write('pipeline error: ' + (err && err.stack ? err.stack : String(err)) + '\\n');
    process.exitCode = 1;
  },
});
`;

/**
 * A child that takes the locks of `<dir>/checkpoints` (a FileCheckpointStore) and `<dir>/output` (a FileSink) once
 * it reads a line on stdin (so that several children can be started first and then race), says `held` and keeps
 * them until it is killed, or with `exit`, exits at once without closing them. When a lock is taken it says
 * `locked <error name> <owner pid>`.
 */
const LOCK_CHILD = `'use strict';
const { FileCheckpointStore, FileSink } = require('./pkg/node/index.js');
const [dir, mode] = process.argv.slice(2);
process.stdin.once('data', async () => {
  try {
    await new FileCheckpointStore(dir + '/checkpoints').open();
    await new FileSink(dir + '/output').open();
  } catch (err) {
    process.stdout.write('locked ' + err.name + ' ' + (err.owner ? err.owner.pid : '-') + '\\n');
    process.exit(0);
  }
  process.stdout.write('held\\n');
  if (mode === 'exit') process.exit(0);
  setInterval(() => undefined, 1000);
});
`;

/** A small seeded PRNG (mulberry32): the same seed gives the same kill delays. */
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

interface ChildResult {
  /** Exit code (null when killed). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The pipeline completed (its output completed and the child said so). */
  readonly completed: boolean;
  /** Killed by this test before it completed. */
  readonly killed: boolean;
  /** The child's checkpointMetrics at completion. */
  readonly metrics: { started: number; completed: number; restored: number } | undefined;
}

let work: string;
const children = new Set<ChildProcess>();

/** Runs the child on `stateDir`; with `killAfterMs`, SIGKILLs it that long after it has started its pipeline. */
function runChild(stateDir: string, killAfterMs?: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(work, 'child.cjs'), stateDir], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const safety = setTimeout(() => child.kill('SIGKILL'), 20_000); // a hung child fails the test, not the suite
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (killAfterMs !== undefined && killTimer === undefined && stdout.includes('start\n')) {
        killTimer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        }, killAfterMs);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(safety);
      if (killTimer !== undefined) clearTimeout(killTimer);
      children.delete(child);
      const done = /^done (.*)$/m.exec(stdout);
      const completed = done !== null;
      resolve({
        code, signal, stdout, stderr, completed,
        killed: signal === 'SIGKILL' && !completed,
        metrics: done === null ? undefined : JSON.parse(done[1]!),
      });
    });
  });
}

/** Committed epoch files, pending files and the newest valid checkpoint id of a state dir. */
async function progressOf(stateDir: string): Promise<{ committed: number; pending: number; latest: number }> {
  const output = join(stateDir, 'output');
  const names = existsSync(output) ? readdirSync(output) : [];
  const checkpoints = join(stateDir, 'checkpoints');
  const latest = existsSync(checkpoints) ? await readLatestCheckpoint(new FileCheckpointStore(checkpoints, { createDirectory: false })) : undefined;
  return {
    committed: names.filter((n) => /^epoch-\d{20}\.jsonl$/.test(n)).length,
    pending: names.filter((n) => n.endsWith('.pending')).length,
    latest: latest?.checkpointId ?? 0,
  };
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
  // The package as CommonJS, in a private folder whose node_modules resolves rxjs and denque.
  work = mkdtempSync(join(tmpdir(), 'sluice-sigkill-'));
  transpilePackage(join(work, 'pkg'));
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  writeFileSync(join(work, 'child.cjs'), CHILD);
  writeFileSync(join(work, 'lock-child.cjs'), LOCK_CHILD);
}, 60_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('a checkpointable pipeline in a child process killed with SIGKILL', () => {
  it(`survives at least ${KILLS} kills at random moments and commits exactly the output of an uninterrupted run`, async () => {
    // Arrange: the uninterrupted run, in its own directory.
    const baselineDir = join(work, 'baseline');
    const baseline = await runChild(baselineDir);
    expect({ code: baseline.code, stderr: baseline.stderr, completed: baseline.completed }).toEqual({ code: 0, stderr: '', completed: true });
    const expected = readCommitted(join(baselineDir, 'output'));

    // Act: kill the child at seeded random moments, restarting it each time on the same directory. If it
    // completes before the kill lands, that was no kill: start the history over, with shorter delays.
    const random = mulberry32(SEED);
    let maxDelay = 400;
    let histories = 0;
    let stateDir = '';
    let kills: { delay: number; committed: number; pending: number; latest: number }[] = [];
    const startOver = (): void => {
      stateDir = join(work, `killed-${histories++}`);
      kills = [];
    };
    startOver();
    let launches = 0;
    while (kills.length < KILLS) {
      if (++launches > 60) throw new Error(`could not land ${KILLS} kills in 60 launches (seed ${SEED})`);
      const delay = 50 + Math.floor(random() * (maxDelay - 50));
      const result = await runChild(stateDir, delay);
      if (result.completed) {
        maxDelay = Math.max(60, Math.floor(maxDelay / 2));
        startOver();
        continue;
      }
      // Anything but our SIGKILL (a crash of its own) fails the test, with what the child said.
      expect({ killed: result.killed, signal: result.signal, stderr: result.stderr }).toEqual({ killed: true, signal: 'SIGKILL', stderr: '' });
      kills.push({ delay, ...(await progressOf(stateDir)) });
    }
    const final = await runChild(stateDir);
    const actual = readCommitted(join(stateDir, 'output'));
    const end = await progressOf(stateDir);

    // Assert: the final run completed normally, and resumed rather than starting from scratch.
    const context = { seed: SEED, kills };
    expect({ code: final.code, stderr: final.stderr, completed: final.completed }).toEqual({ code: 0, stderr: '', completed: true });
    expect(kills.length).toBeGreaterThanOrEqual(KILLS);
    expect(final.metrics!.restored).toBe(1);
    expect(final.metrics!.started).toBeLessThan(baseline.metrics!.started);
    // Progress: committed epochs never go backwards across restarts, and grow from the first kill to the end.
    const committed = kills.map((k) => k.committed);
    expect({ ...context, committed }).toEqual({ ...context, committed: [...committed].sort((a, b) => a - b) });
    expect(kills.map((k) => k.latest)).toEqual([...kills.map((k) => k.latest)].sort((a, b) => a - b));
    expect(kills[kills.length - 1]!.latest).toBeGreaterThan(0);
    expect(end.committed).toBeGreaterThan(committed[0]!);
    expect(end.committed).toBe(RECORDS / EVERY + 1); // one file per checkpoint, the final one included
    // Exactly-once: the same committed output as the uninterrupted run, and no pending epoch left.
    expect(expected.split('\n').filter(Boolean)).toHaveLength(RECORDS + 7);
    expect({ lines: actual.split('\n').length, firstDifference: firstDifference(actual, expected) })
      .toEqual({ lines: expected.split('\n').length, firstDifference: undefined });
    expect(actual).toBe(expected);
    expect(end.pending).toBe(0);
    // The temporary files of writes the kills cut short were deleted when the next run took the directory.
    expect(readdirSync(join(stateDir, 'checkpoints')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});

describe('directory locks across processes', () => {
  /** A started lock child: `go()` makes it take the locks; `firstLine` is what it then says. */
  interface LockChild {
    readonly child: ChildProcess;
    go(): void;
    readonly firstLine: Promise<string>;
    readonly exited: Promise<void>;
  }

  function lockChild(dir: string, mode: 'hold' | 'exit' = 'hold'): LockChild {
    const child = spawn(process.execPath, [join(work, 'lock-child.cjs'), dir, mode], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const firstLine = new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
      });
      child.on('close', (code) => reject(new Error(`the lock child exited (${code}) without a word: ${stderr}`)));
    });
    const exited = new Promise<void>((resolve) => child.on('close', () => {
      children.delete(child);
      resolve();
    }));
    return { child, go: () => child.stdin!.write('go\n'), firstLine, exited };
  }

  /** Stops a child that holds its locks the way a crash does. */
  async function kill(holder: LockChild): Promise<void> {
    holder.child.kill('SIGKILL');
    await holder.exited;
  }

  const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
    promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);

  /** The newest lock file of a directory, parsed. */
  function newestLock(dir: string, role: 'store' | 'sink'): Record<string, unknown> {
    const names = readdirSync(dir).filter((n) => n.startsWith(`sluice-${role}.lock-`)).sort();
    return JSON.parse(readFileSync(join(dir, names[names.length - 1]!), 'utf8')) as Record<string, unknown>;
  }

  it('a live child process holding the directories: the parent\'s store, sink and pipeline are refused with DirectoryLockedError naming its pid', async () => {
    // Arrange
    const dir = mkdtempSync(join(work, 'locked-'));
    const holder = lockChild(dir);
    holder.go();
    expect(await holder.firstLine).toBe('held');

    // Act
    const storeError = await rejectionOf(new FileCheckpointStore(join(dir, 'checkpoints')).open());
    const sinkError = await rejectionOf(new FileSink(join(dir, 'output')).open());
    const pipelineError = await rejectionOf(lastValueFrom(checkpointable({
      source: arraySource([1, 2, 3]), store: new FileCheckpointStore(join(dir, 'checkpoints')), sink: new FileSink(join(dir, 'output')), every: { records: 1 },
    }).pipe().pipe(toArray())));
    await kill(holder);

    // Assert
    for (const error of [storeError, sinkError, pipelineError]) {
      expect(error).toBeInstanceOf(DirectoryLockedError);
      expect(error).toMatchObject({ owner: { pid: holder.child.pid } });
      expect((error as Error).message).toContain(`pid ${holder.child.pid}`);
    }
    expect(readdirSync(join(dir, 'output')).filter((n) => n.startsWith('epoch-'))).toEqual([]);
    expect(readdirSync(join(dir, 'checkpoints')).filter((n) => n.startsWith('checkpoint-'))).toEqual([]);
  }, 20_000);

  it('a SIGKILLed owner does not block its restart: the locks are taken over and the pipeline runs to completion', async () => {
    // Arrange
    const dir = mkdtempSync(join(work, 'killed-owner-'));
    const holder = lockChild(dir);
    holder.go();
    expect(await holder.firstLine).toBe('held');
    await kill(holder);
    const store = new FileCheckpointStore(join(dir, 'checkpoints'));
    const sink = new FileSink(join(dir, 'output'));

    // Act
    await store.open();
    await sink.open();
    const lockAfterTakeover = newestLock(join(dir, 'checkpoints'), 'store');
    await store.close();
    await sink.close();
    const outputs = await lastValueFrom(checkpointable({ source: arraySource(['a', 'b']), store, sink, every: { records: 1 } }).pipe().pipe(toArray()));

    // Assert
    expect(lockAfterTakeover).toMatchObject({ pid: process.pid, released: false });
    expect(outputs).toHaveLength(2);
    expect(readCommitted(join(dir, 'output'))).toBe('{"kind":"record","value":"a"}\n{"kind":"record","value":"b"}\n');
  }, 20_000);

  it('lets exactly one of several processes racing to take over a dead owner\'s locks win', async () => {
    // Arrange: a dead owner's locks; four children ready to take them at the same moment.
    const dir = mkdtempSync(join(work, 'race-'));
    const dead = lockChild(dir);
    dead.go();
    expect(await dead.firstLine).toBe('held');
    await kill(dead);
    const contenders = Array.from({ length: 4 }, () => lockChild(dir));
    await new Promise((r) => setTimeout(r, 300)); // let them all load the package

    // Act
    for (const c of contenders) c.go();
    const said = await Promise.all(contenders.map((c) => c.firstLine));
    const winners = contenders.filter((_, i) => said[i] === 'held');
    for (const c of contenders) await kill(c);

    // Assert: one holds both locks; every other one was refused with the winner's pid.
    expect(winners).toHaveLength(1);
    const losers = said.filter((line) => line !== 'held');
    expect(losers).toHaveLength(3);
    for (const line of losers) expect(line).toBe(`locked DirectoryLockedError ${winners[0]!.child.pid}`);
  }, 20_000);

  it('a process that exits without closing gives its locks back on exit', async () => {
    // Arrange
    const dir = mkdtempSync(join(work, 'exited-'));
    const holder = lockChild(dir, 'exit');

    // Act
    holder.go();
    expect(await holder.firstLine).toBe('held');
    await holder.exited;

    // Assert: released (not merely stale), so a process on another host could take them too.
    expect(newestLock(join(dir, 'checkpoints'), 'store')).toMatchObject({ pid: holder.child.pid, released: true });
    expect(newestLock(join(dir, 'output'), 'sink')).toMatchObject({ pid: holder.child.pid, released: true });
  }, 20_000);
});
