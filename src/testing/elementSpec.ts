import { barrier, record, watermark, type StreamElement } from '../elements/streamElement.js';
import { sideOutputOf } from '../elements/outputTag.js';

// The text form of one element in an element-marble legend, read and written: `1@5` (a record of 1 at event
// time 5), `W6` (a watermark), `B3` (a barrier), `late:9@10` (a side output on tag 'late'). Values are numbers,
// `true` / `false` / `null`, quoted strings ('x' or "x"), JSON objects and arrays, or a bare word (a string).

/** A number as the legend writes it: digits with optional `_` separators, a fraction, an exponent, or inf. */
const NUMBER = /^[+-]?(?:\d[\d_]*(?:\.\d+)?(?:e[+-]?\d+)?|inf(?:inity)?|NaN)$/i;
/** A word that reads back as the same string without quotes. */
const BARE_WORD = /^[A-Za-z_][\w.-]*$/;
/** A side-output tag name, before the `:`. */
const TAG = /^([A-Za-z_][\w.-]*):/;

/** A TypeError with a `cause` (set by hand: the ES2020 library has no Error options). Internal. */
export function typeError(message: string, cause: unknown): TypeError {
  const error = new TypeError(message);
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  return error;
}

/** Reads a number of the legend, or returns undefined. */
export function readNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const lower = text.toLowerCase().replace(/_/g, '');
  if (lower === 'nan') return NaN;
  if (/inf/.test(lower)) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(lower);
}

/** Writes a number so that readNumber reads it back. */
export function writeNumber(n: number): string {
  if (Object.is(n, -0)) return '-0';
  if (n === Infinity) return '+inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

/**
 * The index of the last `@` outside quotes and brackets, or -1: what follows it is the event time.
 * Also used to check that brackets and quotes are balanced, which `splitTopLevel` relies on.
 */
function lastTopLevelAt(text: string): number {
  let at = -1;
  scanTopLevel(text, (c, i) => {
    if (c === '@') at = i;
  });
  return at;
}

/** Calls `visit` for every character outside quotes and brackets; throws on unbalanced ones. */
function scanTopLevel(text: string, visit: (c: string, i: number) => void): void {
  let depth = 0; // nesting of {} and []
  let quote: string | undefined; // the open quote character, if inside a string
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (depth === 0) visit(c, i);
    if (depth < 0) throw new TypeError(`unbalanced brackets in ${JSON.stringify(text)}`);
  }
  if (quote !== undefined || depth !== 0) throw new TypeError(`unclosed quote or bracket in ${JSON.stringify(text)}`);
}

