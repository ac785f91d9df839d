// Type-checked as an ES module under moduleResolution node16: named and default imports of both entries.
import { lastValueFrom, range, toArray } from 'rxjs';
import sluice, { AsyncTimeoutError, asyncWaitOrdered, checkpointable, arraySource, toRecords, values, type AsyncWaitOptions } from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, type FileSinkOptions } from 'rxjs-sluice/node';

const options: AsyncWaitOptions<number, number> = { capacity: 2, timeout: 1_000 };
const tripled: Promise<number[]> = lastValueFrom(range(0, 4).pipe(toRecords(), asyncWaitOrdered(async (x: number) => x * 3, options), values(), toArray()));
const sameOperator: typeof asyncWaitOrdered = sluice.asyncWaitOrdered;
const timeout: typeof AsyncTimeoutError = sluice.AsyncTimeoutError;
const sinkOptions: FileSinkOptions = {};
const job = checkpointable({ source: arraySource([1, 2]), store: new FileCheckpointStore('./checkpoints'), sink: new FileSink('./output', sinkOptions), every: { records: 1 } });
// @ts-expect-error: capacity is a number, so the types are resolved and not `any`
asyncWaitOrdered(async (x: number) => x, { capacity: 'two' });
export { tripled, sameOperator, timeout, job };
