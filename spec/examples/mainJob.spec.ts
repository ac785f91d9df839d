import { execFileSync, spawn, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { readCommittedElements } from 'rxjs-sluice/node';
import { soak } from '../support/soak';

/**
 * The main job (`npm start`, examples/main-job/): its pieces through their own modules (argument parsing, the
 * service's batch endpoint contract over a real socket, the summary's figures), a small run whose committed
 * output is checked against the input it read, and the check mode (`--verify`): a clean run against one
 * SIGKILLed at random moments and resumed. The job imports the package by name (dist/), built here if stale.
 */
const root = join(__dirname, '..', '..');
const cli = join(root, 'examples', 'main-job', 'cli.mjs');

/** Runs an ES module snippet in the job's folder (the job is plain ESM) and returns what it prints, parsed as JSON. */
function evaluate(code: string): unknown {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: join(root, 'examples', 'main-job'), encoding: 'utf8' });
  return JSON.parse(out);
}

/** Runs the job's command line; resolves to its exit code and output. */
function job(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

let work: string;
beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'scripts', 'ensureBuilt.mjs')], { cwd: root, stdio: 'pipe' });
  work = mkdtempSync(join(tmpdir(), 'sluice-main-job-'));
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the main job: arguments', () => {
  it('parses flags into settings, with defaults, exponents and the per-record concurrency', () => {
    // Arrange / Act
    const [defaults, given, perRecord] = evaluate(`
      import { parseJobArgs } from './args.mjs';
      console.log(JSON.stringify([parseJobArgs([]), parseJobArgs(['--events', '2e4', '--batch-size', '250', '--latency', '0.5', '--fresh']), parseJobArgs(['--per-record', '--concurrency', 'auto'])]));
    `) as Array<Record<string, unknown>>;
    // Assert
    expect(defaults).toMatchObject({ events: 1_000_000, batchSize: 500, concurrency: 4, perRecord: false, fresh: false, verify: false, dir: 'work', kills: 3, adaptive: 'off' });
    expect(given).toMatchObject({ events: 20_000, batchSize: 250, latency: 0.5, fresh: true });
    expect(perRecord).toMatchObject({ perRecord: true, concurrency: 64 });
  });

  it.each([
    [['--events', '0'], '--events must be an integer from 1 to 100000000, got "0"'],
    [['--batch-size', '1001'], '--batch-size must be an integer from 1 to 1000, got "1001"'],
    [['--failure-rate', 'lots'], '--failure-rate must be a number from 0 to 0.9, got "lots"'],
    [['--progress', 'fancy'], '--progress must be one of auto, tty, lines, none, got "fancy"'],
    [['--adaptive', 'vegas'], '--adaptive must be one of off, aimd, gradient, got "vegas"'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--verify', '--fresh'], '--verify always starts over'],
  ])('refuses %j with a message naming the flag and the value, exit code 2', async (args, message) => {
    // Act
    const { code, out } = await job(args);
    // Assert
    expect(code).toBe(2);
    expect(out).toContain(message);
  });

  it('--help lists every flag', async () => {
    // Act
    const { code, out } = await job(['--help']);
    // Assert
    expect(code).toBe(0);
    for (const flag of ['--events', '--latency', '--failure-rate', '--batch-size', '--linger', '--concurrency', '--per-record', '--fresh', '--verify']) {
      expect(out).toContain(flag);
    }
  });
});

