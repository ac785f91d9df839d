// Keyed state and timers in real time: sensor readings with event timestamps, a per-sensor sum for every
// 1-second window of event time (tumbling), and a heartbeat alert when a sensor is silent for 700 ms of
// processing time. Late readings go to a side output. Run it with `npm run example:timers`.
import { concat, interval, map, share, take, timer } from 'rxjs';
import { keyedTimers, keyedTimersMetrics, mainOutput, outputTag, selectTag, values, withWatermarks } from 'rxjs-sluice';

const WINDOW = 1_000;
const started = Date.now();
// A reading every 50 ms from three sensors in turn (so each reports every 150 ms); sensor-2 dies after 1.2 s,
// and the other two carry on until 2.2 s, then sensor-0 reports once more at 3.2 s. The 20th reading is
// stamped 900 ms late, behind the watermark.
const readings$ = concat(
  interval(50).pipe(take(24), map((i) => ({ sensor: `sensor-${i % 3}`, n: 1, at: Date.now() - started - (i % 20 === 19 ? 900 : 0) }))),
  interval(50).pipe(take(20), map((i) => ({ sensor: `sensor-${i % 2}`, n: 1, at: Date.now() - started }))),
  timer(1_000).pipe(map(() => ({ sensor: 'sensor-0', n: 1, at: Date.now() - started }))),
);

const late = outputTag('late');
const metrics = keyedTimersMetrics();
const windowEnd = (t) => t - (t % WINDOW) + WINDOW;

const result$ = readings$.pipe(
  withWatermarks({ timestampOf: (r) => r.at, maxOutOfOrderness: 100, interval: 100 }),
  keyedTimers(
    {
      key: (r) => r.sensor,
      processElement: (r, ctx) => {
        const ts = ctx.timerService;
        if (ctx.timestamp <= ts.currentWatermark()) return ctx.output(late, r); // its window has closed
        const state = ctx.state.value() ?? { sums: {}, deadline: undefined };
        const end = windowEnd(ctx.timestamp);
        ts.registerEventTimeTimer(end); // idempotent: one timer per (sensor, window end)
        if (state.deadline !== undefined) ts.deleteProcessingTimeTimer(state.deadline);
        const deadline = ts.currentProcessingTime() + 700;
        ts.registerProcessingTimeTimer(deadline);
        ctx.state.update({ sums: { ...state.sums, [end]: (state.sums[end] ?? 0) + r.n }, deadline });
      },
      onTimer: (t, ctx) => {
        const state = ctx.state.value();
        if (ctx.timeDomain === 'processing') {
          ctx.emit(`Heartbeat timeout:${ctx.key}`);
          ctx.state.update({ ...state, deadline: undefined });
          return;
        }
        const { [t]: sum, ...rest } = state.sums;
        ctx.emit(`${ctx.key} window [${t - WINDOW}, ${t}) = ${sum}`);
        ctx.state.update({ ...state, sums: rest });
      },
    },
    { metrics, processingTimersOnComplete: 'drop' },
  ),
  share(),
);

result$.pipe(mainOutput(), values()).subscribe((line) => console.log(`${String(Date.now() - started).padStart(5)} ms  ${line}`));
result$.pipe(selectTag(late), values()).subscribe({
  next: (r) => console.log(`${String(Date.now() - started).padStart(5)} ms  late reading from ${r.sensor} at ${r.at}`),
  complete: () => {
    const m = metrics.snapshot();
    console.log(`done: ${m.records} readings, ${m.eventTimersFired} windows closed, ${m.processingTimersFired} heartbeat alerts, `
      + `${m.sideOutputs} late, ${m.processingTimersDropped} heartbeat timers dropped at end of input`);
  },
});
