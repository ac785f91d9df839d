// One run of the job: prepare the input, start the service, run (or resume) the pipeline with a live display,
// and print the summary. Ctrl-C stops it with a final checkpoint; a second Ctrl-C exits at once (the next run
// resumes from the last checkpoint, as after a crash).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { Subject } from 'rxjs';
import { jsonCodec, readLatestCheckpoint } from 'rxjs-sluice';
import { DirectoryLockedError, FileCheckpointStore, FileSink, readCommittedElements } from 'rxjs-sluice/node';
import { ensureInput, inputPath } from './input.mjs';
import { buildJob } from './pipeline.mjs';
import { startProgress } from './progress.mjs';
import { serviceClient } from './client.mjs';
import { startServiceProcess } from './service.mjs';
import { LatencyHistogram, count, summaryFigures, summaryLines } from './summary.mjs';

/** Events per second end to end that the default job (1e6 events, batched, 2 ms a request) should reach. */
export const SPEED_TARGET = 100_000;

/** The paths of a work directory. */
export function layout(dir) {
  const root = resolve(dir);
  const state = join(root, 'job');
  return {
    root, inputDir: join(root, 'input'), state, identity: join(state, 'job.json'), checkpoints: join(state, 'checkpoints'),
    output: join(state, 'output'), windows: join(state, 'results', 'windows.ndjson'), late: join(state, 'results', 'late.ndjson'),
    summary: join(state, 'results', 'summary.json'),
  };
}

/** How many events (lines) the input holds before byte `offset`: where a resumed run starts. */
function linesBefore(path, offset) {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let lines = 0;
    for (let at = 0; at < offset;) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, offset - at), at);
      if (n === 0) break;
      for (let i = buffer.indexOf(10, 0); i !== -1 && i < n; i = buffer.indexOf(10, i + 1)) lines++;
      at += n;
    }
    return lines;
  } finally {
    closeSync(fd);
  }
}

/**
 * The committed output, canonical: windows sorted by (window, country), late events by id. The same input gives
 * the same files, whether the run was interrupted or not.
 */
export function canonicalResults(outputDir) {
  const windows = [];
  const lates = [];
  for (const element of readCommittedElements(outputDir)) {
    if (element.kind === 'record') windows.push(element.value);
    else if (element.tag === 'late') lates.push(element.value);
  }
  windows.sort((a, b) => (a.window < b.window ? -1 : a.window > b.window ? 1 : a.country < b.country ? -1 : a.country > b.country ? 1 : 0));
  lates.sort((a, b) => a.id - b.id);
  const lines = (rows) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  const clicks = windows.reduce((sum, w) => sum + w.clicks, 0);
  return { windows: lines(windows), late: lines(lates), windowCount: windows.length, lateCount: lates.length, clicks };
}

/** Writes `text` to `path` through a temporary file and a rename: a kill never leaves half a file. */
function writeAtomically(path, text) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/**
 * Writes the results files from what the sink committed. Deterministic, so running it again (after a kill
 * between the final checkpoint and these files, say) gives the same files.
 */
function writeResults(paths) {
  const results = canonicalResults(paths.output);
  mkdirSync(join(paths.state, 'results'), { recursive: true });
  writeAtomically(paths.windows, results.windows);
  writeAtomically(paths.late, results.late);
  return results;
}

/** The job's identity file (input and mode), or null when there is none or it is unreadable (a kill while writing it). */
function readIdentity(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
}

/** Why the state directory cannot be touched (another run of the job holds its locks), or null when it is free. */
async function lockedBy(paths) {
  if (!existsSync(paths.state)) return null;
  const resources = [new FileCheckpointStore(paths.checkpoints), new FileSink(paths.output)];
  const opened = [];
  try {
    for (const resource of resources) {
      await resource.open();
      opened.push(resource);
    }
    return null;
  } catch (err) {
    return err instanceof DirectoryLockedError ? `another run of this job is using it (${err.message})` : `${err.name}: ${err.message}`;
  } finally {
    for (const resource of opened) await resource.close();
  }
}

