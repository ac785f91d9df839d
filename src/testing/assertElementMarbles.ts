import { deepEqual } from './deepEqual.js';
import { writeValue } from './elementSpec.js';
import { MarbleMismatchError } from './MarbleMismatchError.js';
import {
  byFrame, errorsOf, frameTokens, Lettering, marbleOf, subscriptionMarbleOf, writeMarble, type MarbleFrame, type MarbleNotification,
  type SubscriptionFrames,
} from './marbleText.js';

/** How many differing frames a message lists before it says how many more there are. */
const MAX_FRAMES_LISTED = 6;

const isFrameList = (x: unknown): x is MarbleFrame[] =>
  Array.isArray(x) && x.every((m) => m !== null && typeof m === 'object' && 'frame' in m && 'notification' in m);
const isSubscriptionList = (x: unknown): x is SubscriptionFrames[] =>
  Array.isArray(x) && x.every((m) => m !== null && typeof m === 'object' && 'subscribedFrame' in m);

/** Whether two notifications are the same: same kind, and an equal value or error. */
function sameNotification(actual: MarbleNotification, expected: MarbleNotification): boolean {
  if (actual.kind !== expected.kind) return false;
  if (actual.kind === 'N') return deepEqual(actual.value, expected.value);
  if (actual.kind === 'E') return deepEqual(actual.error, expected.error);
  return true;
}

const sameNotifications = (a: readonly MarbleNotification[], e: readonly MarbleNotification[]) =>
  a.length === e.length && a.every((n, i) => sameNotification(n, e[i]!));

/** The failure message for two recorded streams that differ. */
function streamsMessage(actual: MarbleFrame[], expected: MarbleFrame[]): MarbleMismatchError {
  const letters = new Lettering();
  const expectedMarble = marbleOf(expected, letters); // expected first: its letters are the test's own
  const { text: actualMarble, inexact } = writeMarble(actual, letters);
  const lines = [
    'the stream does not match its element marbles',
    `  expected  ${expectedMarble}`,
    `  actual    ${actualMarble}`,
    `  legend    ${letters.legend() || '(no values)'}`,
  ];
  const [expectedError] = errorsOf(expected);
  const [actualError] = errorsOf(actual);
  const errorText = (list: MarbleFrame[], error: unknown) => (list.some((m) => m.notification.kind === 'E') ? writeValue(error) : 'none');
  if (expectedError !== undefined || actualError !== undefined) {
    lines.push(`  errors    expected ${errorText(expected, expectedError)}; actual ${errorText(actual, actualError)}`);
  }
  if (inexact.length > 0) {
    const many = inexact.length > 1;
    lines.push(`  note      actual's frame${many ? 's' : ''} ${inexact.join(', ')} fall${many ? '' : 's'} inside the group before ${many ? 'them' : 'it'} (a group takes a frame per character), so its marble is approximate: the frames below are exact`);
  }
  const e = byFrame(expected);
  const a = byFrame(actual);
  const frames = [...new Set([...e.keys(), ...a.keys()])].sort((x, y) => x - y);
  const differing = frames.filter((f) => !sameNotifications(a.get(f) ?? [], e.get(f) ?? []));
  const tokens = (list: MarbleNotification[] | undefined) => (list ? frameTokens(list, letters) : 'nothing');
  for (const f of differing.slice(0, MAX_FRAMES_LISTED)) {
    lines.push(`  frame ${f}: expected ${tokens(e.get(f))}, actual ${tokens(a.get(f))}`);
  }
  if (differing.length > MAX_FRAMES_LISTED) lines.push(`  ... and ${differing.length - MAX_FRAMES_LISTED} more differing frames`);
  return new MarbleMismatchError(lines.join('\n'), {
    expected: expectedMarble, actual: actualMarble, legend: letters.legend(), input: { actual, expected },
  });
}

/** The failure message for two subscription logs that differ. */
function subscriptionsMessage(actual: SubscriptionFrames[], expected: SubscriptionFrames[]): MarbleMismatchError {
  const write = (logs: SubscriptionFrames[]) => logs.map(subscriptionMarbleOf).join(', ') || '(none)';
  const lines = ['the subscriptions do not match their marbles', `  expected  ${write(expected)}`, `  actual    ${write(actual)}`];
  return new MarbleMismatchError(lines.join('\n'), { expected: write(expected), actual: write(actual), legend: '', input: { actual, expected } });
}

/**
 * Compares what TestScheduler recorded with what the marbles expect, and describes the difference: the
 * comparison behind `assertElementMarbles`, for a callback that reports failures its own way.
 *
 * @param actual - What TestScheduler recorded (frames, or subscription logs).
 * @param expected - What it parsed from the expected marbles.
 * @returns `undefined` when they match; otherwise the `MarbleMismatchError` that `assertElementMarbles` throws.
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { compareElementMarbles } from 'rxjs-sluice/testing';
 *
 * const scheduler = new TestScheduler((actual, expected) => {
 *   const mismatch = compareElementMarbles(actual, expected);
 *   if (mismatch) throw new Error(mismatch.message);
 * });
 * ```
 */
export function compareElementMarbles(actual: unknown, expected: unknown): MarbleMismatchError | undefined {
  if (isFrameList(actual) && isFrameList(expected)) {
    const same = actual.length === expected.length
      && actual.every((m, i) => m.frame === expected[i]!.frame && sameNotification(m.notification, expected[i]!.notification));
    return same ? undefined : streamsMessage(actual, expected);
  }
  if (isSubscriptionList(actual) && isSubscriptionList(expected)) {
    const same = actual.length === expected.length && actual.every((s, i) => deepEqual({ ...s }, { ...expected[i]! }));
    return same ? undefined : subscriptionsMessage(actual, expected);
  }
  if (deepEqual(actual, expected)) return undefined;
  const lines = ['the values differ', `  expected  ${writeValue(expected)}`, `  actual    ${writeValue(actual)}`];
  return new MarbleMismatchError(lines.join('\n'), {
    expected: writeValue(expected), actual: writeValue(actual), legend: '', input: { actual, expected },
  });
}

/**
 * The comparison for a `TestScheduler`: throws a `MarbleMismatchError` whose message prints both streams as
 * element marbles when what was recorded differs from what was expected. Needs no test framework: pass it to
 * `new TestScheduler(...)` (or use `elementTestScheduler()`, which does).
 *
 * @throws MarbleMismatchError when `actual` and `expected` differ.
 *
 * ## Example
 * ```ts
 * import { TestScheduler } from 'rxjs/testing';
 * import { assertElementMarbles } from 'rxjs-sluice/testing';
 *
 * const scheduler = new TestScheduler(assertElementMarbles);
 * // or, to do more in the callback:
 * const logged = new TestScheduler((actual, expected) => {
 *   console.log('comparing', expected);
 *   assertElementMarbles(actual, expected);
 * });
 * ```
 */
export function assertElementMarbles(actual: unknown, expected: unknown): void {
  const mismatch = compareElementMarbles(actual, expected);
  if (mismatch) throw mismatch;
}
