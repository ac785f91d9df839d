import { queueScheduler } from 'rxjs';
import {
  TimerLoopError, keyedTimers, record, watermark, type KeyedProcessError, type KeyedProcessFunction, type StreamElement,
  type TimeDomain,
} from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';
import { keyedErrorLike } from '../support/keyedTimersHelpers';

/**
 * A timer that onTimer registers at or below the time of the timer that is firing, in the same domain, would be
 * due at once, fire, register again, and so on without end (Flink loops forever, without yielding). keyedTimers
 * refuses the registration with a TimerLoopError, thrown inside onTimer; uncaught, it errors the output as the
 * cause of a KeyedProcessError. A later time, or the other domain, is fine.
 */

/** Stops a test from looping forever where the refusal is missing: no scenario needs this many firings. */
const RUNAWAY = 1_000;

/** The pending timer's onTimer registers, in `domain`, at `time(t)`; it counts its calls and stops at RUNAWAY. */
function reRegistering(domain: TimeDomain, time: (t: number) => number, calls: number[]): KeyedProcessFunction<string, string, string> {
  return {
    key: (k) => k,
    processElement: (_k, ctx) => {
      if (domain === 'event') ctx.timerService.registerEventTimeTimer(10);
      else ctx.timerService.registerProcessingTimeTimer(10);
    },
    onTimer: (t, ctx) => {
      calls.push(t);
      if (calls.length >= RUNAWAY) return;
      if (domain === 'event') ctx.timerService.registerEventTimeTimer(time(t));
      else ctx.timerService.registerProcessingTimeTimer(time(t));
      ctx.emit(`${ctx.key}@${t}`);
    },
  };
}

describe('keyedTimers: a timer that re-registers itself at or below its own time', () => {
  describe.each<[TimeDomain]>([['event'], ['processing']])('%s time', (domain) => {
    it.each([
      ['its own time', (t: number) => t],
      ['an earlier time', (t: number) => t - 5],
    ])('registering %s from onTimer errors the output with a TimerLoopError, after one firing', (_label, time) => {
      // Arrange
      const calls: number[] = [];
      const errors: unknown[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        // event time: W20 fires the timer at 10; processing time: the clock reaches 10
        const source = cold<StreamElement<string>>('a 19ms W 99ms |', { a: record('a', 1), W: watermark(20) });
        // Act
        const out = source.pipe(keyedTimers(reRegistering(domain, time, calls)), captureError(errors));
        // Assert
        const at = domain === 'event' ? '20ms' : '10ms';
        expectObservable(out).toBe(`${at} #`, undefined, keyedErrorLike({
          callback: 'onTimer', input: { key: 'a', timestamp: 10, timeDomain: domain }, key: 'a',
        }));
      });
      expect(calls).toEqual([10]);
      const cause = (errors[0] as KeyedProcessError).cause as TimerLoopError<string>;
      expect(cause).toBeInstanceOf(TimerLoopError);
      expect(cause.name).toBe('TimerLoopError');
      expect(cause.input).toEqual({ key: 'a', timestamp: time(10), timeDomain: domain });
      expect(cause.firing).toEqual({ key: 'a', timestamp: 10, timeDomain: domain });
      expect(cause.message).toContain(`registered a ${domain}-time timer at ${time(10)}`);
    });

    it('a later time is fine (in event time it fires in the same advance while it is due: a timer catching up)', () => {
      // Arrange: the timer at 10 re-registers 5 ms later, until 30; event time jumps from nothing to 30
      const calls: number[] = [];
      const fn = reRegistering(domain, (t) => t + 5, calls);
      const bounded: typeof fn = { ...fn, onTimer: (t, ctx) => (t < 30 ? fn.onTimer!(t, ctx) : void calls.push(t)) };
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<StreamElement<string>>('a 29ms (W|)', { a: record('a', 1), W: watermark(30) });
        // Act
        const out = source.pipe(keyedTimers(bounded, { processingTimersOnComplete: 'wait' }));
        // Assert
        const [a, b, c, d] = domain === 'event' ? [10, 15, 20, 25].map((t) => record(`a@${t}`, t)) : [10, 15, 20, 25].map((t) => record(`a@${t}`));
        if (domain === 'event') expectObservable(out).toBe('30ms (abcdW|)', { a, b, c, d, W: watermark(30) });
        else expectObservable(out).toBe('10ms a 4ms b 4ms c 4ms d 4ms (W|)', { a, b, c, d, W: watermark(30) });
      });
      expect(calls).toEqual([10, 15, 20, 25, 30]);
    });

    it('onTimer may catch the TimerLoopError: the timer is not registered, and the stream goes on', () => {
      // Arrange
      const caught: unknown[] = [];
      const calls: number[] = [];
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<StreamElement<string>>('a 19ms W 99ms |', { a: record('a', 1), W: watermark(20) });
        const fn = reRegistering(domain, (t) => t, calls);
        // Act
        const out = source.pipe(keyedTimers({
          ...fn,
          onTimer: (t, ctx) => {
            try {
              fn.onTimer!(t, ctx);
            } catch (err) {
              caught.push(err);
            }
          },
        }));
        // Assert
        expectObservable(out).toBe('20ms W 99ms |', { W: watermark(20) });
      });
      expect(calls).toEqual([10]);
      expect(caught).toEqual([expect.any(TimerLoopError)]);
    });
  });

  it('the other domain is fine: an event-time onTimer may register a processing-time timer at its own time', () => {
    // Arrange
    const fired: string[] = [];
    const source = stream<string>(record('a', 1), watermark(20));
    // Act
    const out = collect(source.pipe(keyedTimers({
      key: (k: string) => k,
      processElement: (_k, ctx) => ctx.timerService.registerEventTimeTimer(10),
      onTimer: (t, ctx) => {
        fired.push(`${ctx.timeDomain}@${t}`);
        if (ctx.timeDomain === 'event') ctx.timerService.registerProcessingTimeTimer(t);
      },
    }, { scheduler: queueScheduler, processingTimersOnComplete: 'fire' })));
    // Assert
    expect(out.error).toBeUndefined();
    expect(fired).toEqual(['event@10', 'processing@10']);
  });

  it('also at end of input, when event-time timers fire as if the watermark were +Infinity', () => {
    // Arrange
    const calls: number[] = [];
    const errors: unknown[] = [];
    const source = stream<string>(record('a', 1));
    // Act
    const out = collect(source.pipe(keyedTimers(reRegistering('event', (t) => t, calls)), captureError(errors)));
    // Assert
    expect(calls).toEqual([10]);
    expect((out.error as KeyedProcessError).cause).toBeInstanceOf(TimerLoopError);
  });

  it('a timer registered from processElement at or below the watermark is not a loop: it fires at the next watermark', () => {
    // Arrange
    const source = stream<string>(record('a', 1), watermark(20), record('a', 2), watermark(21));
    // Act
    const out = collect(source.pipe(keyedTimers<string, string, string>({
      key: (k) => k,
      processElement: (_k, ctx) => ctx.timerService.registerEventTimeTimer(10),
      onTimer: (t, ctx) => ctx.emit(`${ctx.key}@${t}`),
    })));
    // Assert
    expect(out.values).toEqual([record('a@10', 10), watermark(20), record('a@10', 10), watermark(21)]);
  });
});
