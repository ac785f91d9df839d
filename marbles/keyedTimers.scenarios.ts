/**
 * keyedTimers as marble scenarios: the timer recipes that docs/keyed-timers.md shows, copied here verbatim (keep
 * the two in step), and the rule that a timer fires before the watermark that triggers it. Checked by
 * keyedTimers.marbles.spec.ts and drawn into docs/marbles/ by `npm run docs:marbles`. In the event-time scenarios,
 * event time lives in the records' timestamps and the watermarks, so frames only give the order; in the
 * processing-time ones frames are the scheduler's clock.
 */
import { filter, type Observable } from 'rxjs';
import { isRecord, keyedTimers, keyedTimersMetrics, outputTag, record, withWatermarks } from 'rxjs-sluice';
import { type MarbleScenario } from './support/scenario';

// ---- the recipes, as docs/keyed-timers.md shows them ----------------------------------------------------------

export interface Reading { sensor: string; n: number }
export const MINUTE = 60_000;
export const windowEnd = (t: number) => t - (((t % MINUTE) + MINUTE) % MINUTE) + MINUTE;
export const late = outputTag<Reading>('late');

export const tumblingSums = keyedTimers(
  {
    key: (r: Reading) => r.sensor,
    initialState: (): Record<number, number> => ({}), // window end -> sum, for the key's open windows
    processElement: (r, ctx) => {
      const end = windowEnd(ctx.timestamp);
      if (end <= ctx.timerService.currentWatermark()) return ctx.output(late, r); // its window has closed
      const sums = ctx.state.value(); // the stored object: changed in place
      sums[end] = (sums[end] ?? 0) + r.n;
      ctx.timerService.registerEventTimeTimer(end); // one timer per (key, window end): registering is idempotent
    },
    onTimer: (end, ctx) => {
      const sums = ctx.state.value();
      const sum = sums[end];
      delete sums[end];
      if (Object.keys(sums).length === 0) ctx.state.clear();
      return [`${ctx.key} [${end - MINUTE}, ${end}) = ${sum}`]; // stamped with the window end
    },
  },
  { requireTimestamps: true }, // event time: every reading has a timestamp, so ctx.timestamp is a number
);

export const everyMinute = keyedTimers(
  {
    key: (r: Reading) => r.sensor,
    initialState: (): number | undefined => undefined, // an optional state: undefined until the timer is armed
    processElement: (r, ctx) => {
      const sum = ctx.state.value();
      if (sum === undefined) ctx.timerService.registerEventTimeTimer(windowEnd(ctx.timestamp));
      ctx.state.update((sum ?? 0) + r.n);
    },
    onTimer: (end, ctx) => {
      const sum = ctx.state.value();
      ctx.state.update(0);
      // At end of input the watermark is +Infinity: a timer that always re-arms would fire forever.
      if (ctx.timerService.currentWatermark() !== Infinity) ctx.timerService.registerEventTimeTimer(end + MINUTE);
      return [`${ctx.key}=${sum}`];
    },
  },
  { requireTimestamps: true },
);

/** The heartbeat recipe; the metrics option is the test's addition. */
export const heartbeat = (metrics = keyedTimersMetrics()) => keyedTimers(
  {
    key: (sensor: string) => sensor,
    initialState: (): number | undefined => undefined, // the deadline of the key's pending timer
    processElement: (sensor, ctx) => {
      const previous = ctx.state.value(); // Flink has no "list my timers": remember the time yourself
      if (previous !== undefined) ctx.timerService.deleteProcessingTimeTimer(previous);
      const deadline = ctx.timerService.currentProcessingTime() + 60_000;
      ctx.timerService.registerProcessingTimeTimer(deadline);
      ctx.state.update(deadline);
      return [sensor];
    },
    onTimer: (_deadline, ctx) => {
      ctx.state.clear();
      return [`Heartbeat timeout:${ctx.key}`]; // processing-time output: no timestamp
    },
  },
  { processingTimersOnComplete: 'wait', metrics }, // the default, 'drop', would lose the alerts when the input ends
);

// Timers fire before the watermark that triggers them, in timestamp order: each record arms a timer 10 ms of
// event time after it. W12 passes x's timer (11) but not y's (14); X20 passes y's. Each timer's output, stamped
// with the timer's time, goes out before the watermark that fired it.
export const timersBeforeWatermark: MarbleScenario = {
  name: 'timers-before-watermark',
  title: 'Event-time timers fire before their watermark',
  operator: 'keyedTimers: processElement arms a timer at t + 10; onTimer emits "<key> timer"',
  inputs: [{ label: 'input', marble: 'a-b-W---X---|', legend: 'a=x@1 b=y@4 W12 X=W20' }],
  outputs: [{ label: 'output', marble: '----(tW)(uX)|', legend: 't="x timer"@11 W12 u="y timer"@14 X=W20' }],
  run: ([input]) => [input!.pipe(keyedTimers({
    key: (sensor: string) => sensor,
    processElement: (_sensor, ctx) => ctx.timerService.registerEventTimeTimer(ctx.timestamp! + 10),
    onTimer: (_t, ctx) => [`${ctx.key} timer`],
  }))],
};

