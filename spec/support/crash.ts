/**
 * An in-process crash of a checkpointable pipeline over file stores and sinks, for the specs of rxjs-sluice/node.
 */
import { type Subscription } from 'rxjs';

/**
 * Crashes a run: unsubscribes it, and gives up the directory locks of its store and sink at once, as a dying
 * process would. (A run that ends closes its store and sink only once their calls have settled, and a test's
 * crash often leaves a write that never settles: without this, the restart would find the directory locked by
 * the crashed run, which in-process is still alive.)
 */
export async function crash(subscription: Subscription, ...held: ReadonlyArray<{ close(): Promise<void> }>): Promise<void> {
  subscription.unsubscribe();
  for (const resource of held) await resource.close();
}
