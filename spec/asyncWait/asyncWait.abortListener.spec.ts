import { NEVER, from, type Subscription } from 'rxjs';
import { asyncWaitKeyed, asyncWaitOrdered, asyncWaitUnordered, toRecords, type AsyncCallContext } from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';

/**
 * A user's abort listener that ends the subscription when a call times out (a consumer that cancels on the first
 * timeout). The timeout aborts the call's signal first; the listener then tears the operator down inside that
 * abort. The operator must stop there: no crash from a released record, and no onTimeout after teardown.
 */
describe('an abort listener that unsubscribes on a timeout', () => {
  const operators = [
    ['asyncWaitOrdered', (fn: (v: string, ctx: AsyncCallContext) => typeof NEVER, o: object) => asyncWaitOrdered(fn, o)],
    ['asyncWaitUnordered', (fn: (v: string, ctx: AsyncCallContext) => typeof NEVER, o: object) => asyncWaitUnordered(fn, o)],
    ['asyncWaitKeyed', (fn: (v: string, ctx: AsyncCallContext) => typeof NEVER, o: object) => asyncWaitKeyed(fn, { ...o, key: (v: string) => v[0]! })],
  ] as const;

  it.each(operators)('%s: tears down cleanly, and calls no onTimeout after it', (_name, operator) => {
    newScheduler().run(({ flush }) => {
      // Arrange
      const fallbacks: string[] = [];
      const output: { subscription?: Subscription } = {}; // set once subscribed; the listener ends it
      const fn = (_v: string, ctx: AsyncCallContext) => {
        ctx.signal.addEventListener('abort', () => output.subscription?.unsubscribe());
        return NEVER;
      };
      const subscription = from(['A1', 'A2', 'B1']).pipe(
        toRecords(),
        operator(fn, { timeout: 5, onTimeout: (v: string) => (fallbacks.push(v), [v]) }),
      ).subscribe();
      output.subscription = subscription;
      // Act / Assert: before, flush threw "Cannot read properties of null (reading 'timestamp')"
      expect(() => flush()).not.toThrow();
      expect(subscription.closed).toBe(true);
      expect(fallbacks).toEqual([]);
    });
  });
});
