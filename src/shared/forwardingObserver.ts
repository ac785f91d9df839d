import { Subscription, type Observable, type Observer, type Subscriber } from 'rxjs';

/** Callbacks of a {@link subscribeSource} subscription. */
export interface SourceHandlers<T> {
  next(value: T): void;
  /** @default forward the error downstream */
  error?(err: unknown): void;
  /** @default complete downstream */
  complete?(): void;
}

/**
 * Subscribes an operator to its source using only public RxJS API, the way the library's own operators do.
 *
 * The observer is both an Observer and a Subscription, so RxJS uses it directly as the source's subscriber,
 * and it is added to the downstream subscriber before subscribing. A downstream that unsubscribes
 * synchronously (`take(2)` over a synchronous source) therefore stops the source mid-loop; a plain
 * `source.subscribe({ next })` would only hand back its subscription after the loop had run to the end.
 */
export function subscribeSource<T>(
  source: Observable<T>,
  downstream: Subscriber<unknown>,
  handlers: SourceHandlers<T>,
): Subscription {
  const observer = new ForwardingObserver(downstream, handlers);
  downstream.add(observer);
  source.subscribe(observer);
  return observer;
}

class ForwardingObserver<T> extends Subscription implements Observer<T> {
  constructor(
    private readonly downstream: Subscriber<unknown>,
    private readonly handlers: SourceHandlers<T>,
  ) {
    super();
  }

  next(value: T): void {
    if (!this.closed) this.handlers.next(value);
  }

  error(err: unknown): void {
    if (this.closed) return;
    this.unsubscribe();
    if (this.handlers.error) this.handlers.error(err);
    else this.downstream.error(err);
  }

  complete(): void {
    if (this.closed) return;
    this.unsubscribe();
    if (this.handlers.complete) this.handlers.complete();
    else this.downstream.complete();
  }
}
