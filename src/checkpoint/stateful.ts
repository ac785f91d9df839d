import { type OperatorFunction } from 'rxjs';
import { type CheckpointBarrier } from '../elements/streamElement.js';
import { CheckpointRestoreError } from './CheckpointRestoreError.js';
import { describe } from '../shared/describe.js';

/** The operators that hold state a checkpoint must capture. */
export type StatefulKind = 'asyncWaitOrdered' | 'asyncWaitUnordered' | 'keyedTimers' | 'withWatermarks';

/**
 * What a stateful operator gets when a checkpointable pipeline binds it: its restored state, and the place to
 * put its snapshots. One handle per operator per run, so two pipelines never see each other's state.
 */
export interface OperatorCheckpointHandle {
  /** The operator's state decoded from the restored checkpoint; undefined on a fresh start, null after a final checkpoint. */
  readonly restored: unknown;
  /** The id of the restored checkpoint, for error messages; undefined on a fresh start. */
  readonly restoredFrom: number | undefined;
  /**
   * Records the operator's state for checkpoint `checkpointId`. Called when the barrier reaches the operator,
   * before it is forwarded. The value is encoded at once, so later mutations cannot leak into the checkpoint.
   */
  snapshot(checkpointId: number, state: unknown): void;
}

/** Hidden on every stateful operator function: how checkpointable finds, checks and binds it. */
export interface StatefulDescriptor {
  readonly kind: StatefulKind;
  readonly id: string | undefined;
  /** The same operator, wired to a run's handle. */
  bind(handle: OperatorCheckpointHandle): OperatorFunction<never, unknown>;
}

/** The property that carries a {@link StatefulDescriptor}. */
export const STATEFUL = Symbol('rxjs-sluice.stateful');
/** Marks barriers injected by checkpointable (non-enumerable, so records and barriers still compare equal). */
const FROM_CHECKPOINTABLE = Symbol('rxjs-sluice.checkpointable-barrier');

/** Builds an operator and attaches its descriptor. `build(null)` is the operator outside any checkpointable pipeline. */
export function statefulOperator<F extends OperatorFunction<never, unknown>>(
  kind: StatefulKind,
  id: string | undefined,
  build: (handle: OperatorCheckpointHandle | null) => F,
): F {
  const operator = build(null);
  const descriptor: StatefulDescriptor = { kind, id, bind: (handle) => build(handle) };
  Object.defineProperty(operator, STATEFUL, { value: descriptor });
  return operator;
}

/** The descriptor of a stateful operator, or undefined for any other function. */
export function statefulDescriptorOf(operator: unknown): StatefulDescriptor | undefined {
  return typeof operator === 'function' ? (operator as { [STATEFUL]?: StatefulDescriptor })[STATEFUL] : undefined;
}

/** A barrier that checkpointable injects. */
export function checkpointableBarrier(checkpointId: number): CheckpointBarrier {
  const element: CheckpointBarrier = { kind: 'barrier', checkpointId };
  Object.defineProperty(element, FROM_CHECKPOINTABLE, { value: true });
  return element;
}

/** True for a barrier injected by checkpointable (even where it arrives looking like a plain value). */
export function isPipelineBarrier(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { [FROM_CHECKPOINTABLE]?: boolean })[FROM_CHECKPOINTABLE] === true;
}

/**
 * The error for a stateful operator that a checkpointable pipeline's barrier reached without the operator
 * having been bound: it sits inside a composed operator, where checkpointable could not see it. Its state
 * would silently be missing from every checkpoint, so the pipeline fails instead. Null when the barrier did
 * not come from checkpointable (a hand-made barrier simply passes).
 */
function unboundOperatorError(kind: StatefulKind, id: string | undefined, element: CheckpointBarrier): TypeError | null {
  if (!isPipelineBarrier(element)) return null;
  return new TypeError(
    `${kind}${id === undefined ? '' : ` (id ${describe(id)})`}: a checkpointable pipeline's barrier reached this stateful operator, ` +
      'but the pipeline cannot see it (it is inside a composed operator), so its state would be missing from every checkpoint; ' +
      'pass it to pipe() as an argument of its own',
  );
}

/**
 * What every stateful operator does when a barrier reaches it, before forwarding it: inside a pipeline,
 * hand `state()` to the handle; outside one, check that the barrier is not a pipeline's (see
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
