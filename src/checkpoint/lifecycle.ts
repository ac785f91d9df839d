import { andThen, isThenable, type MaybePromise } from './maybePromise.js';

/** What a store or a sink may implement to learn when a pipeline starts and ends using it. */
interface Lifecycle {
  open?(): MaybePromise<void>;
  close?(): MaybePromise<void>;
  ending?(): void;
}

/**
 * Stores and sinks used by a running pipeline. Two pipelines writing one store (or one sink) would restore each
 * other's state, so the second one fails at once. A WeakSet, holding no state; entries leave when a run ends.
 */
const inUse = new WeakSet<object>();
/**
 * Stores and sinks whose last run ended with work still to finish (writes in flight, then `close`): a new run
 * waits for it before it opens them, so a late write cannot overwrite a newer checkpoint and a lock is given back
 * before it is taken again.
 */
const settling = new WeakMap<object, Promise<void>>();

/**
 * The store and the sink of one run: claimed when it is subscribed, opened before anything is read, closed once
 * when it ends. `close` is called only for what was opened (an object without `open` counts as opened once the
 * run gets that far), sink first, then store: the reverse of opening.
 */
export class RunResources {
  /** The store, then the sink if any: the opening order. */
  private readonly parts: readonly Lifecycle[];
  /** How many of `parts` are open (a prefix): `close` goes to these. */
  private opened = 0;
  /** undefined before release(); the promise of a release under way; null once everything is closed. */
  private releasing: Promise<void> | null | undefined = undefined;

  constructor(store: object, sink: object | undefined) {
    this.parts = (sink === undefined ? [store] : [store, sink]) as Lifecycle[];
  }

  /** Claims the parts for this run; an error naming what is already taken, or null. Synchronous. */
  claim(): TypeError | null {
    const taken = this.parts.findIndex((part) => inUse.has(part));
    if (taken !== -1) {
      const what = taken === 0 ? 'checkpoint store' : 'sink';
      return new TypeError(`checkpointable: this ${what} is already used by a running pipeline; give each pipeline its own`);
    }
    for (const part of this.parts) inUse.add(part);
    return null;
  }

  /** Gives the claim back (the run ended); a later run may claim the parts, and waits for `settled` first. */
  unclaim(settled: Promise<void> | null): void {
    for (const part of this.parts) {
      inUse.delete(part);
      if (settled === null) continue;
      const mine = settled.then(() => {
        if (settling.get(part) === mine) settling.delete(part);
      });
      settling.set(part, mine);
    }
  }

  /**
   * Waits for a previous run's unfinished work on the parts, then opens them in order (synchronously when nothing
   * is pending and every open is synchronous). `track` wraps each open, so the run knows it is in flight.
   */
  acquire(track: <T>(step: () => MaybePromise<T>) => () => MaybePromise<T>, isClosed: () => boolean, done: () => void, fail: (err: unknown) => void): void {
    const pending = this.parts.map((part) => settling.get(part)).filter((p): p is Promise<void> => p !== undefined);
    const openFrom = (index: number): void => {
      if (isClosed()) return;
      if (index === this.parts.length) {
        done();
        return;
      }
      const part = this.parts[index]!;
      andThen(track(() => part.open?.()), () => {
        this.opened = index + 1;
        openFrom(index + 1);
      }, fail);
    };
    if (pending.length === 0) openFrom(0);
    else Promise.all(pending).then(() => openFrom(0));
  }

  /**
   * The run has ended: tells what was opened, at once (sink first), so that a successor in this process may wait
   * for the coming `close` instead of being refused. A throw goes to `onError`; every part is told.
   */
  ending(onError: (err: unknown) => void): void {
    for (let index = this.opened - 1; index >= 0; index--) {
      try {
        this.parts[index]!.ending?.();
      } catch (err) {
        onError(err);
      }
    }
  }

  /**
   * Closes what was opened, each once, sink first; every close is attempted even if one fails, and the first
   * failure goes to `onError`. Returns undefined once everything is closed (at once, when every close is
   * synchronous), else a promise that resolves (never rejects) when it is. A later call starts nothing: it
   * returns the first call's promise while that is still running.
   */
  release(onError: (err: unknown) => void): Promise<void> | undefined {
    if (this.releasing !== undefined) return this.releasing === null ? undefined : this.releasing;
    /** The first close error, boxed (an error may be any value, undefined included). */
    let firstError: { error: unknown } | null = null;
    /** Resolves the promise returned when a close answered asynchronously; null while everything was synchronous. */
    let resolveLater: (() => void) | null = null;
    let finished = false;
    const closeFrom = (index: number): void => {
      if (index < 0) {
        finished = true;
        this.releasing = null;
        if (firstError !== null) onError(firstError.error);
        resolveLater?.();
        return;
      }
      const part = this.parts[index]!;
      const onFailure = (err: unknown): void => {
        firstError ??= { error: err };
        closeFrom(index - 1);
      };
      let result: MaybePromise<void>;
      try {
        result = part.close?.();
      } catch (err) {
        onFailure(err);
        return;
      }
      if (isThenable(result)) result.then(() => closeFrom(index - 1), onFailure);
      else closeFrom(index - 1);
    };
    closeFrom(this.opened - 1);
    if (finished) return undefined;
    this.releasing = new Promise<void>((resolve) => (resolveLater = resolve));
    return this.releasing;
  }
}
