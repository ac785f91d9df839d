/// <reference types="node" />
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeRegularFile } from './regularFile.js';

/** Makes temporary names unique within the process, so two writes of one path never share a temporary file. */
let nextTemporary = 0;

/**
 * Writes `text` to `path` so that after a crash the file either has all of it or does not exist: write a
 * temporary file, fsync it, rename it over `path`, then fsync the directory so the rename itself is on disk.
 * The temporary name (`<path>.<pid>-<n>.tmp`) is unique to this write. A failed write deletes it; a crash can
 * leave one behind, which readers ignore and the store deletes when it is next opened.
 */
export async function writeFileDurably(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}-${nextTemporary++}.tmp`;
  try {
    await writeRegularFile(temporary, text, true);
    await rename(temporary, path);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dirname(path));
}

/** fsyncs a directory, making renames and unlinks in it durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsyncs a directory synchronously (for directories created while a store or sink is constructed). */
export function syncDirectorySync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Zero-pads an id to 20 digits, so file names sort in id order. */
export function paddedId(id: number): string {
  return String(id).padStart(20, '0');
}
