import { type ReplayableSource, type SourceItem } from '../checkpoint/source.js';
import { describe } from '../shared/describe.js';
import { pulledObservable } from './pulled.js';
import { DONE } from './pullers.js';
import { type PullResult, type Puller } from './pullLoop.js';
import { resolveSourceOptions, type SourceOptions } from './sourceOptions.js';
import { SourcePositionError } from './SourcePositionError.js';

/**
 * Options of {@link arraySource}: those of every source.
 *
 * ## Example
 * ```ts
 * import { arraySource, type ArraySourceOptions } from 'rxjs-sluice';
 * const options: ArraySourceOptions<{ at: number }> = { timestampOf: (e) => e.at };
 * const source = arraySource([{ at: 1 }, { at: 5 }], options);
 * ```
 */
export type ArraySourceOptions<T> = SourceOptions<T>;

const NAME = 'arraySource';

/**
 * A replayable source over an array: the position is the index of the next value, so a restore starts right
 * there. It answers synchronously (the natural source for tests and examples), and like every sluice source
 * it reads only while the operators it feeds have room (see docs/flow-control.md): a large array is not
 * flooded into the first operator's queue, and a checkpoint holds about `capacity` records per operator.
 * Opened past the end of the array (it shrank since the checkpoint), it fails with {@link SourcePositionError}.
 *
 * ## Example
 * ```ts
 * import { arraySource, checkpointable } from 'rxjs-sluice';
 * const job = checkpointable({ source: arraySource(['a', 'b', 'c']), every: { records: 1 } });
 * job.pipe().subscribe(({ checkpointId, element }) => console.log(checkpointId, element));
 * ```
 */
export function arraySource<T>(values: readonly T[], options: ArraySourceOptions<T> = {}): ReplayableSource<T, number> {
  if (!Array.isArray(values)) throw new TypeError(`${NAME}: values must be an array, got ${describe(values)}`);
  const { timestampOf, metrics, scheduler } = resolveSourceOptions(NAME, options);
  return {
    open: (position = 0) =>
      pulledObservable<SourceItem<T, number>>(NAME, () => {
        if (!Number.isSafeInteger(position) || position < 0) {
          throw new SourcePositionError(position, `${NAME}: cannot open at position ${describe(position)}: positions are indices, integers >= 0`);
        }
        if (position > values.length) {
          throw new SourcePositionError(position, `${NAME}: cannot open at position ${position}: the array has only ${values.length} values (it changed since the checkpoint was taken)`);
        }
        return new IndexPuller(values, position, timestampOf);
      }, scheduler, metrics),
  };
}

/** An array from an index: every answer is synchronous, and a restore starts at its index at once. */
class IndexPuller<T> implements Puller<SourceItem<T, number>> {
  constructor(
    private readonly values: readonly T[],
    /** The index of the next value. */
    private index: number,
    private readonly timestampOf: ((value: T, index: number) => number) | undefined,
  ) {}

  next(): PullResult<SourceItem<T, number>> {
    const index = this.index;
    if (index >= this.values.length) return DONE;
    this.index = index + 1;
    const value = this.values[index]!;
    const timestampOf = this.timestampOf;
    return { done: false, value: timestampOf === undefined ? { value, position: index + 1 } : { value, position: index + 1, timestamp: timestampOf(value, index) } };
  }

  close(): void {
    this.index = this.values.length;
  }
}
