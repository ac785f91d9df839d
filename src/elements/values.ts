import { Observable, type OperatorFunction } from 'rxjs';
import { type StreamElement } from './streamElement.js';
import { subscribeSource } from '../shared/forwardingObserver.js';

/**
 * Unwraps records to their values and drops every other element kind: the exit from sluice operators
 * back to an ordinary Rx stream.
 *
 * ## Example
 * ```ts
 * import { of } from 'rxjs';
 * import { record, values, watermark } from 'rxjs-sluice';
 *
 * of(record('a', 1), watermark(1), record('b', 2)).pipe(values()).subscribe(console.log); // 'a', 'b'
 * ```
 */
export function values<T>(): OperatorFunction<StreamElement<T>, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      subscribeSource(source, subscriber, {
        next: (element) => {
          if (element.kind === 'record') subscriber.next(element.value);
        },
      });
    });
}
