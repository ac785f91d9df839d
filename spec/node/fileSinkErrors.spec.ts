import { rmSync } from 'fs';
import { type CheckpointedOutput } from 'rxjs-sluice';
import { FileSink, FileSinkError } from 'rxjs-sluice/node';
import { tempDirs } from '../support/tempDirs';

/**
 * File system errors of FileSink are FileSinkErrors that say which operation failed, on which file, for which
 * epoch, with the file system's error as `cause`, never a bare ENOENT/ENOSPC.
 */

const freshDir = tempDirs('sluice-errors-');
afterEach(() => jest.restoreAllMocks());

/** The real fs/promises module (what src/node uses), for jest.spyOn. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fsp = require('node:fs/promises') as typeof import('fs/promises');

const pad = (id: number): string => String(id).padStart(20, '0');

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

const out = (checkpointId: number, sequence: number, value: unknown): CheckpointedOutput<unknown> =>
  ({ checkpointId, sequence, element: { kind: 'record', value } });

describe('FileSink errors', () => {
  it('a preCommit that cannot write (ENOSPC) rejects with FileSinkError: operation, file, epoch, cause', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir);
    failing('open', 'ENOSPC', (path) => path.endsWith('.pending'));

    // Act
    const error = await rejectionOf(sink.preCommit(4, [out(4, 0, 'a')]));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'preCommit', checkpointId: 4, cause: { code: 'ENOSPC' } });
    expect((error as FileSinkError).path).toMatch(/epoch-00000000000000000004\.(jsonl|sum)\.pending$/);
    expect((error as Error).message).toContain('epoch 4');
    expect((error as Error).message).toContain('ENOSPC');
  });

  it('a commit whose pending files are gone rejects with FileSinkError (operation commit, cause ENOENT)', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir);

    // Act
    const error = await rejectionOf(sink.commit(5));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'commit', checkpointId: 5, cause: { code: 'ENOENT' } });
    expect((error as FileSinkError).path).toContain(`epoch-${pad(5)}.jsonl.pending`);
  });

  it('recover over a directory that was removed rejects with FileSinkError (operation recover)', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir);
    rmSync(dir, { recursive: true });

    // Act
    const error = await rejectionOf(sink.recover(2));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'recover', checkpointId: 2, path: dir, cause: { code: 'ENOENT' } });
  });

  it('an abort that cannot delete (EACCES) rejects with FileSinkError (operation abort)', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir);
    await sink.preCommit(1, [out(1, 0, 'a')]);
    const realUnlink = fsp.unlink;
    jest.spyOn(fsp, 'unlink').mockImplementation(((path: string) =>
      (String(path).endsWith('.pending') ? Promise.reject(errno('EACCES', String(path))) : realUnlink(path))) as typeof fsp.unlink);

    // Act
    const error = await rejectionOf(sink.abort(1));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'abort', checkpointId: 1, cause: { code: 'EACCES' } });
  });
});
