import { deepEqual } from './deepEqual.js';
import { isElement, writeElement, writeValue } from './elementSpec.js';

// Writing observed streams back as element marbles: the letters, the marble string, the legend. What a
// TestScheduler hands to its comparison callback is turned into this text for failure messages.

/**
 * One notification as TestScheduler records it: a value (`'N'`), an error (`'E'`) or completion (`'C'`).
 *
 * ## Example
 * ```ts
 * import { watermark } from 'rxjs-sluice';
 * import { type MarbleNotification } from 'rxjs-sluice/testing';
 *
 * const next: MarbleNotification = { kind: 'N', value: watermark(6) };
 * const done: MarbleNotification = { kind: 'C' };
 * ```
 */
export interface MarbleNotification {
  readonly kind: 'N' | 'E' | 'C';
  readonly value?: unknown;
  readonly error?: unknown;
}

/**
 * One frame of a stream as TestScheduler records it (its `TestMessage`): the virtual time and what happened.
 *
 * ## Example
 * ```ts
 * import { record } from 'rxjs-sluice';
 * import { type MarbleFrame } from 'rxjs-sluice/testing';
 *
 * const frames: MarbleFrame[] = [{ frame: 2, notification: { kind: 'N', value: record(1, 5) } }, { frame: 3, notification: { kind: 'C' } }];
 * ```
 */
export interface MarbleFrame {
  readonly frame: number;
  readonly notification: MarbleNotification;
}

/** The letter the kit's own values maps gave an element: reused when the same object shows up in a failure. */
const LETTER_HINTS = new WeakMap<object, string>();

/** Remembers the letters of a values map, so failure messages speak of `a` where the test said `a`. Internal. */
export function rememberLetters(values: Readonly<Record<string, unknown>>): void {
  for (const [letter, value] of Object.entries(values)) {
    if (value !== null && typeof value === 'object' && !LETTER_HINTS.has(value)) LETTER_HINTS.set(value, letter);
  }
}

/** One legend entry, in its shortest form: `a@5` for the record of its own letter, `W6`, `B3`, else `a=<element>`. */
function entryOf(letter: string, value: unknown): string {
  const text = writeElement(value);
  if (isElement(value)) {
    if (value.kind === 'record' && value.value === letter) return `${letter}${text.slice(letter.length)}`;
    if ((value.kind === 'watermark' && letter === 'W') || (value.kind === 'barrier' && letter === 'B')) return text;
  }
  return `${letter}=${text}`;
}

/** Letters by kind, in the order they are handed out when no better letter is free. */
const POOLS = {
  record: 'abcdefghijklmnopqrstuvxyz',
  watermark: 'WVUXYZ',
  barrier: 'BCDEFGH',
  sideOutput: 'SRQPONML',
  other: 'abcdefghijklmnopqrstuvxyzABCDEFGHIJKLMNOPQRSTUVWXYZαβγδεζηθικλμνξοπρστυφχψω',
};

/** Assigns one letter per distinct value (by deep equality), shared by every stream written with it. */
export class Lettering {
  /** The values met so far, with their letters, in order of first appearance. */
  private readonly entries: Array<{ letter: string; value: unknown }> = [];
  /** Letters already handed out. */
  private readonly taken = new Set<string>();

  /** The letter of `value`: the one an equal value already has, or a new one. */
  letterOf(value: unknown): string {
    const known = this.entries.find((e) => e.value === value) ?? this.entries.find((e) => deepEqual(value, e.value));
    if (known) return known.letter;
    const letter = this.pick(value);
    this.taken.add(letter);
    this.entries.push({ letter, value });
    return letter;
  }

  /** Gives `value` the letter `letter`, unless either is already known (a drawing keeps the letters of its test). */
  seed(letter: string, value: unknown): void {
    if (this.taken.has(letter) || this.entries.some((e) => e.value === value)) return;
    this.taken.add(letter);
    this.entries.push({ letter, value });
  }

  /** The legend of every letter handed out, in legend syntax: `a=10@5 W=W6`. */
  legend(): string {
    return this.entries.map(({ letter, value }) => entryOf(letter, value)).join(' ');
  }

  /** A free letter for a new value: its hint, its own one-letter value, then its kind's pool, then any. */
  private pick(value: unknown): string {
    const free = (c: string | undefined): c is string => c !== undefined && !this.taken.has(c);
    const hint = value !== null && typeof value === 'object' ? LETTER_HINTS.get(value) : undefined;
    if (free(hint)) return hint;
    const kind = isElement(value) ? value.kind : 'other';
    const own = isElement(value) && (value.kind === 'record' || value.kind === 'sideOutput') ? value.value : undefined;
    if (typeof own === 'string' && /^[A-Za-z]$/.test(own) && free(own)) return own;
    const letter = [...POOLS[kind], ...POOLS.other].find(free);
    if (letter !== undefined) return letter;
    for (let code = 0x100; ; code++) if (free(String.fromCodePoint(code))) return String.fromCodePoint(code);
  }
}

