import { NEVER, of, throwError } from 'rxjs';
import { AsyncCallError, AsyncTimeoutError, record, type AsyncCallContext, type StreamElement } from 'rxjs-sluice';
import { ASYNC_WAIT_OPERATORS, newScheduler } from '../support/marbles';
import { typeErrors } from '../support/typeCheck';

/**
 * Options for consumers who compile with exactOptionalPropertyTypes: every optional field accepts an explicit
 * `undefined` (say `{ timeout: config.timeout }` where the config field is optional), and the operator treats
 * that `undefined` exactly as if the field were absent.
 */

/** Every optional option, each read from a config whose field may be undefined. */
const CONSUMER_CODE = `
import { type Observable, type SchedulerLike } from 'rxjs';
import {
  asyncWaitOrdered, asyncWaitUnordered, type AsyncCallContext, type AsyncRetryOptions, type AsyncWaitMetrics,
  type AsyncWaitOptions, type AsyncWaitValuesOptions,
} from 'rxjs-sluice';

interface Config {
  capacity?: number; timeout?: number; scheduler?: SchedulerLike; metrics?: AsyncWaitMetrics; id?: string;
  onTimeout?: (value: number, ctx: AsyncCallContext) => Observable<string>;
  onError?: (error: unknown, value: number) => string[];
  retry?: AsyncRetryOptions<string>;
  retryOnError?: (error: unknown) => boolean;
  retryOnResult?: (results: readonly string[]) => boolean;
  input?: 'elements';
}
declare const cfg: Config;
declare const fn: (value: number) => Promise<string>;

const fromConfig = {
  capacity: cfg.capacity, timeout: cfg.timeout, onTimeout: cfg.onTimeout, retry: cfg.retry, onError: cfg.onError,
  scheduler: cfg.scheduler, metrics: cfg.metrics, id: cfg.id,
};
asyncWaitOrdered(fn, { ...fromConfig, input: cfg.input });
asyncWaitUnordered(fn, { timeout: cfg.timeout });
asyncWaitOrdered(fn, { input: 'values', ...fromConfig });
const options: AsyncWaitOptions<number, string> = { ...fromConfig, input: undefined };
const valuesOptions: AsyncWaitValuesOptions<number, string> = { ...fromConfig, input: 'values' };
const retry: AsyncRetryOptions<string> = { maxRetries: 2, delay: 10, retryOnError: cfg.retryOnError, retryOnResult: cfg.retryOnResult };
export { options, valuesOptions, retry };
`;

describe('asyncWait options with exactOptionalPropertyTypes', () => {
  it('accepts an explicit undefined for every optional field (a value read from an optional config field)', () => {
    // Act
    const errors = typeErrors([CONSUMER_CODE], { exactOptionalPropertyTypes: true });

    // Assert
    expect(errors).toEqual([]);
  });
});

describe.each(ASYNC_WAIT_OPERATORS)('%s: an explicit undefined option is the default', (_name, operator) => {
  const EVERY_OPTION_UNDEFINED = {
    capacity: undefined, timeout: undefined, onTimeout: undefined, retry: undefined, onError: undefined,
    scheduler: undefined, metrics: undefined, id: undefined, input: undefined,
  };

  it('capacity 100, elements in, no timeout on the (virtualised) asyncScheduler: 100 calls start, and none times out', () => {
    newScheduler().run(({ cold, expectObservable, flush }) => {
      // Arrange: 150 records whose calls never answer.
      const started: unknown[] = [];
      const records = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [String.fromCharCode(0x100 + i), record(i)]));
      const source = cold<StreamElement<number>>(`(${Object.keys(records).join('')})`, records);

      // Act
      const out = source.pipe(operator((x: number) => {
        started.push(x);
        return NEVER;
      }, EVERY_OPTION_UNDEFINED));

      // Assert: a day later, nothing has come out, and nothing has failed.
      expectObservable(out, '^ 86400000ms !').toBe('');
      flush();
      expect(started).toEqual(Array.from({ length: 100 }, (_, i) => i)); // values, not records: elements mode
    });
  });

  it('no retry and no onError: a failure errors the output with AsyncCallError after one attempt', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<number>>('(a|)', { a: record(1) });

      // Act
      const out = source.pipe(operator(() => throwError(() => new Error('down')), EVERY_OPTION_UNDEFINED));

      // Assert
      expectObservable(out).toBe('#', undefined, expect.objectContaining({ constructor: AsyncCallError, attempts: 1 }));
    });
  });

  it('no onTimeout: a timeout errors the output with AsyncTimeoutError', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<number>>('(a|)', { a: record(1) });

      // Act
      const out = source.pipe(operator(() => NEVER, { ...EVERY_OPTION_UNDEFINED, timeout: 10 }));

      // Assert
      expectObservable(out).toBe('10ms #', undefined, expect.objectContaining({ constructor: AsyncTimeoutError, timeout: 10 }));
    });
  });

  it('retry without retryOnError and retryOnResult: every error is retried, and results never are', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange: 1 fails once, then answers; 2 answers nothing, which is accepted as it is.
      const source = cold<StreamElement<number>>('(ab|)', { a: record(1), b: record(2) });
      const fn = (x: number, ctx: AsyncCallContext) => {
        if (x === 2) return of<number>();
        return ctx.attempt === 1 ? throwError(() => new Error('flaky')) : of(x);
      };
      const retry = { maxRetries: 1, delay: 5, retryOnError: undefined, retryOnResult: undefined };

      // Act
      const out = source.pipe(operator(fn, { ...EVERY_OPTION_UNDEFINED, retry }));

      // Assert
      expectObservable(out).toBe('5ms (a|)', { a: record(1) });
    });
  });
});
