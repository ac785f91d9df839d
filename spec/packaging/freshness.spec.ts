import { execFileSync } from 'child_process';
import { appendFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

// scripts/ensureBuilt.mjs (run by npm run example, example:*, bench) builds only when dist/ is stale. Here it
// runs in a copy of the repo whose scripts/build.mjs is a stand-in that records the build (as the real one
// does, in dist/build.json) and says 'BUILT', so each check costs milliseconds, not a compile.
const root = join(__dirname, '..', '..');
const STAND_IN_BUILD = `
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildInputsHash } from './buildInputs.mjs';
for (const f of ['esm/index.js', 'esm/node/index.js', 'cjs/index.js', 'cjs/node/index.js', 'esm/index.d.ts', 'cjs/index.d.ts']) {
  mkdirSync(new URL('../dist/' + f + '/..', import.meta.url), { recursive: true });
  writeFileSync(new URL('../dist/' + f, import.meta.url), '');
}
writeFileSync(new URL('../dist/build.json', import.meta.url), JSON.stringify({ inputs: buildInputsHash(new URL('..', import.meta.url).pathname) }));
console.log('BUILT');
`;

describe('the freshness check before examples and benchmarks', () => {
  let copy: string;
  const ensureBuilt = (): string => execFileSync(process.execPath, [join(copy, 'scripts', 'ensureBuilt.mjs')], { encoding: 'utf8' });

  beforeEach(() => {
    copy = mkdtempSync(join(tmpdir(), 'sluice-fresh-'));
    for (const path of ['src', 'tsconfig.json', 'tsconfig.build.json', 'scripts/buildInputs.mjs', 'scripts/ensureBuilt.mjs']) {
      cpSync(join(root, path), join(copy, path), { recursive: true });
    }
    writeFileSync(join(copy, 'scripts', 'build.mjs'), STAND_IN_BUILD);
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'), 'dir');
  });

  afterEach(() => rmSync(copy, { recursive: true, force: true }));

  it('builds when there is no dist/, and not again while the sources are unchanged, even if touched', () => {
    // Arrange
    const first = ensureBuilt();
    utimesSync(join(copy, 'src', 'index.ts'), new Date(), new Date(Date.now() + 60_000));

    // Act
    const second = ensureBuilt();

    // Assert
    expect(first).toContain('BUILT');
    expect(second).not.toContain('BUILT');
    expect(second).toContain('not rebuilding');
  });

  it('rebuilds when a source file changes, a source file is added, or the compiler settings change', () => {
    // Arrange
    const edits = [
      () => appendFileSync(join(copy, 'src', 'index.ts'), '\n// an edit\n'),
      () => writeFileSync(join(copy, 'src', 'shared', 'added.ts'), 'export const added = 1;\n'),
      () => appendFileSync(join(copy, 'tsconfig.build.json'), '\n'),
    ];
    ensureBuilt();

    // Act
    const outputs = edits.map((edit) => {
      edit();
      return ensureBuilt();
    });

    // Assert
    expect(outputs.map((o) => o.includes('BUILT'))).toEqual([true, true, true]);
  });

  it('rebuilds when an entry point is missing from dist/', () => {
    // Arrange
    ensureBuilt();
    rmSync(join(copy, 'dist', 'cjs', 'index.js'));

    // Act
    const output = ensureBuilt();

    // Assert
    expect(output).toContain('BUILT');
  });
});
