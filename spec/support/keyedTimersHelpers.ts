/**
 * Helpers shared by the keyedTimers specs: the keyed event type most scenarios use, matchers for
 * KeyedProcessError, the all-zero counters, metrics readings in virtual time, and a catcher for what a call
 * throws. (The scheduler wrapper that counts live actions is CountingScheduler, in ./countingScheduler.)
 */
import { timer } from 'rxjs';
import { type KeyedTimersCounters, type KeyedTimersMetrics, type StreamElement } from 'rxjs-sluice';

/** A keyed event: `k` is the key, `n` a number the scenario uses (usually a timer time). */
export interface Ev {
  readonly k: string | number;
  readonly n: number;
}

/** Builds an event. */
export const ev = (k: string | number, n = 0): Ev => ({ k, n });

/** The element type of most keyedTimers marble tests. */
export type KEl = StreamElement<Ev>;

/** Every counter of keyedTimersMetrics() at 0. */
export const ZERO_COUNTERS: KeyedTimersCounters = {
  records: 0,
  lateRecords: 0,
  emitted: 0,
  sideOutputs: 0,
  eventTimersFired: 0,
  processingTimersFired: 0,
  watermarksForwarded: 0,
  watermarksIgnored: 0,
  eventTimersDropped: 0,
  processingTimersDropped: 0,
  keysWithState: 0,
  eventTimers: 0,
  processingTimers: 0,
};

/** The three gauges at 0. */
export const ZERO_KEYED_GAUGES = { keysWithState: 0, eventTimers: 0, processingTimers: 0 };

/** The gauges of a reading. */
export function gaugesOf(c: KeyedTimersCounters | undefined): typeof ZERO_KEYED_GAUGES | undefined {
  return c === undefined ? undefined : { keysWithState: c.keysWithState, eventTimers: c.eventTimers, processingTimers: c.processingTimers };
}

/** Matches a KeyedProcessError with the given fields. */
export const keyedErrorLike = (fields: Record<string, unknown>) => expect.objectContaining({ name: 'KeyedProcessError', ...fields });

/** Takes a snapshot of `metrics` at each virtual time in `times`; call inside TestScheduler.run. */
export function readAt(metrics: KeyedTimersMetrics, times: number[]): Map<number, KeyedTimersCounters> {
  const readings = new Map<number, KeyedTimersCounters>();
  for (const t of times) timer(t).subscribe(() => readings.set(t, metrics.snapshot()));
  return readings;
}

/** Calls `create` and returns what it threw (fails the test when nothing is thrown). */
export function thrownBy(create: () => unknown): Error {
  try {
    create();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw, but nothing was thrown');
}
