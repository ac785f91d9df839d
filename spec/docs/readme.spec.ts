import { existsSync, readdirSync, readFileSync, statSync } from 'fs';
import { join, relative } from 'path';
import { processLanguageIn } from '../support/processLanguage';

// The README tells a new user how to set up, run and test the package: every command it (or a guide) shows
// must exist, every file it points to must be there, and no user-facing text may talk about how the work
// was organised (the phrases are listed once, in spec/support/processLanguage.ts).
const root = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const filesUnder = (dir: string, ext: string): string[] =>
  readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? filesUnder(path, ext) : path.endsWith(ext) ? [path] : [];
  });
const docs = () => filesUnder('docs', '.md');

/** The commands of the ```sh blocks of a markdown file, one per line, comments removed. */
const shellCommands = (markdown: string): string[] =>
  [...markdown.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split('\n'))
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line !== '');

/** The npm scripts a command line runs: `npm run x`, `npm test`, `npm start`. */
const scriptsRun = (command: string): string[] =>
  [...command.matchAll(/\bnpm (?:run(?:-script)? ([\w:.-]+)|(test|start)\b)/g)].map((m) => m[1] ?? m[2]!);

describe('README and guides', () => {
  it('show the set-up and the commands for the tests, the examples and the benchmarks', () => {
    // Arrange
    const readme = read('README.md');
    const commands = shellCommands(readme);
    const setUp = readme.slice(readme.indexOf('## Set-up'));
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(setUp)![1]!;

    // Assert: a fresh clone needs two commands, the main job and the tests; everything else comes after
    expect(shellCommands('```sh\n' + firstBlock + '```')).toEqual(['npm ci && npm start', 'npm test']);
    expect(commands).toEqual(expect.arrayContaining(['npm ci && npm start', 'npm test', 'npm run example', 'npm run bench']));
  });

  it('run only npm scripts that package.json defines', () => {
    // Arrange
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts);
    const files = ['README.md', 'bench/README.md', ...docs()];

    // Act
    const missing = files.flatMap((file) =>
      shellCommands(read(file)).flatMap(scriptsRun).filter((s) => !scripts.includes(s)).map((s) => `${file}: npm script '${s}'`));

    // Assert
    expect(files.flatMap((file) => shellCommands(read(file)).flatMap(scriptsRun)).length).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  it('point only to files and headings that exist', () => {
    // Arrange
    const readme = read('README.md');
    const paths = [...readme.matchAll(/(?<![\w/.-])((?:examples|bench|scripts|docs|spec|src|marbles|\.ci)\/[\w./-]*[\w])/g)].map((m) => m[1]!);
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#([^)\s]+))?\)/g)].filter((m) => !/^https?:/.test(m[1]!));
    // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
    const anchorsOf = (file: string) => [...read(file).matchAll(/^#+ (.+)$/gm)]
      .map((m) => m[1]!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-'));

    // Act
    const missingPaths = paths.filter((p) => !existsSync(join(root, p)));
    const brokenLinks = links.filter(([, file, anchor]) => !existsSync(join(root, file!)) || (anchor !== undefined && !anchorsOf(file!).includes(anchor)))
      .map((m) => m[0]);

    // Assert
    expect(paths.length).toBeGreaterThan(5);
    expect(links.length).toBeGreaterThan(3);
    expect(missingPaths).toEqual([]);
    expect(brokenLinks).toEqual([]);
  });

  it('name the Node version that package.json requires', () => {
    // Arrange
    const engines = JSON.parse(read('package.json')).engines.node as string;

    // Act
    const stated = /Node\.js (\d+) or newer/.exec(read('README.md'))?.[1];

    // Assert
    expect(engines).toBe(`>=${stated}`);
  });

  it('speak about the product, never about how the work was organised', () => {
    // Arrange: every user-facing text. TSDoc is part of src; comments of examples and benchmarks are read too.
    const files = [
      'README.md', 'CHANGELOG.md', ...filesUnder('bench', '.md'), ...docs(), ...filesUnder('src', '.ts'),
      ...filesUnder('examples', '.mjs'), ...filesUnder('bench', '.mjs'),
    ].filter((file) => existsSync(join(root, file)));

    // Act
    const found = files.flatMap((file) => processLanguageIn(read(file)).map((hit) => `${relative('.', file)} ${hit}`));

    // Assert
    expect(files.length).toBeGreaterThan(40);
    expect(found).toEqual([]);
  });

  it('catches process language and lets product language through (the phrase list itself works)', () => {
    // Arrange
    const processText = [
      'Choices made where the issue is silent', 'as issue 5 asks', 'Part 3\'s snapshots take copies',
      'bounded inputs (seed 004)', 'The seed\'s recipe keeps one sum', 'added in this session', 'as the lead decided',
    ];
    const productText = [
      'windows, session windows and heartbeats', 'drawn by a seeded generator', 'each retry issues a new call',
      'The leading \'#\' cannot start JSON text', 'the seed value of reduce', 'report bugs to the tracker',
    ];

    // Act
    const missed = processText.filter((line) => processLanguageIn(line).length === 0);
    const flagged = productText.filter((line) => processLanguageIn(line).length > 0);

    // Assert
    expect(missed).toEqual([]);
    expect(flagged).toEqual([]);
  });
});
