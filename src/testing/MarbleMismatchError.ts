/**
 * Thrown by the kit's comparison (`assertElementMarbles`, the comparison of `elementTestScheduler()`) when a
 * stream does not do what its marbles say. The message prints both streams as element marbles, with one legend
 * for the letters of both and the frames where they differ; the fields carry the same text, and `input` the
 * frames TestScheduler recorded, for tools of your own.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { record } from 'rxjs-sluice';
 * import { elementMarbles, elementTestScheduler, MarbleMismatchError } from 'rxjs-sluice/testing';
 *
 * try {
 *   elementTestScheduler().run((helpers) => {
 *     const { expectElements } = elementMarbles(helpers);
 *     expectElements(of(record(1, 5))).toBe('(a|)', 'a=2@5');
 *   });
 * } catch (e) {
 *   if (e instanceof MarbleMismatchError) console.log(e.expected, e.actual, e.legend); // (a|) (b|) a=2@5 b=1@5
 * }
 * ```
 */
export class MarbleMismatchError extends Error {
  override readonly name = 'MarbleMismatchError';
  /** The expected stream as an element marble (`'--a-(bW)|'`), or the expected subscription marbles. */
  readonly expected: string;
  /** The actual stream, written with the same letters as `expected`. */
  readonly actual: string;
  /** What the letters of both stand for, in legend syntax: `a=10@5 W=W6`. */
  readonly legend: string;
  /** What TestScheduler compared: the recorded frames (or subscription logs) of both. */
  readonly input: { readonly actual: unknown; readonly expected: unknown };

  constructor(message: string, fields: { expected: string; actual: string; legend: string; input: { actual: unknown; expected: unknown } }) {
    super(message);
    this.expected = fields.expected;
    this.actual = fields.actual;
    this.legend = fields.legend;
    this.input = fields.input;
  }
}
