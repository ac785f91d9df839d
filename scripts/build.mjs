// Builds dist/ from src/ with one type-checked compiler pass and one transpile:
//   dist/esm  ES modules, their .d.ts and source maps: one TypeScript program checks the sources and emits both;
//   dist/cjs  CommonJS, transpiled file by file from the same sources (tsconfig's isolatedModules guarantees that
//             a per-file transpile equals a whole-program one), with a copy of the same .d.ts files.
// dist/esm/package.json and dist/cjs/package.json say which module system each folder's .js and .d.ts files
// use, so Node and TypeScript read each folder as what it is. dist/build.json records the hash of the inputs
// (scripts/buildInputs.mjs), which scripts/ensureBuilt.mjs compares to skip a build when dist/ is current.
// The build is written to a staging folder beside dist/ (the same depth, so the maps' relative paths hold) and
// swapped in when complete: a program importing dist/ meanwhile sees the old build or the new one, never a half.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { buildInputsHash } from './buildInputs.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const out = join(root, `dist.building-${process.pid}`); // the staging folder, swapped in for dist/ at the end
process.on('exit', () => rmSync(out, { recursive: true, force: true })); // a failed build leaves nothing behind
const started = performance.now();
// Hashed before reading the sources, so that an edit made during the build makes the next check rebuild.
const inputsHash = buildInputsHash(root);

/** Writes a file, creating its folder. */
function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Prints diagnostics the way tsc does and fails the build if any is an error. */
function report(diagnostics) {
  if (diagnostics.length === 0) return;
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  if (diagnostics.some((d) => d.category === ts.DiagnosticCategory.Error)) process.exit(1);
}

// The settings of tsconfig.build.json (src only, no test types, source maps).
const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => report([d]) });
report(config.errors);
const sources = config.fileNames;

// 1. ES modules and declarations, type-checked: one program.
const esmOptions = {
  ...config.options,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  outDir: join(out, 'esm'),
  declaration: true,
  declarationMap: true,
  sourceMap: true,
  noEmit: false,
};
const program = ts.createProgram(sources, esmOptions);
report(ts.getPreEmitDiagnostics(program));
const emitted = program.emit(undefined, (path, text) => {
  write(path, text);
  // The declarations describe both formats: each folder gets its own copy, read in that folder's module system.
  // The maps' relative paths back to src/ hold in both, as the two folders sit at the same depth.
  if (path.endsWith('.d.ts') || path.endsWith('.d.ts.map')) write(join(out, 'cjs', relative(join(out, 'esm'), path)), text);
});
report(emitted.diagnostics);

// 2. CommonJS: a transpile of each source file, no second type-check.
const cjsOptions = {
  ...config.options,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  declaration: false,
  declarationMap: false,
  sourceMap: true,
};
for (const source of sources) {
  if (source.endsWith('.d.ts')) continue;
  const target = join(out, 'cjs', relative(join(root, 'src'), source)).replace(/\.ts$/, '.js');
  const result = ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions: cjsOptions, fileName: source, reportDiagnostics: true });
  report(result.diagnostics ?? []);
  const map = JSON.parse(result.sourceMapText);
  map.file = basename(target);
  map.sources = [relative(dirname(target), source).split('\\').join('/')];
  write(target, result.outputText.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${basename(target)}.map`));
  write(`${target}.map`, JSON.stringify(map));
}

write(join(out, 'esm', 'package.json'), '{ "type": "module", "sideEffects": false }\n');
write(join(out, 'cjs', 'package.json'), '{ "type": "commonjs", "sideEffects": false }\n');
write(join(out, 'build.json'), `${JSON.stringify({ inputs: inputsHash })}\n`);
rmSync(dist, { recursive: true, force: true });
renameSync(out, dist);
console.log(`built dist/esm, dist/cjs (${sources.length} modules each, with .d.ts) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
