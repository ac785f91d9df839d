// Installs a packed tarball of rxjs-sluice into a scratch consumer project and runs what a user would run there:
// esm.mjs, cjs.cjs and checkpoint.mjs under a chosen Node binary, and tsc over types/ under moduleResolution
// node16 and bundler. Used by spec/packaging/tarball.spec.ts (offline: the tarball is unpacked by hand and the
// repo's own dependencies are linked) and by .ci/run's matrix (npm installs the tarball and an rxjs version).
//
//   node spec/packaging/consumer/consumer.mjs <tarball> <scratch dir> [options]
//     --install=<spec>  npm install the tarball together with <spec> (repeatable; e.g. rxjs@8.0.0-alpha.14);
//                       without it the tarball is unpacked into node_modules by hand, with no network
//     --link=<name>     symlink node_modules/<name> from this repo's node_modules (repeatable)
//     --node=<binary>   the Node binary for the runtime checks (default: this one)
//     --no-types        skip the tsc checks
//     --lib-check       tsc also checks every .d.ts (the package's, rxjs's, Node's): slower; attw covers the
//                       package's own declarations in the fast run
// Prints one 'ok <check>' line per check; exits 1 at the first failure, with that check's output.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const [tarballArg, dirArg, ...flags] = process.argv.slice(2);
if (tarballArg === undefined || dirArg === undefined) {
  console.error('usage: consumer.mjs <tarball> <scratch dir> [--install=<spec>] [--link=<name>] [--node=<binary>] [--no-types] [--lib-check]');
  process.exit(2);
}
const tarball = resolve(tarballArg);
const dir = resolve(dirArg);
const values = (name) => flags.filter((f) => f.startsWith(`--${name}=`)).map((f) => f.slice(name.length + 3));
const installs = values('install');
const links = values('link');
const nodeBinary = values('node')[0] ?? process.execPath;
const withTypes = !flags.includes('--no-types');
const libCheck = flags.includes('--lib-check') ? ['--skipLibCheck', 'false'] : [];

/** Runs a command in the scratch project; on failure prints what it said and exits 1. */
function run(check, file, args) {
  try {
    execFileSync(file, args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
    console.log(`ok ${check}`);
  } catch (error) {
    console.error(`FAILED ${check}: ${file} ${args.join(' ')}\n${error.stdout ?? ''}${error.stderr ?? error.message}`);
    process.exit(1);
  }
}

// 1. The scratch project and its node_modules.
mkdirSync(join(dir, 'node_modules'), { recursive: true });
writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'sluice-consumer', private: true, version: '0.0.0' }, null, 2)}\n`);
if (installs.length > 0) {
  // As a user installs it: npm resolves the package's dependencies and checks its peer range.
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--no-save', tarball, ...installs], { cwd: dir, stdio: 'inherit' });
} else {
  // Offline: unpack the tarball (its files sit under package/) as node_modules/rxjs-sluice.
  const unpacked = mkdtempSync(join(dir, '.unpack-'));
  execFileSync('tar', ['xzf', tarball, '-C', unpacked]);
  renameSync(join(unpacked, 'package'), join(dir, 'node_modules', 'rxjs-sluice'));
  rmSync(unpacked, { recursive: true, force: true });
}
// After npm install, which would remove links it did not make.
for (const name of links) {
  mkdirSync(dirname(join(dir, 'node_modules', name)), { recursive: true });
  symlinkSync(join(repo, 'node_modules', name), join(dir, 'node_modules', name), 'dir');
}
if (!existsSync(join(dir, 'node_modules', 'rxjs-sluice', 'package.json'))) {
  console.error('FAILED install: node_modules/rxjs-sluice is missing');
  process.exit(1);
}
cpSync(here, dir, { recursive: true, filter: (source) => !source.endsWith('consumer.mjs') });

// 2. What users run, under the chosen Node.
const version = execFileSync(nodeBinary, ['--version'], { encoding: 'utf8' }).trim();
console.log(`consumer checks under Node ${version}, in ${dir}`);
run('esm (import, one module instance, a pipeline)', nodeBinary, ['esm.mjs']);
run('cjs (require, one module instance, a pipeline)', nodeBinary, ['cjs.cjs']);
run('checkpoint (checkpointable with FileCheckpointStore and FileSink, run twice)', nodeBinary, ['checkpoint.mjs']);

// 3. The types, as tsc resolves them for a Node project and for a bundler project.
if (withTypes) {
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  run('types (moduleResolution node16: .mts and .cts)', process.execPath, [tsc, '-p', join('types', 'tsconfig.node16.json'), ...libCheck]);
  run('types (moduleResolution bundler)', process.execPath, [tsc, '-p', join('types', 'tsconfig.bundler.json'), ...libCheck]);
}
