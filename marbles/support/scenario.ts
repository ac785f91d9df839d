/**
 * Marble scenarios: executable marble diagrams that are also drawn. A scenario names its input lanes (element
 * marbles with their legends), the operator, and its output lanes with the marbles they must produce. The
 * marble specs check every scenario with the testing kit (checkScenario); `npm run docs:marbles` records what
 * each one actually does (recordScenario) and draws it (diagram.ts), and marbles/diagrams.spec.ts fails when a
 * drawing in docs/marbles/ no longer matches.
 */
import { type Observable } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { type StreamElement } from 'rxjs-sluice';
import { elementMarbles, elementTestScheduler, type Legend, type MarbleFrame } from 'rxjs-sluice/testing';

/** One lane of a diagram: its label, and an element marble with its legend. */
export interface Lane {
  readonly label: string;
  readonly marble: string;
  readonly legend?: Legend;
  /** A lane of plain values (not elements), such as a log of calls: its letters are the values themselves. */
  readonly plain?: boolean;
  /** For a plain input lane: the values of its letters, as RxJS's cold() takes them. */
  readonly values?: Readonly<Record<string, unknown>>;
}

/** An executable, drawable marble scenario. */
export interface MarbleScenario {
  /** The drawing's file name in docs/marbles/, without `.svg`. */
  readonly name: string;
  /** The caption above the drawing. */
  readonly title: string;
  /** What the operator box says. */
  readonly operator: string;
  /** The input lanes: cold element marbles. */
  readonly inputs: readonly Lane[];
  /** The output lanes, in the order `run` returns them, with what each must emit. */
  readonly outputs: readonly Lane[];
  /**
   * Builds the outputs from the inputs. Elements typed `never` fit any operator's input type. Extra
   * expectations (`helpers.expectSubscriptions`) may be set here: they are checked, not drawn.
   */
  run(inputs: ReadonlyArray<Observable<StreamElement<never>>>, helpers: RunHelpers): ReadonlyArray<Observable<unknown>>;
}

/** An input lane as a cold observable: of elements, or of plain values for a `plain` lane. */
function inputOf(lane: Lane, helpers: RunHelpers): Observable<StreamElement<never>> {
  if (lane.plain) return helpers.cold(lane.marble, lane.values as Record<string, never>);
  return elementMarbles(helpers).cold<never>(lane.marble, lane.legend as Legend<never>);
}

/** Checks a scenario: every output lane must emit what its marble says (a MarbleMismatchError otherwise). */
export function checkScenario(scenario: MarbleScenario): void {
  elementTestScheduler().run((helpers) => {
    const { expectElements } = elementMarbles(helpers);
    const inputs = scenario.inputs.map((lane) => inputOf(lane, helpers));
    const outputs = scenario.run(inputs, helpers);
    outputs.forEach((output, i) => {
      const lane = scenario.outputs[i]!;
      if (lane.plain) helpers.expectObservable(output).toBe(lane.marble);
      else expectElements(output).toBe(lane.marble, lane.legend);
    });
  });
}

/** What a scenario's lanes did, frame by frame, as TestScheduler records it. */
export interface RecordedScenario {
  readonly inputs: readonly MarbleFrame[][];
  readonly outputs: readonly MarbleFrame[][];
}

/** Runs a scenario in virtual time and records what every lane does: the drawing shows this, not the marbles. */
export function recordScenario(scenario: MarbleScenario): RecordedScenario {
  const scheduler = new TestScheduler(() => undefined); // expectations set by `run` are not checked here
  const recorded = { inputs: [] as MarbleFrame[][], outputs: [] as MarbleFrame[][] };
  scheduler.run((helpers) => {
    const inputs = scenario.inputs.map((lane) => inputOf(lane, helpers));
    const lanes = [...inputs.map((input) => ({ source: input, into: recorded.inputs })),
      ...scenario.run(inputs, helpers).map((output) => ({ source: output, into: recorded.outputs }))];
    for (const { source, into } of lanes) {
      const frames: MarbleFrame[] = [];
      into.push(frames);
      const at = () => scheduler.now();
      source.subscribe({
        next: (value) => frames.push({ frame: at(), notification: { kind: 'N', value } }),
        error: (error: unknown) => frames.push({ frame: at(), notification: { kind: 'E', error } }),
        complete: () => frames.push({ frame: at(), notification: { kind: 'C' } }),
      });
    }
  });
  return recorded;
}
