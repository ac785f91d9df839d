import { keyedTimers, record, watermark, type KeyedProcessError, type StreamElement } from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';
import { keyedErrorLike } from '../support/keyedTimersHelpers';

/**
 * Which keys keyedTimers takes: a string, or a finite number. A key must survive a checkpoint, so the infinite
 * numbers (which no JSON can hold) are refused when the key selector returns them, whether or not the operator
 * takes part in checkpoints; -0 is the key 0 (as it is for a Map), and becomes 0 before any callback sees it.
 */

describe('keyedTimers keys', () => {
  describe.each([
    ['without an id', undefined],
    ['with an id', 'kt'],
  ])('%s', (_label, id) => {
    it.each([
      ['Infinity', Infinity, 'Infinity'],
      ['-Infinity', -Infinity, '-Infinity'],
      ['NaN', NaN, 'NaN'],
    ])('refuses the key %s where the key selector returns it: KeyedProcessError (callback key) naming the key', (_name, bad, named) => {
      const errors: unknown[] = [];
      const processElement = jest.fn();
      newScheduler().run(({ cold, expectObservable }) => {
        // Arrange
        const source = cold<StreamElement<number>>('ab', { a: record(1, 1), b: record(2, 2) });
        // Act
        const out = source.pipe(keyedTimers({ key: (x) => (x === 2 ? bad : x), processElement }, { id }), captureError(errors));
        // Assert: the first record passes, the second fails at its key
        expectObservable(out).toBe('-#', undefined, keyedErrorLike({ callback: 'key', input: 2, key: undefined }));
      });
      const error = errors[0] as KeyedProcessError;
      expect(error.cause).toBeInstanceOf(TypeError);
      expect(error.message).toContain(`a string or a finite number, got ${named}`);
      expect(processElement).toHaveBeenCalledTimes(1);
    });
  });

  it('treats -0 as the key 0: the callbacks see 0, and the two share state and timers', () => {
    // Arrange
    const seen: number[] = [];
    const source = stream<number>(record(-0, 1), record(0, 2), watermark(10));
    // Act
    const out = collect(source.pipe(keyedTimers<number, number, number, number>({
      key: (x) => x,
      processElement: (_x, ctx) => {
        seen.push(ctx.key);
        ctx.state.update((ctx.state.value() ?? 0) + 1);
        ctx.timerService.registerEventTimeTimer(5);
      },
      onTimer: (_t, ctx) => {
        seen.push(ctx.key);
        ctx.emit(ctx.state.value()!);
      },
    })));
    // Assert: one key, one timer, a count of 2; never -0
    expect(seen.map((k) => Object.is(k, -0))).toEqual([false, false, false]);
    expect(out.values).toEqual([record(2, 5), watermark(10)]);
  });
});
