/**
 * The package's sources transpiled to CommonJS, file by file, into a folder of the caller's choosing: for specs
 * that run the package in a child process. A transpile per file (tsconfig sets isolatedModules, so it equals a
 * whole-program compile) takes a fraction of a second; npm test type-checks the sources separately. dist/ is not
 * used, as a checkout may lack it or hold a stale one.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { dirname, join, relative } from 'path';
import * as ts from 'typescript';

const root = join(__dirname, '..', '..');
const src = join(root, 'src');

/** Every .ts file under `dir` (declaration files excepted). */
function sourcesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Writes src/ as CommonJS into `outDir` (index.js, node/index.js, …), with a package.json saying so. */
export function transpilePackage(outDir: string): void {
  const compilerOptions: ts.CompilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2020, esModuleInterop: true };
  for (const source of sourcesUnder(src)) {
    const target = join(outDir, relative(src, source)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, ts.transpileModule(readFileSync(source, 'utf8'), { compilerOptions, fileName: source }).outputText);
  }
  writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
}
