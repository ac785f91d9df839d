/**
 * A spy on the synchronous fsyncs the node store and sink make (FileCheckpointStore / FileSink fsync the parent
 * of each directory they create, through fs.openSync + fs.fsyncSync). Call it inside a test; restore with
 * jest.restoreAllMocks() in an afterEach.
 */
import type { PathLike } from 'fs';

// The very module objects src/node uses ('node:fs' is 'fs'): spying on their properties intercepts its calls.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('node:fs') as typeof import('fs');

/** Records the path of everything fsynced with fs.fsyncSync (as opened by fs.openSync); returns the list it fills. */
export function spyOnSyncFsyncs(): string[] {
  const paths = new Map<number, string>();
  const synced: string[] = [];
  const realOpenSync = fs.openSync;
  const realFsyncSync = fs.fsyncSync;
  jest.spyOn(fs, 'openSync').mockImplementation(((path: PathLike, ...rest: unknown[]) => {
    const fd = (realOpenSync as (...args: unknown[]) => number)(path, ...rest);
    paths.set(fd, String(path));
    return fd;
  }) as typeof fs.openSync);
  jest.spyOn(fs, 'fsyncSync').mockImplementation((fd: number) => {
    synced.push(paths.get(fd) ?? `fd ${fd}`);
    realFsyncSync(fd);
  });
  return synced;
}
