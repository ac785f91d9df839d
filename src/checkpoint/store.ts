import { CheckpointCorruptError } from './CheckpointCorruptError.js';
import { CheckpointVersionError } from './CheckpointVersionError.js';
import { parseCheckpoint, type StoredCheckpoint } from './format.js';
import { andThen, type MaybePromise } from './maybePromise.js';
import { describe } from '../shared/describe.js';
import { expectInteger, expectObject, rejectUnknownOptions } from '../shared/validate.js';
import { warningOf, type CheckpointWarning } from './warning.js';

export type { MaybePromise } from './maybePromise.js';
export type { StoredCheckpoint } from './format.js';

/**
 * Where checkpoints are kept: a durable map from checkpoint id to the checkpoint's text. The pipeline writes
 * each complete checkpoint, and on start reads the newest valid one; it builds, checksums and verifies the
 * text itself, so a store only has to keep bytes. Methods may answer synchronously or with a Promise.
 * `MemoryCheckpointStore` is built in; `FileCheckpointStore` comes from `rxjs-sluice/node`. Implement this
 * interface for IndexedDB, S3, a database…
 *
 * ## Example
 * ```ts
 * import { type CheckpointStore } from 'rxjs-sluice';
 * // A store in localStorage, keeping the newest 3:
 * const localStore = (prefix: string): CheckpointStore => {
 *   const ids = () => Object.keys(localStorage).filter((k) => k.startsWith(prefix)).map((k) => Number(k.slice(prefix.length)));
 *   return {
 *     write: (id, text) => {
 *       localStorage.setItem(prefix + id, text);
 *       for (const old of ids().sort((a, b) => b - a).slice(3)) localStorage.removeItem(prefix + old);
 *     },
 *     list: ids,
 *     read: (id) => localStorage.getItem(prefix + id) ?? '',
 *   };
 * };
 * ```
 */
export interface CheckpointStore {
  /**
   * Stores checkpoint `checkpointId`. Resolves (or returns) only once the checkpoint would survive a crash;
   * `'exactly-once'` releases the epoch's outputs after that. It may then drop older checkpoints beyond its
   * retention, but never the one just written.
   */
  write(checkpointId: number, text: string): MaybePromise<void>;
  /**
   * The ids of the stored checkpoints, in any order, including any it cannot read back (a damaged file): a new
   * run numbers its checkpoints above the highest listed, so that no output stamp is ever used twice.
   */
  list(): MaybePromise<readonly number[]>;
  /** The text stored under `checkpointId`. */
  read(checkpointId: number): MaybePromise<string>;
  /**
   * Optional. Called once when a checkpointable pipeline using this store is subscribed, before any `list`,
   * `read` or `write` (after a crashed run's writes on it have settled and its `close` has run): take a lock,
   * open a connection. If it throws or rejects, the pipeline's output errors with that error, and `close` is
   * not called.
   */
  open?(): MaybePromise<void>;
  /**
   * Optional. Called once when the pipeline ends, after its writes to this store have settled (an unsubscribe does
   * not cancel them): release what `open` took. On completion it runs before the output completes, and a
   * failure errors the output instead; after an error or an unsubscribe a failure goes to `onWarning`
   * (`'close-failed'`) and `metrics.closeFailed`. Not called when `open` failed.
   */
  close?(): MaybePromise<void>;
  /**
   * Optional. Called once, synchronously, the moment the pipeline ends (completes, errors or is unsubscribed),
   * before its writes have settled and long before `close`: a store that holds a lock may then let a successor
   * in this process wait for that `close` rather than refuse it (the file store and sink do), since the run
   * holding it will not write anything new. A throw goes to `onWarning` (`'close-failed'`). Not called when
   * `open` was not.
   */
  ending?(): void;
}


/**
 * Options of {@link MemoryCheckpointStore}.
 *
 * ## Example
 * ```ts
 * import { MemoryCheckpointStore, type MemoryCheckpointStoreOptions } from 'rxjs-sluice';
 * const options: MemoryCheckpointStoreOptions = { retain: 5 };
 * const store = new MemoryCheckpointStore(options);
 * ```
 */
export interface MemoryCheckpointStoreOptions {
  /**
   * How many of the newest checkpoints to keep (Flink's `state.checkpoints.num-retained` is 1; more lets a
   * restore fall back past a damaged one).
   * @default 3
   */
  readonly retain?: number | undefined;
}

/**
 * Keeps checkpoints in memory: the embedded default for tests, browsers and pipelines that only need to
 * survive an in-process restart (a resubscription after an error, say). Synchronous, so a pipeline under
 * `TestScheduler` checkpoints in virtual time. Checkpoints are stored as text, so nothing shares memory
 * with the running pipeline.
 *
 * ## Example
 * ```ts
 * import { arraySource, checkpointable, MemoryCheckpointStore, mapRecords } from 'rxjs-sluice';
 *
 * const store = new MemoryCheckpointStore();
 * const job = checkpointable({ source: arraySource([1, 2, 3]), store, every: { records: 2 } });
 * job.pipe(mapRecords((x: number) => x * 10)).subscribe(({ element }) => console.log(element));
 * console.log(store.list()); // [1, 2]: the checkpoint after 2 records, and the final one
 * ```
 */
