// Builds dist/ only when it is missing or stale: the examples and the benchmarks import the package by name
// (its built files), and start at once when dist/ is current. Stale means the hash of the build's inputs
// (scripts/buildInputs.mjs) differs from the one dist/build.json recorded, or an entry point is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInputsHash } from './buildInputs.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entries = ['esm/index.js', 'esm/node/index.js', 'cjs/index.js', 'cjs/node/index.js', 'esm/index.d.ts', 'cjs/index.d.ts'];

/** The hash dist/build.json recorded, or undefined when there is none to read. */
function recordedHash() {
  try {
    return JSON.parse(readFileSync(join(root, 'dist', 'build.json'), 'utf8')).inputs;
  } catch {
    return undefined;
  }
}

const current = recordedHash() === buildInputsHash(root) && entries.every((e) => existsSync(join(root, 'dist', e)));
if (current) {
  console.log('dist/ is current (same sources as its build): not rebuilding');
} else {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
