import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { map, timer } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered } from 'rxjs-sluice';
import { ASYNC_WAIT_SCENARIOS, orderedVsUnordered } from './asyncWait.scenarios';
import { ASYNC_WAIT_KEYED_SCENARIOS } from './asyncWaitKeyed.scenarios';
import { KEYED_TIMERS_SCENARIOS } from './keyedTimers.scenarios';
import { checkpointProtocolSvg } from './support/checkpointDiagram';
import { renderScenario } from './support/diagram';
import { recordScenario, type MarbleScenario } from './support/scenario';

// The drawings in docs/ are drawn from what the marble scenarios do, so the docs cannot drift from the behaviour:
// each committed SVG must equal what its scenario draws now. `npm run docs:marbles` (SLUICE_WRITE_DIAGRAMS=1)
// redraws them instead of checking.
const root = join(__dirname, '..');
const WRITE = process.env.SLUICE_WRITE_DIAGRAMS === '1';
const SCENARIOS = [...ASYNC_WAIT_SCENARIOS, ...ASYNC_WAIT_KEYED_SCENARIOS, ...KEYED_TIMERS_SCENARIOS];
const draw = (scenario: MarbleScenario) => renderScenario(scenario, recordScenario(scenario));
const DRAWINGS = [
  ...SCENARIOS.map((s) => ({ file: `docs/marbles/${s.name}.svg`, svg: () => draw(s) })),
  { file: 'docs/checkpoint-protocol.svg', svg: checkpointProtocolSvg },
];

/** Where the committed text and the drawing first differ, as a short message; undefined when they are equal. */
function drift(file: string, committed: string | undefined, drawn: string): string | undefined {
  if (committed === drawn) return undefined;
  if (committed === undefined) return `${file} is missing: run npm run docs:marbles`;
  const a = committed.split('\n');
  const b = drawn.split('\n');
  const line = a.findIndex((l, i) => l !== b[i]);
  return `${file} no longer matches what its scenario draws (first at line ${line + 1}): run npm run docs:marbles and review the drawing`;
}

describe('diagrams drawn from the marble scenarios', () => {
  it.each(DRAWINGS.map((d) => [d.file, d] as const))('%s matches what its scenario draws', (file, drawing) => {
    // Arrange
    const path = join(root, file);
    const svg = drawing.svg();
    if (WRITE) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, svg);
    }

    // Act
    const committed = existsSync(path) ? readFileSync(path, 'utf8') : undefined;

    // Assert
    expect(drift(file, committed, svg)).toBeUndefined();
  });

  it('fails when a behaviour changes: the same scenario with another timing no longer matches its drawing', () => {
    // Arrange: the ordered/unordered scenario with a's call taking 9 ms instead of 8
    const slower = (x: number) => timer(x === 1 ? 9 : 1).pipe(map(() => 10 * x));
    const changed: MarbleScenario = { ...orderedVsUnordered, run: ([input]) => [input!.pipe(asyncWaitOrdered(slower)), input!.pipe(asyncWaitUnordered(slower))] };
    const committed = readFileSync(join(root, `docs/marbles/${orderedVsUnordered.name}.svg`), 'utf8');

    // Act
    const message = drift('docs/marbles/async-ordered-vs-unordered.svg', committed, draw(changed));

    // Assert
    expect(message).toMatch(/no longer matches what its scenario draws .*: run npm run docs:marbles/);
  });

  it('draws every SVG in docs/marbles/ from a scenario, and the docs show each one', () => {
    // Arrange
    const drawn = SCENARIOS.map((s) => `${s.name}.svg`).sort();
    const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => readFileSync(join(root, 'docs', f), 'utf8')).join('\n');

    // Act
    const committed = readdirSync(join(root, 'docs', 'marbles')).sort();
    const shown = [...drawn.map((f) => `marbles/${f}`), 'checkpoint-protocol.svg'].filter((f) => docs.includes(`](${f})`));

    // Assert
    expect(committed).toEqual(drawn);
    expect(shown).toHaveLength(drawn.length + 1);
  });
});
