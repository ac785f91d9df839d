/**
 * The heap after a full gc, for the memory specs: they run without --expose-gc, so the flag is set at run time
 * and gc() is taken from a fresh context, where V8 then installs it.
 */
import { setFlagsFromString } from 'v8';
import { runInNewContext } from 'vm';

setFlagsFromString('--expose-gc');
/** A full garbage collection. */
export const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection, once the current job has ended (so WeakRef targets may go too). */
export async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
