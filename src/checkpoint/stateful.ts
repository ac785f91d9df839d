import { Observable, type OperatorFunction } from 'rxjs';
import { type CheckpointBarrier } from '../elements/streamElement.js';
import { CheckpointBindingError } from './CheckpointBindingError.js';
import { CheckpointRestoreError } from './CheckpointRestoreError.js';
import { describe } from '../shared/describe.js';

/** The operators that hold state a checkpoint must capture. */
export type StatefulKind = 'asyncWaitOrdered' | 'asyncWaitUnordered' | 'asyncWaitKeyed' | 'asyncBatchOrdered' | 'asyncBatchUnordered' | 'keyedTimers' | 'withWatermarks';

/**
 * What a stateful operator gets when a checkpointable pipeline binds it: its restored state, and the place to
 * put its snapshots. One handle per operator per run, so two pipelines never see each other's state.
 *
 * This object, PipelineBinding and BindingSlot are shared between copies of the package (an ES module and a
 * CommonJS build loaded side by side): change them only compatibly, and raise BINDING_PROTOCOL otherwise.
 */
export interface OperatorCheckpointHandle {
  /** The operator's state decoded from the restored checkpoint; undefined on a fresh start, null after a final checkpoint. */
  readonly restored: unknown;
  /** The id of the restored checkpoint, for error messages; undefined on a fresh start. */
  readonly restoredFrom: number | undefined;
  /**
   * Records the operator's state for checkpoint `checkpointId`. Called when the barrier reaches the operator,
   * before it is forwarded. The value is encoded at once, so later mutations cannot leak into the checkpoint.
   * A barrier that is not one of the pipeline's in-flight checkpoints is ignored.
   */
  snapshot(checkpointId: number, state: unknown): void;
  /**
   * Called by the operator when its input has completed but it has not (it is flushing calls in flight, or
   * waiting for timers): from then until it ends, the pipeline may hand it a barrier through `take`, which
   * snapshots and forwards it as if it had come from upstream. This is how interval checkpoints continue after
   * the source has ended. Called with null when the operator's subscription ends (statefulOperator does that).
   */
  draining(take: ((barrier: CheckpointBarrier) => void) | null): void;
}

/** A running pipeline as its stateful operators see it while they are subscribed. */
export interface PipelineBinding {
  /**
   * Binds a stateful operator being subscribed to this pipeline and returns its handle; throws a
   * CheckpointBindingError when it cannot be bound (not one of pipe()'s arguments, or subscribed twice).
   */
  register(operator: object, kind: string, id: string | undefined): OperatorCheckpointHandle;
  /**
   * True when `operator` is one of this pipeline's own stateful operators, not bound yet, subscribed after the
   * pipeline's synchronous subscribe (an operator before it subscribes late) but before the source opened.
   */
  awaits(operator: object): boolean;
  /** True while barrier `checkpointId` of this pipeline is on its way to the end. */
  inFlight(checkpointId: number): boolean;
}

/**
 * The process-wide place where a pipeline announces itself to its operators (on globalThis, under a
 * Symbol.for key, so that every copy of the package finds the same one).
 */
interface BindingSlot {
  /** The version of this protocol; copies with another one cannot work together. */
  readonly protocol: number;
  /** The pipeline whose operators are being subscribed right now (during its synchronous subscribe); else null. */
  current: PipelineBinding | null;
  /** Every running pipeline, for telling their barriers from hand-made ones. */
  readonly live: Set<PipelineBinding>;
}

/** The version of the binding protocol this copy speaks. */
const BINDING_PROTOCOL = 1;
/** Where the BindingSlot lives on globalThis. */
const SLOT_KEY = Symbol.for('rxjs-sluice.checkpoint-binding');
/** The property that carries a {@link StatefulDescriptor} on a stateful operator function (any copy). */
const STATEFUL = Symbol.for('rxjs-sluice.stateful');

/** The process-wide BindingSlot, created on first use; a CheckpointBindingError if another copy made it differently. */
export function bindingSlot(): BindingSlot {
  const holder = globalThis as { [SLOT_KEY]?: BindingSlot };
  const slot = holder[SLOT_KEY];
  if (slot === undefined) {
    const created: BindingSlot = { protocol: BINDING_PROTOCOL, current: null, live: new Set() };
    Object.defineProperty(holder, SLOT_KEY, { value: created, enumerable: false, writable: false, configurable: false });
    return created;
  }
  if (slot.protocol !== BINDING_PROTOCOL) {
    throw new CheckpointBindingError(
      slot.protocol,
      `two copies of rxjs-sluice that cannot work together are loaded (checkpoint binding protocol ${String(slot.protocol)} and ${BINDING_PROTOCOL}); install one version`,
    );
  }
  return slot;
}

/** What checkpointable reads off a stateful operator function when the pipeline is built. */
export interface StatefulDescriptor {
  readonly kind: StatefulKind;
  readonly id: string | undefined;
}

/**
 * Builds a stateful operator: `build(handle)` makes the operator for one subscription, with `handle` when it is
 * subscribed as part of a checkpointable pipeline and null otherwise. The binding happens at subscribe time, not
 * through the elements: a pipeline publishes itself in the BindingSlot while it subscribes its operators, and
 * each stateful operator registers there as it is subscribed. Nothing rides on the barrier objects, so copying
 * elements (`map(e => ({ ...e }))`, structuredClone, a JSON round trip) or loading the package twice cannot
 * unbind an operator.
 */
