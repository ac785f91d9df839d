import { execFileSync, spawnSync } from 'child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { soak } from '../support/soak';

// What users install is the packed tarball, so these tests pack one the way a release does, from a checkout
// without dist/ (a fresh clone: `npm pack` must build it), and check that tarball: its file list, attw and
// publint, and a scratch consumer project (spec/packaging/consumer) that imports, requires, runs pipelines and
// type-checks against it. Nothing here needs the network: the consumer links this repo's own dependencies.
const root = join(__dirname, '..', '..');
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string; files: string[] };

/** Runs a command; returns its exit status and everything it printed. */
function run(file: string, args: readonly string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(file, args, { cwd, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error?.message ?? ''}` };
}

let work: string;
let tarball: string;

beforeAll(() => {
  // A checkout without dist/: the files `npm pack` ships from the repo, the build's inputs, and node_modules.
  work = mkdtempSync(join(tmpdir(), 'sluice-pack-'));
  const checkout = join(work, 'checkout');
  const sources = [...pkg.files.filter((f) => !f.startsWith('!') && f !== 'dist'), 'package.json', 'scripts', 'tsconfig.json', 'tsconfig.build.json'];
  for (const path of sources) cpSync(join(root, path), join(checkout, path), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  execFileSync('npm', ['pack', '--pack-destination', work], { cwd: checkout, stdio: 'pipe' });
  tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
}, 180_000);

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('ships both builds with their declarations, the sources they map to, LICENSE and CHANGELOG, even from a checkout without dist/', () => {
    // Arrange
    const expected = [
      'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/esm/node/index.js', 'dist/esm/node/index.d.ts', 'dist/esm/testing/index.js', 'dist/esm/testing/index.d.ts', 'dist/esm/package.json',
      'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/node/index.js', 'dist/cjs/node/index.d.ts', 'dist/cjs/testing/index.js', 'dist/cjs/testing/index.d.ts', 'dist/cjs/package.json',
      'src/index.ts', 'LICENSE', 'CHANGELOG.md', 'README.md', 'package.json',
    ];

    // Act
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').map((f) => f.replace(/^package\//, ''));

    // Assert
    expect(files).toEqual(expect.arrayContaining(expected));
    expect(files.filter((f) => f.startsWith('dist/') && !/^dist\/(esm|cjs)\//.test(f))).toEqual([]); // no stray build state
    expect(files.filter((f) => /(^|\/)(spec|bench|examples|scripts|node_modules)\//.test(f))).toEqual([]);
  });

  it('has types that match what each resolution mode loads (attw: node10, node16 from CJS and ESM, bundler)', () => {
    // Arrange / Act
    const { status, output } = run(process.execPath, [bin('attw'), tarball, '--format', 'json'], work);
    const analysis = JSON.parse(output.slice(output.indexOf('{'))) as { analysis: { problems?: unknown[] } };

    // Assert
    expect(analysis.analysis.problems ?? []).toEqual([]);
    expect(status).toBe(0);
  }, 60_000);

  it('has a package.json that publint finds nothing to say about, suggestions included', () => {
    // Arrange / Act
    const { status, output } = run(bin('publint'), ['run', tarball, '--strict', '--level', 'suggestion'], work);

    // Assert
    expect(output).not.toMatch(/Suggestions:|Warnings:|Errors:/);
    expect(status).toBe(0);
  }, 60_000);

  it(`works in a consumer project: import, require, one module instance, pipelines, checkpoints${soak('', ', and types')}`, () => {
    // Arrange: the consumer links rxjs, denque and @types/node from this repo (no network). The quick variant
    // leaves the consumer's tsc runs to the soak variant (and to CI's consumer matrix): attw above already checks
    // what each resolution mode loads; the soak variant also checks every .d.ts (--lib-check).
    const consumer = join(work, 'consumer');
    const args = [join(__dirname, 'consumer', 'consumer.mjs'), tarball, consumer, '--link=rxjs', '--link=denque', '--link=@types/node'];

    // Act
    const { status, output } = run(process.execPath, [...args, soak('--no-types', '--lib-check')], root);

    // Assert
    expect(output).toContain('ok esm');
    expect(output).toContain('ok cjs');
    expect(output).toContain('ok checkpoint');
    expect(output.match(/^ok types/gm) ?? []).toHaveLength(soak(0, 2));
    expect({ status, output }).toEqual({ status: 0, output: expect.not.stringContaining('FAILED') });
    expect(existsSync(join(consumer, 'node_modules', 'rxjs-sluice', 'dist', 'cjs', 'index.js'))).toBe(true);
  }, 120_000);
});
