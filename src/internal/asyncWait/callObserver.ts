import { Subscription, type Observer } from 'rxjs';

/** Which user function a call came from: fn itself, or one of the fallbacks. */
export type CallSource = 'fn' | 'onTimeout' | 'onError';

/** What a call reports back to its run. */
export interface CallSink<O, R> {
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
  /** Values emitted so far by this call; handed over (not copied) on completion. */
  private results: O[] = [];

  constructor(
    private readonly sink: CallSink<O, R>,
    private readonly held: R,
    /** Whose results these are: fn's, or a fallback's. */
    private readonly source: CallSource,
  ) {
    super();
  }

  next(value: O): void {
    if (!this.closed) this.results.push(value);
  }

  error(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    this.sink.callErrored(this.held, err, this.source);
  }

  complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    this.sink.callCompleted(this.held, this.results, this.source);
  }
}
