import { type Observable } from 'rxjs';
import { TestScheduler, type RunHelpers } from 'rxjs/testing';
import { type StreamElement } from '../elements/streamElement.js';
import { assertElementMarbles } from './assertElementMarbles.js';
import { legend as readLegend, valuesFor, type Legend } from './legend.js';
import { rememberLetters } from './marbleText.js';

/**
 * What `TestScheduler.run` hands its callback that the kit uses: `cold`, `hot` and `expectObservable`.
 *
 * ## Example
 * ```ts
 * import { elementMarbles, elementTestScheduler, type MarbleHelpers } from 'rxjs-sluice/testing';
 *
 * const watermarksOnly = (helpers: MarbleHelpers) => elementMarbles(helpers).cold('W-V|', 'W1 V=W2');
 * elementTestScheduler().run((helpers) => watermarksOnly(helpers).subscribe());
 * ```
 */
export type MarbleHelpers = Pick<RunHelpers, 'cold' | 'hot' | 'expectObservable'>;

/**
 * Element marbles on top of a `TestScheduler.run` callback's helpers: `cold` and `hot` that read a legend,
 * and `expectElements`, the legend-reading `expectObservable`. A letter the legend does not mention is a
 * record of that letter, as RxJS uses an unmapped letter as its own value.
 *
 * ## Example
 * ```ts
 * import { map, timer } from 'rxjs';
 * import { asyncWaitOrdered } from 'rxjs-sluice';
 * import { elementMarbles, elementTestScheduler } from 'rxjs-sluice/testing';
 *
 * elementTestScheduler().run((helpers) => {
 *   const { cold, expectElements } = elementMarbles(helpers);
 *   const input = cold<number>('a-b-W-----|', 'a=1@5 b=2@7 W6');
 *   const slowDouble = (x: number) => timer(x === 1 ? 4 : 1).pipe(map(() => 2 * x));
 *   expectElements(input.pipe(asyncWaitOrdered(slowDouble))).toBe('----(abW)-|', 'a=2@5 b=4@7 W6');
 * });
 * ```
 */
export interface ElementMarbles {
  /** A cold observable of the elements the marble and legend describe. */
  cold<T = unknown>(marble: string, legend?: Legend<T>, error?: unknown): Observable<StreamElement<T>>;
  /** A hot observable of the elements the marble and legend describe (`^` marks the subscription point). */
  hot<T = unknown>(marble: string, legend?: Legend<T>, error?: unknown): Observable<StreamElement<T>>;
  /**
   * `expectObservable` with a legend: `expectElements(output$).toBe('--a(bW)|', 'a=10@5 b=20@7 W6')`. A
   * subscription marble (`'^--!'`) as second argument unsubscribes as `expectObservable`'s does.
   */
  expectElements(observable: Observable<unknown>, subscriptionMarble?: string | null): {
    toBe(marble: string, legend?: Legend, error?: unknown): void;
  };
}

/**
 * Wraps the helpers of a `TestScheduler.run` callback with element marbles (see {@link ElementMarbles}).
 *
 * @param helpers - The callback's argument: `run((helpers) => { const m = elementMarbles(helpers); ... })`.
 *
 * ## Example
 * ```ts
 * import { elementMarbles, elementTestScheduler } from 'rxjs-sluice/testing';
 *
 * elementTestScheduler().run((helpers) => {
 *   const { hot, expectElements } = elementMarbles(helpers);
 *   const input = hot('--a-^-b-W|', 'a@1 b@2 W2');
 *   expectElements(input).toBe('--b-W|', 'b@2 W2');
 * });
 * ```
 */
export function elementMarbles(helpers: MarbleHelpers): ElementMarbles {
  /** The values map for a marble, with its letters remembered for failure messages. */
  const valuesOf = <T>(marble: string, legend: Legend<T> | undefined) => {
    const values = valuesFor(marble, readLegend(legend));
    rememberLetters(values);
    return values;
  };
  return {
    cold: (marble, legend, error) => helpers.cold(marble, valuesOf(marble, legend), error),
    hot: (marble, legend, error) => helpers.hot(marble, valuesOf(marble, legend), error),
    expectElements: (observable, subscriptionMarble) => {
      const expectation = helpers.expectObservable(observable, subscriptionMarble);
      return { toBe: (marble, legend, error) => expectation.toBe(marble, valuesOf(marble, legend), error) };
    },
  };
}

/**
 * A `TestScheduler` whose comparison is `assertElementMarbles`: a failing expectation throws a
 * `MarbleMismatchError` that prints both streams as element marbles. It needs no test framework, so it runs
 * under jest, vitest, mocha, node:test or in a browser alike.
 *
 * ## Example
 * ```ts
 * import { elementMarbles, elementTestScheduler } from 'rxjs-sluice/testing';
 *
 * elementTestScheduler().run((helpers) => {
 *   const { cold, expectElements } = elementMarbles(helpers);
 *   expectElements(cold('a-W|', 'a@5 W5')).toBe('a-W|', 'a@5 W5');
 * });
 * ```
 */
export function elementTestScheduler(): TestScheduler {
  return new TestScheduler(assertElementMarbles);
}
