import { readdirSync, readFileSync, statSync } from 'fs';
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

  it('declares per-format entries: the CommonJS build for Node (one module instance), ES modules for bundlers', () => {
    // Arrange
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const entry = (sub: string) => ({
      // Node, whether it imports or requires, loads one build, so every module-level object exists once.
      node: { types: `./dist/cjs/${sub}index.d.ts`, default: `./dist/cjs/${sub}index.js` },
      import: { types: `./dist/esm/${sub}index.d.ts`, default: `./dist/esm/${sub}index.js` },
      require: { types: `./dist/cjs/${sub}index.d.ts`, default: `./dist/cjs/${sub}index.js` },
      default: { types: `./dist/esm/${sub}index.d.ts`, default: `./dist/esm/${sub}index.js` },
    });

    // Act
    const conditions = Object.keys(pkg.exports['.']);

    // Assert: Node takes the first condition it knows, so 'node' must come before 'import'.
    expect(conditions).toEqual(['node', 'import', 'require', 'default']);
    expect(pkg.exports['.']).toEqual(entry(''));
    expect(pkg.exports['./node']).toEqual(entry('node/'));
    expect(pkg.exports['./testing']).toEqual(entry('testing/'));
    expect(pkg.typesVersions['*']).toEqual({ node: ['./dist/cjs/node/index.d.ts'], testing: ['./dist/cjs/testing/index.d.ts'] });
    expect(pkg.sideEffects).toBe(false);
    expect(Object.keys(pkg.dependencies)).toEqual(['denque']);
  });

  it('accepts the rxjs versions the suite and CI test (7.5 and later 7.x, 8 pre-releases) as its peer', () => {
    // Arrange / Act
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

    // Assert
    expect(pkg.peerDependencies).toEqual({ rxjs: '^7.5.0 || ^8.0.0-0' });
  });

  it('builds before packing, and names its licence, repository and change log', () => {
    // Arrange / Act
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

    // Assert
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /);
    expect(readFileSync(join(root, 'CHANGELOG.md'), 'utf8')).toMatch(/## \[Unreleased\][\s\S]*## \[0\.1\.0\]/);
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\/.+\.git$/);
    expect(pkg.homepage).toMatch(/^https:\/\//);
    expect(pkg.bugs.url).toMatch(/^https:\/\//);
  });
});
