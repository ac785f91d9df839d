/// <reference types="node" />
import { type Readable } from 'node:stream';
import { DONE } from '../flow/pullers.js';
import { type PullResult, type Puller } from '../flow/pullLoop.js';
import { SourceReadError } from './SourceReadError.js';

/** What ReadablePuller.readNow answers when the stream has nothing buffered and has not ended. */
const WAIT: unique symbol = Symbol('wait');

/**
 * A Node `Readable` read with `read()` (internal, for readableSource): synchronously while it has data
 * buffered, and when `read()` returns null, with a promise that settles on the stream's next 'readable', 'end',
 * 'error' or 'close'. The four listeners are added once, when the puller is made, and wake whichever wait is
 * pending, so many waits add no listeners; 'readable', 'end' and 'close' are removed at the end or on close().
 * The 'error' listener stays: an 'error' event with no listener would crash the process, and a stream can still
 * fail while it is being destroyed.
 *
 * Concurrency: one `next()` at a time (the PullLoop's contract), so at most one wait is pending. An error that
 * comes while nobody waits (the source paused by the gate) is kept and thrown by the next `next()`.
 */
export class ReadablePuller implements Puller<unknown> {
  /** What the stream failed with, boxed (an error may be any value); null while it has not. */
  private failure: { readonly error: unknown } | null = null;
  /** Resolves the pending wait, or null when nobody waits. */
  private wake: (() => void) | null = null;
  /** True once the end was reported or close() was called: the listeners are off, next() answers DONE. */
  private finished = false;
  /** Items read so far (for the position of a SourceReadError). */
  private count = 0;

  /** The 'error' listener: keeps the first error and wakes the pending wait. */
  private readonly onError = (error: unknown): void => {
    if (this.failure === null) this.failure = { error };
    this.wakeUp();
  };
  /** The 'readable', 'end' and 'close' listener: wakes the pending wait, whose next() looks at the stream again. */
  private readonly onEvent = (): void => this.wakeUp();

  constructor(private readonly caller: string, private readonly readable: Readable) {
    readable.on('error', this.onError);
    readable.on('readable', this.onEvent);
    readable.on('end', this.onEvent);
    readable.on('close', this.onEvent);
  }

  next(): PullResult<unknown> | Promise<PullResult<unknown>> {
    const result = this.readNow();
    return result === WAIT ? this.waitAndRead() : result;
  }

  close(): void {
    this.finish();
    this.wakeUp(); // a pending wait settles; the puller answers DONE, which nobody reads
    this.readable.destroy();
  }

  /** Waits for the stream until it gives an item or ends: one flat loop, not a promise chained per wait. */
  private async waitAndRead(): Promise<PullResult<unknown>> {
    for (;;) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      const result = this.readNow();
      if (result !== WAIT) return result;
    }
  }

  /** The next item, the end, or WAIT when the stream has nothing buffered; throws what the stream failed with. */
  private readNow(): PullResult<unknown> | typeof WAIT {
    if (this.finished) return DONE;
    if (this.failure !== null) throw this.failure.error;
    const readable = this.readable;
    const chunk: unknown = readable.read();
    if (chunk !== null) {
      this.count++;
      return { done: false, value: chunk };
    }
    if (readable.readableEnded) {
      this.finish();
      return DONE;
    }
    // Destroyed with an error whose 'error' event is still to come, or destroyed without one before its end.
    const errored = (readable as { errored?: unknown }).errored;
    if (errored !== null && errored !== undefined) throw errored;
    if (readable.destroyed) {
      throw new SourceReadError(undefined, this.count,
        `${this.caller}: the stream was destroyed before its end, after ${this.count} items (without an error)`);
    }
    return WAIT;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Removes the listeners but 'error' (see the class comment). */
  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.readable.removeListener('readable', this.onEvent);
    this.readable.removeListener('end', this.onEvent);
    this.readable.removeListener('close', this.onEvent);
  }
}

/** True when `value` can be read as a Node `Readable` (duck-typed: a stream of another copy of Node's stream module counts). */
export function isReadable(value: unknown): value is Readable {
  const r = value as Partial<Readable> | null;
  return r !== null && typeof r === 'object' && typeof r.read === 'function' && typeof r.on === 'function'
    && typeof r.removeListener === 'function' && typeof r.destroy === 'function';
}