describe('the main job: the lookup service', () => {
  it('answers POST /users:batchGet over a real socket: one profile per id, in order, null for an unknown id; 400 for a bad request', () => {
    // Arrange / Act: the service in a child process, called with node:http
    const answers = evaluate(`
      import { startServiceProcess } from './service.mjs';
      import { userProfile } from './users.mjs';
      const service = await startServiceProcess({ failureRate: 0, slowRate: 0, latency: 0 });
      const post = async (body) => { const r = await fetch(service.url + '/users:batchGet', { method: 'POST', body }); return [r.status, await r.json()]; };
      const get = async (path) => { const r = await fetch(service.url + path); return [r.status, await r.json()]; };
      const out = {
        batch: await post(JSON.stringify({ ids: [7, 3, 999999, 7] })),
        expected: [userProfile(7), userProfile(3), null, userProfile(7)],
        notJson: await post('{'), noIds: await post('{}'), tooMany: await post(JSON.stringify({ ids: Array.from({ length: 1001 }, (_, i) => i + 1) })),
        empty: await post(JSON.stringify({ ids: [] })), notIntegers: await post(JSON.stringify({ ids: [1, 'x'] })),
        one: await get('/users/42'), unknown: await get('/users/999999'), expectedOne: userProfile(42),
        stats: await service.stats(),
      };
      await service.stop();
      console.log(JSON.stringify(out));
    `) as Record<string, [number, Record<string, unknown>]> & { expected: unknown[]; expectedOne: unknown; stats: Record<string, number> };
    // Assert
    expect(answers.batch).toEqual([200, { users: answers.expected }]);
    for (const bad of ['notJson', 'noIds', 'tooMany', 'empty', 'notIntegers'] as const) expect(answers[bad]![0]).toBe(400);
    expect(answers.tooMany![1]).toEqual({ error: 'expected 1 to 1000 ids, got 1001' });
    expect(answers.one).toEqual([200, answers.expectedOne]);
    expect(answers.unknown![0]).toBe(404);
    expect(answers.stats).toMatchObject({ batchRequests: 1, itemRequests: 2, badRequests: 5, ids: 4, failed: 0 });
  });

  it('fails the configured share of requests with a retryable 503', () => {
    // Arrange / Act
    const { statuses, retryable } = evaluate(`
      import { startServiceProcess } from './service.mjs';
      import { serviceClient, ServiceError } from './client.mjs';
      const service = await startServiceProcess({ failureRate: 0.5, slowRate: 0, latency: 0 });
      const client = serviceClient(service.url, 4);
      const statuses = [];
      let retryable = true;
      for (let i = 0; i < 200; i++) {
        try { await client.batchGet([1, 2], undefined); statuses.push(200); } catch (err) { statuses.push(err.status); retryable &&= err instanceof ServiceError && err.retryable; }
      }
      client.close();
      await service.stop();
      console.log(JSON.stringify({ statuses, retryable }));
    `) as { statuses: number[]; retryable: boolean };
    // Assert: about half, and only 200 or 503
    const failed = statuses.filter((s) => s === 503).length;
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(failed).toBeGreaterThan(60);
    expect(failed).toBeLessThan(140);
    expect(retryable).toBe(true);
  });
});

describe('the main job: the summary', () => {
  it('computes percentiles within 2% with a flat histogram, and the summary figures from the metrics', () => {
    // Arrange / Act
    const out = evaluate(`
      import { LatencyHistogram, summaryFigures } from './summary.mjs';
      const h = new LatencyHistogram();
      for (let ms = 1; ms <= 1000; ms++) h.record(ms);
      const empty = new LatencyHistogram();
      const figures = summaryFigures({
        outcome: 'completed', readThisRun: 50_000, elapsedMs: 400, latencies: h, perRecord: false,
        progress: { fallbacks: 2 }, service: { failed: 3 },
        metrics: {
          enrich: { batchesSucceeded: 99, batchesFailed: 1, meanBatchSize: 500, retried: 1500, timedOut: 0 },
          windows: { sideOutputs: 7, emitted: 120 }, checkpoints: { completed: 4, lastCompletedId: 9 }, source: { backPressuredTime: 25 },
        },
      });
      console.log(JSON.stringify({ p50: h.percentile(0.5), p99: h.percentile(0.99), p100: h.percentile(1), count: h.count, buckets: h.buckets.length, empty: String(empty.percentile(0.5)), figures }));
    `) as { p50: number; p99: number; p100: number; count: number; buckets: number; empty: string; figures: Record<string, unknown> };
    // Assert
    expect(out.p50).toBeGreaterThanOrEqual(500);
    expect(out.p50).toBeLessThanOrEqual(500 * 1.02);
    expect(out.p99).toBeGreaterThanOrEqual(990);
    expect(out.p99).toBeLessThanOrEqual(1000);
    expect(out.p100).toBe(1000);
    expect(out.count).toBe(1000);
    expect(out.buckets).toBeLessThan(1000);
    expect(out.empty).toBe('NaN');
    expect(out.figures).toMatchObject({
      eventsRead: 50_000, eventsPerSecond: 125_000, calls: 1000, batches: 100, meanBatchSize: 500, retries: 1500, fallbacks: 2,
      lateEvents: 7, windowsEmitted: 120, checkpoints: 4, lastCheckpoint: 9, backPressuredMs: 25, serviceFailures: 3,
    });
  });
});

