import { take } from 'rxjs';
import {
  keyedTimers, keyedTimersMetrics, record, watermark, type KeyedProcessError, type StreamElement,
} from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';
import { keyedErrorLike } from '../support/keyedTimersHelpers';

/**
 * processElement and onTimer may return an array of outputs: they are emitted in order once the callback
 * returns, exactly as ctx.emit would emit them (same timestamps, same metrics), after whatever the callback
 * emitted itself. Returning nothing (or []) emits nothing; returning anything else errors the output.
 */

describe('keyedTimers: outputs returned by the callbacks', () => {
  it('emits what processElement returns, in order, stamped with the record\'s timestamp, after its ctx.emit calls', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    const source = stream<string>(record('a', 5), record('b'));
    // Act
    const out = collect(source.pipe(keyedTimers<string, string, string>({
      key: (k) => k,
      processElement: (k, ctx) => {
        ctx.emit(`${k}:emitted`);
        return [`${k}:1`, `${k}:2`];
      },
    }, { metrics })));
    // Assert
    expect(out.values).toEqual([
      record('a:emitted', 5), record('a:1', 5), record('a:2', 5),
      record('b:emitted'), record('b:1'), record('b:2'),
    ]);
    expect(metrics.emitted).toBe(6);
    expect(out.completed).toBe(true);
  });

  it('emits what onTimer returns: stamped with an event-time timer\'s time, unstamped for a processing-time timer', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange: each record sets an event-time timer at 10 and a processing-time timer at 3
      const source = cold<StreamElement<string>>('a 19ms W', { a: record('a', 1), W: watermark(20) });
      // Act
      const out = source.pipe(keyedTimers({
        key: (k) => k,
        processElement: (_k, ctx) => {
          ctx.timerService.registerEventTimeTimer(10);
          ctx.timerService.registerProcessingTimeTimer(3);
        },
        onTimer: (t, ctx) => [`${ctx.timeDomain}@${t}`],
      }));
      // Assert
      expectObservable(out).toBe('3ms p 16ms (eW)', { p: record('processing@3'), e: record('event@10', 10), W: watermark(20) });
    });
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['an empty array', []],
  ])('emits nothing when a callback returns %s', (_label, returned) => {
    // Arrange
    const source = stream<string>(record('a', 1), watermark(5));
    // Act
    const out = collect(source.pipe(keyedTimers({
      key: (k: string) => k,
      processElement: (_k, ctx) => {
        ctx.timerService.registerEventTimeTimer(2);
        return returned as never;
      },
      onTimer: () => returned as never,
    })));
    // Assert
    expect(out.values).toEqual([watermark(5)]);
  });

  it.each<[string, unknown, string]>([
    ['a string', 'abc', 'returned "abc"'],
    ['a number', 3, 'returned 3'],
    ['null', null, 'returned null'],
    ['an object', { value: 1 }, 'returned {"value":1}'],
    ['a Set', new Set([1]), 'returned a Set'],
  ])('errors the output when processElement returns %s: KeyedProcessError with a TypeError cause', (_label, returned, named) => {
    const errors: unknown[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<string>>('ab', { a: record('a', 1), b: record('b', 2) });
      // Act
      const out = source.pipe(keyedTimers({ key: (k) => k, processElement: () => returned as never }), captureError(errors));
      // Assert
      expectObservable(out).toBe('#', undefined, keyedErrorLike({ callback: 'processElement', input: 'a', key: 'a' }));
    });
    const cause = (errors[0] as KeyedProcessError).cause as Error;
    expect(cause).toBeInstanceOf(TypeError);
    expect(cause.message).toContain(`processElement ${named}`);
    expect(cause.message).toContain('an array of outputs');
  });

  it('errors the output when onTimer returns something other than an array, reporting the timer', () => {
    const errors: unknown[] = [];
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<string>>('a 9ms W', { a: record('a', 1), W: watermark(10) });
      // Act
      const out = source.pipe(keyedTimers({
        key: (k) => k,
        processElement: (_k, ctx) => ctx.timerService.registerEventTimeTimer(5),
        onTimer: () => 'done' as never,
      }), captureError(errors));
      // Assert
      expectObservable(out).toBe('10ms #', undefined, keyedErrorLike({
        callback: 'onTimer', input: { key: 'a', timestamp: 5, timeDomain: 'event' }, key: 'a',
      }));
    });
    expect((errors[0] as KeyedProcessError).cause).toBeInstanceOf(TypeError);
  });

  it('stops emitting returned outputs once the downstream has unsubscribed', () => {
    // Arrange
    const metrics = keyedTimersMetrics();
    const source = stream<string>(record('a'), record('b'));
    // Act
    const out = collect(source.pipe(keyedTimers({ key: (k: string) => k, processElement: (k) => [`${k}1`, `${k}2`, `${k}3`] }, { metrics }), take(2)));
    // Assert
    expect(out.values).toEqual([record('a1'), record('a2')]);
    expect(metrics.emitted).toBe(2);
  });
});
