/// <reference types="node" />
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { jsonCodec, type CheckpointCodec } from '../checkpoint/codec.js';
import { type SideOutputRecord, type StreamRecord } from '../elements/streamElement.js';
import { expectCodec, expectObject, rejectUnknownOptions } from '../shared/validate.js';
import { dataName, EPOCH_FILE, EpochVerifier, idsOf, isMissing, sumName, type EpochSum, type FileRead } from './epochChain.js';
import { FileSinkError } from './FileSinkError.js';
import { readRegularFileSync } from './regularFile.js';

/**
 * The committed output of a {@link FileSink} directory as text: every committed epoch file, in checkpoint
 * order, concatenated (one line per output element, as the sink's codec wrote it). Pending (uncommitted)
 * epochs are ignored. Each epoch is checked against its checksum file and the chain of the epochs before it,
 * so a deleted, truncated, altered or foreign epoch fails with `FileSinkCorruptError` instead of being read as
 * output. (Only a restore, with the checkpoint's receipt, can also tell that the newest epochs were deleted.)
 *
 * Each line is the codec's text, not necessarily plain JSON: `jsonCodec` writes a value that JSON would change
 * (a shared object, a cycle, -0) in its `#`-prefixed graph form. Decode lines with the codec's `decode`
 * (`jsonCodec.decode`), or call {@link readCommittedElements}, which does.
 *
 * @throws FileSinkCorruptError on damage; FileSinkError when the directory cannot be read.
 *
 * ## Example
 * ```ts
 * import { jsonCodec } from 'rxjs-sluice';
 * import { readCommitted } from 'rxjs-sluice/node';
 * const elements = readCommitted('./out').split('\n').filter(Boolean).map((line) => jsonCodec.decode(line));
 * ```
 */
export function readCommitted(dir: string): string {
  let text = '';
  forEachCommitted(resolve(dir), (data) => {
    text += data.toString('utf8');
  });
  return text;
}

/**
 * Options of {@link readCommittedElements}.
 *
 * ## Example
 * ```ts
 * import { jsonCodec } from 'rxjs-sluice';
 * import { readCommittedElements, type ReadCommittedOptions } from 'rxjs-sluice/node';
 * const options: ReadCommittedOptions = { codec: jsonCodec };
 * const elements = readCommittedElements('./out', options);
 * ```
 */
export interface ReadCommittedOptions {
  /**
   * The codec the sink wrote with (the pipeline's, or the sink's own `codec` option). Each epoch records its
   * codec's name; another name fails with a TypeError rather than misread the lines.
   * @default jsonCodec
   */
  readonly codec?: CheckpointCodec | undefined;
}

/**
 * The committed output of a {@link FileSink} directory, decoded: the output elements (records and side-output
 * records) of every committed epoch, in checkpoint and sequence order, checked as {@link readCommitted} checks
 * them. Values the codec round-trips (a BigInt with a BigInt codec, say) come back as they were emitted.
 *
 * @throws FileSinkCorruptError on damage; FileSinkError when a line cannot be decoded or the directory cannot be
 * read; TypeError when the epochs were written with another codec, or for a bad option.
 *
 * ## Example
 * ```ts
 * import { readCommittedElements } from 'rxjs-sluice/node';
 * for (const element of readCommittedElements<number>('./out')) {
 *   if (element.kind === 'record') console.log(element.value);
 * }
 * ```
 */
export function readCommittedElements<T = unknown>(dir: string, options: ReadCommittedOptions = {}): Array<StreamRecord<T> | SideOutputRecord> {
  const name = 'readCommittedElements';
  expectObject(name, 'options', options);
  rejectUnknownOptions(name, options, ['codec']);
  if (options.codec !== undefined) expectCodec(name, 'codec', options.codec);
  const codec = options.codec ?? jsonCodec;
  const absolute = resolve(dir);
  const elements: Array<StreamRecord<T> | SideOutputRecord> = [];
  forEachCommitted(absolute, (data, sum) => {
    if (sum.codec !== codec.name) {
      throw new TypeError(`${name}: epoch ${sum.epoch} of ${absolute} was written with codec "${sum.codec}"; pass that codec (got "${codec.name}")`);
    }
    const file = join(absolute, dataName(sum.epoch));
    const lines = data.toString('utf8').split('\n');
    lines.pop(); // every line ends with a newline: the last piece is empty
    for (const [index, line] of lines.entries()) {
      let element: unknown;
      try {
        element = codec.decode(line);
      } catch (err) {
        throw new FileSinkError('read', file, sum.epoch, err, line);
      }
      const kind = (element as { kind?: unknown } | null)?.kind;
      if (kind !== 'record' && kind !== 'sideOutput') {
        throw new FileSinkError('read', file, sum.epoch, new TypeError(`line ${index + 1} does not decode to a record or side-output record`), line);
      }
      elements.push(element as StreamRecord<T> | SideOutputRecord);
    }
  });
  return elements;
}

/** Visits every committed epoch in id order, each verified, with its bytes and its checksum file. */
function forEachCommitted(dir: string, visit: (data: Buffer, sum: EpochSum) => void): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new FileSinkError('read', dir, undefined, err);
  }
  const pending = new Set(idsOf(names, EPOCH_FILE.pendingData));
  const ids = [...new Set([...idsOf(names, EPOCH_FILE.data), ...idsOf(names, EPOCH_FILE.sum)])].sort((a, b) => a - b);
  const verifier = new EpochVerifier(dir, undefined);
  for (const [index, id] of ids.entries()) {
    const data = readForCheckSync(join(dir, dataName(id)));
    const sum = readForCheckSync(join(dir, sumName(id)));
    // A commit renames the checksum file, then the epoch file: the newest epoch may be caught between the two.
    if (index === ids.length - 1 && !Buffer.isBuffer(data) && isMissing(data.error) && Buffer.isBuffer(sum) && pending.has(id)) break;
    visit(data as Buffer, verifier.next(id, data, sum));
  }
}

function readForCheckSync(path: string): FileRead {
  try {
    return readRegularFileSync(path);
  } catch (error) {
    return { error };
  }
}
