// Type-checked as an ES module under moduleResolution node16: named and default imports of both entries.
import { lastValueFrom, range, toArray } from 'rxjs';
import sluice, { AsyncTimeoutError, asyncWaitOrdered, checkpointable, arraySource, toRecords, values, type AsyncWaitOptions } from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, type FileSinkOptions } from 'rxjs-sluice/node';
import { MarbleMismatchError, legend } from 'rxjs-sluice/testing';

const options: AsyncWaitOptions<number, number> = { capacity: 2, timeout: 1_000 };
const tripled: Promise<number[]> = lastValueFrom(range(0, 4).pipe(toRecords(), asyncWaitOrdered(async (x: number) => x * 3, options), values(), toArray()));
const sameOperator: typeof asyncWaitOrdered = sluice.asyncWaitOrdered;
const timeout: typeof AsyncTimeoutError = sluice.AsyncTimeoutError;
const sinkOptions: FileSinkOptions = {};
const job = checkpointable({ source: arraySource([1, 2]), store: new FileCheckpointStore('./checkpoints'), sink: new FileSink('./output', sinkOptions), every: { records: 1 } });
// @ts-expect-error: capacity is a number, so the types are resolved and not `any`
asyncWaitOrdered(async (x: number) => x, { capacity: 'two' });
const elements = legend<number>('a=1@5 W6');
const mismatch: typeof MarbleMismatchError = MarbleMismatchError;
// @ts-expect-error: legend takes text or an object, so the types are resolved and not `any`
legend(42);
export { tripled, sameOperator, timeout, job, elements, mismatch };
