import { execFileSync } from 'child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, mkdirSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

const root = join(__dirname, '..');
const srcFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? srcFiles(join(dir, n)) : [join(dir, n)]));

describe('package', () => {
  it('keeps the browser-safe core free of Node-only imports', () => {
    // Arrange
    const nodeOnly = /from ['"](node:[^'"]+|fs|path|os|child_process|worker_threads|stream|events|util|crypto)['"]/;

    // Act
    const offenders = srcFiles(join(root, 'src')).filter((f) => !f.includes(`${join('src', 'node')}`) && nodeOnly.test(readFileSync(f, 'utf8')));

    // Assert
    expect(offenders).toEqual([]);
  });

  it('reads time only through a scheduler: no setTimeout, setInterval or Date.now in src/', () => {
    // Arrange
    const rawTime = /\b(setTimeout|setInterval|Date\.now)\s*\(/;

    // Act: TSDoc examples may use them (they are user code), so comment lines are ignored.
    const offenders = srcFiles(join(root, 'src')).filter((f) =>
      readFileSync(f, 'utf8').split('\n').some((line) => !/^\s*(\*|\/\/)/.test(line) && rawTime.test(line)));

    // Assert
    expect(offenders).toEqual([]);
  });

  it('declares an exports map with ESM, CJS and types, and no side effects', () => {
    // Arrange / Act
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

    // Assert
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.exports['.']).toEqual({ types: './dist/types/index.d.ts', import: './dist/esm/index.js', require: './dist/cjs/index.js' });
    expect(pkg.exports['./node']).toEqual({ types: './dist/types/node/index.d.ts', import: './dist/esm/node/index.js', require: './dist/cjs/node/index.js' });
    expect(pkg.peerDependencies.rxjs).toBe('^7.8.0');
    expect(Object.keys(pkg.dependencies)).toEqual(['denque']);
  });

  it('builds ESM, CJS and .d.ts that Node loads by package name', () => {
    // Arrange: build, then a consumer folder that resolves 'rxjs-sluice' to this package.
    execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'pipe' });
    const consumer = mkdtempSync(join(tmpdir(), 'sluice-consumer-'));
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'rxjs-sluice'));
    symlinkSync(join(root, 'node_modules', 'rxjs'), join(consumer, 'node_modules', 'rxjs'));
    const program = (load: string) => `${load}
      const { range, toArray, lastValueFrom } = rxjs;
      lastValueFrom(range(0, 4).pipe(sluice.toRecords(), sluice.asyncWaitOrdered(async (x) => x * 3), sluice.values(), toArray()))
        .then((v) => console.log(JSON.stringify(v)));`;
    writeFileSync(join(consumer, 'esm.mjs'), program(`import * as sluice from 'rxjs-sluice'; import * as rxjs from 'rxjs';`));
    writeFileSync(join(consumer, 'cjs.cjs'), program(`const sluice = require('rxjs-sluice'); const rxjs = require('rxjs');`));
    const nodeProgram = (load: string) => `${load}
      console.log(typeof node.FileCheckpointStore, typeof node.FileSink, typeof node.readCommitted);`;
    writeFileSync(join(consumer, 'node-esm.mjs'), nodeProgram(`import * as node from 'rxjs-sluice/node';`));
    writeFileSync(join(consumer, 'node-cjs.cjs'), nodeProgram(`const node = require('rxjs-sluice/node');`));

    // Act
    const esm = execFileSync(process.execPath, ['esm.mjs'], { cwd: consumer, encoding: 'utf8' });
    const cjs = execFileSync(process.execPath, ['cjs.cjs'], { cwd: consumer, encoding: 'utf8' });

    // Assert
    expect(esm.trim()).toBe('[0,3,6,9]');
    expect(cjs.trim()).toBe('[0,3,6,9]');
    for (const file of ['node-esm.mjs', 'node-cjs.cjs']) {
      expect(execFileSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8' }).trim()).toBe('function function function');
    }
    expect(readFileSync(join(root, 'dist', 'types', 'node', 'index.d.ts'), 'utf8')).toContain('FileCheckpointStore');
    expect(readFileSync(join(root, 'dist', 'types', 'index.d.ts'), 'utf8')).toContain('asyncWaitOrdered');
  }, 120_000);
});
