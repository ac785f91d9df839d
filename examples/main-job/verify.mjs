// `npm start -- --verify`: the job's own crash test. A clean run, then a run that is SIGKILLed at random moments
// (at least --kills times) and resumed each time, then a comparison of what the two committed. Exits non-zero
// on any difference.
import { fork } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCommittedElements } from 'rxjs-sluice/node';
import { ensureInput } from './input.mjs';
import { canonicalResults, layout } from './job.mjs';
import { count } from './summary.mjs';

const cli = fileURLToPath(new URL('./cli.mjs', import.meta.url));

/** The flags a child run gets: the settings that shape the job, never --verify or --dir. */
function childFlags(settings) {
  const flags = ['--events', settings.events, '--seed', settings.seed, '--latency', settings.latency, '--failure-rate', settings.failureRate,
    '--slow-rate', settings.slowRate, '--slow-ms', settings.slowMs, '--batch-size', settings.batchSize, '--linger', settings.linger,
    '--concurrency', settings.concurrency, '--timeout', settings.timeout, '--retries', settings.retries, '--adaptive', settings.adaptive,
    // Checkpoints often enough that every kill has some to resume from.
    '--checkpoint-ms', Math.min(settings.checkpointMs, 100), '--checkpoint-records', settings.checkpointRecords || Math.max(1_000, Math.ceil(settings.events / 20)),
    '--progress', 'none'];
  if (settings.perRecord) flags.push('--per-record');
  return flags.map(String);
}

/**
 * Runs the job once in `dir`. With `plan`, it is SIGKILLed: `{ ms }` after the spawn (during start-up, maybe
 * before the pipeline opens), or `{ checkpoints, ms }`: `ms` after the run has completed that many checkpoints
 * of its own (so every kill leaves something new to resume from, wherever the pipeline is at that moment).
 * Resolves to { code, signal, start, readAtKill, log }.
 */
function runChild(dir, flags, plan) {
  return new Promise((resolveRun) => {
    const child = fork(cli, [...flags, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    const run = { start: null, readAtKill: null, log: '' };
    let timer = null; // the pending kill
    let read = 0; // events read, as last reported
    const kill = (moment) => {
      if (child.exitCode !== null || child.signalCode !== null || run.readAtKill !== null) return;
      run.readAtKill = moment ?? read;
      child.kill('SIGKILL');
    };
    child.stdout.on('data', (chunk) => { run.log += chunk; });
    child.stderr.on('data', (chunk) => { run.log += chunk; });
    if (plan && plan.checkpoints === undefined) timer = setTimeout(() => kill('startup'), plan.ms);
    child.on('message', (message) => {
      if (message.start) run.start = message.start;
      if (message.read === undefined || run.start === null) return;
      read = message.read;
      if (plan?.checkpoints !== undefined && timer === null && message.checkpoint >= (run.start.checkpointId ?? 0) + plan.checkpoints) {
        timer = setTimeout(() => kill(), plan.ms);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ ...run, code, signal });
    });
  });
}

/** Every committed element, as sorted JSON lines: equal multisets mean nothing lost and nothing twice. */
const committedLines = (outputDir) => readCommittedElements(outputDir).map((e) => JSON.stringify(e)).sort();

/** Runs the check; resolves to the exit code. */
export async function runVerify(settings, out = process.stdout) {
  const say = (line) => out.write(`${line}\n`);
  const root = resolve(settings.dir, `verify-${settings.events}`);
  rmSync(root, { recursive: true, force: true });
  const { inputDir } = layout(settings.dir);
  const input = await ensureInput(inputDir, settings.events, settings.seed);
  const dirs = { clean: join(root, 'clean'), crashed: join(root, 'crashed') };
  for (const dir of Object.values(dirs)) {
    mkdirSync(dir, { recursive: true });
    symlinkSync(inputDir, join(dir, 'input'), 'dir'); // one input for both
  }
  const flags = childFlags(settings);
  say(`Verify: ${count(input.events)} events; a clean run, then a run SIGKILLed ${settings.kills} times at random moments and resumed.`);

  const clean = await runChild(dirs.clean, flags);
  if (clean.code !== 0) {
    say(`The clean run failed (exit ${clean.code}):\n${clean.log}`);
    return 1;
  }
  say('clean run: completed');

  let kills = 0; // kills of a running pipeline
  let startupKills = 0; // kills during start-up, besides
  let restores = 0;
  for (let attempt = 1; kills < settings.kills; attempt++) {
    if (attempt > settings.kills * 4) {
      say(`Only ${kills} of ${settings.kills} kills landed before the job finished: use more --events.`);
      return 1;
    }
    // Now and then a kill during start-up (before or while the pipeline opens); otherwise 0-30 ms after the run's
    // 1st to 3rd checkpoint of its own: a random moment of reading, calling, windowing and committing.
    const plan = Math.random() < 0.2
      ? { ms: 50 + Math.floor(Math.random() * 250) }
      : { checkpoints: 1 + Math.floor(Math.random() * 3), ms: Math.floor(Math.random() * 31) };
    const run = await runChild(dirs.crashed, flags, plan);
    if (run.start?.checkpointId) restores++;
    const from = run.start ? (run.start.checkpointId ? `resumed from checkpoint ${run.start.checkpointId} (event ${count(run.start.event)})` : 'started from the beginning') : 'did not get to start';
    if (run.signal === 'SIGKILL' && run.readAtKill === 'startup') {
      startupKills++; // an extra: the kills counted are those of a running pipeline
      say(`run ${attempt}: SIGKILLed during start-up (${from})`);
    } else if (run.signal === 'SIGKILL') {
      kills++;
      say(`run ${attempt}: ${from}; SIGKILLed after reading event ${count(run.readAtKill)}`);
    } else if (run.code === 0) {
      say(`run ${attempt}: ${from}; finished before the kill: starting the crashed run over`);
      rmSync(join(dirs.crashed, 'job'), { recursive: true, force: true });
      kills = 0;
      restores = 0;
    } else {
      say(`run ${attempt}: ${from}; failed with exit ${run.code}:\n${run.log}`);
      return 1;
    }
  }
  const last = await runChild(dirs.crashed, flags);
  if (last.start?.checkpointId) restores++;
  if (last.code !== 0) {
    say(`The final resumed run failed (exit ${last.code}):\n${last.log}`);
    return 1;
  }
  say(`final run: ${last.start?.checkpointId ? `resumed from checkpoint ${last.start.checkpointId} (event ${count(last.start.event)})` : 'started from the beginning'}; completed`);

  const expected = canonicalResults(layout(dirs.clean).output);
  const actual = canonicalResults(layout(dirs.crashed).output);
  const sameElements = JSON.stringify(committedLines(layout(dirs.clean).output)) === JSON.stringify(committedLines(layout(dirs.crashed).output));
  const identical = sameElements && expected.windows === actual.windows && expected.late === actual.late;
  say(`${kills} kills of the running job (and ${startupKills} during start-up), ${restores} restores. Clean run: ${count(expected.windowCount)} window counts, ${count(expected.lateCount)} late events; `
    + `crashed run: ${count(actual.windowCount)} and ${count(actual.lateCount)}.`);
  if (!identical) {
    writeFileSync(join(root, 'difference.txt'), `clean:\n${expected.windows}${expected.late}\ncrashed:\n${actual.windows}${actual.late}`);
    say(`DIFFERENT: the crashed run's output is not the clean run's. Kept for inspection: ${root}`);
    return 1;
  }
  say('Identical: the output of the run that was killed and resumed equals the uninterrupted run\'s.');
  rmSync(root, { recursive: true, force: true });
  return 0;
}