/** Splits text at whitespace and commas outside quotes and brackets. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  scanTopLevel(text, (c, i) => {
    if (/[\s,]/.test(c)) {
      if (i > start) parts.push(text.slice(start, i));
      start = i + 1;
    }
  });
  if (start < text.length) parts.push(text.slice(start));
  return parts;
}

/** Reads a value: a number, a literal, a quoted string, JSON, or a bare word. */
export function readValue(text: string): unknown {
  if (text === '') throw new TypeError('a value is missing');
  const n = readNumber(text);
  if (n !== undefined) return n;
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (text === 'undefined') return undefined;
  if (text.startsWith("'") && text.endsWith("'") && text.length >= 2) return text.slice(1, -1).replace(/\\(.)/g, '$1');
  if (/^["{[]/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw typeError(`${JSON.stringify(text)} is not valid JSON: ${(e as Error).message}`, e);
    }
  }
  if (/["'{}[\]@=\s]/.test(text)) throw new TypeError(`${JSON.stringify(text)} is not a value: quote strings that hold quotes, brackets, @ or =`);
  return text;
}

/** Reads an optional `@time` suffix: the text before it, and the time. */
function splitTime(text: string): { body: string; timestamp: number | undefined } {
  const at = lastTopLevelAt(text);
  if (at < 0) return { body: text, timestamp: undefined };
  const timeText = text.slice(at + 1);
  const timestamp = readNumber(timeText);
  if (timestamp === undefined || !Number.isFinite(timestamp)) {
    throw new TypeError(`the event time after @ must be a finite number, got ${JSON.stringify(timeText)}`);
  }
  return { body: text.slice(0, at), timestamp };
}

/** Reads `W<time>` or `B<id>`, or returns undefined when the text is neither. */
export function readControl(text: string): StreamElement<never> | undefined {
  if (text.startsWith('W')) {
    const t = readNumber(text.slice(1));
    if (t !== undefined) return watermark(t);
  }
  if (/^B\d[\d_]*$/.test(text)) return barrier(Number(text.slice(1).replace(/_/g, '')));
  return undefined;
}

/** Text that starts like a watermark or a barrier (`W-`, `B1`...) but is not one: a mistake, not a string. */
const LOOKS_LIKE_CONTROL = /^[WB][-+\d]/;

/** Reads one element: `W<time>`, `B<id>`, `<tag>:<value>[@time]` or `<value>[@time]`. */
export function readElement(text: string): StreamElement<unknown> {
  const control = readControl(text);
  if (control !== undefined) return control;
  if (LOOKS_LIKE_CONTROL.test(text)) throw new TypeError('W and B take a number: W<time> is a watermark, B<id> a barrier (quote a string)');
  const tag = TAG.exec(text);
  const { body, timestamp } = splitTime(tag ? text.slice(tag[0].length) : text);
  return tag ? sideOutputOf(tag[1]!, readValue(body), timestamp) : record(readValue(body), timestamp);
}

/** Tells whether a value is one of the four element kinds, by shape. */
export function isElement(value: unknown): value is StreamElement<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const el = value as { kind?: unknown; timestamp?: unknown; checkpointId?: unknown; tag?: unknown };
  switch (el.kind) {
    case 'record': return 'value' in el;
    case 'watermark': return typeof el.timestamp === 'number';
    case 'barrier': return typeof el.checkpointId === 'number';
    case 'sideOutput': return typeof el.tag === 'string' && 'value' in el;
    default: return false;
  }
}

/** A jest-style asymmetric matcher (`expect.objectContaining(...)`), recognised by shape: the kit imports no jest. */
export interface AsymmetricMatcher {
  asymmetricMatch(other: unknown): boolean;
}

/** Tells whether a value is an asymmetric matcher. */
export function isAsymmetricMatcher(value: unknown): value is AsymmetricMatcher {
  return value !== null && typeof value === 'object' && typeof (value as Partial<AsymmetricMatcher>).asymmetricMatch === 'function';
}

/** Writes a value so that readValue reads it back (for what JSON can hold); matchers and errors are described. */
export function writeValue(value: unknown): string {
  if (typeof value === 'number') return writeNumber(value);
  if (typeof value === 'string') {
    const plain = BARE_WORD.test(value) && !LOOKS_LIKE_CONTROL.test(value) && readControl(value) === undefined && readNumber(value) === undefined
      && !['true', 'false', 'null', 'undefined'].includes(value);
    return plain ? value : JSON.stringify(value);
  }
  if (value === undefined || value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`;
  if (isAsymmetricMatcher(value)) {
    const sample = (value as { sample?: unknown }).sample;
    return `${String(value)}${sample === undefined ? '' : ` ${writeValue(sample)}`}`;
  }
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // cyclic: described by its constructor below
  }
  return `[${(value as { constructor?: { name?: string } }).constructor?.name ?? 'object'}]`;
}

/** Writes an element as readElement reads it; any other value as `writeValue` does, marked as not an element. */
export function writeElement(value: unknown): string {
  if (!isElement(value)) return isAsymmetricMatcher(value) ? writeValue(value) : `${writeValue(value)} (not an element)`;
  const at = (t: number | undefined) => (t === undefined ? '' : `@${writeNumber(t)}`);
  switch (value.kind) {
    case 'record': return `${writeValue(value.value)}${at(value.timestamp)}`;
    case 'watermark': return `W${writeNumber(value.timestamp)}`;
    case 'barrier': return `B${value.checkpointId}`;
    case 'sideOutput': return `${value.tag}:${writeValue(value.value)}${at(value.timestamp)}`;
  }
}
