import { readdirSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import { NEVER, concat, from } from 'rxjs';
import { CheckpointStoreError, checkpointable, type CheckpointWarning, type ReplayableSource, type SourceItem } from 'rxjs-sluice';
import { FileCheckpointStore, FileCheckpointStoreError } from 'rxjs-sluice/node';
import { crash } from '../support/crash';
import { tempDirs } from '../support/tempDirs';

/**
 * File system errors of FileCheckpointStore are named errors (FileCheckpointStoreError, a
 * CheckpointStoreError) that say which operation failed, on which file, for which checkpoint, with
 * the file system's error as `cause`, never a bare ENOENT/ENOSPC. And the temporary files of failed or crashed
 * checkpoint writes do not pile up: a failed write deletes its own, and open() deletes what crashes left.
 */

const freshDir = tempDirs('sluice-errors-');
afterEach(() => jest.restoreAllMocks());

/** The real fs/promises module (what src/node uses), for jest.spyOn. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsp = require('node:fs/promises') as typeof import('fs/promises');

const pad = (id: number): string => String(id).padStart(20, '0');
const checkpointFile = (dir: string, id: number): string => join(dir, `checkpoint-${pad(id)}.json`);

/** An errno error, as the file system raises it. */
const errno = (code: string, path: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: simulated, '${path}'`), { code, path });

/** Makes fs/promises `method` reject with `code` for paths that `applies` to; other calls go through. */
function failing<K extends 'rename' | 'open'>(method: K, code: string, applies: (path: string) => boolean): void {
  const real = fsp[method] as (...args: unknown[]) => Promise<unknown>;
  jest.spyOn(fsp, method).mockImplementation(((path: string, ...rest: unknown[]) =>
    (applies(String(path)) ? Promise.reject(errno(code, String(path))) : real(path, ...rest))) as never);
}

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);


describe('FileCheckpointStore errors', () => {
  it('a write that fails (ENOSPC at the rename) rejects with FileCheckpointStoreError: operation, file, checkpoint, cause', async () => {
    // Arrange
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    failing('rename', 'ENOSPC', (path) => path.endsWith('.tmp'));

    // Act
    const error = await rejectionOf(store.write(3, 'three'));

    // Assert
    expect(error).toBeInstanceOf(FileCheckpointStoreError);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect(error).toMatchObject({ operation: 'write', path: checkpointFile(dir, 3), checkpointId: 3, input: checkpointFile(dir, 3) });
    expect((error as FileCheckpointStoreError).cause).toMatchObject({ code: 'ENOSPC' });
    expect((error as Error).message).toContain('checkpoint 3');
    expect((error as Error).message).toContain(checkpointFile(dir, 3));
    expect((error as Error).message).toContain('ENOSPC');
  });

  it('a write that fails deletes its temporary file', async () => {
    // Arrange
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    failing('rename', 'ENOSPC', (path) => path.endsWith('.tmp'));

    // Act
    await rejectionOf(store.write(3, 'three'));

    // Assert
    expect(readdirSync(dir)).toEqual([]);
  });

  it('read of a checkpoint that is not there rejects with FileCheckpointStoreError (operation read, cause ENOENT)', async () => {
    // Arrange
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);

    // Act
    const error = await rejectionOf(store.read(9));

    // Assert
    expect(error).toBeInstanceOf(FileCheckpointStoreError);
    expect(error).toMatchObject({ operation: 'read', path: checkpointFile(dir, 9), checkpointId: 9, cause: { code: 'ENOENT' } });
  });

  it('list of a directory that was removed rejects with FileCheckpointStoreError (operation list)', async () => {
    // Arrange
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    rmSync(dir, { recursive: true });

    // Act
    const error = await rejectionOf(store.list());

    // Assert
    expect(error).toBeInstanceOf(FileCheckpointStoreError);
    expect(error).toMatchObject({ operation: 'list', path: dir, checkpointId: undefined, cause: { code: 'ENOENT' } });
  });

  it('reaches the pipeline\'s warning hook as a checkpoint-failed warning naming the checkpoint and the file', async () => {
    // Arrange: every write fails with ENOSPC; the source stays open, so the run goes on.
    const dir = freshDir();
    failing('rename', 'ENOSPC', (path) => path.endsWith('.tmp'));
    const warnings: CheckpointWarning[] = [];
    const source: ReplayableSource<string, number> = {
      open: () => concat(from(['a', 'b'].map((value, i): SourceItem<string, number> => ({ value, position: i + 1 }))), NEVER),
    };

    // Act
    const store = new FileCheckpointStore(dir);
    const run = checkpointable({ source, store, every: { records: 1 }, onWarning: (w) => warnings.push(w) }).pipe().subscribe();
    const deadline = Date.now() + 10_000; // generous: a loaded machine is slow, and the loop ends as soon as both arrived
    while (warnings.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    await crash(run, store);

    // Assert
    expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['checkpoint-failed', 1], ['checkpoint-failed', 2]]);
    expect(warnings[0]!.error).toMatchObject({ operation: 'write', checkpointId: 1, path: checkpointFile(dir, 1) });
    expect(warnings[0]!.message).toContain(checkpointFile(dir, 1));
  }, 20_000);
});

describe('FileCheckpointStore temporary files', () => {
  it('open() deletes the temporary files crashed writes left, and nothing else', async () => {
    // Arrange: a checkpoint, two leftovers of crashed writes (another pid's too), a torn lock temporary, other files.
    const dir = freshDir();
    const store = new FileCheckpointStore(dir);
    await store.write(1, 'one');
    writeFileSync(`${checkpointFile(dir, 2)}.4242-0.tmp`, 'x'.repeat(10_000));
    writeFileSync(`${checkpointFile(dir, 1)}.${process.pid}-7.tmp`, 'partial');
    writeFileSync(join(dir, 'sluice-store.lock.0b6d.tmp'), '{"format":');
    writeFileSync(join(dir, 'notes.tmp'), 'not ours');
    writeFileSync(join(dir, 'README'), 'keep');

    // Act
    await store.open();
    await store.close();

    // Assert
    expect(readdirSync(dir).filter((n) => !n.startsWith('sluice-store.lock-')).sort()).toEqual(['README', `checkpoint-${pad(1)}.json`, 'notes.tmp']);
  });
});
