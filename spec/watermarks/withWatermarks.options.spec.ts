import { record, watermark, withWatermarks } from 'rxjs-sluice';
import { newScheduler } from '../support/marbles';
import { typeErrors } from '../support/typeCheck';

/**
 * withWatermarks options for consumers who compile with exactOptionalPropertyTypes: every optional field accepts
 * an explicit `undefined`, and the operator treats it exactly as if the field were absent.
 */

const CONSUMER_CODE = `
import { type SchedulerLike } from 'rxjs';
import { withWatermarks, type WithWatermarksOptions } from 'rxjs-sluice';

interface Config { interval?: number; idleTimeout?: number; scheduler?: SchedulerLike; id?: string; input?: 'values' }
declare const cfg: Config;
const fromConfig = { interval: cfg.interval, idleTimeout: cfg.idleTimeout, scheduler: cfg.scheduler, id: cfg.id };
const timestampOf = (e: { at: number }) => e.at;

withWatermarks({ timestampOf, maxOutOfOrderness: 0, ...fromConfig });
withWatermarks({ timestampOf, maxOutOfOrderness: 0, ...fromConfig, input: cfg.input });
withWatermarks({ timestampOf, maxOutOfOrderness: 0, ...fromConfig, input: 'elements' });
const options: WithWatermarksOptions<{ at: number }> = { timestampOf, maxOutOfOrderness: 0, ...fromConfig, input: undefined };
export { options };
`;

describe('withWatermarks options with exactOptionalPropertyTypes', () => {
  it('accepts an explicit undefined for every optional field (a value read from an optional config field)', () => {
    // Act
    const errors = typeErrors([CONSUMER_CODE], { exactOptionalPropertyTypes: true });

    // Assert
    expect(errors).toEqual([]);
  });
});

describe('withWatermarks: an explicit undefined option is the default', () => {
  it('interval 200 on the (virtualised) asyncScheduler, no idleness, plain values in', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange: 100 at 0, then 1 s of silence.
      const source = cold<number>('a 999ms |', { a: 100 });

      // Act
      const out = source.pipe(withWatermarks({
        timestampOf: (v: number) => v, maxOutOfOrderness: 10,
        interval: undefined, idleTimeout: undefined, scheduler: undefined, input: undefined, id: undefined,
      }));

      // Assert: the first tick of the 200 ms grid emits 100 - 10 - 1; the quiet source holds it there.
      expectObservable(out).toBe('a 199ms W 799ms |', { a: record(100, 100), W: watermark(89) });
    });
  });
});
