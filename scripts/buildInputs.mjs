// What dist/ is built from, and one hash of it: `npm run build` records the hash in dist/build.json, and
// scripts/ensureBuilt.mjs rebuilds only when the hash differs (examples and benchmarks start at once when
// dist/ is current). Contents are hashed, not modification times, so a checkout or a copy that touches every
// file does not force a rebuild, and an edit that keeps the time stamp still does.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Every file under dir, sorted, as paths relative to root with forward slashes. */
function filesUnder(root, dir) {
  return readdirSync(join(root, dir)).sort().flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? filesUnder(root, path) : [path.split(sep).join('/')];
  });
}

/** The build's inputs: the sources, the compiler settings, the build script and the compiler's version. */
export function buildInputs(root) {
  return [...filesUnder(root, 'src'), 'tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs', 'node_modules/typescript/package.json'];
}

/** A SHA-256 over the names and contents of the build's inputs. */
export function buildInputsHash(root) {
  const hash = createHash('sha256');
  for (const file of buildInputs(root)) {
    hash.update(`${relative(root, join(root, file))}\0`);
    hash.update(readFileSync(join(root, file)));
    hash.update('\0');
  }
  return hash.digest('hex');
}
