/// <reference types="node" />
import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Opening flags that never block: a FIFO (or a device) with a store's or sink's file name would make a plain
 * open wait forever for a writer. O_NONBLOCK has no effect on regular files; Windows has no FIFOs (and no flag).
 */
export const NON_BLOCKING = constants.O_NONBLOCK ?? 0;

/** Reads a file whole, refusing (quickly, without blocking) anything but a regular file. */
export async function readRegularFile(path: string): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | NON_BLOCKING);
  try {
    expectRegular(path, await handle.stat());
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** readRegularFile, synchronously (for readCommitted and the release of locks at process exit). */
export function readRegularFileSync(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | NON_BLOCKING);
  try {
    expectRegular(path, fstatSync(fd));
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates or truncates `path` and writes `text` to it, fsynced, refusing anything but a regular file (a FIFO
 * with no reader fails with ENXIO rather than blocking).
 */
export async function writeRegularFile(path: string, text: string | Uint8Array, exclusive = false): Promise<void> {
  const flags = constants.O_WRONLY | constants.O_CREAT | (exclusive ? constants.O_EXCL : constants.O_TRUNC) | NON_BLOCKING;
  const handle = await open(path, flags, 0o666);
  try {
    expectRegular(path, await handle.stat());
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Throws (an Error with code ENOTREGULAR naming what `path` is) unless `stats` are a regular file's. */
export function expectRegular(path: string, stats: Stats): void {
  if (stats.isFile()) return;
  const kind = stats.isFIFO() ? 'a FIFO' : stats.isDirectory() ? 'a directory' : stats.isSocket() ? 'a socket'
    : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a file';
  throw Object.assign(new Error(`${path} is not a regular file (it is ${kind})`), { code: 'ENOTREGULAR', path });
}
