import { keyedTimers, keyedTimersMetrics, record, watermark, type KeyedProcessError, type StreamElement } from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';
import { keyedErrorLike } from '../support/keyedTimersHelpers';

/**
 * fn.initialState: the state of a key that has none. The first value() of such a key calls it and stores the
 * result as the key's value (so in-place changes are kept, as for any stored value); clear() removes it, and the
 * next value() starts afresh. A result of undefined is not stored.
 */

describe('keyedTimers: initialState', () => {
  it('gives a new key initialState(), stores it, and keeps changes made to it in place', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    const made: unknown[] = [];
    const source = stream<string>(record('a'), record('a'), record('b'));
    // Act
    const out = collect(source.pipe(keyedTimers({
      key: (k: string) => k,
      initialState: () => {
        const state = { seen: [] as number[] };
        made.push(state);
        return state;
      },
      processElement: (_k, ctx) => {
        const state = ctx.state.value();
        state.seen.push(state.seen.length);
        return [`${ctx.key}:${state.seen.join(',')}:${metrics.keysWithState}`];
      },
    }, { metrics })));
    // Assert: one initialState() per key; a's second record sees the first one's change
    expect(out.values).toEqual([record('a:0:1'), record('a:0,1:1'), record('b:0:2')]);
    expect(made).toHaveLength(2);
  });

  it('after clear(), the next value() is a fresh initialState()', () => {
    // Arrange
    const source = stream<string>(record('a', 1), record('a', 2), watermark(10), record('a', 11));
    // Act
    const out = collect(source.pipe(keyedTimers({
      key: (k: string) => k,
      initialState: () => ({ n: 0 }),
      processElement: (_k, ctx) => {
        ctx.state.value().n++;
        ctx.timerService.registerEventTimeTimer(5);
      },
      onTimer: (_t, ctx) => {
        const { n } = ctx.state.value();
        ctx.state.clear();
        return [n];
      },
    }, { eventTimersOnComplete: 'drop' })));
    // Assert: the window [.., 5] counted 2; after it, the count starts from a fresh { n: 0 }
    expect(out.values).toEqual([record(2, 5), watermark(10)]);
  });

  it('does not store a result of undefined (an optional state)', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    const source = stream<string>(record('a'), record('a'));
    // Act
    const out = collect(source.pipe(keyedTimers({
      key: (k: string) => k,
      initialState: (): number | undefined => undefined,
      processElement: (_k, ctx) => {
        const before = ctx.state.value();
        const gauge = metrics.keysWithState;
        if (before === undefined) ctx.state.update(1);
        return [`${before}/${gauge}`];
      },
    }, { metrics })));
    // Assert
    expect(out.values).toEqual([record('undefined/0'), record('1/1')]);
  });

  it('an initialState that throws errors the output as the callback that read the state', () => {
    const boom = new Error('no seed');
    const errors: unknown[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<string>>('a', { a: record('a', 1) });
      // Act
      const out = source.pipe(keyedTimers({
        key: (k) => k,
        initialState: (): number => {
          throw boom;
        },
        processElement: (_k, ctx) => [ctx.state.value()],
      }), captureError(errors));
      // Assert
      expectObservable(out).toBe('#', undefined, keyedErrorLike({ callback: 'processElement', input: 'a', key: 'a' }));
    });
    expect((errors[0] as KeyedProcessError).cause).toBe(boom);
  });
});
