// Type-checked under moduleResolution bundler, as a bundler (and a browser build) resolves the package.
import { of } from 'rxjs';
import { asyncWaitOrdered, keyedTimers, toRecords, values, withWatermarks, type KeyedTimersOptions } from 'rxjs-sluice';
import { FileCheckpointStore, type FileCheckpointStoreOptions } from 'rxjs-sluice/node';

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
export { counted, store };