describe('the main job: runs', () => {
  it('a run commits every event exactly once: window clicks plus late events equal the input; a rerun says it has finished and rewrites the results', async () => {
    // Arrange
    const dir = join(work, 'run');
    // Act
    const first = await job(['--events', '5000', '--dir', dir, '--progress', 'lines']);
    const windowsText = readFileSync(join(dir, 'job', 'results', 'windows.ndjson'), 'utf8');
    rmSync(join(dir, 'job', 'results', 'windows.ndjson')); // as if killed between the final checkpoint and the files
    const again = await job(['--events', '5000', '--dir', dir, '--progress', 'none']);
    // Assert
    expect(first.code).toBe(0);
    expect(first.out).toContain('Done: every event read, enriched, windowed and committed.');
    const windows = readFileSync(join(dir, 'job', 'results', 'windows.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { clicks: number; country: string });
    const late = readFileSync(join(dir, 'job', 'results', 'late.ndjson'), 'utf8').split('\n').filter(Boolean);
    const summary = JSON.parse(readFileSync(join(dir, 'job', 'results', 'summary.json'), 'utf8')) as Record<string, number>;
    expect(windows.reduce((sum, w) => sum + w.clicks, 0) + late.length).toBe(5000);
    expect(windows.every((w) => w.country !== 'unknown')).toBe(true);
    expect(summary).toMatchObject({ eventsRead: 5000, fallbacks: 0, lateEvents: late.length });
    expect(summary['inputLateEvents']).toBe(late.length);
    expect(again.code).toBe(0);
    expect(again.out).toContain('This job has already finished');
    expect(readFileSync(join(dir, 'job', 'results', 'windows.ndjson'), 'utf8')).toBe(windowsText); // written again
  }, 60_000);

  it('--verify: SIGKILLed at random moments and resumed, the output equals an uninterrupted run\'s', async () => {
    // Act
    const { code, out } = await job(['--verify', '--events', String(soak(20_000, 100_000)), '--dir', join(work, 'verify')], 170_000);
    // Assert
    expect(out).toContain('Identical');
    expect(out).toMatch(/[3-9] kills of the running job/);
    expect(code).toBe(0);
  }, 180_000);
});

describe('the main job: Ctrl-C', () => {
  it('stops with a final checkpoint, and the next run resumes from it and completes the same output', async () => {
    // Arrange
    const dir = join(work, 'sigint');
    const reference = join(work, 'sigint-reference');
    const args = ['--events', '60000', '--progress', 'none', '--checkpoint-ms', '50', '--latency', '10']; // 10 ms a request: still running at the Ctrl-C
    // Act: SIGINT once the job has read something
    const stopped = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args, '--dir', dir], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let sent = false; // one Ctrl-C: a second one quits at once
      child.stdout.on('data', (c) => {
        out += c;
        if (!sent && out.includes('Lookup service:')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 200);
        }
      });
      child.stderr.on('data', (c) => (out += c));
      child.on('exit', (code) => resolve({ code, out }));
    });
    const committedWindows = readCommittedElements(join(dir, 'job', 'output')).filter((e) => e.kind === 'record').length;
    const resumed = await job([...args, '--dir', dir]);
    const clean = await job([...args, '--dir', reference]);
    // Assert
    expect(stopped.code).toBe(0);
    expect(stopped.out).toContain('Stopping: taking a final checkpoint');
    expect(stopped.out).toMatch(/Stopped after checkpoint \d+/);
    // The summary counts what the stopped run committed, not what its operators produced after the stop barrier
    expect(stopped.out).toContain(`${committedWindows.toLocaleString('en-US')} per-country minutes committed`);
    expect(resumed.out).toMatch(/Resuming from checkpoint \d+: byte [\d,]+ of the input, event [\d,]+ of 60,000/);
    expect(resumed.code).toBe(0);
    expect(clean.code).toBe(0);
    const results = (d: string) => ['windows', 'late'].map((f) => readFileSync(join(d, 'job', 'results', `${f}.ndjson`), 'utf8'));
    expect(results(dir)).toEqual(results(reference));
  }, 90_000);
});

