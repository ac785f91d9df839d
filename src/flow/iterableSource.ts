import { type ReplayableSource, type SourceItem } from '../checkpoint/source.js';
import { describe } from '../shared/describe.js';
import { CountedPuller } from './countedPuller.js';
import { pulledObservable } from './pulled.js';
import { pullerOf, type PullInput } from './pullers.js';
import { resolveSourceOptions, type SourceOptions } from './sourceOptions.js';
import { SourcePositionError } from './SourcePositionError.js';

const NAME = 'iterableSource';

/**
 * A replayable, flow-controlled source over what `open()` returns each time it is called: an array, any
 * iterable or async iterable (a generator, a Node `Readable`), or a WHATWG `ReadableStream`. The position is the
 * number of items read. Opened at position n, it calls `open()` and reads and drops the first n items (an
 * iterable cannot seek), so `open()` must return the same items every time; an input that now has fewer than n
 * items is a {@link SourcePositionError}, never a silent start from scratch. Like every sluice source, it reads
 * only while the operators it feeds have room (see docs/flow-control.md).
 *
 * @param open - Returns a fresh input each time: called once per subscription. What it throws errors the output.
 * @param options - See {@link SourceOptions}; validated here, and a bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { asyncWaitOrdered, checkpointable, iterableSource } from 'rxjs-sluice';
 *
 * async function* events() {
 *   for (let i = 0; i < 1_000_000; i++) yield { id: i, at: i * 10 };
 * }
 * const job = checkpointable({ source: iterableSource(events, { timestampOf: (e) => e.at }), every: { records: 10_000 } });
 * job.pipe(asyncWaitOrdered(async (e: { id: number }) => e.id, { id: 'lookup', capacity: 100 })).subscribe();
 * ```
 */
export function iterableSource<T>(open: () => PullInput<T>, options: SourceOptions<T> = {}): ReplayableSource<T, number> {
  if (typeof open !== 'function') {
    throw new TypeError(`${NAME}: open must be a function returning the input afresh (so it can be replayed), got ${describe(open)}`);
  }
  const { timestampOf, metrics, scheduler } = resolveSourceOptions(NAME, options);
  return {
    open: (position = 0) =>
      pulledObservable<SourceItem<T, number>>(NAME, () => {
        if (!Number.isSafeInteger(position) || position < 0) {
          throw new SourcePositionError(position, `${NAME}: cannot open at position ${describe(position)}: positions are item counts, integers >= 0`);
        }
        return new CountedPuller(NAME, pullerOf(NAME, open()), position, timestampOf);
      }, scheduler, metrics),
  };
}
