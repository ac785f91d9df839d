/**
 * Helpers of the specs of the replayable Node sources (fileLinesSource, ndjsonSource, readableSource): read a
 * source to its end, get what it fails with, count the descriptors open on a file, and run a checkpointable
 * pipeline over a source to completion, or crash it part-way and restore it.
 */
import { readdirSync, readlinkSync } from 'fs';
import { from, lastValueFrom, toArray, type Observable, type Subscription } from 'rxjs';
import {
  asyncWaitOrdered, checkpointable, checkpointMetrics, type ReplayableSource, type SourceItem, type StreamRecord, type SideOutputRecord,
} from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, readCommittedElements } from 'rxjs-sluice/node';
import { crash } from './crash';

/** Every item of `source` opened at `position`. */
export function readAll<T>(source: ReplayableSource<T, number>, position?: number): Promise<SourceItem<T, number>[]> {
  return lastValueFrom(from(source.open(position)).pipe(toArray()));
}

/** What `source` opened at `position` fails with (a completion fails the test). */
export function failureOf<T>(source: ReplayableSource<T, number>, position?: number): Promise<unknown> {
  return errorOf(from(source.open(position)));
}

/** What `output` fails with (a completion fails the test). */
export function errorOf(output: Observable<unknown>): Promise<unknown> {
  return lastValueFrom(output.pipe(toArray())).then(
    (values) => { throw new Error(`expected an error, but the output completed with ${values.length} values`); },
    (err: unknown) => err,
  );
}

/** How many of this process's descriptors are open on `path` (Linux: /proc/self/fd). */
export function fdsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // The descriptor readdir used for the listing is gone by now.
    }
  }
  return count;
}

/** Resolves once `condition()` holds, polling on macrotasks (fails after 2 s). */
export async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('until: condition not met within 2 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Lets pending I/O callbacks and the promises they settle run. */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The committed records of a FileSink directory, as values. */
function committedValues(dir: string): unknown[] {
  return readCommittedElements(dir).map((e: StreamRecord<unknown> | SideOutputRecord) => (e.kind === 'record' ? e.value : e));
}

/**
 * One exactly-once pipeline over `source`: a checkpoint every `every` records in FileCheckpointStore(stateDir),
 * an async call per record (`transform`, settled on a later macrotask), the outputs committed to FileSink(outDir).
 * The positions the source is opened at are pushed to `opened`.
 */
function pipeline<T, O>(
  source: ReplayableSource<T, number>, stateDir: string, outDir: string, every: number, transform: (value: T) => O, opened: unknown[],
) {
  const store = new FileCheckpointStore(stateDir);
  const sink = new FileSink(outDir);
  const metrics = checkpointMetrics();
  const spied: ReplayableSource<T, number> = {
    open: (position) => {
      opened.push(position);
      return source.open(position);
    },
  };
  const output = checkpointable({ source: spied, store, sink, every: { records: every }, metrics }).pipe(
    asyncWaitOrdered(async (value: T) => {
      await new Promise((r) => setImmediate(r));
      return transform(value);
    }, { id: 'transform', capacity: 5 }),
  );
  return { output, metrics, store, sink };
}

/** The committed output of an uninterrupted run of the pipeline over `source`. */
export async function uninterruptedRun<T, O>(
  source: ReplayableSource<T, number>, dirs: () => string, every: number, transform: (value: T) => O,
): Promise<unknown[]> {
  const outDir = dirs();
  await lastValueFrom(pipeline(source, dirs(), outDir, every, transform, []).output.pipe(toArray()));
  return committedValues(outDir);
}

/**
 * Runs the pipeline over `source` until `checkpoints` checkpoints are durable, crashes it (unsubscribes), then
 * runs it again on the same directories to completion. Returns the committed output and the positions each run
 * opened the source at.
 */
export async function crashedAndRestoredRun<T, O>(
  source: ReplayableSource<T, number>, dirs: () => string, every: number, transform: (value: T) => O, checkpoints: number,
): Promise<{ committed: unknown[]; firstOpened: unknown[]; secondOpened: unknown[] }> {
  const stateDir = dirs();
  const outDir = dirs();
  const firstOpened: unknown[] = [];
  const first = pipeline(source, stateDir, outDir, every, transform, firstOpened);
  let error: unknown;
  let completed = false;
  const subscription: Subscription = first.output.subscribe({ error: (e: unknown) => (error = e), complete: () => (completed = true) });
  await until(() => error !== undefined || completed || first.metrics.completed >= checkpoints);
  if (error !== undefined) throw error;
  if (completed) throw new Error('the first run completed before the crash: give it more input');
  await crash(subscription, first.store, first.sink);
  const secondOpened: unknown[] = [];
  await lastValueFrom(pipeline(source, stateDir, outDir, every, transform, secondOpened).output.pipe(toArray()));
  return { committed: committedValues(outDir), firstOpened, secondOpened };
}
