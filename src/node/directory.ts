/// <reference types="node" />
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { CheckpointStoreError } from '../checkpoint/CheckpointStoreError.js';
import { syncDirectorySync } from './fsync.js';

/** Checks (or creates) a store or sink directory up front, so a bad path fails before any pipeline runs. */
export function openDirectory(dir: string, create: boolean, what = 'checkpoint store'): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CheckpointStoreError(dir, 'cannot be read', err, what);
    if (!create) throw new CheckpointStoreError(dir, 'does not exist (and createDirectory is false)', err, what);
    try {
      const first = mkdirSync(dir, { recursive: true }) ?? dir;
      // Each new directory's entry in its parent must be durable too, or a power loss could take the whole
      // directory, and the pipeline would silently start from scratch.
      for (let created = dir; ; created = dirname(created)) {
        syncDirectorySync(dirname(created));
        if (created === first) break;
      }
    } catch (mkdirErr) {
      throw new CheckpointStoreError(dir, 'does not exist and cannot be created', mkdirErr, what);
    }
    return;
  }
  if (!isDirectory) throw new CheckpointStoreError(dir, 'is not a directory', undefined, what);
}
