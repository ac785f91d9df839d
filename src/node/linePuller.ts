/// <reference types="node" />
import { closeSync, constants as fsConstants, fstatSync, openSync, read } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { DONE } from '../flow/pullers.js';
import { type PullResult, type Puller } from '../flow/pullLoop.js';
import { SourcePositionError } from '../flow/SourcePositionError.js';
import { describe } from '../shared/describe.js';
import { expectInteger, optionError } from '../shared/validate.js';
import { LineTooLongError } from './LineTooLongError.js';
import { expectRegular, NON_BLOCKING } from './regularFile.js';
import { SourceReadError } from './SourceReadError.js';

/**
 * The text encodings a line file may be in: those in which a newline is the single byte 0x0A and 0x0A is never
 * part of another character, so lines are found in the bytes before they are decoded (UTF-16 is not one).
 */
export type LineEncoding = 'utf8' | 'utf-8' | 'ascii' | 'latin1' | 'binary';

const ENCODINGS: readonly string[] = ['utf8', 'utf-8', 'ascii', 'latin1', 'binary'];

/** The options of the line reader, validated (internal). */
export interface LineReadOptions {
  readonly encoding: LineEncoding;
  readonly chunkSize: number;
  readonly maxLineBytes: number;
}

/** The names of the line reader's own options, for rejectUnknownOptions. */
export const LINE_OPTIONS = ['encoding', 'chunkSize', 'maxLineBytes'] as const;

/** 64 KiB: the default read size. */
const DEFAULT_CHUNK_SIZE = 65_536;
/** 16 MiB: the default longest line. */
const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Validates the line reader's options of source `caller` (a TypeError naming the option and value). */
export function resolveLineOptions(
  caller: string,
  options: { readonly encoding?: unknown; readonly chunkSize?: unknown; readonly maxLineBytes?: unknown },
): LineReadOptions {
  const { encoding = 'utf8', chunkSize = DEFAULT_CHUNK_SIZE, maxLineBytes = DEFAULT_MAX_LINE_BYTES } = options;
  if (typeof encoding !== 'string' || !ENCODINGS.includes(encoding)) {
    throw optionError(caller, 'encoding', `one of ${ENCODINGS.map((e) => `'${e}'`).join(', ')} (a newline must be the byte 0x0A)`, encoding);
  }
  expectInteger(caller, 'chunkSize', chunkSize, 1);
  if (chunkSize > bufferConstants.MAX_LENGTH) throw optionError(caller, 'chunkSize', `an integer from 1 to ${bufferConstants.MAX_LENGTH}`, chunkSize);
  expectInteger(caller, 'maxLineBytes', maxLineBytes, 1);
  return { encoding: encoding as LineEncoding, chunkSize, maxLineBytes };
}

/** Throws a TypeError naming `caller` unless `path` is a non-empty string. */
export function expectPath(caller: string, path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0) throw new TypeError(`${caller}: path must be a non-empty string, got ${describe(path)}`);
}

/** What a {@link LineHandler} returns for a line that is not an item (a blank or skipped NDJSON line). */
export const SKIP: unique symbol = Symbol('rxjs-sluice.skip-line');

/**
 * Turns one line into the item to emit, or {@link SKIP}: `text` is the decoded line (without its `\n` and a
 * `\r` before it), `start` the byte offset where it starts, `position` the byte offset after its `\n` (the
 * file's size for a last line without one). What it throws errors the output.
 */
export type LineHandler<T> = (text: string, start: number, position: number) => T | typeof SKIP;

/**
 * Opens `path` at byte offset `position` and returns the puller of its lines (internal: the one line reader of
 * fileLinesSource and ndjsonSource). Throws a SourcePositionError for a position that is not an integer >= 0 or
 * lies past the end of the file, and a SourceReadError when the file cannot be opened or is not a regular file.
 * Whether `position` is the end of a line is checked by the first read (see LinePuller).
 *
 * Opening and closing are synchronous (quick metadata calls, and so a source opened at the very end of an
 * unchanged file completes at once, which `checkpointable` relies on to tell that nothing was appended after a
 * final checkpoint); reads go through fs.read's callback.
 */
export function openLinePuller<T>(
  caller: string, path: string, position: number, options: LineReadOptions, handle: LineHandler<T>,
): Puller<T> {
  if (!Number.isSafeInteger(position) || position < 0) {
    throw new SourcePositionError(position, `${caller}: cannot open ${path} at position ${describe(position)}: positions are byte offsets, integers >= 0`);
  }
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | NON_BLOCKING);
  } catch (err) {
    throw new SourceReadError(path, position, `${caller}: cannot open ${path}: ${messageOf(err)}`, err);
  }
  try {
    let size: number;
    try {
      const stats = fstatSync(fd);
      expectRegular(path, stats);
      size = stats.size;
    } catch (err) {
      throw new SourceReadError(path, position, `${caller}: cannot read ${path}: ${messageOf(err)}`, err);
    }
    if (position > size) {
      throw new SourcePositionError(position,
        `${caller}: cannot open ${path} at byte ${position}: the file has only ${size} bytes (it changed since the checkpoint was taken)`);
    }
    return new LinePuller(caller, path, fd, position, position === size, options, handle);
  } catch (err) {
    closeQuietly(fd);
    throw err;
  }
}

