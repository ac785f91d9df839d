import { Observable, VirtualTimeScheduler, asyncScheduler, queueScheduler, type Subscription } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  asyncWaitMetrics, keyedTimers, keyedTimersMetrics, record, watermark, type KeyedContext, type StreamElement,
} from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';
import { thrownBy } from '../support/keyedTimersHelpers';

/** Creation-time validation of keyedTimers: the function's shape and every option. */

const key = (v: string) => v;
const processElement = (v: string, ctx: KeyedContext<string | number, string, unknown>) => ctx.emit(v);
const validFn = { key, processElement };

describe('keyedTimers validation', () => {
  describe('fn', () => {
    // [label, fn, what the message names, how the bad value is rendered]
    const invalid: [string, unknown, string, string][] = [
      ['undefined', undefined, 'fn', 'got undefined'],
      ['null', null, 'fn', 'got null'],
      ['a number', 42, 'fn', 'got 42'],
      ['a string', 'key', 'fn', 'got "key"'],
      ['a function', function process() {}, 'fn', 'a function (process)'],
      ['an empty object', {}, 'fn.key', 'got undefined'],
      ['an object without processElement', { key }, 'fn.processElement', 'got undefined'],
      ['an object without key', { processElement }, 'fn.key', 'got undefined'],
      ['key that is a string', { key: 'id', processElement }, 'fn.key', 'got "id"'],
      ['key that is an object', { key: { id: 1 }, processElement }, 'fn.key', 'got {"id":1}'],
      ['processElement that is a number', { key, processElement: 3 }, 'fn.processElement', 'got 3'],
      ['processElement that is null', { key, processElement: null }, 'fn.processElement', 'got null'],
      ['onTimer that is a string', { key, processElement, onTimer: 'later' }, 'fn.onTimer', 'got "later"'],
      ['onTimer that is null', { key, processElement, onTimer: null }, 'fn.onTimer', 'got null'],
      ['onTimer that is an object', { key, processElement, onTimer: {} }, 'fn.onTimer', 'got {}'],
      ['initialState that is a number', { key, processElement, initialState: 0 }, 'fn.initialState', 'got 0'],
      ['initialState that is null', { key, processElement, initialState: null }, 'fn.initialState', 'got null'],
      ['initialState that is an object', { key, processElement, initialState: { n: 0 } }, 'fn.initialState', 'got {"n":0}'],
    ];

    it.each(invalid)('rejects fn that is %s with a TypeError naming keyedTimers, %s and the value', (_label, fn, named, got) => {
      // Act
      const error = thrownBy(() => keyedTimers(fn as never));

      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain('keyedTimers:');
      expect(error.message).toContain(named);
      expect(error.message).toContain(got);
    });

    it('accepts fn without onTimer, with onTimer explicitly undefined, and with onTimer', () => {
      expect(() => keyedTimers(validFn)).not.toThrow();
      expect(() => keyedTimers({ ...validFn, onTimer: undefined })).not.toThrow();
      expect(() => keyedTimers({ ...validFn, onTimer: () => undefined })).not.toThrow();
      expect(() => keyedTimers({ ...validFn, initialState: undefined })).not.toThrow();
      expect(() => keyedTimers({ ...validFn, initialState: () => 0 })).not.toThrow();
    });

    it('accepts an instance of a class whose methods live on the prototype, and calls them with that instance', () => {
      // Arrange
      class Prefixer {
        constructor(private readonly prefix: string) {}
        key(v: string): string {
          return v;
        }
        processElement(v: string, ctx: KeyedContext<string | number, string, unknown>): void {
          ctx.emit(`${this.prefix}${v}`);
        }
      }

      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<StreamElement<string>>('(a|)', { a: record('x', 1) });

        // Act
        const out = source.pipe(keyedTimers(new Prefixer('>')));

        // Assert
        expectObservable(out).toBe('(a|)', { a: record('>x', 1) });
      });
    });
  });

  describe('options', () => {
    // [label, options, option named in the message, how the bad value is rendered]
    const invalid: [string, unknown, string, string][] = [
      ['options a number', 5, 'options', 'got 5'],
      ['options null', null, 'options', 'got null'],
      ['options a string', 'wait', 'options', 'got "wait"'],
      ['options an array', [], 'options', 'got an array of length 0'],
      ['scheduler {}', { scheduler: {} }, 'scheduler', 'got {}'],
      ['scheduler null', { scheduler: null }, 'scheduler', 'got null'],
      ['scheduler a number', { scheduler: 1 }, 'scheduler', 'got 1'],
      ['scheduler without schedule()', { scheduler: { now: () => 0 } }, 'scheduler', 'got {}'],
      ['scheduler whose now is not a function', { scheduler: { now: 0, schedule: () => undefined } }, 'scheduler', 'got {"now":0}'],
      ["processingTimersOnComplete 'keep'", { processingTimersOnComplete: 'keep' }, 'processingTimersOnComplete', 'got "keep"'],
      ["processingTimersOnComplete 'FIRE'", { processingTimersOnComplete: 'FIRE' }, 'processingTimersOnComplete', 'got "FIRE"'],
      ['processingTimersOnComplete true', { processingTimersOnComplete: true }, 'processingTimersOnComplete', 'got true'],
      ['processingTimersOnComplete null', { processingTimersOnComplete: null }, 'processingTimersOnComplete', 'got null'],
      ["eventTimersOnComplete 'wait'", { eventTimersOnComplete: 'wait' }, 'eventTimersOnComplete', 'got "wait"'],
      ["eventTimersOnComplete 'Drop'", { eventTimersOnComplete: 'Drop' }, 'eventTimersOnComplete', 'got "Drop"'],
      ['eventTimersOnComplete 0', { eventTimersOnComplete: 0 }, 'eventTimersOnComplete', 'got 0'],
      ['eventTimersOnComplete null', { eventTimersOnComplete: null }, 'eventTimersOnComplete', 'got null'],
      ['requireTimestamps a string', { requireTimestamps: 'yes' }, 'requireTimestamps', 'got "yes"'],
      ['requireTimestamps 1', { requireTimestamps: 1 }, 'requireTimestamps', 'got 1'],
      ['requireTimestamps null', { requireTimestamps: null }, 'requireTimestamps', 'got null'],
      ['metrics {}', { metrics: {} }, 'metrics', 'got {}'],
      ['metrics null', { metrics: null }, 'metrics', 'got null'],
      ['metrics from asyncWaitMetrics()', { metrics: asyncWaitMetrics() }, 'metrics', 'got {"started":0'],
      ['metrics a snapshot of keyedTimersMetrics()', { metrics: keyedTimersMetrics().snapshot() }, 'metrics', 'got {"records":0'],
    ];

    it.each(invalid)('rejects %s with a TypeError naming keyedTimers, the option and the value', (_label, options, option, got) => {
      // Act
      const error = thrownBy(() => keyedTimers(validFn, options as never));

      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain('keyedTimers:');
      expect(error.message).toContain(`"${option}"`);
      expect(error.message).toContain(got);
    });

    it.each([
      ['a misspelt option', { processingTimerOnComplete: 'fire' }, 'processingTimerOnComplete'],
      ['an option of another operator', { timeout: 100 }, 'timeout'],
      ['an unknown option next to valid ones', { scheduler: asyncScheduler, capacity: 2 }, 'capacity'],
    ])('rejects %s with a TypeError naming keyedTimers and the key', (_label, options, unknownKey) => {
      // Act
      const error = thrownBy(() => keyedTimers(validFn, options as never));

      // Assert
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toContain('keyedTimers:');
      expect(error.message).toContain(`unknown option "${unknownKey}"`);
    });

    it('throws before anything is subscribed', () => {
      // Arrange
      let subscribed = false;
      const source = new Observable<StreamElement<string>>(() => {
        subscribed = true;
      });

      // Act / Assert
      expect(() => source.pipe(keyedTimers(validFn, { eventTimersOnComplete: 'wait' as never }))).toThrow(TypeError);
      expect(() => source.pipe(keyedTimers({ key } as never))).toThrow(TypeError);
      expect(subscribed).toBe(false);
    });

    it.each([
      ['no options', undefined],
      ['empty options', {}],
      ['explicit undefined for every option', {
        scheduler: undefined, processingTimersOnComplete: undefined, eventTimersOnComplete: undefined, requireTimestamps: undefined, metrics: undefined,
        id: undefined,
      }],
      ['requireTimestamps true', { requireTimestamps: true }],
      ['requireTimestamps false', { requireTimestamps: false }],
      ["processingTimersOnComplete 'drop'", { processingTimersOnComplete: 'drop' }],
      ["processingTimersOnComplete 'fire'", { processingTimersOnComplete: 'fire' }],
      ["processingTimersOnComplete 'wait'", { processingTimersOnComplete: 'wait' }],
      ["eventTimersOnComplete 'fire'", { eventTimersOnComplete: 'fire' }],
      ["eventTimersOnComplete 'drop'", { eventTimersOnComplete: 'drop' }],
      ['asyncScheduler', { scheduler: asyncScheduler }],
      ['queueScheduler', { scheduler: queueScheduler }],
      ['a VirtualTimeScheduler', { scheduler: new VirtualTimeScheduler() }],
      ['a TestScheduler', { scheduler: new TestScheduler(() => undefined) }],
      ['a plain object with now() and schedule()', { scheduler: { now: (): number => 0, schedule: (): Subscription => asyncScheduler.schedule(() => undefined) } }],
      ['metrics from keyedTimersMetrics()', { metrics: keyedTimersMetrics() }],
      ['every option at once', {
        scheduler: asyncScheduler, processingTimersOnComplete: 'wait', eventTimersOnComplete: 'drop', requireTimestamps: true, metrics: keyedTimersMetrics(),
        id: 'kt',
      }],
    ])('accepts %s', (_label, options) => {
      expect(() => keyedTimers(validFn, options as never)).not.toThrow();
    });

    it('runs with every valid option given', () => {
      // Arrange
      const metrics = keyedTimersMetrics();
      newScheduler().run(({ cold, expectObservable }) => {
        const source = cold<StreamElement<string>>('(aW|)', { a: record('x', 1), W: watermark(1) });

        // Act
        const out = source.pipe(keyedTimers(validFn, {
          scheduler: asyncScheduler, processingTimersOnComplete: 'wait', eventTimersOnComplete: 'drop', metrics,
        }));

        // Assert
        expectObservable(out).toBe('(aW|)', { a: record('x', 1), W: watermark(1) });
      });
      expect(metrics.records).toBe(1);
    });
  });
});
