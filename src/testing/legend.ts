import { record, type StreamElement } from '../elements/streamElement.js';
import { describe } from '../shared/describe.js';
import { isAsymmetricMatcher, isElement, readControl, readElement, readNumber, splitTopLevel, typeError } from './elementSpec.js';

/**
 * What an element marble's letters stand for: a legend string such as `'a=1@5 b=2@7 W=W6'`, or an object from
 * letters to elements (`{ a: record(reading, 5) }`), to legend strings (`{ W: 'W6' }`) or, in an expectation, to
 * asymmetric matchers (`{ a: expect.objectContaining({ kind: 'record' }) }`).
 *
 * ## Example
 * ```ts
 * import { record } from 'rxjs-sluice';
 * import { type Legend } from 'rxjs-sluice/testing';
 *
 * const asText: Legend<number> = 'a=1@5 b=2@7 W=W6 B=B3 L=late:9@4';
 * const asObject: Legend<{ id: string }> = { a: record({ id: 'x' }, 5), W: 'W6' };
 * ```
 */
export type Legend<T = unknown> = string | Readonly<Record<string, StreamElement<T> | string>>;

/** The characters that RxJS marble syntax reserves: they can never be a value's letter. */
const MARBLE_SYNTAX = new Set(['-', ' ', '(', ')', '|', '#', '^', '!', '=', '@', ',']);

/** Checks that `key` can stand for a value in a marble string: one character, not marble syntax. */
function checkLetter(key: string, entry: string): void {
  if ([...key].length !== 1 || MARBLE_SYNTAX.has(key) || /\s/.test(key)) {
    throw new TypeError(`legend: ${JSON.stringify(entry)} must start with one letter that is not marble syntax (- ( ) | # ^ ! = @ or a space)`);
  }
}

/** Reads one legend entry: `x=<element>`, `x@<time>` (a record of the letter), `W<time>`, `B<id>`, or `x`. */
function readEntry(entry: string): [string, StreamElement<unknown>] {
  const letter = String.fromCodePoint(entry.codePointAt(0)!);
  checkLetter(letter, entry);
  const rest = entry.slice(letter.length);
  try {
    if (rest.startsWith('=')) return [letter, readElement(rest.slice(1))];
    const control = readControl(entry);
    if (control !== undefined) return [letter, control];
    if (rest === '') return [letter, record(letter)];
    if (rest.startsWith('@')) {
      const t = readNumber(rest.slice(1));
      if (t !== undefined && Number.isFinite(t)) return [letter, record(letter, t)];
    }
  } catch (e) {
    throw typeError(`legend: cannot read ${JSON.stringify(entry)}: ${(e as Error).message}`, e);
  }
  throw new TypeError(`legend: cannot read ${JSON.stringify(entry)}: write x=<element>, x@<time>, W<time>, B<id> or x`);
}

/**
 * Reads a legend into the values map that RxJS's `cold`, `hot` and `expectObservable(...).toBe` take: each letter
 * to its element. Parse once, use anywhere: with the kit's own helpers or with TestScheduler's.
 *
 * Entries are separated by spaces or commas:
 *
 * | entry | the letter stands for |
 * |---|---|
 * | `a=1@5` | `record(1, 5)` |
 * | `a=1` | `record(1)`, no timestamp |
 * | `a@5` | `record('a', 5)`: the letter itself, at event time 5 |
 * | `W6`, `V=W6`, `W=W-inf` | `watermark(6)` (`W` or `V`), `watermark(-Infinity)` |
 * | `B3`, `C=B4` | `barrier(3)` (`B`), `barrier(4)` (`C`) |
 * | `L=late:9@4` | `sideOutput(outputTag('late'), 9, 4)` |
 * | `a='x y'@5`, `a={"id":1}` | a string with spaces, a JSON value |
 *
 * @param legend - A legend string, or an object whose values are elements or legend strings.
 * @throws TypeError naming the entry that cannot be read.
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { legend } from 'rxjs-sluice/testing';
 *
 * new TestScheduler((a, e) => expect(a).toEqual(e)).run(({ cold, expectObservable }) => {
 *   const input = cold('a-b-W|', legend('a=1@5 b=2@7 W6'));
 *   expectObservable(input).toBe('a-b-W|', legend('a=1@5 b=2@7 W6'));
 * });
 * ```
 */
export function legend<T = unknown>(text: Legend<T> = ''): Record<string, StreamElement<T>> {
  const map: Record<string, StreamElement<T>> = {};
  if (typeof text === 'string') {
    for (const entry of splitTopLevel(text)) {
      const [letter, element] = readEntry(entry);
      map[letter] = element as StreamElement<T>;
    }
    return map;
  }
  if (text === null || typeof text !== 'object') throw new TypeError(`legend: expected a string or an object, got ${describe(text)}`);
  for (const [letter, value] of Object.entries(text)) {
    checkLetter(letter, letter);
    if (typeof value === 'string') map[letter] = readEntry(`${letter}=${value}`)[1] as StreamElement<T>;
    else if (isElement(value) || isAsymmetricMatcher(value)) map[letter] = value as StreamElement<T>; // a matcher, for expectations
    else throw new TypeError(`legend: ${letter} must be an element (record(...), watermark(...)...) or a legend string, got ${describe(value)}`);
  }
  return map;
}

/**
 * The values map for one marble string: the legend's letters, and every other letter of the marble as a record
 * of that letter (`'a'` is `record('a')`), as RxJS uses an unmapped letter as its own value. Internal.
 */
export function valuesFor<T>(marble: string, map: Readonly<Record<string, StreamElement<T>>>): Record<string, StreamElement<T>> {
  const values: Record<string, StreamElement<T>> = { ...map };
  for (const c of marble) if (!MARBLE_SYNTAX.has(c) && !(c in values)) values[c] = record(c) as StreamElement<never>;
  return values;
}
