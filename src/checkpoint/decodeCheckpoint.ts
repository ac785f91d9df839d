import { describe } from '../shared/describe.js';
import { CheckpointRestoreError } from './CheckpointRestoreError.js';
import { type CheckpointCodec } from './codec.js';
import { type StoredCheckpoint } from './format.js';
import { type CheckpointedOutput } from './sink.js';
import { type StatefulDescriptor } from './stateful.js';

/** A stored checkpoint, decoded for the pipeline that restores it. */
export interface DecodedCheckpoint {
  /** Each operator's state, by id. */
  readonly states: Map<string, unknown>;
  /** The source position to reopen at; undefined for "from the beginning". */
  readonly position: unknown;
  /** The outputs it committed, to emit again ('exactly-once'); empty otherwise. */
  readonly outputs: CheckpointedOutput<unknown>[];
}

/**
 * Checks a checkpoint against the pipeline (codec, operator ids and kinds: state for an id the pipeline lacks is
 * an error, as in Flink without allowNonRestoredState) and decodes it. Throws a CheckpointRestoreError.
 */
export function decodeCheckpoint(checkpoint: StoredCheckpoint, descriptors: readonly StatefulDescriptor[], codec: CheckpointCodec): DecodedCheckpoint {
  const { checkpointId } = checkpoint;
  if (checkpoint.codec !== codec.name) {
    throw new CheckpointRestoreError(checkpointId, checkpoint.codec, `it was written with codec "${checkpoint.codec}", but the pipeline uses "${codec.name}"`);
  }
  const decode = (what: string, text: string): unknown => {
    try {
      return codec.decode(text);
    } catch (err) {
      throw new CheckpointRestoreError(checkpointId, text, `cannot decode ${what}`, err);
    }
  };
  const states = new Map<string, unknown>();
  for (const stored of checkpoint.operators) {
    const descriptor = descriptors.find((d) => d.id === stored.id);
    if (descriptor === undefined) {
      const ids = descriptors.map((d) => describe(d.id)).join(', ') || 'none';
      throw new CheckpointRestoreError(
        checkpointId, stored.id,
        `it holds state for operator id ${describe(stored.id)} (a ${stored.kind}), which the pipeline does not have (its ids: ${ids}); restoring would silently drop that state`,
      );
    }
    if (descriptor.kind !== stored.kind) {
      throw new CheckpointRestoreError(checkpointId, stored.id, `operator id ${describe(stored.id)} was a ${stored.kind} and is now a ${descriptor.kind}`);
    }
    states.set(stored.id, decode(`the state of ${describe(stored.id)}`, stored.state));
  }
  const position = checkpoint.position === null ? undefined : decode('the source position', checkpoint.position);
  if (checkpoint.outputs === null) return { states, position, outputs: [] };
  const outputs = decode('the committed outputs', checkpoint.outputs);
  if (!Array.isArray(outputs) || !outputs.every(isCheckpointedOutput)) {
    throw new CheckpointRestoreError(checkpointId, outputs, 'its committed outputs are malformed');
  }
  return { states, position, outputs };
}

function isCheckpointedOutput(value: unknown): value is CheckpointedOutput<unknown> {
  const output = value as Record<string, unknown> | null;
  if (output === null || typeof output !== 'object') return false;
  const element = output['element'] as Record<string, unknown> | null;
  return typeof output['checkpointId'] === 'number' && typeof output['sequence'] === 'number' &&
    element !== null && typeof element === 'object' && (element['kind'] === 'record' || element['kind'] === 'sideOutput');
}
