import { checkOutputTag, type OutputTag } from '../elements/outputTag.js';
import { type KeyedContext, type TimeDomain, type TimerService, type ValueState } from './options.js';
import { type TimerKey } from './timerQueue.js';

/** What the context asks of the running operator. Every call is for the context's current key. */
export interface ContextHost<K extends TimerKey, O, S> {
  emit(value: O, timestamp: number | undefined): void;
  output(tag: string, value: unknown, timestamp: number | undefined): void;
  stateValue(key: K): S | undefined;
  stateUpdate(key: K, value: S): void;
  stateClear(key: K): void;
  registerTimer(domain: TimeDomain, key: K, time: number): void;
  deleteTimer(domain: TimeDomain, key: K, time: number): void;
  processingTime(): number;
  watermark(): number;
}

/**
 * The one context object of a keyedTimers subscription, re-pointed before every `processElement` and
 * `onTimer` call (as Flink reuses its ContextImpl), so no call allocates. Outside a call it is inactive and
 * every method that acts on a key throws, instead of acting on whichever key happens to be current.
 */
export class CallbackContext<K extends TimerKey, O, S> implements KeyedContext<K, O, S> {
  /** The current key; stale while inactive. */
  key!: K;
  /** The record's or the timer's timestamp. */
  timestamp: number | undefined;
  /** The timer's domain inside onTimer; undefined inside processElement. */
  timeDomain: TimeDomain | undefined;
  /** The timestamp emit() and output() give their records (Flink's TimestampedCollector). */
  private outputTimestamp: number | undefined;
  /** True only while a callback runs. */
  private active = false;
  readonly state: ValueState<S>;
  readonly timerService: TimerService;

  constructor(private readonly host: ContextHost<K, O, S>) {
    this.state = {
      value: () => host.stateValue(this.current('state.value')),
      update: (value) => {
        const key = this.current('state.update');
        if (value === undefined) host.stateClear(key);
        else host.stateUpdate(key, value);
      },
      clear: () => host.stateClear(this.current('state.clear')),
    };
    this.timerService = {
      currentProcessingTime: () => host.processingTime(),
      currentWatermark: () => host.watermark(),
      registerEventTimeTimer: (time) => host.registerTimer('event', this.current('registerEventTimeTimer'), checkTime('registerEventTimeTimer', time)),
      registerProcessingTimeTimer: (time) =>
        host.registerTimer('processing', this.current('registerProcessingTimeTimer'), checkTime('registerProcessingTimeTimer', time)),
      deleteEventTimeTimer: (time) => host.deleteTimer('event', this.current('deleteEventTimeTimer'), time),
      deleteProcessingTimeTimer: (time) => host.deleteTimer('processing', this.current('deleteProcessingTimeTimer'), time),
    };
  }

  /** Points the context at a key for one callback. */
  enter(key: K, timestamp: number | undefined, timeDomain: TimeDomain | undefined, outputTimestamp: number | undefined): void {
    this.key = key;
    this.timestamp = timestamp;
    this.timeDomain = timeDomain;
    this.outputTimestamp = outputTimestamp;
    this.active = true;
  }

  /** Ends the callback: from now on the context refuses to act. */
  exit(): void {
    this.active = false;
  }

  emit(value: O): void {
    this.current('emit');
    this.host.emit(value, this.outputTimestamp);
  }

  output<X>(tag: OutputTag<X>, value: X): void {
    this.current('output');
    checkOutputTag('keyedTimers: ctx.output', tag);
    this.host.output(tag.name, value, this.outputTimestamp);
  }

  private current(method: string): K {
    if (!this.active) {
      throw new Error(`keyedTimers: ctx.${method}() was called outside processElement/onTimer; the context is valid only during the call`);
    }
    return this.key;
  }
}

/**
 * Timer times are finite milliseconds, like record timestamps: a timer's time stamps its event-time output.
 * For "at end of input", register at Number.MAX_SAFE_INTEGER (Flink's Long.MAX_VALUE idiom).
 */
function checkTime(method: string, time: unknown): number {
  if (typeof time !== 'number' || !Number.isFinite(time)) {
    throw new TypeError(`keyedTimers: ${method}(time) needs a finite number of ms, got ${String(time)}`);
  }
  return time;
}
