import { Subscription, type Observer } from 'rxjs';

/** Which user function a call came from: fn itself, or one of the fallbacks. */
export type CallSource = 'fn' | 'onTimeout' | 'onError';

/** What a call reports back to its run. */
export interface CallSink<O, R> {
  /** The call completed with exactly one value: no array is made for it (the common case, `of(x)`). */
  callCompletedOne(held: R, result: O, source: CallSource): void;
  callCompleted(held: R, results: O[], source: CallSource): void;
  callErrored(held: R, error: unknown, source: CallSource): void;
}

/**
 * Collects the values of one call's ObservableInput until it completes.
 *
 * It is both an Observer and a Subscription, so `observable.subscribe(call)` uses it directly as the
 * subscriber: unsubscribing it stops even a synchronous inner observable mid-way, and once it is closed
 * (cancelled by a timeout, teardown or completion) any late value or completion is ignored.
 */
export class CallObserver<O, R> extends Subscription implements Observer<O> {
  /** The first value emitted by this call; kept out of an array, since most calls emit exactly one. */
  private first: O | undefined = undefined;
  /** Every value emitted, once there are two or more (null before); handed over, not copied, on completion. */
  private results: O[] | null = null;
  /** Values emitted so far. */
  private count = 0;

  constructor(
    private readonly sink: CallSink<O, R>,
    private readonly held: R,
    /** Whose results these are: fn's, or a fallback's. */
    private readonly source: CallSource,
  ) {
    super();
  }

  next(value: O): void {
    if (this.closed) return;
    if (++this.count === 1) this.first = value;
    else if (this.count === 2) this.results = [this.first as O, value];
    else this.results!.push(value);
  }

  error(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.sink.callErrored(this.held, err, this.source);
  }

  complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    if (this.count === 1) this.sink.callCompletedOne(this.held, this.first as O, this.source);
    else this.sink.callCompleted(this.held, this.results ?? [], this.source);
  }
}