describe('the main job: a damaged work directory', () => {
  it('writes an input that no longer matches its facts again (truncated here), so the output still accounts for every event', async () => {
    // Arrange: a finished job, then its input cut at a line boundary
    const dir = join(work, 'truncated');
    expect((await job(['--events', '8000', '--dir', dir, '--progress', 'none'])).code).toBe(0);
    const input = join(dir, 'input', 'clicks-8000-gen1.ndjson');
    const text = readFileSync(input, 'utf8');
    writeFileSync(input, text.slice(0, text.indexOf('\n', text.length / 2) + 1));
    // Act
    const rerun = await job(['--events', '8000', '--dir', dir, '--progress', 'none', '--fresh']);
    // Assert
    expect(rerun.out).toContain('The input file was repaired: it had changed since it was generated');
    expect(rerun.code).toBe(0);
    expect(readFileSync(input, 'utf8')).toBe(text);
    const windows = readFileSync(join(dir, 'job', 'results', 'windows.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { clicks: number });
    const late = readFileSync(join(dir, 'job', 'results', 'late.ndjson'), 'utf8').split('\n').filter(Boolean);
    expect(windows.reduce((sum, w) => sum + w.clicks, 0) + late.length).toBe(8000);
  }, 60_000);

  it('regenerates the input when its facts file is damaged (a kill while it was written)', async () => {
    // Arrange
    const dir = join(work, 'facts');
    expect((await job(['--events', '3000', '--dir', dir, '--progress', 'none'])).code).toBe(0);
    writeFileSync(join(dir, 'input', 'clicks-3000-gen1.ndjson.json'), '');
    // Act
    const rerun = await job(['--events', '3000', '--dir', dir, '--progress', 'none', '--fresh']);
    // Assert
    expect(rerun.out).toContain('its facts file was missing or damaged');
    expect(rerun.code).toBe(0);
  }, 60_000);

  it('refuses another input size in the same directory before generating anything', async () => {
    // Arrange
    const dir = join(work, 'identity');
    expect((await job(['--events', '3000', '--dir', dir, '--progress', 'none'])).code).toBe(0);
    // Act
    const other = await job(['--events', '4000', '--dir', dir, '--progress', 'none']);
    // Assert
    expect(other.code).toBe(2);
    expect(other.out).toContain('holds a run over clicks-3000-gen1.ndjson');
    expect(existsSync(join(dir, 'input', 'clicks-4000-gen1.ndjson'))).toBe(false);
  }, 60_000);

  it('--fresh does not delete the state of a job that is running in the same directory', async () => {
    // Arrange: a slow job (50 ms a request) running
    const dir = join(work, 'busy');
    const args = ['--events', '30000', '--progress', 'none', '--latency', '50', '--dir', dir];
    const running = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => running.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => running.stdout.on('data', (c: Buffer) => { if (String(c).includes('Lookup service:')) resolve(); }));
    // Act
    const fresh = await job([...args, '--fresh']);
    running.kill('SIGINT');
    // Assert
    expect(fresh.code).toBe(1);
    expect(fresh.out).toContain('Not starting over: another run of this job is using it');
    expect(await exited).toBe(0); // the running job was not disturbed: it stopped cleanly at the Ctrl-C
  }, 60_000);
});

describe('the main job: a second Ctrl-C', () => {
  it('quits at once with exit code 130, and the next run resumes from the last checkpoint and completes', async () => {
    // Arrange
    const dir = join(work, 'double-sigint');
    const args = ['--events', '60000', '--progress', 'none', '--checkpoint-ms', '50', '--latency', '10', '--dir', dir];
    // Act: two SIGINTs, 150 ms apart, once the job runs
    const quit = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let sent = false;
      child.stdout.on('data', (c) => {
        out += c;
        if (!sent && out.includes('Lookup service:')) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 150);
          setTimeout(() => child.kill('SIGINT'), 300);
        }
      });
      child.stderr.on('data', (c) => (out += c));
      child.on('exit', (code) => resolve({ code, out }));
    });
    const resumed = await job(args);
    // Assert: it either quit at the second Ctrl-C or had already stopped cleanly at the first
    expect([0, 130]).toContain(quit.code);
    expect(quit.out).toContain('Stopping: taking a final checkpoint');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain('Done: every event read');
    const windows = readFileSync(join(dir, 'job', 'results', 'windows.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { clicks: number });
    const late = readFileSync(join(dir, 'job', 'results', 'late.ndjson'), 'utf8').split('\n').filter(Boolean);
    expect(windows.reduce((sum, w) => sum + w.clicks, 0) + late.length).toBe(60_000);
  }, 90_000);
});

describe('the main job: the published package', () => {
  it('keeps the job out of the package: no example in "files", no job dependency among the runtime dependencies', () => {
    // Arrange
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[]; dependencies: Record<string, string>; scripts: Record<string, string> };
    // Assert
    expect(pkg.files.some((f) => f.startsWith('examples'))).toBe(false);
    expect(Object.keys(pkg.dependencies)).toEqual(['denque']);
    expect(pkg.scripts['start']).toContain('examples/main-job/cli.mjs');
    expect(spawnSync('git', ['check-ignore', '-q', 'work/job'], { cwd: root }).status).toBe(0); // the default work directory
  });
});
