import { readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';
import * as ts from 'typescript';

// Every ```ts block in the TSDoc of src/, in README.md and in docs/ must type-check against the public
// entry point, so that the examples users copy keep compiling as the API changes.
const root = join(__dirname, '..', '..');

function filesUnder(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, ext) : path.endsWith(ext) ? [path] : [];
  });
}

function examplesIn(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const blocks = [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  // TSDoc blocks carry a leading ' * ' on every line.
  return path.endsWith('.ts') ? blocks.map((b) => b.replace(/^\s*\* ?/gm, '')) : blocks;
}

describe('documentation examples', () => {
  const sources = [...filesUnder(join(root, 'src'), '.ts'), join(root, 'README.md'), ...filesUnder(join(root, 'docs'), '.md')];
  const snippets = sources.flatMap((path) => examplesIn(path).map((code, i) => ({ name: `${relative(root, path)}#${i + 1}`, code })));

  /** The public entries: the core, the Node-only subpath rxjs-sluice/node and the marble kit rxjs-sluice/testing. */
  const entries = () => ['index.ts', 'node/index.ts', 'testing/index.ts'].map((f) => readFileSync(join(root, 'src', f), 'utf8')).join('');

  it('documents every export of the public entries, types included, with TSDoc that has an ## Example', () => {
    // Arrange
    const index = entries();
    const names = [...index.matchAll(/export (?:type )?\{([^}]*)\}/g)]
      .flatMap((m) => m[1]!.split(','))
      .map((s) => s.trim().replace(/^type /, ''))
      .filter((s) => s !== '');
    const source = filesUnder(join(root, 'src'), '.ts').map((f) => readFileSync(f, 'utf8')).join('\n');

    // Act: the doc comment right before the (first) declaration of each name.
    const undocumented = names.filter((name) => {
      const declaration = new RegExp(`/\\*\\*((?:(?!\\*/)[\\s\\S])*)\\*/\\s*export (?:abstract )?(?:function|class|interface|type|const) ${name}\\b`);
      const doc = declaration.exec(source)?.[1];
      return doc === undefined || !doc.includes('## Example');
    });

    // Assert
    expect(names.length).toBeGreaterThan(25);
    expect(undocumented).toEqual([]);
  });

  it('finds an example for every public operator, constructor, constant and error class', () => {
    // Arrange
    const documented = snippets.map((s) => s.code).join('\n');
    const index = entries();
    const runtimeExports = [...index.matchAll(/export \{([^}]*)\}/g)]
      .flatMap((m) => m[1]!.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '' && !s.startsWith('type '));

    // Act
    const missing = runtimeExports.filter((name) => !new RegExp(`\\b${name}(\\(|\\.)|new ${name}\\b|instanceof ${name}\\b`).test(documented));

    // Assert
    expect(runtimeExports.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it('type-checks every ```ts example against the public API', () => {
    // Arrange: one virtual module per snippet; 'rxjs-sluice' resolves to src/index.ts.
    const files = new Map(snippets.map((s, i) => [join(root, `__example_${i}.ts`), `${s.code}\nexport {};\n`]));
    const options: ts.CompilerOptions = {
      strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: ['jest'], noEmit: true, skipLibCheck: true, esModuleInterop: true,
      baseUrl: root, paths: { 'rxjs-sluice': ['src/index.ts'], 'rxjs-sluice/node': ['src/node/index.ts'], 'rxjs-sluice/testing': ['src/testing/index.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    host.readFile = (f) => files.get(f) ?? readFile(f);
    host.fileExists = ((exists) => (f: string) => files.has(f) || exists(f))(host.fileExists.bind(host));
    const getSourceFile = host.getSourceFile.bind(host);
    host.getSourceFile = (f, v) => (files.has(f) ? ts.createSourceFile(f, files.get(f)!, v) : getSourceFile(f, v));

    // Act
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts.getPreEmitDiagnostics(program)
      .filter((d) => d.file && files.has(d.file.fileName))
      .map((d) => `${snippets[Number(/__example_(\d+)/.exec(d.file!.fileName)![1])]!.name}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);

    // Assert
    expect(snippets.length).toBeGreaterThan(15);
    expect(problems).toEqual([]);
  });
});
