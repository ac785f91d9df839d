import { CheckpointVersionError } from './CheckpointVersionError.js';
import { crc32 } from './crc32.js';

/**
 * A checkpoint as stored, after its checksum has been verified. Values are still encoded by the pipeline's
 * codec (`codec` names it); see docs/checkpoints.md for the format.
 *
 * ## Example
 * ```ts
 * import { MemoryCheckpointStore, readLatestCheckpoint, type StoredCheckpoint } from 'rxjs-sluice';
 * const latest: Promise<StoredCheckpoint | undefined> = readLatestCheckpoint(new MemoryCheckpointStore());
 * latest.then((c) => console.log(c ? `checkpoint ${c.checkpointId} at ${c.position}` : 'no checkpoint'));
 * ```
 */
export interface StoredCheckpoint {
  /** Its id: the number of the barrier that completed it. */
  readonly checkpointId: number;
  /** The format version it was written in. */
  readonly version: number;
  /** Scheduler time when it was completed. */
  readonly createdAt: number;
  /** The name of the codec that encoded the values below. */
  readonly codec: string;
  /** True for the checkpoint taken when the source completed and the pipeline drained. */
  readonly final: boolean;
  /** The encoded source position to resume from; null for "from the beginning". */
  readonly position: string | null;
  /** Each stateful operator's encoded snapshot, by operator id, in pipeline order. */
  readonly operators: readonly { readonly id: string; readonly kind: string; readonly state: string }[];
  /** Under `'exactly-once'`, the encoded outputs this checkpoint commits (re-released on restore); else null. */
  readonly outputs: string | null;
  /**
   * The receipt the sink's `preCommit` returned for this checkpoint, handed back to its `recover` on restore;
   * undefined when it returned none, without a sink, and in a version 1 checkpoint.
   */
  readonly receipt: string | undefined;
}

/** The `format` field of every checkpoint file. */
export const FORMAT = 'rxjs-sluice.checkpoint';
/** The format version this build writes: 2 added the sink's `receipt` to the body. */
export const FORMAT_VERSION = 2;
/** The format versions this build reads (a version 1 checkpoint has no receipt). */
export const SUPPORTED_VERSIONS: readonly number[] = [1, FORMAT_VERSION];

/** The body of a checkpoint as written: everything but the header fields and the checksum; no receipt is null. */
type Body = Omit<StoredCheckpoint, 'checkpointId' | 'version' | 'receipt'> & { readonly receipt: string | null };

/**
 * The checksum of a checkpoint. It covers the header fields as well as the body, so a flipped byte in the
 * version number reads as damage, not as a newer format. The scheme (CRC-32 over these lines) is the same
 * for every format version.
 */
function checksumOf(version: unknown, checkpointId: unknown, bodyJson: string): string {
  return `crc32:${crc32(`${FORMAT}\n${String(version)}\n${String(checkpointId)}\n${bodyJson}`)}`;
}

/** Writes a checkpoint as one line of JSON. */
export function serializeCheckpoint(checkpoint: StoredCheckpoint): string {
  const { checkpointId, createdAt, codec, final, position, operators, outputs, receipt } = checkpoint;
  const body: Body = {
    createdAt, codec, final, position, operators: operators.map(({ id, kind, state }) => ({ id, kind, state })), outputs,
    receipt: receipt ?? null,
  };
  const bodyJson = JSON.stringify(body);
  const checksum = checksumOf(FORMAT_VERSION, checkpointId, bodyJson);
  return `{"format":"${FORMAT}","version":${FORMAT_VERSION},"checkpointId":${checkpointId},"checksum":"${checksum}","body":${bodyJson}}\n`;
}

/**
 * Reads and verifies a checkpoint stored under `checkpointId`. Throws a TypeError describing the damage when
 * the text is truncated, does not parse, fails its checksum or lacks a field, and a CheckpointVersionError
 * when it is intact but of an unknown format version.
 */
export function parseCheckpoint(checkpointId: number, text: string): StoredCheckpoint {
  if (typeof text !== 'string') throw new TypeError(`checkpoint ${checkpointId}: the store returned ${typeof text}, not text`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw withCause(new TypeError(`checkpoint ${checkpointId}: not valid JSON (truncated or damaged): ${(err as Error).message}`), err);
  }
  const file = parsed as Record<string, unknown> | null;
  if (file === null || typeof file !== 'object' || file['format'] !== FORMAT) {
    throw new TypeError(`checkpoint ${checkpointId}: not an rxjs-sluice checkpoint (no "format": "${FORMAT}")`);
  }
  const body = file['body'] as Record<string, unknown> | null;
  if (body === null || typeof body !== 'object') throw new TypeError(`checkpoint ${checkpointId}: no body`);
  if (file['checksum'] !== checksumOf(file['version'], file['checkpointId'], JSON.stringify(body))) {
    throw new TypeError(`checkpoint ${checkpointId}: checksum mismatch (the file is damaged)`);
  }
  if (file['checkpointId'] !== checkpointId) {
    throw new TypeError(`checkpoint ${checkpointId}: the file says it is checkpoint ${String(file['checkpointId'])}`);
  }
  const version = file['version'] as number;
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new CheckpointVersionError(checkpointId, file['version'], SUPPORTED_VERSIONS);
  }
  const { createdAt, codec, final, position, operators, outputs, receipt } = body;
  const wellFormed =
    typeof createdAt === 'number' && typeof codec === 'string' && typeof final === 'boolean' &&
    (position === null || typeof position === 'string') && (outputs === null || typeof outputs === 'string') &&
    (version === 1 ? receipt === undefined : receipt === null || typeof receipt === 'string') &&
    Array.isArray(operators) &&
    operators.every((op: Record<string, unknown> | null) =>
      op !== null && typeof op === 'object' && typeof op['id'] === 'string' && typeof op['kind'] === 'string' && typeof op['state'] === 'string');
  if (!wellFormed) throw new TypeError(`checkpoint ${checkpointId}: a field of the body is missing or has the wrong type`);
  return {
    checkpointId, version, createdAt, codec, final, position, outputs, receipt: typeof receipt === 'string' ? receipt : undefined,
    operators: operators as StoredCheckpoint['operators'],
  };
}

/** Attaches the underlying error as `cause` (the ES2020 Error constructor takes no options). */
function withCause<E extends Error>(error: E, cause: unknown): E {
  Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  return error;
}
