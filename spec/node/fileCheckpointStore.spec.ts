import { mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'fs';
import { join, relative, resolve } from 'path';
import { lastValueFrom, tap, toArray, type Observable, type Subscription } from 'rxjs';
import {
  CheckpointCorruptError, CheckpointRestoreError, CheckpointStoreError, CheckpointVersionError, arraySource, asyncWaitOrdered,
  checkpointMetrics, checkpointable, keyedTimers, readLatestCheckpoint,
  type CheckpointMetrics, type CheckpointWarning, type CheckpointedOutput, type ReplayableSource,
} from 'rxjs-sluice';
import { FileCheckpointStore } from 'rxjs-sluice/node';
import { checksumOf, intactText, type CheckpointFile } from '../support/checkpoints';
import { spyOnSyncFsyncs } from '../support/fsyncs';
import { crash } from '../support/crash';
import { tempDirs } from '../support/tempDirs';

/**
 * FileCheckpointStore (docs/checkpoints.md, "Files on disk"): the file layout, retention and list()
 * of the store itself; a checkpointable pipeline crashing and resuming over it; and every kind of bad input
 * on disk (torn files, flipped bytes, all checkpoints damaged, an unknown format version, a missing or wrong
 * directory, a checkpoint that does not fit the pipeline, bad options). Each test works in a fresh temp dir.
 */

// ---- helpers -------------------------------------------------------------------------------------------------

const freshDir = tempDirs('sluice-store-');

/** The file a checkpoint id lives in. */
const fileOf = (dir: string, id: number): string => join(dir, `checkpoint-${String(id).padStart(20, '0')}.json`);

/** Flips the lowest bit of the byte at `index` of a file: one damaged byte. */
function flipByte(path: string, index: number): void {
  const bytes = readFileSync(path);
  bytes[index] = bytes[index]! ^ 0x01;
  writeFileSync(path, bytes);
}

/** Cuts a file in half: a torn write. */
const truncateHalf = (path: string): void => truncateSync(path, Math.floor(readFileSync(path).length / 2));

/** arraySource, recording every position it is opened at. */
function spiedSource<T>(values: readonly T[], opened: unknown[]): ReplayableSource<T, number> {
  const inner = arraySource(values);
  return { open: (position) => (opened.push(position), inner.open(position)) };
}

/** Everything a test looks at after running a pipeline over a store. */
interface Run {
  readonly out: Observable<CheckpointedOutput<number>>;
  readonly metrics: CheckpointMetrics;
  readonly warnings: CheckpointWarning[];
  readonly opened: unknown[];
  readonly calls: number[];
}

/** The pipeline of the damage tests: 1..6, a checkpoint every 2 records, an asyncWaitOrdered with id 'enrich'. */
function enrichRun(dir: string, operatorId = 'enrich'): Run {
  const metrics = checkpointMetrics();
  const warnings: CheckpointWarning[] = [];
  const opened: unknown[] = [];
  const calls: number[] = [];
  const job = checkpointable({
    source: spiedSource([1, 2, 3, 4, 5, 6], opened), store: new FileCheckpointStore(dir), every: { records: 2 },
    metrics, onWarning: (w) => warnings.push(w),
  });
  const out = job.pipe(asyncWaitOrdered(async (x: number) => (calls.push(x), x * 10), { id: operatorId }));
  return { out, metrics, warnings, opened, calls };
}

/** Runs to completion; checkpoints 1..3 at 2, 4, 6 records and the final 4 are written, 2..4 kept. */
async function completedRun(dir: string): Promise<CheckpointedOutput<number>[]> {
  return lastValueFrom(enrichRun(dir).out.pipe(toArray()));
}

/** The error an observable fails with (fails the test if it completes instead). */
async function errorOf(out: Observable<unknown>): Promise<unknown> {
  return lastValueFrom(out).then(
    (value) => { throw new Error(`expected an error, but the output completed (last value ${JSON.stringify(value)})`); },
    (err: unknown) => err,
  );
}

/** Resolves once `condition()` holds, polling on macrotasks (fails after 2 s). */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('waitFor: condition not met within 2 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** The real fs/promises module (what the store uses), for jest.spyOn. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsp = require('node:fs/promises') as typeof import('fs/promises');
afterEach(() => jest.restoreAllMocks());

/** The record values of outputs. */
const valuesOf = (outputs: readonly CheckpointedOutput<number>[]): unknown[] =>
  outputs.map((o) => (o.element.kind === 'record' ? o.element.value : o.element));

// ---- the store ---------------------------------------------------------------------------------------------------

describe('FileCheckpointStore', () => {
  describe('files, list and read', () => {
    it('round-trips text through write and read, in a file named checkpoint-<20 digits>.json', async () => {
      // Arrange
      const dir = freshDir();
      const store = new FileCheckpointStore(dir);
      const text = '{"any":"text, the store keeps bytes"} héllo ✓\n';

      // Act
      await store.write(7, text);

      // Assert
      expect(await store.read(7)).toBe(text);
      expect(readdirSync(dir)).toEqual(['checkpoint-00000000000000000007.json']);
      expect(readFileSync(fileOf(dir, 7), 'utf8')).toBe(text);
      expect(await store.list()).toEqual([7]);
    });

    it('overwrites a checkpoint written again under the same id', async () => {
      // Arrange
      const store = new FileCheckpointStore(freshDir());
      await store.write(1, 'first');

      // Act
      await store.write(1, 'second');

      // Assert
      expect(await store.read(1)).toBe('second');
      expect(await store.list()).toEqual([1]);
    });

    it('lists ids in ascending numeric order, whatever order they were written in', async () => {
      // Arrange
      const dir = freshDir();
      const store = new FileCheckpointStore(dir, { retain: 10 });

      // Act
      for (const id of [10, 2, 33, 4, 100]) await store.write(id, `text ${id}`);

      // Assert
      expect(await store.list()).toEqual([2, 4, 10, 33, 100]);
      expect(readdirSync(dir).sort()).toEqual([2, 4, 10, 33, 100].map((id) => `checkpoint-${String(id).padStart(20, '0')}.json`));
    });

    it('ignores leftover *.tmp files (a crash mid-write) and files that are not checkpoints', async () => {
      // Arrange
      const dir = freshDir();
      const store = new FileCheckpointStore(dir);
      await store.write(1, 'one');
      writeFileSync(`${fileOf(dir, 2)}.tmp`, '{"format":"rxjs-sluice.chec'); // torn temporary file
      writeFileSync(join(dir, 'checkpoint-3.json'), 'short id'); // not 20 digits
      writeFileSync(join(dir, 'notes.txt'), 'hello');

      // Act
      const ids = await store.list();

      // Assert
      expect(ids).toEqual([1]);
    });

    it('leaves no temporary file behind once a write has resolved', async () => {
      // Arrange
      const dir = freshDir();
      const store = new FileCheckpointStore(dir);

      // Act
      await store.write(5, 'five');

      // Assert
      expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    });

    it('gives each write its own temporary file (<file>.<pid>-<n>.tmp): two writes of one id at once both succeed', async () => {
      // Arrange
      const dir = freshDir();
      const store = new FileCheckpointStore(dir);
      const opened: string[] = [];
      const realOpen = fsp.open;
      jest.spyOn(fsp, 'open').mockImplementation(((path: string, ...rest: unknown[]) => {
        opened.push(String(path));
        return (realOpen as (...args: unknown[]) => unknown)(path, ...rest);
      }) as typeof fsp.open);
      const first = 'first '.repeat(10_000);
      const second = 'second '.repeat(10);

      // Act
      const results = await Promise.allSettled([store.write(1, first), store.write(1, second)]);

      // Assert: both resolved; the file holds one of the two texts whole; no temporary file is left.
      const temporaries = opened.filter((p) => p.endsWith('.tmp'));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(temporaries).toHaveLength(2);
      expect(new Set(temporaries).size).toBe(2);
      for (const temporary of temporaries) expect(temporary.startsWith(`${fileOf(dir, 1)}.${process.pid}-`)).toBe(true);
      expect([first, second]).toContain(readFileSync(fileOf(dir, 1), 'utf8'));
      expect(readdirSync(dir)).toEqual(['checkpoint-00000000000000000001.json']);
    });

    it('keeps the directory as an absolute path', () => {
      // Arrange
      const dir = freshDir();

      // Act
      const store = new FileCheckpointStore(relative(process.cwd(), dir));

      // Assert
      expect(store.dir).toBe(resolve(dir));
    });
  });

  describe('retention', () => {
    it('keeps the newest 3 by default', async () => {
      // Arrange
      const dir = freshDir();
      const store = new FileCheckpointStore(dir);

      // Act
      for (let id = 1; id <= 6; id++) await store.write(id, `text ${id}`);

      // Assert
      expect(await store.list()).toEqual([4, 5, 6]);
      expect(readdirSync(dir)).toHaveLength(3);
    });

    it.each([
      [1, [7]],
      [2, [6, 7]],
      [5, [3, 4, 5, 6, 7]],
    ])('keeps the newest `retain` (%i)', async (retain, kept) => {
      // Arrange
      const store = new FileCheckpointStore(freshDir(), { retain });

      // Act
      for (let id = 1; id <= 7; id++) await store.write(id, `text ${id}`);

      // Assert
      expect(await store.list()).toEqual(kept);
      for (const id of kept) expect(await store.read(id)).toBe(`text ${id}`);
    });

    it('is best effort: a failure while pruning after the durable rename does not reject the write; the next write prunes', async () => {
      // Arrange: retain 1, checkpoint 1 stored; listing the directory will fail (EMFILE) while checkpoint 2 is written.
      const dir = freshDir();
      const store = new FileCheckpointStore(dir, { retain: 1 });
      await store.write(1, 'one');
      const realReaddir = fsp.readdir;
      const readdir = jest.spyOn(fsp, 'readdir').mockImplementation(((path: string, ...rest: unknown[]) =>
        (path === dir
          ? Promise.reject(Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' }))
          : (realReaddir as (...args: unknown[]) => unknown)(path, ...rest))) as typeof fsp.readdir);

      // Act
      const written = store.write(2, 'two');

      // Assert: the write resolves (checkpoint 2 is durable), checkpoint 1 is not pruned yet; the next write prunes it.
      await expect(written).resolves.toBeUndefined();
      expect(readdir).toHaveBeenCalled();
      readdir.mockRestore();
      expect(readFileSync(fileOf(dir, 2), 'utf8')).toBe('two');
      expect(await store.list()).toEqual([1, 2]);
      await store.write(3, 'three');
      expect(await store.list()).toEqual([3]);
    });

    it('never deletes the checkpoint it has just written, even when it is older than those kept', async () => {
      // Arrange: retain 1, and checkpoint 10 already stored.
      const store = new FileCheckpointStore(freshDir(), { retain: 1 });
      await store.write(10, 'ten');

      // Act: an older id written afterwards (e.g. after a restore from a damaged store).
      await store.write(5, 'five');

      // Assert: 5 survives its own write; the newest, 10, is kept too.
      expect(await store.list()).toEqual([5, 10]);
      expect(await store.read(5)).toBe('five');
    });
  });

  // ---- a pipeline over the store ---------------------------------------------------------------------------------

  describe('in a checkpointable pipeline', () => {
    it('restores after a crash and resumes from the stored position', async () => {
      // Arrange: 1..10, a checkpoint every 3 records, an async call per record whose promise the test controls.
      const dir = freshDir();
      const held: { x: number; resolve: (v: number) => void }[] = [];
      const opened1: unknown[] = [];
      const metrics1 = checkpointMetrics();
      const emitted1: CheckpointedOutput<number>[] = [];
      const firstStore = new FileCheckpointStore(dir);
      const first = checkpointable({
        source: spiedSource([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], opened1), store: firstStore, every: { records: 3 },
        metrics: metrics1,
      }).pipe(asyncWaitOrdered((x: number) => new Promise<number>((resolve) => held.push({ x, resolve })), { id: 'enrich' }));
      const subscription: Subscription = first.subscribe({ next: (o) => emitted1.push(o) });
      await waitFor(() => metrics1.completed === 3); // checkpoints 1, 2, 3 (after 3, 6, 9 records) are durable
      for (const call of held.slice(0, 4)) call.resolve(call.x * 10);
      await new Promise((r) => setTimeout(r, 5));

      // Act: crash (unsubscribe) before the final checkpoint; then restart over the same directory.
      await crash(subscription, firstStore);
      const afterCrash = await readLatestCheckpoint(new FileCheckpointStore(dir));
      const opened2: unknown[] = [];
      const calls2: number[] = [];
      const metrics2 = checkpointMetrics();
      const second = checkpointable({
        source: spiedSource([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], opened2), store: new FileCheckpointStore(dir), every: { records: 3 },
        metrics: metrics2,
      }).pipe(asyncWaitOrdered(async (x: number) => (calls2.push(x), x * 10), { id: 'enrich' }));
      const outputs = await lastValueFrom(second.pipe(toArray()));

      // Assert: the first run emitted nothing (exactly-once holds outputs for the final checkpoint it never reached).
      expect(opened1).toEqual([undefined]);
      expect(emitted1).toEqual([]);
      expect(afterCrash).toMatchObject({ checkpointId: 3, final: false, position: '9' });
      // The restart opened the source at 9 (not 0), replayed the 9 inputs held at checkpoint 3, then read record 10.
      expect(opened2).toEqual([9]);
      expect(calls2).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(valuesOf(outputs)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
      expect(outputs.map((o) => [o.checkpointId, o.sequence])).toEqual(outputs.map((_, i) => [4, i]));
      expect(metrics2.snapshot()).toMatchObject({ restored: 1, completed: 1, lastCompletedId: 4, corruptSkipped: 0 });
      expect(await new FileCheckpointStore(dir).list()).toEqual([2, 3, 4]);
      expect(await readLatestCheckpoint(new FileCheckpointStore(dir))).toMatchObject({ checkpointId: 4, final: true, position: '10' });
    });

    it('writes each checkpoint as one JSON line with format, version 2, id, crc32 checksum and body', async () => {
      // Arrange
      const dir = freshDir();

      // Act
      await completedRun(dir);
      const text = readFileSync(fileOf(dir, 4), 'utf8');
      const file = JSON.parse(text) as CheckpointFile;

      // Assert: the test's own CRC-32 agrees with the library's, so forged files below are truly intact.
      expect(text.endsWith('\n')).toBe(true);
      expect(text.indexOf('\n')).toBe(text.length - 1);
      expect(Object.keys(file)).toEqual(['format', 'version', 'checkpointId', 'checksum', 'body']);
      expect(file).toMatchObject({ format: 'rxjs-sluice.checkpoint', version: 2, checkpointId: 4 });
      expect(file.checksum).toMatch(/^crc32:[0-9a-f]{8}$/);
      expect(file.checksum).toBe(checksumOf(file));
      expect(intactText(file)).toBe(text);
      expect(file.body).toMatchObject({ codec: 'json', final: true, operators: [{ id: 'enrich', kind: 'asyncWaitOrdered' }] });
    });
  });

  // ---- bad input -------------------------------------------------------------------------------------------------

  describe('a truncated newest checkpoint', () => {
    it('is skipped: the pipeline restores from the previous one, with a corrupt-skipped warning', async () => {
      // Arrange: 2, 3 and 4 stored; 4 (the newest) cut in half.
      const dir = freshDir();
      const uninterrupted = await completedRun(dir);
      truncateHalf(fileOf(dir, 4));
      const run = enrichRun(dir);

      // Act
      const outputs = await lastValueFrom(run.out.pipe(toArray()));

      // Assert: restored from 3 (position 6, all six inputs held there), which reproduces the same outputs; the new
      // final checkpoint is 5, above the damaged 4 (whose outputs were released), so no stamp is used twice.
      expect(run.warnings).toEqual([expect.objectContaining({ kind: 'corrupt-skipped', checkpointId: 4 })]);
      expect(run.warnings[0]!.message).toMatch(/checkpoint 4/);
      expect(run.metrics.snapshot()).toMatchObject({ corruptSkipped: 1, restored: 1, completed: 1, lastCompletedId: 5 });
      expect(run.opened).toEqual([6]);
      expect(run.calls).toEqual([1, 2, 3, 4, 5, 6]);
      expect(outputs.map((o) => o.element)).toEqual(uninterrupted.map((o) => o.element));
      expect(await readLatestCheckpoint(new FileCheckpointStore(dir))).toMatchObject({ checkpointId: 5, final: true });
    });

    it('is skipped by readLatestCheckpoint too, which resolves to the previous one', async () => {
      // Arrange
      const dir = freshDir();
      await completedRun(dir);
      truncateHalf(fileOf(dir, 4));
      const warnings: CheckpointWarning[] = [];

      // Act
      const latest = await readLatestCheckpoint(new FileCheckpointStore(dir), { onWarning: (w) => warnings.push(w) });

      // Assert
      expect(latest).toMatchObject({ checkpointId: 3, version: 2, final: false, position: '6', codec: 'json' });
      expect(warnings).toEqual([expect.objectContaining({ kind: 'corrupt-skipped', checkpointId: 4 })]);
      expect(warnings[0]!.error).toBeInstanceOf(TypeError);
    });

    it.each([
      ['emptied (0 bytes)', (path: string) => truncateSync(path, 0)],
      ['cut after its first byte', (path: string) => truncateSync(path, 1)],
      ['cut just before its closing brace', (path: string) => truncateSync(path, readFileSync(path).length - 2)],
      ['replaced by garbage', (path: string) => writeFileSync(path, 'not json at all')],
      ['replaced by JSON of another shape', (path: string) => writeFileSync(path, '{"hello":"world"}')],
    ])('is skipped when %s', async (_name, damage) => {
      // Arrange
      const dir = freshDir();
      await completedRun(dir);
      damage(fileOf(dir, 4));
      const warnings: CheckpointWarning[] = [];

      // Act
      const latest = await readLatestCheckpoint(new FileCheckpointStore(dir), { onWarning: (w) => warnings.push(w) });

      // Assert
      expect(latest?.checkpointId).toBe(3);
      expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4]]);
    });

    it('is skipped when it cannot be read at all (a directory in its place)', async () => {
      // Arrange
      const dir = freshDir();
      await completedRun(dir);
      rmSync(fileOf(dir, 4));
      mkdirSync(fileOf(dir, 4));
      const warnings: CheckpointWarning[] = [];

      // Act
      const latest = await readLatestCheckpoint(new FileCheckpointStore(dir), { onWarning: (w) => warnings.push(w) });

      // Assert
      expect(latest?.checkpointId).toBe(3);
      expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4]]);
    });
  });

  describe('a flipped byte in the newest checkpoint', () => {
    /** Index of the first character of `needle`'s value in the text, plus `offset`. */
    const after = (needle: string, offset = 0) => (text: string): number => {
      const at = text.indexOf(needle);
      if (at < 0) throw new Error(`no ${needle} in the checkpoint`);
      return at + needle.length + offset;
    };

    it.each([
      ['the "version" value', after('"version":')],
      ['the "checkpointId" value', after('"checkpointId":')],
      ['a hex digit of the checksum', after('"checksum":"crc32:', 3)],
      ['the "crc32" label of the checksum', after('"checksum":"', 1)],
      ['the "format" value', after('"format":"', 5)],
      ['a digit of "createdAt" in the body', after('"createdAt":', 3)],
      ['the codec name in the body', after('"codec":"', 1)],
      ['the middle of the body', (text: string) => Math.floor((text.indexOf('"body"') + text.length) / 2)],
      ['the last byte before the newline', (text: string) => text.length - 2],
    ])('in %s is treated as damage: the pipeline falls back to the previous checkpoint', async (_where, position) => {
      // Arrange
      const dir = freshDir();
      const uninterrupted = await completedRun(dir);
      const text = readFileSync(fileOf(dir, 4), 'utf8');
      expect(Buffer.byteLength(text)).toBe(text.length); // ASCII: character index = byte index
      flipByte(fileOf(dir, 4), position(text));
      const run = enrichRun(dir);

      // Act
      const outputs = await lastValueFrom(run.out.pipe(toArray()));

      // Assert
      expect(run.warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4]]);
      expect(run.metrics.corruptSkipped).toBe(1);
      expect(run.opened).toEqual([6]);
      expect(outputs.map((o) => o.element)).toEqual(uninterrupted.map((o) => o.element)); // new epochs stamped above 4
    });

    it('is detected wherever it is: a flip at any byte of a real checkpoint file never reads as valid', async () => {
      // Arrange: the bytes of checkpoints 3 and 4 as written; each damaged copy of 4 is served by a store over
      // those bytes (the file store only returns them, so this sweeps the format check quickly).
      const dir = freshDir();
      await completedRun(dir);
      const previous = readFileSync(fileOf(dir, 3), 'utf8');
      const original = readFileSync(fileOf(dir, 4));
      const accepted: number[] = [];

      // Act
      for (let index = 0; index < original.length; index++) {
        const damaged = Buffer.from(original);
        damaged[index] = damaged[index]! ^ 0x01;
        const store = { write: () => undefined, list: () => [3, 4], read: (id: number) => (id === 4 ? damaged.toString('utf8') : previous) };
        const warnings: CheckpointWarning[] = [];
        const latest = await readLatestCheckpoint(store, { onWarning: (w) => warnings.push(w) });
        if (latest?.checkpointId !== 3 || warnings.length !== 1 || warnings[0]!.checkpointId !== 4) accepted.push(index);
      }

      // Assert: not one damaged copy was taken for a valid checkpoint.
      expect(original.length).toBeGreaterThan(100);
      expect(accepted).toEqual([]);
    });
  });

  describe('all checkpoints damaged', () => {
    it('fails the subscription with CheckpointCorruptError listing the ids newest first, never starting from scratch', async () => {
      // Arrange: 2, 3 and 4 stored, each damaged differently.
      const dir = freshDir();
      await completedRun(dir);
      truncateHalf(fileOf(dir, 4));
      flipByte(fileOf(dir, 3), 40);
      truncateSync(fileOf(dir, 2), 0);
      const run = enrichRun(dir);
      const emitted: unknown[] = [];

      // Act
      const error = await errorOf(run.out.pipe(tap((o) => emitted.push(o))));

      // Assert
      expect(error).toBeInstanceOf(CheckpointCorruptError);
      expect((error as CheckpointCorruptError).input).toEqual([4, 3, 2]);
      expect((error as CheckpointCorruptError).message).toMatch(/none is valid/);
      expect(run.warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4], ['corrupt-skipped', 3], ['corrupt-skipped', 2]]);
      expect(run.metrics.snapshot()).toMatchObject({ corruptSkipped: 3, restored: 0, started: 0, completed: 0, emitted: 0 });
      expect(run.opened).toEqual([]); // the source was never opened
      expect(run.calls).toEqual([]);
      expect(emitted).toEqual([]);
      expect(await new FileCheckpointStore(dir).list()).toEqual([2, 3, 4]); // nothing new written over them
    });

    it('makes readLatestCheckpoint reject with CheckpointCorruptError too', async () => {
      // Arrange
      const dir = freshDir();
      await completedRun(dir);
      for (const id of [2, 3, 4]) truncateHalf(fileOf(dir, id));

      // Act
      const error = await readLatestCheckpoint(new FileCheckpointStore(dir)).then(() => undefined, (e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(CheckpointCorruptError);
      expect((error as CheckpointCorruptError).input).toEqual([4, 3, 2]);
      expect((error as CheckpointCorruptError).cause).toBeInstanceOf(TypeError);
    });

    it('still resolves to undefined (a fresh start) for an empty directory', async () => {
      // Arrange
      const store = new FileCheckpointStore(freshDir());

      // Act
      const latest = await readLatestCheckpoint(store);

      // Assert
      expect(latest).toBeUndefined();
    });
  });

  describe('an intact checkpoint of an unknown format version', () => {
    /** Rewrites checkpoint `id` as an intact file that says version `version`. */
    function forgeVersion(dir: string, id: number, version: number): void {
      const file = JSON.parse(readFileSync(fileOf(dir, id), 'utf8')) as CheckpointFile;
      writeFileSync(fileOf(dir, id), intactText({ ...file, version }));
    }

    it('fails the subscription with CheckpointVersionError and does not fall back to the older valid one', async () => {
      // Arrange: 4 says version 99 (checksum recomputed); 2 and 3 are valid version-2 checkpoints.
      const dir = freshDir();
      await completedRun(dir);
      forgeVersion(dir, 4, 99);
      const run = enrichRun(dir);

      // Act
      const error = await errorOf(run.out);

      // Assert
      expect(error).toBeInstanceOf(CheckpointVersionError);
      expect(error).toMatchObject({ input: 99, checkpointId: 4, supported: [1, 2] });
      expect((error as Error).message).toMatch(/version 99/);
      expect(run.warnings).toEqual([]);
      expect(run.metrics.snapshot()).toMatchObject({ corruptSkipped: 0, restored: 0, started: 0 });
      expect(run.opened).toEqual([]);
      expect(await readLatestCheckpoint(new FileCheckpointStore(dir), { onWarning: () => undefined }).catch((e: unknown) => e))
        .toBeInstanceOf(CheckpointVersionError);
      expect(readFileSync(fileOf(dir, 4), 'utf8')).toContain('"version":99'); // left as it was
    });

    it('is reported as a version problem even behind a damaged newer checkpoint', async () => {
      // Arrange: 4 torn, 3 intact but version 3, 2 valid.
      const dir = freshDir();
      await completedRun(dir);
      truncateHalf(fileOf(dir, 4));
      forgeVersion(dir, 3, 3);
      const warnings: CheckpointWarning[] = [];

      // Act
      const error = await readLatestCheckpoint(new FileCheckpointStore(dir), { onWarning: (w) => warnings.push(w) }).catch((e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(CheckpointVersionError);
      expect(error).toMatchObject({ input: 3, checkpointId: 3 });
      expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4]]);
    });

    it('is damage, not a new version, when "version" was changed without recomputing the checksum', async () => {
      // Arrange
      const dir = freshDir();
      await completedRun(dir);
      writeFileSync(fileOf(dir, 4), readFileSync(fileOf(dir, 4), 'utf8').replace('"version":2', '"version":99'));
      const warnings: CheckpointWarning[] = [];

      // Act
      const latest = await readLatestCheckpoint(new FileCheckpointStore(dir), { onWarning: (w) => warnings.push(w) });

      // Assert
      expect(latest?.checkpointId).toBe(3);
      expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['corrupt-skipped', 4]]);
    });
  });

  describe('the directory', () => {
    it('throws CheckpointStoreError from the constructor when it is missing and createDirectory is false', () => {
      // Arrange
      const missing = join(freshDir(), 'no-such-dir');

      // Act
      let error: unknown;
      try {
        new FileCheckpointStore(relative(process.cwd(), missing), { createDirectory: false });
      } catch (e) {
        error = e;
      }

      // Assert
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as CheckpointStoreError).input).toBe(resolve(missing));
      expect(((error as CheckpointStoreError).cause as NodeJS.ErrnoException).code).toBe('ENOENT');
      expect((error as Error).message).toContain(resolve(missing));
      expect(() => readdirSync(missing)).toThrow(); // not created
    });

    it('accepts an existing directory with createDirectory false', async () => {
      // Arrange
      const dir = freshDir();

      // Act
      const store = new FileCheckpointStore(dir, { createDirectory: false });

      // Assert
      expect(await store.list()).toEqual([]);
    });

    it('creates a missing directory, parents included, by default', async () => {
      // Arrange
      const nested = join(freshDir(), 'a', 'b', 'c');

      // Act
      const store = new FileCheckpointStore(nested);
      await store.write(1, 'one');

      // Assert
      expect(readdirSync(nested)).toEqual(['checkpoint-00000000000000000001.json']);
    });

    it('makes each directory it creates durable: the parent of every new directory is fsynced', () => {
      // Arrange
      const dir = freshDir();
      const synced = spyOnSyncFsyncs();

      // Act: creates state/ in dir, and checkpoints/ in state/.
      new FileCheckpointStore(join(dir, 'state', 'checkpoints'));

      // Assert
      expect([...synced].sort()).toEqual([dir, join(dir, 'state')]);
    });

    it('fsyncs no parent for a directory that already exists', () => {
      // Arrange
      const dir = freshDir();
      const synced = spyOnSyncFsyncs();

      // Act
      new FileCheckpointStore(dir);

      // Assert
      expect(synced).toEqual([]);
    });

    it('throws CheckpointStoreError when the path is a file', () => {
      // Arrange
      const file = join(freshDir(), 'a-file');
      writeFileSync(file, 'x');

      // Act / Assert
      for (const createDirectory of [true, false]) {
        let error: unknown;
        try {
          new FileCheckpointStore(file, { createDirectory });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(CheckpointStoreError);
        expect((error as CheckpointStoreError).input).toBe(file);
        expect((error as Error).message).toMatch(/not a directory/);
      }
    });

    it('throws CheckpointStoreError when a parent of the missing directory is a file', () => {
      // Arrange
      const file = join(freshDir(), 'a-file');
      writeFileSync(file, 'x');

      // Act / Assert
      expect(() => new FileCheckpointStore(join(file, 'sub'))).toThrow(CheckpointStoreError);
    });
  });

  describe('a checkpoint that does not fit the pipeline', () => {
    it('fails with CheckpointRestoreError naming the id when the operator id was renamed', async () => {
      // Arrange: checkpoints written by a pipeline whose asyncWaitOrdered has id 'enrich'.
      const dir = freshDir();
      await completedRun(dir);
      const run = enrichRun(dir, 'enrich-v2');

      // Act
      const error = await errorOf(run.out);

      // Assert
      expect(error).toBeInstanceOf(CheckpointRestoreError);
      expect(error).toMatchObject({ input: 'enrich', checkpointId: 4 });
      expect((error as Error).message).toContain('"enrich"');
      expect((error as Error).message).toContain('enrich-v2');
      expect(run.opened).toEqual([]);
      expect(run.metrics.completed).toBe(0);
      expect(await new FileCheckpointStore(dir).list()).toEqual([2, 3, 4]);
    });

    it('fails with CheckpointRestoreError when the id now names an operator of another kind', async () => {
      // Arrange: same id 'enrich', now a keyedTimers; restoring mid-run state (checkpoint 3 is not final).
      const dir = freshDir();
      await completedRun(dir);
      rmSync(fileOf(dir, 4));
      const opened: unknown[] = [];
      const out = checkpointable({ source: spiedSource([1, 2, 3, 4, 5, 6], opened), store: new FileCheckpointStore(dir), every: { records: 2 } })
        .pipe(keyedTimers<number, number>({ key: (x) => x % 2, processElement: (x, ctx) => ctx.emit(x) }, { id: 'enrich' }));

      // Act
      const error = await errorOf(out);

      // Assert
      expect(error).toBeInstanceOf(CheckpointRestoreError);
      expect(error).toMatchObject({ input: 'enrich', checkpointId: 3 });
      expect((error as Error).message).toMatch(/asyncWaitOrdered/);
      expect((error as Error).message).toMatch(/keyedTimers/);
      expect(opened).toEqual([]);
    });
  });

  describe('option validation', () => {
    it.each([
      ['retain 0', () => new FileCheckpointStore(freshDir(), { retain: 0 })],
      ['retain -1', () => new FileCheckpointStore(freshDir(), { retain: -1 })],
      ['retain 1.5', () => new FileCheckpointStore(freshDir(), { retain: 1.5 })],
      ["retain 'x'", () => new FileCheckpointStore(freshDir(), { retain: 'x' as never })],
      ['retain NaN', () => new FileCheckpointStore(freshDir(), { retain: Number.NaN })],
      ["createDirectory 'yes'", () => new FileCheckpointStore(freshDir(), { createDirectory: 'yes' as never })],
      ['an unknown option', () => new FileCheckpointStore(freshDir(), { retian: 3 } as never)],
      ['options null', () => new FileCheckpointStore(freshDir(), null as never)],
      ['an empty dir string', () => new FileCheckpointStore('')],
      ['a dir that is not a string', () => new FileCheckpointStore(42 as never)],
    ])('throws a TypeError for %s', (_name, build) => {
      // Arrange / Act / Assert
      expect(build).toThrow(TypeError);
    });

    it('names the option in the message', () => {
      // Arrange / Act / Assert
      expect(() => new FileCheckpointStore(freshDir(), { retain: 0 })).toThrow(/FileCheckpointStore.*"retain"/);
      expect(() => new FileCheckpointStore(freshDir(), { retian: 3 } as never)).toThrow(/unknown option "retian"/);
      expect(() => new FileCheckpointStore('')).toThrow(/dir must be a non-empty string/);
    });

    it('creates no directory when an option is bad', () => {
      // Arrange
      const missing = join(freshDir(), 'never');

      // Act
      expect(() => new FileCheckpointStore(missing, { retain: 0 })).toThrow(TypeError);

      // Assert
      expect(() => readdirSync(missing)).toThrow();
    });
  });
});
