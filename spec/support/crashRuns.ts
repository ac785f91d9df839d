/**
 * Crash-and-restore runs of a checkpointable pipeline in virtual time, for the exactly-once properties: where a
 * crash lands, one run to its end or its crash, and what an idempotent consumer keeps of several runs.
 */
import fc from 'fast-check';
import { Subject, takeUntil, type Observable, type VirtualTimeScheduler } from 'rxjs';
import { type CheckpointedOutput } from 'rxjs-sluice';

/** Where a crash lands: at a virtual time of the run, or inside the subscriber at the run's k-th output. */
export type Crash = { readonly at: 'time'; readonly t: number } | { readonly at: 'output'; readonly k: number };

/** 1 to 3 crashes, each at a time within `length` ms of virtual time or at one of the first `outputs` outputs. */
export const crashesArb = (length: number, outputs: number): fc.Arbitrary<Crash[]> => fc.array(fc.record({
  at: fc.oneof({ weight: 3, arbitrary: fc.constant('time' as const) }, { weight: 1, arbitrary: fc.constant('output' as const) }),
  permille: fc.integer({ min: 0, max: 1000 }),
}), { minLength: 1, maxLength: 3 }).map((crashes) => crashes.map(({ at, permille }): Crash => (at === 'time'
  ? { at, t: Math.floor((permille / 1000) * length) }
  : { at, k: 1 + Math.floor((permille / 1000) * outputs) })));

export interface RunLog<O> {
  readonly outputs: CheckpointedOutput<O>[];
  readonly completed: boolean;
  /** Whether the crash landed (a run that completed first was not crashed). */
  readonly crashed: boolean;
  readonly error: unknown;
}

/** Runs `job` (built on `scheduler`) to its end or its crash, flushing the virtual time. */
export function runToCrash<O>(job: Observable<CheckpointedOutput<O>>, scheduler: VirtualTimeScheduler, crash: Crash | undefined): RunLog<O> {
  const outputs: CheckpointedOutput<O>[] = [];
  let completed = false;
  let crashed = false;
  let error: unknown;
  const crash$ = new Subject<void>();
  const doCrash = (): void => {
    if (completed || crashed) return;
    crashed = true;
    crash$.next();
  };
  // The crash is outside the pipeline: a takeUntil inside it would end the pipeline, which then takes its final checkpoint.
  job.pipe(takeUntil(crash$)).subscribe({
    next: (output) => {
      outputs.push(output);
      if (crash?.at === 'output' && outputs.length === crash.k) doCrash();
    },
    error: (err: unknown) => (error = err),
    complete: () => {
      if (!crashed) completed = true;
    },
  });
  if (crash?.at === 'time') scheduler.schedule(doCrash, crash.t);
  scheduler.flush();
  return { outputs, completed, crashed, error };
}

/** What an idempotent consumer keeps of the runs: each stamp's first record value, in order; a repeat must be identical. */
export function deduplicated<O>(runs: ReadonlyArray<RunLog<O>>): { committed: O[]; conflicts: string[] } {
  const seen = new Map<string, O>();
  const committed: O[] = [];
  const conflicts: string[] = [];
  for (const run of runs) {
    for (const { checkpointId, sequence, element } of run.outputs) {
      if (element.kind !== 'record') continue;
      const stamp = `${checkpointId}:${sequence}`;
      const value = element.value;
      const first = seen.get(stamp);
      if (first === undefined) {
        seen.set(stamp, value);
        committed.push(value);
      } else if (first !== value) {
        conflicts.push(`${stamp}: ${String(first)} then ${String(value)}`);
      }
    }
  }
  return { committed, conflicts };
}
