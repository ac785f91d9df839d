// Checkpoints in action: a pipeline over 3000 records (an async lookup, then a per-key running count) runs in a
// child process with a FileCheckpointStore and a FileSink, taking a checkpoint every 100 records. It is
// SIGKILLed three times, each time a few ms after it has completed a few new checkpoints (so every restart
// really restores one), and restarted; the committed output is then compared with an uninterrupted run.
// Run it with `npm run example:checkpoint`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatMap, from, interval, map, take } from 'rxjs';
import { asyncWaitOrdered, checkpointable, checkpointMetrics, keyedTimers, readLatestCheckpoint } from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, readCommitted } from 'rxjs-sluice/node';

const self = fileURLToPath(import.meta.url);
const RECORDS = 3000;

if (process.argv[2] === 'child') {
  // The pipeline. A restart resumes from the newest checkpoint in <dir>/checkpoints. The child tells its parent
  // (over IPC) which checkpoint it starts from, each checkpoint whose outputs it has committed, and its counters.
  const dir = process.argv[3];
  const lookUp = (x) => new Promise((resolve) => setTimeout(() => resolve({ x, bucket: x % 5 }), 1 + (x % 3)));
  const store = new FileCheckpointStore(join(dir, 'checkpoints'));
  const latest = await readLatestCheckpoint(store); // what the pipeline below restores from
  process.send({ start: latest ? { id: latest.checkpointId, position: latest.position } : null });
  // A replayable source that delivers 4 numbers per ms, like a log being read: position = next number.
  const source = {
    open: (position = 0) => interval(1).pipe(
      take(Math.ceil((RECORDS - position) / 4)),
      concatMap((tick) => from(Array.from({ length: 4 }, (_, i) => position + tick * 4 + i).filter((x) => x < RECORDS))),
      map((x) => ({ value: x, position: x + 1 })),
    ),
  };
  const metrics = checkpointMetrics();
  // The newest checkpoint whose outputs have been emitted (so committed to the sink). It starts at the restored
  // one: on restore, 'exactly-once' emits the outputs that checkpoint committed again, with their stamps.
  let lastId = latest?.checkpointId ?? 0;
  checkpointable({
    source,
    store,
    sink: new FileSink(join(dir, 'output')),
    every: { records: 100 },
    metrics,
  }).pipe(
    asyncWaitOrdered(lookUp, { id: 'lookup', capacity: 16 }),
    keyedTimers({
      key: (e) => e.bucket,
      processElement: (e, ctx) => {
        ctx.state.update((ctx.state.value() ?? 0) + 1);
        ctx.emit(`${e.x} is number ${ctx.state.value()} in bucket ${ctx.key}`);
      },
    }, { id: 'count' }),
  ).subscribe({
    // 'exactly-once' (the default): an output is emitted only once its checkpoint is durable and committed.
    next: ({ checkpointId }) => {
      if (checkpointId <= lastId) return;
      lastId = checkpointId;
      process.send({ checkpoint: checkpointId });
    },
    error: (err) => { console.error(err); process.exit(1); },
    complete: () => process.send({ done: metrics.snapshot() }, () => process.disconnect()),
  });
} else {
  const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));

  /**
   * Runs the child once. With `kill`, it is SIGKILLed `kill.delayMs` after it reports its `kill.afterNew`-th
   * new checkpoint. Resolves to what happened: where it started, the checkpoints it committed, how it ended.
   */
  const runChild = (dir, kill) => new Promise((resolve) => {
    const child = spawn(process.execPath, [self, 'child', dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const run = { start: undefined, checkpoints: [], done: undefined, killedAfter: undefined };
    let timer; // the pending SIGKILL, once armed
    child.on('message', (msg) => {
      if ('start' in msg) run.start = msg.start;
      if ('done' in msg) run.done = msg.done;
      if ('checkpoint' in msg) {
        run.checkpoints.push(msg.checkpoint);
        if (kill && run.checkpoints.length === kill.afterNew) {
          run.killedAfter = msg.checkpoint;
          timer = setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
        }
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ ...run, outcome: signal === 'SIGKILL' ? 'killed' : `exited ${code}` });
    });
  });

  const startedFrom = (start) => (start ? `restored checkpoint ${start.id} (source position ${start.position})` : 'started from the beginning');
  const clean = mkdtempSync(join(tmpdir(), 'sluice-clean-'));
  const crashed = mkdtempSync(join(tmpdir(), 'sluice-crashed-'));

  const reference = await runChild(clean);
  console.log(`uninterrupted run: ${reference.done?.completed} checkpoints, ${reference.outcome}`);

  let kills = 0; // runs that really were SIGKILLed
  let restores = 0; // runs that started from a checkpoint
  for (let i = 1; i <= 3; i++) {
    // Kill 0-20 ms (up to most of an epoch of 100 records) after the 2nd to 8th new checkpoint: 3 x 8 < 30 epochs.
    const kill = { afterNew: randomInt(2, 8), delayMs: randomInt(0, 20) };
    const run = await runChild(crashed, kill);
    if (run.start) restores++;
    const ending = run.outcome === 'killed'
      ? `SIGKILLed ${kill.delayMs} ms after committing checkpoint ${run.killedAfter}`
      : `${run.outcome} before it could be killed`;
    if (run.outcome === 'killed') kills++;
    console.log(`run ${i}: ${startedFrom(run.start)}; committed checkpoints ${run.checkpoints.join(', ') || 'none'}; ${ending}`);
  }
  const last = await runChild(crashed);
  if (last.start) restores++;
  console.log(`final run: ${startedFrom(last.start)}; committed checkpoints ${last.checkpoints[0]} to ${last.checkpoints.at(-1)}; `
    + `its metrics: ${last.done?.restored} restore, ${last.done?.completed} checkpoints; ${last.outcome}`);

  const expected = readCommitted(join(clean, 'output'));
  const actual = readCommitted(join(crashed, 'output'));
  const lines = actual.split('\n').filter(Boolean).length;
  const identical = actual === expected;
  console.log(`${kills} kills, ${restores} restores; ${lines} committed outputs (of ${RECORDS}); identical to the uninterrupted run: ${identical}`);
  if (!identical || lines !== RECORDS) {
    console.error(`kept for inspection: ${clean} ${crashed}`);
    process.exit(1);
  }
  rmSync(clean, { recursive: true, force: true });
  rmSync(crashed, { recursive: true, force: true });
}
