// Type-checked under moduleResolution bundler, as a bundler (and a browser build) resolves the package.
import { of } from 'rxjs';
import { asyncWaitOrdered, keyedTimers, toRecords, values, withWatermarks, type KeyedTimersOptions } from 'rxjs-sluice';
import { FileCheckpointStore, type FileCheckpointStoreOptions } from 'rxjs-sluice/node';
import { elementMarbles, elementTestScheduler, type Legend } from 'rxjs-sluice/testing';

const timersOptions: KeyedTimersOptions = { id: 'count' };
const counted = of(1, 2, 3).pipe(
  withWatermarks({ timestampOf: (x: number) => x, maxOutOfOrderness: 0 }),
  keyedTimers<number, number, number, number>({ key: (x) => x % 2, processElement: (x, ctx) => ctx.emit(x) }, timersOptions),
  values(),
);
const storeOptions: FileCheckpointStoreOptions = {};
const store = new FileCheckpointStore('./checkpoints', storeOptions);
// @ts-expect-error: capacity is a number, so the types are resolved and not `any`
of(1).pipe(toRecords(), asyncWaitOrdered(async (x: number) => x, { capacity: 'two' }));
const legendText: Legend<number> = 'a=1@5 W6';
elementTestScheduler().run((helpers) => {
  const input = elementMarbles(helpers).cold<number>('a-W|', legendText);
  input.pipe(asyncWaitOrdered(async (x: number) => x));
  // @ts-expect-error: a legend is text or an object, so the types are resolved and not `any`
  elementMarbles(helpers).cold<number>('a|', 42);
});
export { counted, store };
