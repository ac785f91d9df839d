import { readdirSync, readFileSync, statSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';

// The source tree has one folder per concept, and its modules import each other without cycles.
const srcRoot = resolve(__dirname, '../src');
const CONCEPTS = ['asyncWait', 'batching', 'checkpoint', 'elements', 'flow', 'keyed', 'keyedTimers', 'limits', 'node', 'shared', 'testing', 'watermarks'];

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });

/** The src files each src file imports (type-only imports included: they are cycles for a reader too). */
const importGraph = (): Map<string, string[]> => {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(srcRoot)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:from|import)\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
      resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')),
    );
    graph.set(file, targets);
  }
  return graph;
};

/** Every import cycle, each as the list of files on it (Tarjan's strongly connected components). */
const cyclesOf = (graph: Map<string, string[]>): string[][] => {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(relative(srcRoot, member));
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component);
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
};

describe('source layout', () => {
  it('holds one folder per concept and the entry point, nothing else', () => {
    // Arrange / Act
    const entries = readdirSync(srcRoot).sort();

    // Assert
    expect(entries).toEqual([...CONCEPTS, 'index.ts'].sort());
  });

  it('has no import cycles', () => {
    // Arrange
    const graph = importGraph();

    // Act
    const cycles = cyclesOf(graph);

    // Assert
    expect(cycles).toEqual([]);
  });

  it('resolves every relative import to a file that exists', () => {
    // Arrange
    const graph = importGraph();

    // Act
    const missing = [...graph.values()].flat().filter((target) => !sourceFiles(srcRoot).includes(target));

    // Assert
    expect(missing).toEqual([]);
  });

  it('finds a cycle when there is one (the detector itself works)', () => {
    // Arrange
    const graph = new Map([['/a', ['/b']], ['/b', ['/c']], ['/c', ['/a']], ['/d', ['/a']]]);

    // Act
    const cycles = cyclesOf(graph);

    // Assert
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(3);
  });
});