export function statefulOperator<F extends OperatorFunction<never, unknown>>(
  kind: StatefulKind,
  id: string | undefined,
  build: (handle: OperatorCheckpointHandle | null) => F,
): F {
  /** The operator outside any pipeline, built once. */
  const unbound = build(null) as unknown as OperatorFunction<unknown, unknown>;
  const operator = (source: Observable<unknown>): Observable<unknown> =>
    new Observable<unknown>((subscriber) => {
      let handle: OperatorCheckpointHandle | null = null;
      try {
        const slot = bindingSlot();
        let binding = slot.current;
        if (binding === null) {
          for (const pipeline of slot.live) {
            if (!pipeline.awaits(operator)) continue;
            if (binding !== null) {
              throw new CheckpointBindingError(
                { kind, id },
                `the ${kind}${id === undefined ? '' : ` (id ${describe(id)})`} is subscribed late, and two running pipelines are waiting for it; give each pipeline its own operator`,
              );
            }
            binding = pipeline;
          }
        }
        if (binding !== null) handle = binding.register(operator, kind, id);
      } catch (err) {
        subscriber.error(err);
        return;
      }
      if (handle !== null) {
        const bound = handle;
        subscriber.add(() => bound.draining(null)); // it has ended: no more barriers for it
      }
      // The same subscriber, passed on: no extra layer per element.
      (handle === null ? unbound : (build(handle) as unknown as OperatorFunction<unknown, unknown>))(source).subscribe(subscriber);
    });
  const descriptor: StatefulDescriptor = { kind, id };
  Object.defineProperty(operator, STATEFUL, { value: descriptor });
  return operator as unknown as F;
}

/** The descriptor of a stateful operator (made by any copy of the package), or undefined for any other function. */
export function statefulDescriptorOf(operator: unknown): StatefulDescriptor | undefined {
  if (typeof operator !== 'function') return undefined;
  const descriptor = (operator as { [STATEFUL]?: StatefulDescriptor })[STATEFUL];
  return descriptor !== null && typeof descriptor === 'object' && typeof descriptor.kind === 'string' ? descriptor : undefined;
}

/**
 * True for a barrier of a running pipeline: `{ kind: 'barrier', checkpointId }` whose checkpoint is in flight in
 * one of them. Matched by shape, so a copied barrier is recognised too. A hand-made barrier is not, unless its id
 * happens to be in flight in a running pipeline of the same process at that moment.
 */
export function isPipelineBarrier(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const { kind, checkpointId } = value as { kind?: unknown; checkpointId?: unknown };
  if (kind !== 'barrier' || typeof checkpointId !== 'number') return false;
  for (const pipeline of bindingSlot().live) if (pipeline.inFlight(checkpointId)) return true;
  return false;
}

/**
 * The error for a stateful operator that received a running pipeline's barrier without being bound to it: it
 * was subscribed after the pipeline (inside a mergeMap inner, say), so its state would be missing from every
 * checkpoint. Null when the barrier is not a running pipeline's (a hand-made barrier simply passes).
 */
function unboundOperatorError(kind: StatefulKind, id: string | undefined, element: CheckpointBarrier): CheckpointBindingError | null {
  if (!isPipelineBarrier(element)) return null;
  return new CheckpointBindingError(
    { kind, id },
    `barrier ${element.checkpointId} of a running pipeline reached the ${kind}${id === undefined ? '' : ` (id ${describe(id)})`}, ` +
      'which is not bound to it (it was not subscribed as part of the pipeline: inside a mergeMap or switchMap inner, say), ' +
      'so its state would be missing from every checkpoint; pass it to pipe() as an argument of its own',
  );
}

/**
 * What every stateful operator does when a barrier reaches it, before forwarding it: inside a pipeline,
 * hand `state()` to the handle; outside one, check that the barrier is not a running pipeline's (see
 * unboundOperatorError). Returns the error to fail with, or null to forward the barrier. `state` is only
 * computed when a snapshot is taken.
 */
export function snapshotAtBarrier(
  handle: OperatorCheckpointHandle | null,
  kind: StatefulKind,
  id: string | undefined,
  element: CheckpointBarrier,
  state: () => unknown,
): TypeError | null {
  if (handle === null) return unboundOperatorError(kind, id, element);
  handle.snapshot(element.checkpointId, state());
  return null;
}

/** The error for restored state that does not have the shape the operator writes. */
export function malformedStateError(kind: StatefulKind, id: string | undefined, handle: OperatorCheckpointHandle, expected: string): CheckpointRestoreError {
  return new CheckpointRestoreError(
    handle.restoredFrom ?? 0, handle.restored,
    `the stored state of the ${kind} ${describe(id)} is malformed (expected ${expected}, got ${describe(handle.restored)})`,
  );
}

/** Validates the `id` option shared by the stateful operators. */
export function checkOperatorId(operator: string, id: unknown): void {
  if (id !== undefined && (typeof id !== 'string' || id.length === 0)) {
    throw new TypeError(`${operator}: option "id" must be a non-empty string, got ${describe(id)}`);
  }
}
