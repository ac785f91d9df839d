import fc from 'fast-check';
import { keyedTimersMetrics, record, watermark, type StreamElement } from 'rxjs-sluice';
import { elementMarbles, elementTestScheduler } from 'rxjs-sluice/testing';
import { collect, stream } from '../spec/support/marbles';
import { KEYED_TIMERS_SCENARIOS, MINUTE, heartbeat, tumblingSums, windowEnd, type Reading } from './keyedTimers.scenarios';
import { checkScenario } from './support/scenario';

// keyedTimers in marble diagrams: each scenario of keyedTimers.scenarios.ts (the recipes of docs/keyed-timers.md)
// must emit what its output marbles say; the same scenarios are drawn in the docs (marbles/diagrams.spec.ts).
describe('keyedTimers recipes', () => {
  it.each(KEYED_TIMERS_SCENARIOS.map((s) => [s.title, s] as const))('%s', (_title, scenario) => checkScenario(scenario));

  // 1b. The same recipe against a model, for any readings and any lagging watermark: every window of every key
  //     reports exactly the sum of its on-time readings, once; every late reading goes to the side output.
  it('tumbling one-minute sums per key: equal to a per-window model for any readings and watermarks', () => {
    const reading = fc.record({ sensor: fc.constantFrom('a', 'b', 'c'), n: fc.integer({ min: -5, max: 5 }), at: fc.integer({ min: -MINUTE, max: 5 * MINUTE }) });
    const step = fc.oneof(
      { weight: 4, arbitrary: reading.map((r) => ({ kind: 'reading' as const, ...r })) },
      { weight: 1, arbitrary: fc.integer({ min: -MINUTE, max: 6 * MINUTE }).map((t) => ({ kind: 'watermark' as const, t })) },
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        // Arrange: the model keeps, per (key, window end), the sum of the readings that came before the
        // watermark passed that end; the others are late
        const sums = new Map<string, number>();
        const lateOnes: Reading[] = [];
        let wm = -Infinity;
        const elements: StreamElement<Reading>[] = [];
        for (const s of steps) {
          if (s.kind === 'watermark') {
            elements.push(watermark(s.t));
            wm = Math.max(wm, s.t);
            continue;
          }
          const r = { sensor: s.sensor, n: s.n };
          elements.push(record(r, s.at));
          const end = windowEnd(s.at);
          if (end <= wm) lateOnes.push(r);
          else sums.set(`${s.sensor} [${end - MINUTE}, ${end}) = `, (sums.get(`${s.sensor} [${end - MINUTE}, ${end}) = `) ?? 0) + s.n);
        }
        // Act
        const out = collect(stream(...elements).pipe(tumblingSums));
        // Assert
        expect(out.error).toBeUndefined();
        const reported = out.values.flatMap((e) => (e.kind === 'record' ? [e.value] : []));
        expect([...reported].sort()).toEqual([...sums].map(([window, sum]) => `${window}${sum}`).sort());
        expect(out.values.flatMap((e) => (e.kind === 'sideOutput' ? [e.value] : []))).toEqual(lateOnes);
      }),
    );
  });

  it('heartbeat: fires the alerts it waits for, and drops none', () => {
    const metrics = keyedTimersMetrics();
    elementTestScheduler().run((helpers) => {
      // Arrange
      const { cold, expectElements } = elementMarbles(helpers);

      // Act
      const output = cold<string>('a 9999ms b 19999ms a 9999ms |').pipe(heartbeat(metrics));

      // Assert
      expectElements(output).toBe('a 9999ms b 19999ms a 39999ms x 19999ms (y|)', 'x="Heartbeat timeout:b" y="Heartbeat timeout:a"');
    });
    expect(metrics.snapshot()).toMatchObject({ processingTimersFired: 2, processingTimersDropped: 0 });
  });
});
