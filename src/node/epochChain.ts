/// <reference types="node" />
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { FileSinkCorruptError } from './FileSinkCorruptError.js';
import { paddedId } from './fsync.js';

/**
 * The integrity of a FileSink directory: every epoch file has a checksum file, and the checksums form a chain
 * over all epochs in id order, so a deleted, truncated, altered or foreign epoch breaks it. The chain's head
 * after epoch n is the sink's receipt for checkpoint n, stored inside that checkpoint; on restore it says
 * exactly what the committed output up to there must be, its last epoch included.
 */

/** File names of a FileSink directory, by kind. */
export const EPOCH_FILE = {
  data: /^epoch-(\d{20})\.jsonl$/,
  sum: /^epoch-(\d{20})\.sum$/,
  pendingData: /^epoch-(\d{20})\.jsonl\.pending$/,
  pendingSum: /^epoch-(\d{20})\.sum\.pending$/,
} as const;

export const dataName = (epoch: number): string => `epoch-${paddedId(epoch)}.jsonl`;
export const sumName = (epoch: number): string => `epoch-${paddedId(epoch)}.sum`;
export const pendingDataName = (epoch: number): string => `${dataName(epoch)}.pending`;
export const pendingSumName = (epoch: number): string => `${sumName(epoch)}.pending`;

/** The chain after some epoch: its head, and what it covers. */
export interface ChainPoint {
  /** The last epoch covered; null before the first. */
  readonly epoch: number | null;
  /** How many epochs it covers. */
  readonly epochs: number;
  /** How many output elements (lines) they hold. */
  readonly records: number;
  /** The head: SHA-256 (hex) of the previous head, the epoch id and the epoch file's SHA-256; '' before the first. */
  readonly chain: string;
}

/** The chain before any epoch. */
export const GENESIS: ChainPoint = Object.freeze({ epoch: null, epochs: 0, records: 0, chain: '' });

/** What `epoch-<id>.sum` holds (one JSON line). */
export interface EpochSum {
  readonly format: typeof SUM_FORMAT;
  readonly version: 1;
  readonly epoch: number;
  /** The epoch before it in the chain; null for the first. */
  readonly previous: number | null;
  /** The name of the codec its lines are written with. */
  readonly codec: string;
  /** Lines in the epoch file. */
  readonly records: number;
  /** Bytes in the epoch file. */
  readonly bytes: number;
  /** SHA-256 (hex) of the epoch file. */
  readonly sha256: string;
  /** The chain after it. */
  readonly chain: string;
  /** Epochs up to and including it. */
  readonly epochs: number;
  /** Lines up to and including it. */
  readonly totalRecords: number;
}

const SUM_FORMAT = 'rxjs-sluice.filesink.epoch';
const RECEIPT_FORMAT = 'rxjs-sluice.filesink';

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The chain after appending an epoch whose file has the given SHA-256 and number of lines. */
export function extend(before: ChainPoint, epoch: number, digest: string, records: number): ChainPoint {
  return { epoch, epochs: before.epochs + 1, records: before.records + records, chain: sha256(`${before.chain}\n${epoch}\n${digest}`) };
}

/** The checksum file of an epoch written after `before`, and the chain after it. */
export function sealEpoch(before: ChainPoint, epoch: number, codec: string, data: Buffer): { sum: EpochSum; point: ChainPoint } {
  const digest = sha256(data);
  const records = countLines(data);
  const point = extend(before, epoch, digest, records);
  return {
    sum: { format: SUM_FORMAT, version: 1, epoch, previous: before.epoch, codec, records, bytes: data.length, sha256: digest, chain: point.chain, epochs: point.epochs, totalRecords: point.records },
    point,
  };
}

export function pointOf(sum: EpochSum): ChainPoint {
  return { epoch: sum.epoch, epochs: sum.epochs, records: sum.totalRecords, chain: sum.chain };
}

export function serializeSum(sum: EpochSum): string {
  return `${JSON.stringify(sum)}\n`;
}

export function parseSum(text: string): EpochSum | undefined {
  const value = parseObject(text);
  if (value === undefined || value['format'] !== SUM_FORMAT || value['version'] !== 1) return undefined;
  const counts = ['epoch', 'records', 'bytes', 'epochs', 'totalRecords'].every((k) => isCount(value[k]));
  const previous = value['previous'];
  if (!counts || (previous !== null && !isCount(previous)) || typeof value['codec'] !== 'string') return undefined;
  if (!isHex(value['sha256']) || !isHex(value['chain'])) return undefined;
  return value as unknown as EpochSum;
}

/** The receipt of a checkpoint: the chain after its epoch, as one line of JSON. */
export function serializeReceipt(point: ChainPoint): string {
  return JSON.stringify({ format: RECEIPT_FORMAT, version: 1, epoch: point.epoch, epochs: point.epochs, records: point.records, chain: point.chain });
}

export function parseReceipt(text: string): ChainPoint | undefined {
  const value = parseObject(text);
  if (value === undefined || value['format'] !== RECEIPT_FORMAT || value['version'] !== 1) return undefined;
  const { epoch, epochs, records, chain } = value;
  if ((epoch !== null && !isCount(epoch)) || !isCount(epochs) || !isCount(records) || (chain !== '' && !isHex(chain))) return undefined;
  return { epoch: epoch as number | null, epochs: epochs as number, records: records as number, chain: chain as string };
}

