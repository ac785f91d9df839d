// Type-checked as a CommonJS module under moduleResolution node16: import = require() and named imports.
import sluice = require('rxjs-sluice');
import { FileSink } from 'rxjs-sluice/node';
import testing = require('rxjs-sluice/testing');
import { asyncWaitUnordered, toRecords, values } from 'rxjs-sluice';
import { of } from 'rxjs';

const doubled = of(1, 2).pipe(toRecords(), asyncWaitUnordered(async (x: number) => x * 2), values());
const error: InstanceType<typeof sluice.AsyncCallError> | undefined = undefined;
const sink: FileSink = new FileSink('./output');
// @ts-expect-error: capacity is a number, so the types are resolved and not `any`
sluice.asyncWaitOrdered(async (x: number) => x, { capacity: 'two' });
const scheduler: ReturnType<typeof testing.elementTestScheduler> = testing.elementTestScheduler();
// @ts-expect-error: formatElementMarbles takes recorded frames, so the types are resolved and not `any`
testing.formatElementMarbles('a-b|');
export { doubled, error, sink, scheduler };
