import { NEVER, of, throwError } from 'rxjs';
import {
  AsyncCallError, AsyncTimeoutError, asyncWaitOrdered, asyncWaitUnordered, record, toRecords, type StreamElement,
} from 'rxjs-sluice';
import { errorOf, newScheduler } from '../support/marbles';

describe('AsyncCallError', () => {
  it('is an exported class', () => {
    expect(typeof AsyncCallError).toBe('function');
    expect(AsyncCallError.prototype).toBeInstanceOf(Error);
  });

  it('is what a failed call without onError produces, with name, input, cause and attempts', () => {
    // Arrange
    const cause = new Error('db down');

    // Act
    const error = errorOf(() => of(7).pipe(toRecords(), asyncWaitOrdered(() => throwError(() => cause))));

    // Assert
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(AsyncCallError);
    expect(error).not.toBeInstanceOf(AsyncTimeoutError);
    const e = error as AsyncCallError<number>;
    expect(e.name).toBe('AsyncCallError');
    expect(e.input).toBe(7);
    expect(e.cause).toBe(cause);
    expect(e.attempts).toBe(1);
  });

  it('counts every attempt, retries included', () => {
    const error = errorOf(() => of('x').pipe(
      toRecords(),
      asyncWaitUnordered(() => throwError(() => new Error('still down')), { retry: { maxRetries: 2, delay: 10 } }),
    ));

    expect(error).toBeInstanceOf(AsyncCallError);
    expect((error as AsyncCallError<string>).attempts).toBe(3);
    expect((error as AsyncCallError<string>).input).toBe('x');
  });

  it('carries a non-Error cause unchanged', () => {
    const error = errorOf(() => of(1).pipe(toRecords(), asyncWaitOrdered(() => throwError(() => 'plain reason'))));

    expect(error).toBeInstanceOf(AsyncCallError);
    expect((error as AsyncCallError).cause).toBe('plain reason');
  });

  it('has a readable message naming the operator, the attempts and the cause', () => {
    const error = errorOf(() => of(1).pipe(
      toRecords(),
      asyncWaitUnordered(() => throwError(() => new Error('db down')), { retry: { maxRetries: 1, delay: 5 } }),
    )) as AsyncCallError;

    expect(error.message).toContain('asyncWaitUnordered');
    expect(error.message).toContain('db down');
    expect(error.message).toContain('2 attempts');
    expect(String(error)).toMatch(/^AsyncCallError: /);
  });

  it('has a stack trace', () => {
    const error = errorOf(() => of(1).pipe(toRecords(), asyncWaitOrdered(() => throwError(() => new Error('x'))))) as Error;

    expect(typeof error.stack).toBe('string');
  });
});

describe('AsyncTimeoutError', () => {
  it('is an exported class', () => {
    expect(typeof AsyncTimeoutError).toBe('function');
    expect(AsyncTimeoutError.prototype).toBeInstanceOf(Error);
  });

  it('is what a timeout without onTimeout produces, with name, input, timeout, attempts and no cause', () => {
    // Act
    const error = errorOf(() => of(1).pipe(toRecords(), asyncWaitOrdered(() => NEVER, { timeout: 50 })));

    // Assert
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(AsyncTimeoutError);
    expect(error).not.toBeInstanceOf(AsyncCallError);
    const e = error as AsyncTimeoutError<number>;
    expect(e.name).toBe('AsyncTimeoutError');
    expect(e.input).toBe(1);
    expect(e.timeout).toBe(50);
    expect(e.attempts).toBe(1);
    expect(e.cause).toBeUndefined();
  });

  it('reports the failure behind a pending retry as its cause, and the attempts made', () => {
    // Arrange: attempts at 0 and 30 fail; the next retry (at 60) would start after the deadline (50).
    const failure = new Error('flaky');

    // Act
    const error = errorOf(() => of('k').pipe(
      toRecords(),
      asyncWaitUnordered(() => throwError(() => failure), { timeout: 50, retry: { maxRetries: 5, delay: 30 } }),
    ));

    // Assert
    expect(error).toBeInstanceOf(AsyncTimeoutError);
    const e = error as AsyncTimeoutError<string>;
    expect(e.input).toBe('k');
    expect(e.cause).toBe(failure);
    expect(e.attempts).toBe(2);
  });

  it('fails the output at the deadline', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const source = cold<StreamElement<number>>('a', { a: record(1) });

      const out = source.pipe(asyncWaitOrdered(() => NEVER, { timeout: 50 }));

      expectObservable(out).toBe('50ms #', undefined, expect.any(AsyncTimeoutError));
    });
  });

  it('has a readable message naming the operator, the timeout and the attempts', () => {
    const error = errorOf(() => of(1).pipe(toRecords(), asyncWaitUnordered(() => NEVER, { timeout: 75 }))) as AsyncTimeoutError;

    expect(error.message).toContain('asyncWaitUnordered');
    expect(error.message).toContain('timed out');
    expect(error.message).toContain('75 ms');
    expect(error.message).toContain('1 attempt');
    expect(String(error)).toMatch(/^AsyncTimeoutError: /);
  });
});