// 1. Tumbling one-minute sums per key, one sum and one timer per window. The watermark lags: readings of the
//    second minute (d, e) arrive before it closes the first, and one of the first minute (c) arrives after them.
//    Each window still gets exactly its own readings; a reading whose window has closed (L) goes to the side
//    output. A timer's output carries the timer's timestamp (the window end); ties fire in registration order.
export const tumbling: MarbleScenario = {
  name: 'timers-tumbling-sums',
  title: 'Tumbling one-minute sums per key under a lagging watermark',
  operator: 'keyedTimers(tumblingSums)',
  inputs: [{
    label: 'input',
    marble: 'adceWV---L---(X|)',
    legend: {
      a: record({ sensor: 'a', n: 1 }, 1_000), d: record({ sensor: 'a', n: 4 }, 61_000), c: record({ sensor: 'a', n: 2 }, 30_000),
      e: record({ sensor: 'b', n: 5 }, 62_000), W: 'W59999', V: 'W60000', L: record({ sensor: 'a', n: 9 }, 10_000), X: 'W120000',
    },
  }],
  outputs: [{
    label: 'output',
    marble: '----W(xV)L---(yzX|)',
    legend: 'W59999 x="a [0, 60000) = 3"@60000 V=W60000 L=late:{"sensor":"a","n":9}@10000 '
      + 'y="a [60000, 120000) = 4"@120000 z="b [60000, 120000) = 5"@120000 X=W120000',
  }],
  run: ([input]) => [input!.pipe(tumblingSums)],
};

// 2. Emit every minute even without input: onTimer reports the sum, resets it to 0 and re-registers itself a
//    minute later, so a key that went quiet still reports 0. At completion the pending 4-minute timers fire once
//    (watermark +Infinity) and do not re-arm, or they would fire forever (as in Flink at MAX_WATERMARK).
export const periodic: MarbleScenario = {
  name: 'timers-every-minute',
  title: 'A per-key sum every minute, even without input',
  operator: 'keyedTimers(everyMinute)',
  inputs: [{ label: 'input', marble: 'ab--W----V----X----|', legend: 'a={"sensor":"a","n":1}@1000 b={"sensor":"b","n":5}@2000 W60000 V=W120000 X=W180000' }],
  outputs: [{
    label: 'output',
    marble: '----(xyW)(pqV)(rsX)(tu|)',
    legend: 'x="a=1"@60000 y="b=5"@60000 W60000 p="a=0"@120000 q="b=0"@120000 V=W120000 '
      + 'r="a=0"@180000 s="b=0"@180000 X=W180000 t="a=0"@240000 u="b=0"@240000',
  }],
  run: ([input]) => [input!.pipe(everyMinute)],
};

// 3. Heartbeat alert in processing time: every input re-arms its key's timer 60 s ahead (deleting the old one,
//    whose time the state remembers); a key silent for 60 s emits `Heartbeat timeout:<key>`.
//    processingTimersOnComplete: 'wait' keeps the timers alive after the input completes at 40 s.
//    Processing-time outputs carry no timestamp.
export const heartbeatScenario: MarbleScenario = {
  name: 'timers-heartbeat',
  title: 'Heartbeat: an alert for a key silent for 60 s (processing time)',
  operator: "keyedTimers(heartbeat, { processingTimersOnComplete: 'wait' })",
  inputs: [{ label: 'input', marble: 'a 9999ms b 19999ms a 9999ms |' }],
  outputs: [{ label: 'output', marble: 'a 9999ms b 19999ms a 39999ms x 19999ms (y|)', legend: 'x="Heartbeat timeout:b" y="Heartbeat timeout:a"' }],
  run: ([input]) => [input!.pipe(heartbeat())],
};

// The same heartbeat in event time behind withWatermarks with an idle timeout: when the whole source goes quiet,
// event time keeps following the clock, so the alert still fires. Watermarks tick every 10 s; after 20 s of
// silence event time runs on with the clock, so the tick at 70 s emits 0 + 70 000 - 0 - 1 = 69 999, which fires
// the 60 s timer: the alert at 70 s, stamped 60 s.
export const idleHeartbeat: MarbleScenario = {
  name: 'timers-idle-heartbeat',
  title: 'An event-time heartbeat on a quiet source (withWatermarks idleTimeout)',
  operator: 'withWatermarks({ interval: 10 s, idleTimeout: 20 s }) + keyedTimers + filter(isRecord)',
  inputs: [{ label: 'input', marble: 'a 199999ms |', plain: true, values: { a: { sensor: 'a', at: 0 } } }],
  outputs: [{ label: 'alerts', marble: '70000ms a 129999ms |', legend: 'a="Heartbeat timeout:a"@60000' }],
  run: ([input]) => [(input! as unknown as Observable<{ sensor: string; at: number }>).pipe(
    withWatermarks({ timestampOf: (e) => e.at, maxOutOfOrderness: 0, interval: 10_000, idleTimeout: 20_000 }),
    keyedTimers({
      key: (e) => e.sensor,
      processElement: (e, ctx) => ctx.timerService.registerEventTimeTimer(e.at + 60_000),
      onTimer: (_t, ctx) => [`Heartbeat timeout:${ctx.key}`],
    }),
    filter(isRecord),
  )],
};

/** Every keyedTimers scenario, in the order the docs show them. */
export const KEYED_TIMERS_SCENARIOS: readonly MarbleScenario[] = [timersBeforeWatermark, tumbling, periodic, heartbeatScenario, idleHeartbeat];
