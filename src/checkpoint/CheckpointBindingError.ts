/**
 * A checkpointable pipeline cannot take consistent checkpoints of its stateful operators, so its output errors
 * instead of checkpointing without some operator's state:
 * - a stateful operator is hidden inside a composed operator (it is subscribed with the pipeline, but is not
 *   one of `pipe()`'s arguments), is subscribed twice, or is not subscribed while the pipeline is (an operator
 *   before it subscribes late: `subscribeOn`, `delaySubscription`);
 * - a stateful operator that is not bound to the pipeline (subscribed later, inside a `mergeMap` inner, say)
 *   receives one of the pipeline's barriers;
 * - a barrier reached the end of the pipeline without passing through a stateful operator, or never reached it
 *   (an operator dropped or reordered it: every barrier must pass every operator, in order);
 * - two copies of rxjs-sluice that cannot work together are loaded in one process.
 *
 * It extends `TypeError`: each case is a pipeline built in a way checkpoints cannot support.
 *
 * ## Example
 * ```ts
 * import { CheckpointBindingError } from 'rxjs-sluice';
 * const explain = (e: unknown) =>
 *   e instanceof CheckpointBindingError ? `fix the pipeline's shape: ${e.message}` : String(e);
 * ```
 */
export class CheckpointBindingError extends TypeError {
  override readonly name = 'CheckpointBindingError';
  /** What could not be bound: the operator (`{ kind, id }`) or the barrier (`{ kind: 'barrier', checkpointId }`). */
  readonly input: unknown;

  constructor(input: unknown, message: string) {
    super(`checkpointable: ${message}`);
    this.input = input;
  }
}
