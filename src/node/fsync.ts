/// <reference types="node" />
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Writes `text` to `path` so that after a crash the file either has all of it or does not exist: write a
 * temporary file, fsync it, rename it over `path`, then fsync the directory so the rename itself is on disk.
 * The temporary name ends in `.tmp`; a crash can leave one behind, and readers ignore such files.
 */
export async function writeFileDurably(path: string, text: string): Promise<void> {
  const temporary = `${path}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
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

/** Zero-pads an id to 20 digits, so file names sort in id order. */
export function paddedId(id: number): string {
  return String(id).padStart(20, '0');
}
