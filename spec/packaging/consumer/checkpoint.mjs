// A checkpointable pipeline with a FileCheckpointStore and a FileSink, whose operators come from both module
// systems (an imported asyncWaitOrdered, a require()d keyedTimers): every barrier must be recognised by both.
// Run twice over the same directories: the second run restores the final checkpoint and commits nothing new.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { arraySource, asyncWaitOrdered, checkpointable, readLatestCheckpoint } from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, readCommittedElements } from 'rxjs-sluice/node';

const { keyedTimers } = createRequire(import.meta.url)('rxjs-sluice');
const dir = mkdtempSync(join(tmpdir(), 'sluice-consumer-checkpoint-'));
const input = Array.from({ length: 40 }, (_, i) => i);

const run = () => lastValueFrom(checkpointable({
  source: arraySource(input),
  store: new FileCheckpointStore(join(dir, 'checkpoints')),
  sink: new FileSink(join(dir, 'output')),
  every: { records: 7 },
}).pipe(
  asyncWaitOrdered(async (x) => x * 2, { id: 'double', capacity: 3 }),
  keyedTimers({
    key: (x) => x % 3,
    processElement: (x, ctx) => {
      ctx.state.update((ctx.state.value() ?? 0) + x);
      ctx.emit(ctx.state.value());
    },
  }, { id: 'sum' }),
).pipe(toArray()));

try {
  const first = await run();
  const committed = readCommittedElements(join(dir, 'output')).map((e) => e.value);
  const totals = new Map(); // key -> running sum, the model of the keyed state
  const sums = input.map((x) => totals.set((x * 2) % 3, (totals.get((x * 2) % 3) ?? 0) + x * 2).get((x * 2) % 3));
  assert.deepEqual(first.map((o) => o.element.value), sums);
  assert.deepEqual(committed, sums);
  // The last checkpoint holds the whole input, and a snapshot from each operator, whichever module built it.
  const latest = await readLatestCheckpoint(new FileCheckpointStore(join(dir, 'checkpoints')));
  assert.equal(JSON.parse(latest?.position ?? 'null'), input.length);
  assert.deepEqual(latest?.operators.map((o) => o.id).sort(), ['double', 'sum']);

  await run();
  assert.deepEqual(readCommittedElements(join(dir, 'output')).map((e) => e.value), sums, 'a restart after the end commits nothing twice');
  console.log('ok checkpoint');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
