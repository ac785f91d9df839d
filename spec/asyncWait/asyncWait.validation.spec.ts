import { Observable, of, throwError, timer, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AsyncCallError, asyncWaitMetrics, record, toRecords, type StreamElement } from 'rxjs-sluice';
import { ASYNC_WAIT_OPERATORS, collect, newScheduler } from '../support/marbles';

const identity = (x: number) => [x];

/** Calls `create` and returns what it threw (fails the test when nothing is thrown). */
function thrownBy(create: () => unknown): Error {
  try {
    create();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the operator factory to throw, but it did not');
}

describe.each(ASYNC_WAIT_OPERATORS)('%s', (name, operator) => {
  describe('option validation at creation', () => {
    // [label, options, option named in the message, how the bad value is rendered]
    const invalid: [string, unknown, string, string][] = [
      ['capacity 0', { capacity: 0 }, 'capacity', 'got 0'],
      ['capacity 1.5', { capacity: 1.5 }, 'capacity', 'got 1.5'],
      ['capacity -1', { capacity: -1 }, 'capacity', 'got -1'],
      ['capacity Infinity', { capacity: Infinity }, 'capacity', 'got Infinity'],
      ["capacity '3'", { capacity: '3' }, 'capacity', 'got "3"'],
      ['timeout 0', { timeout: 0 }, 'timeout', 'got 0'],
      ['timeout -5', { timeout: -5 }, 'timeout', 'got -5'],
      ['timeout NaN', { timeout: NaN }, 'timeout', 'got NaN'],
      ['timeout Infinity', { timeout: Infinity }, 'timeout', 'got Infinity'],
      ["timeout '100'", { timeout: '100' }, 'timeout', 'got "100"'],
      ['onTimeout not a function', { timeout: 10, onTimeout: 'fallback' }, 'onTimeout', 'got "fallback"'],
      ['onError not a function', { onError: 7 }, 'onError', 'got 7'],
      ['scheduler {}', { scheduler: {} }, 'scheduler', 'got {}'],
      ['metrics {}', { metrics: {} }, 'metrics', 'got {}'],
      ['retry null', { retry: null }, 'retry', 'got null'],
      ['retry.maxRetries -1', { retry: { maxRetries: -1, delay: 0 } }, 'retry.maxRetries', 'got -1'],
      ['retry.maxRetries 1.5', { retry: { maxRetries: 1.5, delay: 0 } }, 'retry.maxRetries', 'got 1.5'],
      ['retry.maxRetries missing', { retry: { delay: 0 } }, 'retry.maxRetries', 'got undefined'],
      ['retry.delay missing', { retry: { maxRetries: 1 } }, 'retry.delay', 'got undefined'],
      ['retry.delay -1', { retry: { maxRetries: 1, delay: -1 } }, 'retry.delay', 'got -1'],
      ['retry.delay NaN', { retry: { maxRetries: 1, delay: NaN } }, 'retry.delay', 'got NaN'],
      ["retry.delay '10'", { retry: { maxRetries: 1, delay: '10' } }, 'retry.delay', 'got "10"'],
      ['retry.delay.initial -1', { retry: { maxRetries: 1, delay: { initial: -1, multiplier: 2, max: 10 } } }, 'retry.delay.initial', 'got -1'],
      ['retry.delay.multiplier 0.5', { retry: { maxRetries: 1, delay: { initial: 1, multiplier: 0.5, max: 10 } } }, 'retry.delay.multiplier', 'got 0.5'],
      ['retry.delay.max below initial', { retry: { maxRetries: 1, delay: { initial: 10, multiplier: 2, max: 5 } } }, 'retry.delay.max', 'got 5'],
      ['retry.retryOnError not a function', { retry: { maxRetries: 1, delay: 0, retryOnError: true } }, 'retry.retryOnError', 'got true'],
      ['retry.retryOnResult not a function', { retry: { maxRetries: 1, delay: 0, retryOnResult: 'empty' } }, 'retry.retryOnResult', 'got "empty"'],
      ['options not an object (number)', 5, 'options', 'got 5'],
      ['options not an object (null)', null, 'options', 'got null'],
    ];

    it.each(invalid)('rejects %s with a TypeError naming the operator, the option and the value', (_label, options, option, got) => {
      // Act
      const error = thrownBy(() => operator(identity, options as never));

      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(`${name}:`);
      expect(error.message).toContain(`"${option}"`);
      expect(error.message).toContain(got);
    });

    it('rejects onTimeout without a timeout', () => {
      const onTimeout = () => [0];

      const error = thrownBy(() => operator(identity, { onTimeout }));

      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(name);
      expect(error.message).toContain('"onTimeout"');
      expect(error.message).toContain('"timeout"');
      expect(error.message).toContain('a function');
    });

    it.each([
      ['a misspelt top-level option', { timout: 100 }, 'timout'],
      ['an unknown retry option', { retry: { maxRetries: 1, delay: 0, maxRetry: 2 } }, 'maxRetry'],
      ['an unknown key inside retry.delay', { retry: { maxRetries: 1, delay: { initial: 1, multiplier: 2, max: 4, jitter: true } } }, 'jitter'],
    ])('rejects %s with a TypeError naming the operator and the key', (_label, options, key) => {
      const error = thrownBy(() => operator(identity, options as never));

      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(name);
      expect(error.message).toContain(`unknown option "${key}"`);
    });

    it.each([
      ['undefined', undefined, 'undefined'],
      ['a number', 42, 'number'],
      ['an object', {}, 'object'],
    ])('rejects fn that is %s with a TypeError naming the operator and fn', (_label, fn, type) => {
      const error = thrownBy(() => operator(fn as never));

      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain(name);
      expect(error.message).toContain('fn');
      expect(error.message).toContain(type);
    });

    it('throws before anything is subscribed', () => {
      // Arrange
      let subscribed = false;
      const source = new Observable<StreamElement<number>>(() => {
        subscribed = true;
      });

      // Act / Assert
      expect(() => source.pipe(operator(identity, { capacity: 0 }))).toThrow(TypeError);
      expect(subscribed).toBe(false);
    });

    it.each([
      ['no options', undefined],
      ['empty options', {}],
      ['capacity 1', { capacity: 1 }],
      ['timeout 1', { timeout: 1 }],
      ['a fractional timeout', { timeout: 0.5 }],
      ['onTimeout with a timeout', { timeout: 10, onTimeout: () => [0] }],
      ['maxRetries 0 with delay 0', { retry: { maxRetries: 0, delay: 0 } }],
      ['a zero backoff', { retry: { maxRetries: 2, delay: { initial: 0, multiplier: 1, max: 0 } } }],
      ['a delay function', { retry: { maxRetries: 2, delay: () => 5, retryOnError: () => true, retryOnResult: () => false } }],
      ['explicit undefined options', { capacity: undefined, timeout: undefined, retry: undefined, onError: undefined }],
      ['onError, scheduler and metrics', { onError: () => [], scheduler: new TestScheduler(() => undefined), metrics: asyncWaitMetrics() }],
    ])('accepts %s', (_label, options) => {
      expect(() => operator(identity, options as never)).not.toThrow();
    });

    it('works with the smallest valid capacity, timeout and retry settings', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<StreamElement<number>>('(ab|)', { a: record(1, 1), b: record(2, 2) });

        const out = source.pipe(operator(identity, { capacity: 1, timeout: 1, retry: { maxRetries: 0, delay: 0 } }));

        expectObservable(out).toBe('(ab|)', { a: record(1, 1), b: record(2, 2) });
      });
    });
  });

  describe('bad runtime input', () => {
    it('reports a synchronous throw from fn as AsyncCallError, after the earlier outputs', () => {
      // Arrange
      const boom = new Error('boom');
      const fn = (x: number) => {
        if (x === 3) throw boom;
        return of(x * 10);
      };

      // Act
      const out = collect(of(1, 2, 3, 4).pipe(toRecords(), operator(fn)));

      // Assert
      expect(out.values).toEqual([record(10), record(20)]);
      expect(out.error).toBeInstanceOf(AsyncCallError);
      const error = out.error as AsyncCallError<number>;
      expect(error.input).toBe(3);
      expect(error.cause).toBe(boom);
      expect(error.attempts).toBe(1);
      expect(out.completed).toBe(false);
    });

    it('retries a synchronous throw like any failure when retry is configured', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const fn = (x: number, ctx: { attempt: number }) => {
          if (ctx.attempt === 1) throw new Error('flaky');
          return [x * 10];
        };
        const source = cold<StreamElement<number>>('(a|)', { a: record(1, 5) });

        // Act
        const out = source.pipe(operator(fn, { retry: { maxRetries: 1, delay: 3 } }));

        // Assert
        expectObservable(out).toBe('---(a|)', { a: record(10, 5) });
      });
    });

    it.each([
      ['42', 42, '42'],
      ['null', null, 'null'],
      ['undefined', undefined, 'undefined'],
      ['a plain object', { answer: 42 }, '{"answer":42}'],
    ])('reports fn returning %s as AsyncCallError with a TypeError cause, without onError or retry', (_label, returned, rendered) => {
      newScheduler().run(({ flush }) => {
        // Arrange
        const fn = jest.fn((_x: number) => returned as never);
        const onError = jest.fn(() => [0]);
        const out = collect(of(1).pipe(toRecords(), operator(fn, { onError, retry: { maxRetries: 3, delay: 1 } })));

        // Act
        flush();

        // Assert
        expect(out.error).toBeInstanceOf(AsyncCallError);
        const error = out.error as AsyncCallError<number>;
        expect(error.input).toBe(1);
        expect(error.cause).toBeInstanceOf(TypeError);
        expect((error.cause as Error).message).toContain(`fn returned ${rendered}, which is not an ObservableInput`);
        expect(onError).not.toHaveBeenCalled();
        expect(fn).toHaveBeenCalledTimes(1);
        expect(out.values).toEqual([]);
      });
    });

    it('refuses a bare string from fn, onError or onTimeout, which RxJS would split into characters', () => {
      newScheduler().run(({ cold, flush }) => {
        // Arrange
        const fromFn = collect(of(1).pipe(toRecords(), operator(() => 'abc' as never)));
        const fromOnError = collect(of(1).pipe(toRecords(), operator(() => throwError(() => new Error('down')), { onError: () => 'unknown' as never })));
        const fromOnTimeout = collect(of(1).pipe(toRecords(), operator(() => cold('-----a|'), { timeout: 2, onTimeout: () => 'n/a' as never })));

        // Act
        flush();

        // Assert
        expect(fromFn.error).toBeInstanceOf(AsyncCallError);
        expect(((fromFn.error as AsyncCallError).cause as Error).message).toMatch(/fn returned the string "abc"; return \[value\] or of\(value\)/);
        expect(fromOnError.error).toBeInstanceOf(TypeError);
        expect((fromOnError.error as Error).message).toMatch(/onError returned the string "unknown"/);
        expect(fromOnTimeout.error).toBeInstanceOf(TypeError);
        expect((fromOnTimeout.error as Error).message).toMatch(/onTimeout returned the string "n\/a"/);
        expect([fromFn.values, fromOnError.values, fromOnTimeout.values]).toEqual([[], [], []]);
      });
    });

    it('reports onError returning a non-ObservableInput as a TypeError naming onError', () => {
      // Arrange
      const fn = () => throwError(() => new Error('down'));
      const onError = () => 42 as never;

      // Act
      const out = collect(of(1).pipe(toRecords(), operator(fn, { onError })));

      // Assert
      expect(out.error).toBeInstanceOf(TypeError);
      expect((out.error as Error).message).toContain('onError');
      expect((out.error as Error).message).toContain('ObservableInput');
    });

    it.each([
      ['-1', -1],
      ['NaN', NaN],
      ['Infinity', Infinity],
    ])('reports a delay function returning %s as a TypeError naming retry.delay', (_label, delay) => {
      // Arrange
      const fn = jest.fn(() => throwError(() => new Error('down')));

      // Act
      const out = collect(of(1).pipe(toRecords(), operator(fn, { retry: { maxRetries: 2, delay: () => delay } })));

      // Assert
      expect(out.error).toBeInstanceOf(TypeError);
      expect((out.error as Error).message).toContain('retry.delay');
      expect(fn).toHaveBeenCalledTimes(1);
    });

    it('reports a bare value pushed instead of a record as a TypeError mentioning toRecords', () => {
      // Arrange
      const fn = jest.fn(identity);
      const source = of(5) as unknown as Observable<StreamElement<number>>;

      // Act
      const out = collect(source.pipe(operator(fn)));

      // Assert
      expect(out.error).toBeInstanceOf(TypeError);
      expect((out.error as Error).message).toContain('toRecords');
      expect(fn).not.toHaveBeenCalled();
    });

    it('reports a null pushed instead of a record as a TypeError mentioning toRecords', () => {
      const source = of(null) as unknown as Observable<StreamElement<number>>;

      const out = collect(source.pipe(operator(identity)));

      expect(out.error).toBeInstanceOf(TypeError);
      expect((out.error as Error).message).toContain('toRecords');
    });

    it('passes what retryOnError throws downstream unchanged', () => {
      const verdict = new Error('retryOnError broke');
      const retryOnError = () => {
        throw verdict;
      };

      const out = collect(of(1).pipe(toRecords(), operator(() => throwError(() => new Error('down')), {
        retry: { maxRetries: 1, delay: 0, retryOnError },
      })));

      expect(out.error).toBe(verdict);
    });

    it('passes what retryOnResult throws downstream unchanged', () => {
      const verdict = new Error('retryOnResult broke');
      const retryOnResult = () => {
        throw verdict;
      };

      const out = collect(of(1).pipe(toRecords(), operator(identity, { retry: { maxRetries: 1, delay: 0, retryOnResult } })));

      expect(out.error).toBe(verdict);
    });

    it('passes what a delay function throws downstream unchanged', () => {
      const verdict = new Error('delay broke');
      const delay = () => {
        throw verdict;
      };

      const out = collect(of(1).pipe(toRecords(), operator(() => throwError(() => new Error('down')), {
        retry: { maxRetries: 1, delay },
      })));

      expect(out.error).toBe(verdict);
    });

    it('passes what onError throws downstream unchanged', () => {
      const verdict = new Error('onError broke');
      const onError = () => {
        throw verdict;
      };

      const out = collect(of(1).pipe(toRecords(), operator(() => throwError(() => new Error('down')), { onError })));

      expect(out.error).toBe(verdict);
    });

    it('passes the error of an onError fallback observable downstream unchanged', () => {
      const verdict = new Error('fallback failed');

      const out = collect(of(1).pipe(toRecords(), operator(() => throwError(() => new Error('down')), {
        onError: () => throwError(() => verdict),
      })));

      expect(out.error).toBe(verdict);
    });

    it('passes what onTimeout throws downstream unchanged', () => {
      newScheduler().run(({ cold, expectObservable }) => {
        const verdict = new Error('onTimeout broke');
        const onTimeout = () => {
          throw verdict;
        };
        const source = cold<StreamElement<number>>('a', { a: record(1) });

        const out = source.pipe(operator(() => timer(100).pipe(map(() => 1)), { timeout: 10, onTimeout }));

        expectObservable(out).toBe('----------#', undefined, verdict);
      });
    });
  });
});