export class MemoryCheckpointStore implements CheckpointStore {
  /** Checkpoint text by id; the oldest are dropped beyond `retain`. */
  private readonly checkpoints = new Map<number, string>();
  /** How many to keep. */
  private readonly retain: number;

  constructor(options: MemoryCheckpointStoreOptions = {}) {
    expectObject('MemoryCheckpointStore', 'options', options);
    rejectUnknownOptions('MemoryCheckpointStore', options, ['retain']);
    const { retain = 3 } = options;
    expectInteger('MemoryCheckpointStore', 'retain', retain, 1);
    this.retain = retain;
  }

  write(checkpointId: number, text: string): void {
    this.checkpoints.set(checkpointId, text);
    const ids = this.list();
    for (let i = 0; i < ids.length - this.retain; i++) this.checkpoints.delete(ids[i]!);
  }

  /** Ids in ascending order. */
  list(): number[] {
    return [...this.checkpoints.keys()].sort((a, b) => a - b);
  }

  read(checkpointId: number): string {
    const text = this.checkpoints.get(checkpointId);
    if (text === undefined) throw new Error(`MemoryCheckpointStore: no checkpoint ${checkpointId}`);
    return text;
  }
}

/**
 * Loads the newest valid checkpoint, the way a checkpointable pipeline does on start. A damaged newest
 * checkpoint is skipped (reported to `onWarning`) in favour of the one before it. Resolves to undefined when
 * the store is empty; rejects with `CheckpointCorruptError` when checkpoints exist but none is valid, and with
 * `CheckpointVersionError` when the newest intact one has an unknown format version.
 *
 * ## Example
 * ```ts
 * import { MemoryCheckpointStore, readLatestCheckpoint } from 'rxjs-sluice';
 * readLatestCheckpoint(new MemoryCheckpointStore(), { onWarning: (w) => console.warn(w.message) })
 *   .then((c) => console.log(c?.checkpointId ?? 'start from the beginning'));
 * ```
 */
export function readLatestCheckpoint(
  store: CheckpointStore,
  /** `onWarning`: told about each damaged checkpoint skipped (default: none; what it throws is ignored). */
  options: { readonly onWarning?: ((warning: CheckpointWarning) => void) | undefined } = {},
): Promise<StoredCheckpoint | undefined> {
  const hook = options.onWarning;
  const warn = (warning: CheckpointWarning): void => {
    try {
      hook?.(warning);
    } catch {
      // A warning hook must not break loading.
    }
  };
  return new Promise((resolve, reject) => loadLatest(store, warn, (checkpoint) => resolve(checkpoint), reject));
}

/**
 * The loading loop behind readLatestCheckpoint, synchronous for a synchronous store. `done` also gets the
 * highest id the store lists (0 when none), readable or not: a new run numbers its checkpoints above it.
 */
export function loadLatest(
  store: CheckpointStore,
  warn: (warning: CheckpointWarning) => void,
  done: (checkpoint: StoredCheckpoint | undefined, highestListed: number) => void,
  fail: (err: unknown) => void,
): void {
  andThen(() => store.list(), (listed) => {
    // New ids go above every listed one, so an id that is not a safe integer (a stray file named beyond 2^53)
    // could only be followed by ids that no longer increase: refused, not skipped.
    const invalid = Array.isArray(listed) ? listed.find((id) => !Number.isSafeInteger(id) || id < 1) : listed;
    if (!Array.isArray(listed) || invalid !== undefined) {
      fail(new TypeError(`checkpointable: store.list() returned ${describe(invalid)} among its ids; checkpoint ids are integers from 1 to 2^53 - 1 (Number.MAX_SAFE_INTEGER)`));
      return;
    }
    const ids = [...listed].sort((a, b) => b - a);
    const highestListed = ids[0] ?? 0;
    const tryFrom = (index: number, lastProblem: unknown): void => {
      if (index === ids.length) {
        if (ids.length === 0) done(undefined, 0);
        else fail(new CheckpointCorruptError(ids, lastProblem));
        return;
      }
      const id = ids[index]!;
      const skip = (problem: unknown): void => {
        warn(warningOf('corrupt-skipped', id, problem));
        tryFrom(index + 1, problem);
      };
      andThen(() => store.read(id), (text) => {
        let checkpoint: StoredCheckpoint;
        try {
          checkpoint = parseCheckpoint(id, text);
        } catch (err) {
          if (err instanceof CheckpointVersionError) fail(err);
          else skip(err);
          return;
        }
        done(checkpoint, highestListed);
      }, skip);
    };
    tryFrom(0, undefined);
  }, fail);
}