/** Tells a parent process (the --verify mode) how the run goes, when there is one. */
const report = (message) => { if (process.send && process.connected) process.send(message); };

/** Runs the job once with `settings`. Resolves to the process exit code. */
export async function runJob(settings, out = process.stdout) {
  const paths = layout(settings.dir);
  const mode = settings.progress === 'auto' ? (out.isTTY ? 'tty' : 'lines') : settings.progress;
  const say = (line) => out.write(`${line}\n`);
  if (settings.fresh) {
    // Not under a running job: take its locks first (DirectoryLockedError if it runs), then delete.
    const locked = await lockedBy(paths);
    if (locked) {
      say(`Not starting over: ${locked}`);
      return 1;
    }
    rmSync(paths.state, { recursive: true, force: true });
  }

  // The state belongs to one input and one mode: resuming it with another would mix two different jobs. Checked
  // before the input is generated, which takes a while at a new size.
  const identity = { input: basename(inputPath(paths.inputDir, settings.events, settings.seed)), mode: settings.perRecord ? 'per-record' : 'batch' };
  mkdirSync(paths.state, { recursive: true });
  const previous = readIdentity(paths.identity);
  if (previous && (previous.input !== identity.input || previous.mode !== identity.mode)) {
    say(`${paths.state} holds a run over ${previous.input} in ${previous.mode} mode, not ${identity.input} in ${identity.mode} mode.`);
    say('Add --fresh to start over, or --dir <another directory>.');
    return 2;
  }
  if (!previous) writeAtomically(paths.identity, `${JSON.stringify(identity)}\n`);

  const input = await ensureInput(paths.inputDir, settings.events, settings.seed, () => {});
  say(`${input.reused ? 'Input' : 'Generated input'}: ${relative(process.cwd(), input.path) || input.path} (${count(input.events)} click events, ${count(input.lateEvents)} of them very late; ${(input.bytes / 2 ** 20).toFixed(1)} MiB)`);
  if (input.repaired) say(`The input file was repaired: ${input.repaired}.`);

  const store = new FileCheckpointStore(paths.checkpoints);
  const latest = await readLatestCheckpoint(store);
  if (latest?.final) {
    writeResults(paths); // again: a kill may have come between the final checkpoint and the files
    say(`This job has already finished (checkpoint ${latest.checkpointId}). Its results: ${relative(process.cwd(), paths.windows)} and ${relative(process.cwd(), paths.late)}.`);
    say('Add --fresh to run it again from the start.');
    report({ start: { checkpointId: latest.checkpointId, event: settings.events, final: true } });
    return 0;
  }
  const offset = latest?.position ? Number(jsonCodec.decode(latest.position)) : 0;
  const eventsBefore = offset > 0 ? linesBefore(input.path, offset) : 0;
  say(latest
    ? `Resuming from checkpoint ${latest.checkpointId}: byte ${count(offset)} of the input, event ${count(eventsBefore)} of ${count(input.events)}.`
    : 'Starting from the beginning.');
  report({ start: { checkpointId: latest?.checkpointId ?? null, event: eventsBefore } });

  const service = await startServiceProcess({ latency: settings.latency, failureRate: settings.failureRate, slowRate: settings.slowRate, slowMs: settings.slowMs });
  const client = serviceClient(service.url, settings.concurrency);
  say(`Lookup service: ${service.url} (pid ${service.pid}); ${settings.perRecord ? `one GET /users/<id> per event, ${settings.concurrency} at once` : `POST /users:batchGet, ${settings.batchSize} events a batch, ${settings.concurrency} batches at once`}.`);

  const stop = new Subject();
  let stopping = false;
  const onSigint = () => {
    if (stopping) process.exit(130); // a second Ctrl-C: leave now; the next run resumes from the last checkpoint
    stopping = true;
    out.write('\nStopping: taking a final checkpoint (Ctrl-C again to quit at once)...\n');
    stop.next();
  };
  process.on('SIGINT', onSigint);

  const latencies = new LatencyHistogram();
  const warnings = [];
  const built = buildJob({ settings, inputPath: input.path, store, stateDir: paths.state, client, latencies, stop, onWarning: (w) => warnings.push(w) });
  const job = { ...built, events: input.events, eventsBefore, startedAt: performance.now(), lastSample: null };
  const title = `rxjs-sluice main job: ${basename(input.path)}${latest ? ` (resumed from checkpoint ${latest.checkpointId})` : ''}`;
  const stopDisplay = startProgress(job, mode, title, out);
  const ipcTicker = process.send ? setInterval(() => report({ read: eventsBefore + job.metrics.source.read, checkpoint: job.metrics.checkpoints.lastCompletedId }), 5) : null;

  let failure = null;
  // What this run committed: outputs stamped above the restored checkpoint (a restore first emits that
  // checkpoint's own outputs again, with their stamps; those were counted by the run that committed them).
  const committed = { windows: 0, late: 0 };
  const restoredId = latest?.checkpointId ?? 0;
  await new Promise((done) => built.output.subscribe({
    next: ({ checkpointId, element }) => {
      if (checkpointId <= restoredId) return;
      if (element.kind === 'record') committed.windows++;
      else committed.late++;
    },
    error: (err) => { failure = err; done(); },
    complete: done,
  }));
  const elapsedMs = performance.now() - job.startedAt;
  if (ipcTicker) clearInterval(ipcTicker);
  stopDisplay();
  process.off('SIGINT', onSigint);
  const serviceStats = await service.stats().catch(() => null);
  client.close();
  await service.stop();
  for (const w of warnings) say(`warning: ${w.message ?? JSON.stringify(w)}`);

  if (failure instanceof DirectoryLockedError) {
    say(`Another run of this job is using ${paths.state}: ${failure.message}`);
    say('Let it finish, or stop it (Ctrl-C), before starting this one.');
    return 1;
  }
  if (failure) {
    say(`The job failed: ${failure.name}: ${failure.message}`);
    const last = Math.max(job.metrics.checkpoints.lastCompletedId, restoredId);
    say(last > 0 ? `Its last checkpoint is ${last}; run it again to resume from there.` : 'It had taken no checkpoint yet; running it again starts from the beginning.');
    return 1;
  }
  const outcome = job.metrics.checkpoints.stops > 0 ? 'stopped' : 'completed';
  const where = [];
  if (outcome === 'completed') {
    const results = writeResults(paths);
    // Nothing silently lost: every event of the input is in exactly one window count or in the late output.
    const accounted = results.clicks + results.lateCount;
    if (accounted !== input.events) {
      say(`The output accounts for ${count(accounted)} events, not the input's ${count(input.events)}: ${paths.output} does not match the input.`);
      return 1;
    }
    where.push(`output      ${relative(process.cwd(), paths.windows)} (${count(results.windowCount)} per-country minutes), ${relative(process.cwd(), paths.late)} (${count(results.lateCount)} late events; the input holds ${count(input.lateEvents)} very late ones)`);
    if (latest) where.push(`            (the figures above are this run's; the files hold the whole job's output)`);
    where.push(`            committed exactly once by the FileSink in ${relative(process.cwd(), paths.output)}/ (read it with readCommitted)`);
  }
  const figures = summaryFigures({
    outcome, readThisRun: job.metrics.source.read, elapsedMs, latencies, metrics: job.metrics, progress: job.progress, committed,
    perRecord: settings.perRecord, service: serviceStats,
    // The speed target (docs/benchmarks.md): the default job, batched, from start to end in one run.
    targetPerSecond: settings.events === 1_000_000 && !settings.perRecord && !latest && outcome === 'completed' ? SPEED_TARGET : null,
  });
  if (outcome === 'completed') writeAtomically(paths.summary, `${JSON.stringify({ ...figures, resumedFrom: latest?.checkpointId ?? null, inputLateEvents: input.lateEvents }, null, 2)}\n`);
  say('');
  for (const line of summaryLines(figures, where)) say(line);
  return 0;
}
