/// <reference types="node" />
import { type Readable } from 'node:stream';
import { type ReplayableSource, type SourceItem } from '../checkpoint/source.js';
import { CountedPuller } from '../flow/countedPuller.js';
import { pulledObservable } from '../flow/pulled.js';
import { type Puller } from '../flow/pullLoop.js';
import { resolveSourceOptions, type SourceOptions } from '../flow/sourceOptions.js';
import { SourcePositionError } from '../flow/SourcePositionError.js';
import { describe } from '../shared/describe.js';
import { isReadable, ReadablePuller } from './readablePuller.js';

const NAME = 'readableSource';

/**
 * A replayable, flow-controlled source over the Node `Readable` that `open()` returns each time it is called:
 * an object-mode stream (each object is an item) or a byte stream (each chunk `read()` returns is an item). The
 * position is the number of items read. Opened at position n, it calls `open()` and reads and drops the first n
 * items (a stream cannot seek), so `open()` must give the same items every time; a stream that now ends before n
 * items is a {@link SourcePositionError}, never a silent start from scratch.
 *
 * It reads with `readable.read()`, synchronously while the stream has data buffered, and waits for the stream's
 * `'readable'` or `'end'` when it has none; like every sluice source, it reads only while the operators it feeds
 * have room (see docs/flow-control.md), so the stream itself stays paused, within its `highWaterMark`, in
 * between. The stream is destroyed when the subscription ends early (an error, `take(n)`, an unsubscribe).
 * What the stream fails with errors the output unchanged; a stream destroyed before its end without an error is
 * a `SourceReadError`.
 *
 * A byte stream's chunks are what `read()` returns, which joins whatever the stream has buffered, so their
 * boundaries (and the positions) are only replayable if the stream is read the same way every time: for a file
 * prefer `fileLinesSource`, whose positions are byte offsets, or give an object-mode stream.
 *
 * @param open - Returns a fresh `Readable` each time: called once per subscription. What it throws errors the output.
 * @param options - See {@link SourceOptions} (`timestampOf` gets each item and its index); validated here, and a
 *   bad one throws a `TypeError`.
 *
 * ## Example
 * ```ts
 * import { Readable } from 'node:stream';
 * import { asyncWaitOrdered, checkpointable } from 'rxjs-sluice';
 * import { readableSource } from 'rxjs-sluice/node';
 *
 * interface Event { id: number; at: number }
 * const open = () => Readable.from([{ id: 1, at: 10 }, { id: 2, at: 20 }]);
 * // A Readable's items are untyped: name their type (here through timestampOf's parameter).
 * const events = readableSource(open, { timestampOf: (e: Event) => e.at });
 * const job = checkpointable({ source: events, every: { records: 1_000 } });
 * job.pipe(asyncWaitOrdered(async (e: Event) => e.id, { id: 'lookup', capacity: 100 })).subscribe();
 * ```
 */
export function readableSource<T>(open: () => Readable, options: SourceOptions<T> = {}): ReplayableSource<T, number> {
  if (typeof open !== 'function') {
    throw new TypeError(`${NAME}: open must be a function returning a new Readable each time (so it can be replayed), got ${describe(open)}`);
  }
  const { timestampOf, metrics, scheduler } = resolveSourceOptions(NAME, options);
  return {
    open: (position = 0) =>
      pulledObservable<SourceItem<T, number>>(NAME, () => {
        if (!Number.isSafeInteger(position) || position < 0) {
          throw new SourcePositionError(position, `${NAME}: cannot open at position ${describe(position)}: positions are item counts, integers >= 0`);
        }
        const readable: unknown = open();
        if (!isReadable(readable)) throw new TypeError(`${NAME}: open() must return a Node Readable, got ${describe(readable)}`);
        return new CountedPuller(NAME, new ReadablePuller(NAME, readable) as Puller<T>, position, timestampOf);
      }, scheduler, metrics),
  };
}
