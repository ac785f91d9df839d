/**
 * Type-checks TypeScript snippets against the public entries ('rxjs-sluice', 'rxjs-sluice/node'), with compiler
 * options of the caller's choosing: for the specs of what consumers with stricter settings (such as
 * exactOptionalPropertyTypes) can write.
 */
import { join } from 'path';
import * as ts from 'typescript';

const root = join(__dirname, '..', '..');

/** The diagnostics of each snippet, as `snippet N: message` lines; [] when every snippet compiles. */
export function typeErrors(snippets: readonly string[], extra: ts.CompilerOptions = {}): string[] {
  const files = new Map(snippets.map((code, i) => [join(root, `__typecheck_${i}.ts`), `${code}\nexport {};\n`]));
  const options: ts.CompilerOptions = {
    strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [], noEmit: true, skipLibCheck: true, esModuleInterop: true,
    baseUrl: root, paths: { 'rxjs-sluice': ['src/index.ts'], 'rxjs-sluice/node': ['src/node/index.ts'] },
    ...extra,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  host.readFile = (f) => files.get(f) ?? readFile(f);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => files.has(f) || fileExists(f);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (f, v) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, v) : getSourceFile(f, v));
  const program = ts.createProgram([...files.keys()], options, host);
  return ts.getPreEmitDiagnostics(program)
    .filter((d) => d.file !== undefined && files.has(d.file.fileName))
    .map((d) => {
      const index = Number(/__typecheck_(\d+)/.exec(d.file!.fileName)![1]);
      const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
      return `snippet ${index + 1}, line ${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
}
