import { type Observable } from 'rxjs';
import {
  AsyncCallError, KeyedProcessError, keyedTimers, record, watermark, type FiredTimer, type KeyedProcessFunction, type StreamElement,
} from 'rxjs-sluice';
import { errorOf, stream } from '../support/marbles';

/** A function whose `which` callback throws `cause`; records register an event timer at their value. */
function throwingIn(which: 'key' | 'processElement' | 'onTimer', cause: unknown): KeyedProcessFunction<number, never> {
  return {
    key: (v) => {
      if (which === 'key') throw cause;
      return `k${v}`;
    },
    processElement: (v, ctx) => {
      if (which === 'processElement') throw cause;
      ctx.timerService.registerEventTimeTimer(v);
    },
    onTimer: () => {
      throw cause;
    },
  };
}

describe('KeyedProcessError', () => {
  it('is an exported class extending Error', () => {
    expect(typeof KeyedProcessError).toBe('function');
    expect(KeyedProcessError.prototype).toBeInstanceOf(Error);
  });

  describe('constructed directly', () => {
    it('carries name, callback, input, key and cause', () => {
      // Arrange
      const cause = new Error('boom');
      const input = { id: 7 };

      // Act
      const error = new KeyedProcessError('keyedTimers', 'processElement', input, 'user-1', cause);

      // Assert
      expect(error).toBeInstanceOf(Error);
      expect(error).toBeInstanceOf(KeyedProcessError);
      expect(error.name).toBe('KeyedProcessError');
      expect(error.callback).toBe('processElement');
      expect(error.input).toBe(input);
      expect(error.key).toBe('user-1');
      expect(error.cause).toBe(cause);
      expect(typeof error.stack).toBe('string');
    });

    it.each([
      ['a string key', 'processElement', 'user-1', new Error('boom'), 'keyedTimers: processElement threw for key "user-1": boom'],
      ['a number key', 'onTimer', 42, new Error('late'), 'keyedTimers: onTimer threw for key 42: late'],
      ['the string \'1\'', 'onTimer', '1', new Error('x'), 'keyedTimers: onTimer threw for key "1": x'],
      ['the key Infinity', 'processElement', Infinity, new Error('x'), 'keyedTimers: processElement threw for key Infinity: x'],
      ['the key -0', 'processElement', -0, new Error('x'), 'keyedTimers: processElement threw for key 0: x'],
      ['no key (key failed)', 'key', undefined, new TypeError('bad key'), 'keyedTimers: key threw: bad key'],
      ['a non-Error cause', 'processElement', 'a', 'plain reason', 'keyedTimers: processElement threw for key "a": plain reason'],
      ['an undefined cause', 'processElement', 'a', undefined, 'keyedTimers: processElement threw for key "a": undefined'],
    ] as const)('formats the message with %s', (_label, callback, key, cause, message) => {
      // Act
      const error = new KeyedProcessError('keyedTimers', callback, 'input', key, cause);

      // Assert
      expect(error.message).toBe(message);
      expect(String(error)).toBe(`KeyedProcessError: ${message}`);
    });

    it('keeps a timer as its input', () => {
      const timer: FiredTimer<string> = { key: 'a', timestamp: 60_000, timeDomain: 'event' };

      const error = new KeyedProcessError<number, string>('keyedTimers', 'onTimer', timer, 'a', new Error('x'));

      expect(error.input).toBe(timer);
    });
  });

  describe('as produced by keyedTimers', () => {
    it('reports a key() failure with the record value, no key and the cause', () => {
      // Arrange
      const cause = new Error('no key');

      // Act
      const error = errorOf(() => stream<number>(record(3, 1)).pipe(keyedTimers(throwingIn('key', cause))));

      // Assert
      expect(error).toBeInstanceOf(KeyedProcessError);
      expect(error).not.toBeInstanceOf(AsyncCallError);
      const e = error as KeyedProcessError<number, string>;
      expect(e.name).toBe('KeyedProcessError');
      expect(e.callback).toBe('key');
      expect(e.input).toBe(3);
      expect(e.key).toBeUndefined();
      expect(e.cause).toBe(cause);
      expect(e.message).toBe('keyedTimers: key threw: no key');
    });

    it('reports a processElement failure with the record value, its key and the cause', () => {
      const cause = new Error('cannot process');

      const error = errorOf(() => stream<number>(record(3, 1)).pipe(keyedTimers(throwingIn('processElement', cause)))) as KeyedProcessError;

      expect(error).toBeInstanceOf(KeyedProcessError);
      expect(error.callback).toBe('processElement');
      expect(error.input).toBe(3);
      expect(error.key).toBe('k3');
      expect(error.cause).toBe(cause);
      expect(error.message).toBe('keyedTimers: processElement threw for key "k3": cannot process');
    });

    it('reports an onTimer failure with the timer (key, timestamp, domain) as input', () => {
      const cause = new Error('timer broke');

      const error = errorOf(() => stream<number>(record(3, 1), watermark(5)).pipe(keyedTimers(throwingIn('onTimer', cause)))) as KeyedProcessError;

      expect(error).toBeInstanceOf(KeyedProcessError);
      expect(error.callback).toBe('onTimer');
      expect(error.input).toEqual({ key: 'k3', timestamp: 3, timeDomain: 'event' });
      expect(error.key).toBe('k3');
      expect(error.cause).toBe(cause);
      expect(error.message).toBe('keyedTimers: onTimer threw for key "k3": timer broke');
    });

    it('carries a non-Error cause unchanged', () => {
      const error = errorOf(() => stream<number>(record(3)).pipe(keyedTimers(throwingIn('processElement', 'plain reason')))) as KeyedProcessError;

      expect(error).toBeInstanceOf(KeyedProcessError);
      expect(error.cause).toBe('plain reason');
      expect(error.message).toContain('plain reason');
    });

    it('wraps a context misuse as a TypeError cause whose message ends the error message', () => {
      const fn: KeyedProcessFunction<number, never> = {
        key: () => 1,
        processElement: (_v, ctx) => ctx.timerService.registerEventTimeTimer(NaN),
      };

      const error = errorOf(() => stream<number>(record(3)).pipe(keyedTimers(fn))) as KeyedProcessError;

      expect(error).toBeInstanceOf(KeyedProcessError);
      expect(error.cause).toBeInstanceOf(TypeError);
      expect(error.message).toBe(`keyedTimers: processElement threw for key 1: ${(error.cause as TypeError).message}`);
    });

    it('is an error of the output, not a throw from subscribe', () => {
      const source = stream<number>(record(1)) as Observable<StreamElement<number>>;

      expect(() => source.pipe(keyedTimers(throwingIn('processElement', new Error('x')))).subscribe({ error: () => undefined })).not.toThrow();
    });
  });
});
