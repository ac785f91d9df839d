// Checkpoints in action: a pipeline over 3000 records (an async lookup, then a per-key running count) runs in a
// child process with a FileCheckpointStore and a FileSink. It is SIGKILLed three times at random moments and
// restarted each time; the committed output is then compared with an uninterrupted run. Run it with
// `npm run example:checkpoint`.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatMap, from, interval, map, take } from 'rxjs';
import { asyncWaitOrdered, checkpointable, keyedTimers, readLatestCheckpoint } from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, readCommitted } from 'rxjs-sluice/node';

const self = fileURLToPath(import.meta.url);

if (process.argv[2] === 'child') {
  // The pipeline. A restart resumes from the newest checkpoint in <dir>/checkpoints.
  const dir = process.argv[3];
  const lookUp = (x) => new Promise((resolve) => setTimeout(() => resolve({ x, bucket: x % 5 }), 1 + (x % 3)));
  const store = new FileCheckpointStore(join(dir, 'checkpoints'));
  const resumedAt = (await readLatestCheckpoint(store))?.position ?? 'the beginning';
  console.log(`  child: resuming at ${resumedAt}`);
  // A replayable source that delivers 4 numbers per ms, like a log being read: position = next number.
  const source = {
    open: (position = 0) => interval(1).pipe(
      take(Math.ceil((3000 - position) / 4)),
      concatMap((tick) => from(Array.from({ length: 4 }, (_, i) => position + tick * 4 + i).filter((x) => x < 3000))),
      map((x) => ({ value: x, position: x + 1 })),
    ),
  };
  checkpointable({
    source,
    store,
    sink: new FileSink(join(dir, 'output')),
    every: { records: 100 },
  }).pipe(
    asyncWaitOrdered(lookUp, { id: 'lookup', capacity: 16 }),
    keyedTimers({
      key: (e) => e.bucket,
      processElement: (e, ctx) => {
        ctx.state.update((ctx.state.value() ?? 0) + 1);
        ctx.emit(`${e.x} is number ${ctx.state.value()} in bucket ${ctx.key}`);
      },
    }, { id: 'count' }),
  ).subscribe({ error: (err) => { console.error(err); process.exit(1); } });
} else {
  const runChild = (dir, killAfter) => new Promise((resolve) => {
    const child = spawn(process.execPath, [self, 'child', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = killAfter === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfter);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'killed' : `exited ${code}`);
    });
  });

  const clean = mkdtempSync(join(tmpdir(), 'sluice-clean-'));
  const crashed = mkdtempSync(join(tmpdir(), 'sluice-crashed-'));
  console.log('uninterrupted run:', await runChild(clean));
  for (let kill = 1; kill <= 3; kill++) {
    const after = 200 + Math.floor(Math.random() * 300);
    console.log(`run ${kill}, SIGKILL after ${after} ms:`, await runChild(crashed, after));
  }
  console.log('final run:', await runChild(crashed));
  const expected = readCommitted(join(clean, 'output'));
  const actual = readCommitted(join(crashed, 'output'));
  const lines = actual.split('\n').filter(Boolean).length;
  console.log(`${lines} committed outputs; identical to the uninterrupted run: ${actual === expected}`);
  if (actual !== expected) {
    console.error(`kept for inspection: ${clean} ${crashed}`);
    process.exit(1);
  }
  rmSync(clean, { recursive: true, force: true });
  rmSync(crashed, { recursive: true, force: true });
}
