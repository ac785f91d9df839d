/**
 * Temp dirs for the specs that work on the file system: each test gets fresh, empty dirs, removed after it.
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

/**
 * Returns `freshDir()`, which makes a fresh, empty temp dir named `<prefix>XXXXXX`, and registers an afterEach
 * that removes every dir it made during the test. Call it at the top level of a spec file (or of a describe).
 */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}