/** A file as read for verification: its bytes, or why it could not be read (ENOENT: it does not exist). */
export type FileRead = Buffer | { readonly error: unknown };

/**
 * Checks committed epochs one at a time, in ascending id order, each against its checksum file and against the
 * chain of the epochs before it. O(1) memory beyond the epoch being checked.
 */
export class EpochVerifier {
  /** The chain after the last epoch checked. */
  point: ChainPoint = GENESIS;

  constructor(
    private readonly dir: string,
    /** The checkpoint being restored, for messages; undefined when reading the output. */
    private readonly checkpointId: number | undefined,
  ) {}

  /** Checks the next epoch; returns its checksum file. Throws FileSinkCorruptError naming the epoch and file. */
  next(epoch: number, data: FileRead, sum: FileRead): EpochSum {
    const dataFile = join(this.dir, dataName(epoch));
    const sumFile = join(this.dir, sumName(epoch));
    if (!Buffer.isBuffer(sum)) {
      if (isMissing(sum.error)) {
        throw this.corrupt(epoch, sumFile, Buffer.isBuffer(data)
          ? 'has no checksum file: it was not written by this FileSink, or its checksum file was deleted'
          : 'is missing (deleted?)');
      }
      throw this.corrupt(epoch, sumFile, `has a checksum file that cannot be read (${messageOf(sum.error)})`, sum.error);
    }
    if (!Buffer.isBuffer(data)) {
      if (isMissing(data.error)) throw this.corrupt(epoch, dataFile, 'is missing (deleted?), though its checksum file is there');
      throw this.corrupt(epoch, dataFile, `cannot be read (${messageOf(data.error)})`, data.error);
    }
    const parsed = parseSum(sum.toString('utf8'));
    if (parsed === undefined || parsed.epoch !== epoch) throw this.corrupt(epoch, sumFile, 'has a damaged checksum file');
    const last = this.point.epoch;
    if (parsed.previous !== last) {
      if (last !== null && (parsed.previous === null || parsed.previous < last)) {
        throw this.corrupt(last, join(this.dir, dataName(last)), `is not part of the committed output: epoch ${epoch} follows ${parsed.previous ?? 'no epoch'}`);
      }
      throw this.corrupt(parsed.previous!, join(this.dir, dataName(parsed.previous!)), `is missing (deleted?): epoch ${epoch} follows it`);
    }
    if (data.length !== parsed.bytes) {
      throw this.corrupt(epoch, dataFile, data.length < parsed.bytes
        ? `is truncated: ${data.length} of its ${parsed.bytes} bytes are left`
        : `has ${data.length - parsed.bytes} bytes more than were committed`);
    }
    const digest = sha256(data);
    if (digest !== parsed.sha256) throw this.corrupt(epoch, dataFile, 'was altered: its content does not match its checksum');
    const next = extend(this.point, epoch, digest, parsed.records);
    if (next.chain !== parsed.chain || next.epochs !== parsed.epochs || next.records !== parsed.totalRecords || countLines(data) !== parsed.records) {
      throw this.corrupt(epoch, sumFile, 'has a checksum file that does not continue the chain of the epochs before it');
    }
    this.point = next;
    return parsed;
  }

  /** Checks that the epochs checked end where a receipt says the output ends. */
  matches(receipt: ChainPoint): void {
    const { point } = this;
    if (receipt.epoch !== null && (point.epoch === null || point.epoch < receipt.epoch)) {
      throw this.corrupt(receipt.epoch, join(this.dir, dataName(receipt.epoch)),
        `is missing (deleted?): the checkpoint's receipt says the output ends with it, after ${receipt.epochs} epoch(s) and ${receipt.records} line(s); ` +
          `the directory ends ${point.epoch === null ? 'before any epoch' : `with epoch ${point.epoch}`}`);
    }
    if (point.epoch !== receipt.epoch || point.chain !== receipt.chain || point.epochs !== receipt.epochs || point.records !== receipt.records) {
      const epoch = point.epoch ?? 0;
      throw this.corrupt(epoch, join(this.dir, dataName(epoch)),
        `does not end the output the checkpoint's receipt describes (${receipt.epochs} epoch(s) ending with ${receipt.epoch ?? 'none'}, ` +
          `${receipt.records} line(s)); found ${point.epochs} epoch(s), ${point.records} line(s)`);
    }
  }

  private corrupt(epoch: number, file: string, reason: string, cause?: unknown): FileSinkCorruptError {
    return new FileSinkCorruptError(this.dir, file, epoch, this.checkpointId, reason, cause);
  }
}

/** The ids of a kind of file among directory entries, ascending. */
export function idsOf(names: readonly string[], pattern: RegExp): number[] {
  const ids: number[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (match !== null) ids.push(Number(match[1]));
  }
  return ids.sort((a, b) => a - b);
}

export function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function countLines(data: Buffer): number {
  let lines = 0;
  for (let at = data.indexOf(10); at !== -1; at = data.indexOf(10, at + 1)) lines++;
  return lines;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
const isHex = (value: unknown): value is string => typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