/** An empty view, for a puller that has no chunk yet or has been released. */
const NO_BYTES = Buffer.alloc(0);
/** What LinePuller.scanned answers when the bytes read so far hold no complete line: read a chunk. */
const NEED_BYTES: unique symbol = Symbol('need-bytes');
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * The lines of an open file from a byte offset (internal). `next()` answers synchronously while the current
 * chunk holds a complete line, and with a promise when a chunk must be read. Lines are found in the bytes
 * (0x0A) and each is decoded once, whole, so a character split across two chunks is decoded intact. A line
 * that spans chunks is kept as copied pieces and joined once (each byte is copied at most twice), and never
 * beyond `maxLineBytes`.
 *
 * Concurrency: one `next()` at a time (the PullLoop's contract), so at most one read is in flight; it reads
 * into the one reusable buffer, which holds nothing needed any more (complete lines were decoded, and the
 * tail of the last line was copied out). `close()` during a read only marks the file: the read's callback
 * closes it, so the descriptor is never closed (and reused by the process) under a pending read.
 */
class LinePuller<T> implements Puller<T> {
  /** The open file, or -1 once closed. */
  private fd: number;
  /** The buffer every chunk is read into. */
  private readonly chunk: Buffer;
  /** The bytes of the current chunk: chunk.subarray(0, bytes read). */
  private view: Buffer = NO_BYTES;
  /** The file offset of view[0]. */
  private chunkOffset: number;
  /** The index in `view` where the current line (or the part of it in this chunk) starts. */
  private scan = 0;
  /** The file offset of the next read. */
  private readOffset: number;
  /** The parts of the current line found in earlier chunks, copied out of the reused buffer. */
  private readonly pieces: Buffer[] = [];
  /** Their total length in bytes. */
  private pieceBytes = 0;
  /** The file offset where the current line starts. */
  private lineStart: number;
  /** True once a read returned no bytes (or the file was opened at its very end): the file ends at readOffset. */
  private eof: boolean;
  /** True while a read is in flight. */
  private reading = false;
  /** True when close() came during a read: the read's callback closes the file. */
  private closeRequested = false;
  /** True until the first read has checked that the byte before the opening position is a '\n'. */
  private checkLineEnd: boolean;
  /** True for UTF-8, whose byte-order mark at the start of the file is dropped. */
  private readonly utf8: boolean;

  constructor(
    private readonly caller: string,
    private readonly path: string,
    fd: number,
    position: number,
    atEnd: boolean,
    private readonly options: LineReadOptions,
    private readonly handle: LineHandler<T>,
  ) {
    this.fd = fd;
    this.utf8 = options.encoding === 'utf8' || options.encoding === 'utf-8';
    this.eof = atEnd;
    // Opened inside the file, the first read starts one byte early to check that the position ends a line.
    this.checkLineEnd = position > 0 && !atEnd;
    this.readOffset = this.checkLineEnd ? position - 1 : position;
    this.chunkOffset = this.readOffset;
    this.lineStart = position;
    this.chunk = atEnd ? NO_BYTES : Buffer.allocUnsafe(options.chunkSize);
  }

  next(): PullResult<T> | Promise<PullResult<T>> {
    const result = this.scanned();
    return result === NEED_BYTES ? this.readOn() : result;
  }

  close(): void {
    if (this.reading) this.closeRequested = true;
    else this.release();
  }

  /**
   * Reads chunks until they give an item or the end. One flat loop: a run of chunks that gives no item (a long
   * line, skipped lines) does not chain a promise per chunk.
   */
  private async readOn(): Promise<PullResult<T>> {
    for (;;) {
      await this.readChunk();
      const result = this.scanned();
      if (result !== NEED_BYTES) return result;
    }
  }

  /** What the bytes read so far give: the next item, the end (the file is then closed), or NEED_BYTES. */
  private scanned(): PullResult<T> | typeof NEED_BYTES {
    for (;;) {
      if (this.fd === -1) return DONE;
      const view = this.view;
      if (this.scan < view.length) {
        const newline = view.indexOf(NEWLINE, this.scan);
        if (newline === -1) {
          this.keepTail();
        } else {
          const item = this.lineEndingAt(newline);
          if (item !== SKIP) return { done: false, value: item };
          continue;
        }
      }
      if (!this.eof) return NEED_BYTES;
      if (this.pieceBytes === 0) {
        this.release();
        return DONE;
      }
      // The last line has no '\n': it ends at the end of the file.
      const end = this.lineStart + this.pieceBytes;
      const item = this.emitLine(this.join(NO_BYTES), end);
      if (item !== SKIP) return { done: false, value: item };
    }
  }

  /** The line whose '\n' is view[newline]: decoded, handed to the handler. */
  private lineEndingAt(newline: number): T | typeof SKIP {
    const view = this.view;
    const scan = this.scan;
    this.scan = newline + 1;
    const position = this.chunkOffset + newline + 1;
    if (this.pieceBytes === 0) {
      this.checkLength(newline - scan);
      const end = newline > scan && view[newline - 1] === CARRIAGE_RETURN ? newline - 1 : newline;
      return this.decoded(view.toString(this.options.encoding, scan, end), position);
    }
    this.checkLength(this.pieceBytes + newline - scan);
    return this.emitLine(this.join(view.subarray(scan, newline)), position);
  }

  /** The pieces of the current line and its `last` part, as one buffer (the pieces are let go). */
  private join(last: Buffer): Buffer {
    if (last.length > 0) this.pieces.push(last);
    const whole = Buffer.concat(this.pieces, this.pieceBytes + last.length);
    this.pieces.length = 0;
    this.pieceBytes = 0;
    return whole;
  }

  /** A line assembled from pieces: its '\r' removed, decoded, handed to the handler. */
  private emitLine(bytes: Buffer, position: number): T | typeof SKIP {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === CARRIAGE_RETURN ? bytes.length - 1 : bytes.length;
    return this.decoded(bytes.toString(this.options.encoding, 0, end), position);
  }

  private decoded(text: string, position: number): T | typeof SKIP {
    const start = this.lineStart;
    this.lineStart = position;
    // A UTF-8 byte-order mark at the very start of the file is not part of the first line (as in readline and
    // most JSON readers); positions stay byte offsets.
    if (start === 0 && text.charCodeAt(0) === 0xfeff && this.utf8) text = text.slice(1);
    return this.handle(text, start, position);
  }

  /** The rest of the chunk is the beginning of a line: copied out, as the buffer is read into again. */
  private keepTail(): void {
    const view = this.view;
    const length = view.length - this.scan;
    this.checkLength(this.pieceBytes + length);
    const piece = Buffer.allocUnsafe(length);
    view.copy(piece, 0, this.scan);
    this.pieces.push(piece);
    this.pieceBytes += length;
    this.scan = view.length;
  }

  /** Fails when the current line already has more than maxLineBytes (before its '\n'). */
  private checkLength(bytes: number): void {
    if (bytes > this.options.maxLineBytes) {
      throw new LineTooLongError(this.caller, this.path, this.lineStart, this.options.maxLineBytes);
    }
  }

  /** Reads the next chunk at readOffset; a failure rejects with a SourceReadError. */
  private readChunk(): Promise<void> {
    const offset = this.readOffset;
    this.reading = true;
    return new Promise<void>((resolve, reject) => {
      read(this.fd, this.chunk, 0, this.chunk.length, offset, (err, bytesRead) => {
        this.reading = false;
        if (this.closeRequested) {
          this.release(); // closed during the read: the puller answers DONE, which nobody reads
          resolve();
          return;
        }
        if (err !== null) {
          reject(new SourceReadError(this.path, offset, `${this.caller}: cannot read ${this.path} at byte ${offset}: ${err.message}`, err));
          return;
        }
        this.view = this.chunk.subarray(0, bytesRead);
        this.chunkOffset = offset;
        this.scan = 0;
        this.readOffset = offset + bytesRead;
        if (bytesRead === 0) this.eof = true;
        if (this.checkLineEnd) {
          this.checkLineEnd = false;
          const failure = this.lineEndFailure();
          if (failure !== null) {
            reject(failure);
            return;
          }
          this.scan = 1;
        }
        resolve();
      });
    });
  }

  /** The first chunk starts at the byte before the opening position: it must be a '\n'. */
  private lineEndFailure(): SourcePositionError | null {
    const position = this.lineStart;
    if (this.view.length === 0) {
      return new SourcePositionError(position,
        `${this.caller}: cannot open ${this.path} at byte ${position}: the file ends before it (it changed since the checkpoint was taken)`);
    }
    if (this.view[0] !== NEWLINE) {
      return new SourcePositionError(position,
        `${this.caller}: cannot open ${this.path} at byte ${position}: it is not the end of a line (the file changed since the checkpoint was taken)`);
    }
    return null;
  }

  /** Closes the file (once) and lets the buffers go. */
  private release(): void {
    if (this.fd === -1) return;
    closeQuietly(this.fd);
    this.fd = -1;
    this.view = NO_BYTES;
    this.pieces.length = 0;
    this.pieceBytes = 0;
  }
}

/** Closes a read-only descriptor; there is nothing to flush, so a failure loses nothing and has no one to tell. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // See above.
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