/** `n` frames of silence: dashes for a short gap, RxJS's time progression (` 20ms `) for a long one. */
function gap(n: number, atStart: boolean): string {
  if (n <= 0) return '';
  if (n <= 8 && Number.isInteger(n)) return '-'.repeat(n);
  return `${atStart ? '' : ' '}${n}ms `;
}

/** The marble token of one notification. */
function token(n: MarbleNotification, letters: Lettering): string {
  return n.kind === 'C' ? '|' : n.kind === 'E' ? '#' : letters.letterOf(n.value);
}

/** The tokens of one frame's notifications: one character, or a group `(ab|)`. */
export function frameTokens(notifications: readonly MarbleNotification[], letters: Lettering): string {
  const tokens = notifications.map((n) => token(n, letters)).join('');
  return notifications.length === 1 ? tokens : `(${tokens})`;
}

/** The notifications of each frame, in frame order. */
export function byFrame(messages: readonly MarbleFrame[]): Map<number, MarbleNotification[]> {
  const frames = new Map<number, MarbleNotification[]>();
  for (const m of messages) {
    const list = frames.get(m.frame);
    if (list) list.push(m.notification);
    else frames.set(m.frame, [m.notification]);
  }
  return new Map([...frames].sort((x, y) => x[0] - y[0]));
}

/**
 * Writes recorded frames as an RxJS marble string that reads back to the same frames: one character a frame,
 * `(...)` for a frame with several notifications (which, as in RxJS, takes one frame per character), and
 * ` Nms ` for long silences. Internal; see `formatElementMarbles` for the public form.
 */
export function marbleOf(messages: readonly MarbleFrame[], letters: Lettering): string {
  return writeMarble(messages, letters).text;
}

/**
 * The marble text, and the frames it cannot write exactly: a frame that falls inside the group before it (a
 * group takes one frame per character, so `(ab)` at 6 runs to 9 and nothing at 7 can follow it). Internal.
 */
export function writeMarble(messages: readonly MarbleFrame[], letters: Lettering): { text: string; inexact: number[] } {
  const inexact: number[] = [];
  let text = '';
  let cursor = 0; // the frame the next character of `text` stands at
  for (const [frame, notifications] of byFrame(messages)) {
    if (frame < cursor) inexact.push(frame);
    text += gap(frame - cursor, text === '');
    const tokens = frameTokens(notifications, letters);
    text += tokens;
    cursor = Math.max(cursor, frame) + tokens.length;
  }
  return { text: text.trimEnd(), inexact };
}

/** One subscription as TestScheduler logs it. */
export interface SubscriptionFrames {
  readonly subscribedFrame: number;
  readonly unsubscribedFrame: number;
}

/** Writes a subscription log as a subscription marble: `--^---!`. Internal. */
export function subscriptionMarbleOf(log: SubscriptionFrames): string {
  // Subscribed and unsubscribed in the same frame (take(1) of a synchronous value): a group, as RxJS writes it.
  if (log.unsubscribedFrame === log.subscribedFrame) return `${gap(log.subscribedFrame, true)}(^!)`;
  let text = `${gap(log.subscribedFrame, true)}^`;
  if (Number.isFinite(log.unsubscribedFrame)) text += `${gap(log.unsubscribedFrame - log.subscribedFrame - 1, false)}!`;
  return text;
}

/** The errors a stream ended with, described. Internal. */
export function errorsOf(messages: readonly MarbleFrame[]): unknown[] {
  return messages.filter((m) => m.notification.kind === 'E').map((m) => m.notification.error);
}

/**
 * Writes what a stream did (TestScheduler's recorded frames) as an element marble and its legend: the text a
 * failure message prints, and what you would paste into an expectation.
 *
 * @param messages - Recorded frames, as `TestScheduler` records them for `expectObservable`.
 * @returns The marble string, the legend of its letters, and the error it ended with (described), if any.
 *
 * ## Example
 * ```ts
 * import { record, watermark } from 'rxjs-sluice';
 * import { formatElementMarbles } from 'rxjs-sluice/testing';
 *
 * formatElementMarbles([
 *   { frame: 0, notification: { kind: 'N', value: record(1, 5) } },
 *   { frame: 2, notification: { kind: 'N', value: watermark(6) } },
 *   { frame: 2, notification: { kind: 'C' } },
 * ]);
 * // { marble: 'a-(W|)', legend: 'a=1@5 W6', error: undefined }
 * ```
 */
export function formatElementMarbles(messages: readonly MarbleFrame[]): { marble: string; legend: string; error: string | undefined } {
  const letters = new Lettering();
  const marble = marbleOf(messages, letters);
  const [error] = errorsOf(messages);
  return { marble, legend: letters.legend(), error: error === undefined && !messages.some((m) => m.notification.kind === 'E') ? undefined : writeValue(error) };
}
