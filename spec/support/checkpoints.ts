/**
 * Shared helpers of the checkpoint specs: one run of a checkpointable pipeline, collected as it happens; a replayable
 * log that may grow while it is read (LiveLog); and the checkpoint text format (docs/checkpoints.md,
 * one JSON line `{format, version, checkpointId, checksum, body}` whose checksum is the CRC-32 of the header fields
 * and the body), written independently of the library so that forged checkpoints check its format rather than
 * repeat it. No Node APIs: usable by every spec.
 */
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import { type CheckpointedOutput, type ReplayableSource, type SourceItem } from 'rxjs-sluice';

// ---- runs ----------------------------------------------------------------------------------------------------------

/** A subscription's outcome, collected as it happens. */
export interface Run<O> {
  /** Every output, in emission order. */
  readonly outputs: CheckpointedOutput<O>[];
  /** What the run failed with (undefined while it has not failed). */
  error: unknown;
  /** Whether the run has completed. */
  completed: boolean;
  /** The run's subscription: unsubscribing it is a crash. */
  readonly subscription: Subscription;
}

/** Subscribes (one run of the pipeline) and collects everything it reports; `log` gets `emit <value>` / `error` / `complete`. */
export function start<O>(output: Observable<CheckpointedOutput<O>>, log?: string[]): Run<O> {
  const outputs: CheckpointedOutput<O>[] = [];
  const run = { outputs, error: undefined as unknown, completed: false } as Run<O>;
  (run as { subscription: Subscription }).subscription = output.subscribe({
    next: (o) => {
      outputs.push(o);
      log?.push(`emit ${String(o.element.value)}`);
    },
    error: (e: unknown) => {
      run.error = e;
      log?.push('error');
    },
    complete: () => {
      run.completed = true;
      log?.push('complete');
    },
  });
  return run;
}

// ---- sources ---------------------------------------------------------------------------------------------------------

/**
 * A replayable in-memory log that may grow while it is read, even re-entrantly (a consumer appending from inside
 * `next`: a feedback loop). Entry i has position i + 1 (where to resume for the next entry); every open reader
 * gets new entries synchronously as they are appended, and completes once `end()` was called and it has read
 * everything.
 */
export class LiveLog<T> {
  readonly entries: T[] = [];
  private ended = false;
  private readonly readers = new Set<() => void>();

  append(value: T): void {
    this.entries.push(value);
    for (const pump of [...this.readers]) pump();
  }

  end(): void {
    this.ended = true;
    for (const pump of [...this.readers]) pump();
  }

  readonly source: ReplayableSource<T, number> = {
    open: (position = 0) =>
      new Observable<SourceItem<T, number>>((subscriber: Subscriber<SourceItem<T, number>>) => {
        let next = position;
        const pump = (): void => {
          while (!subscriber.closed && next < this.entries.length) {
            const index = next++;
            subscriber.next({ value: this.entries[index]!, position: index + 1 });
          }
          if (!subscriber.closed && this.ended && next >= this.entries.length) subscriber.complete();
        };
        this.readers.add(pump);
        pump();
        return () => this.readers.delete(pump);
      }),
  };
}

// ---- the checkpoint text format ------------------------------------------------------------------------------------

/** The `format` field of every checkpoint text. */
export const CHECKPOINT_FORMAT = 'rxjs-sluice.checkpoint';

/** What a checkpoint text holds: its header fields, its checksum and its body. */
export interface CheckpointFile<B = Record<string, unknown>> {
  format: string;
  version: number;
  checkpointId: number;
  checksum: string;
  body: B;
}

/** A checkpoint's body as the library writes it (codec-encoded operator states and held outputs). */
export interface CheckpointBody {
  createdAt: number;
  codec: string;
  final: boolean;
  position: string | null;
  operators: Array<{ id: string; kind: string; state: string }>;
  outputs: string | null;
}

/** The lookup table of the reflected CRC-32/IEEE polynomial 0xedb88320, one entry per byte value. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** The standard CRC-32 (IEEE, as zlib) of a string's UTF-8, as 8 lowercase hex digits: the specs' own copy. */
export function crc32(text: string): string {
  let crc = 0xffffffff;
  for (const byte of new TextEncoder().encode(text)) crc = (CRC_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return ((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** The checksum a checkpoint text with these header fields and this body must carry (`crc32:<8 hex digits>`). */
export const checksumOf = (file: Omit<CheckpointFile<unknown>, 'checksum'>): string =>
  `crc32:${crc32(`${file.format}\n${file.version}\n${file.checkpointId}\n${JSON.stringify(file.body)}`)}`;

/** An intact (correctly checksummed) checkpoint text, serialised as the library does: one JSON line. */
export const intactText = (file: Omit<CheckpointFile<unknown>, 'checksum'>): string =>
  `${JSON.stringify({ format: file.format, version: file.version, checkpointId: file.checkpointId, checksum: checksumOf(file), body: file.body })}\n`;

/** An intact checkpoint text with the given id, version and body (fields not given: an empty, non-final body). */
export function forgeCheckpoint(checkpointId: number, body: Partial<CheckpointBody>, version = 1): string {
  const full: CheckpointBody = { createdAt: 0, codec: 'json', final: false, position: null, operators: [], outputs: '[]', ...body };
  return intactText({ format: CHECKPOINT_FORMAT, version, checkpointId, body: full });
}
