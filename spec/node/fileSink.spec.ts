import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'fs';
import { join } from 'path';
import { NEVER, Observable, concat, from, lastValueFrom, toArray } from 'rxjs';
import {
  CheckpointRestoreError, CheckpointStoreError, arraySource, asyncWaitMetrics, asyncWaitOrdered, checkpointMetrics, checkpointable, keyedTimers, readLatestCheckpoint,
  type CheckpointMetrics, type CheckpointSink, type CheckpointStore, type CheckpointWarning, type CheckpointedOutput, type ReplayableSource,
  type SourceItem,
} from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, readCommitted } from 'rxjs-sluice/node';
import { spyOnSyncFsyncs } from '../support/fsyncs';
import { crash } from '../support/crash';
import { tempDirs } from '../support/tempDirs';

/**
 * FileSink (docs/checkpoints.md, "Files on disk"): the two-phase-commit protocol on disk (preCommit
 * writes `epoch-<id>.jsonl.pending`, commit renames it, abort deletes it, recover settles what a crash left),
 * readCommitted, and an exactly-once pipeline over FileCheckpointStore + FileSink whose committed output after
 * a crash and a restart equals that of an uninterrupted run. Each test works in fresh temp dirs.
 */

// ---- helpers -------------------------------------------------------------------------------------------------

const freshDir = tempDirs('sluice-sink-');
afterEach(() => jest.restoreAllMocks());

const pad = (id: number): string => String(id).padStart(20, '0');
const pendingName = (id: number): string => `epoch-${pad(id)}.jsonl.pending`;
const committedName = (id: number): string => `epoch-${pad(id)}.jsonl`;
const sumName = (id: number): string => `epoch-${pad(id)}.sum`;

/** An output record stamped (checkpointId, sequence). */
const out = (checkpointId: number, sequence: number, value: unknown): CheckpointedOutput<unknown> =>
  ({ checkpointId, sequence, element: { kind: 'record', value } });

/** The JSON lines FileSink writes for outputs: one per output element (the file name carries the epoch). */
const linesOf = (outputs: readonly CheckpointedOutput<unknown>[]): string => outputs.map((o) => `${JSON.stringify(o.element)}\n`).join('');

/** Pending and committed epoch files in a directory, sorted (checksum files, `.sum`, and lock files have tests of their own). */
const filesIn = (dir: string): string[] => readdirSync(dir).filter((n) => !/\.sum(\.pending)?$/.test(n) && !n.startsWith('sluice-sink.lock')).sort();

// ---- the protocol --------------------------------------------------------------------------------------------

describe('FileSink', () => {
  describe('preCommit', () => {
    it('writes the output elements as JSON lines to epoch-<20 digits>.jsonl.pending, invisible to readCommitted', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);
      const outputs = [out(3, 0, 'a'), out(3, 1, { n: 1, s: 'é ✓' }), { checkpointId: 3, sequence: 2, element: { kind: 'record' as const, value: 7, timestamp: 5 } }];

      // Act
      await sink.preCommit(3, outputs);

      // Assert
      expect(filesIn(dir)).toEqual(['epoch-00000000000000000003.jsonl.pending']);
      expect(readFileSync(join(dir, pendingName(3)), 'utf8')).toBe(linesOf(outputs));
      expect(readFileSync(join(dir, pendingName(3)), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual(outputs.map((o) => o.element));
      expect(readCommitted(dir)).toBe('');
    });

    it('writes an empty pending file for an epoch without outputs', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);

      // Act
      await sink.preCommit(1, []);

      // Assert
      expect(filesIn(dir)).toEqual([pendingName(1)]);
      expect(readFileSync(join(dir, pendingName(1)), 'utf8')).toBe('');
    });
  });

  describe('commit', () => {
    it('renames the pending file to epoch-<20 digits>.jsonl', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);
      await sink.preCommit(2, [out(2, 0, 'x')]);

      // Act
      await sink.commit(2);

      // Assert
      expect(filesIn(dir)).toEqual(['epoch-00000000000000000002.jsonl']);
      expect(readCommitted(dir)).toBe(linesOf([out(2, 0, 'x')]));
    });

    it('is a no-op the second time', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);
      await sink.preCommit(2, [out(2, 0, 'x')]);
      await sink.commit(2);

      // Act
      await sink.commit(2);

      // Assert
      expect(filesIn(dir)).toEqual([committedName(2)]);
      expect(readCommitted(dir)).toBe(linesOf([out(2, 0, 'x')]));
    });

    it('never writes a committed epoch twice, even when it is pre-committed again (a replay after a crash)', async () => {
      // Arrange: epoch 2 committed, then staged again with other content.
      const dir = freshDir();
      const sink = new FileSink(dir);
      await sink.preCommit(2, [out(2, 0, 'first')]);
      await sink.commit(2);
      await sink.preCommit(2, [out(2, 0, 'again')]);

      // Act
      await sink.commit(2);

      // Assert: the committed file is untouched, and the re-staged file does not linger.
      expect(readFileSync(join(dir, committedName(2)), 'utf8')).toBe(linesOf([out(2, 0, 'first')]));
      expect(readCommitted(dir)).toBe(linesOf([out(2, 0, 'first')]));
      expect(filesIn(dir)).toEqual([committedName(2)]);
    });
  });

  describe('abort', () => {
    it('deletes the pending file', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);
      await sink.preCommit(1, [out(1, 0, 'a')]);
      await sink.commit(1);
      await sink.preCommit(2, [out(2, 0, 'b')]);

      // Act
      await sink.abort(2);

      // Assert
      expect(filesIn(dir)).toEqual([committedName(1)]);
      expect(readCommitted(dir)).toBe(linesOf([out(1, 0, 'a')]));
    });

    it('does nothing for an epoch with no pending file', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);
      await sink.preCommit(1, [out(1, 0, 'a')]);
      await sink.commit(1);

      // Act
      await sink.abort(1);
      await sink.abort(9);

      // Assert
      expect(filesIn(dir)).toEqual([committedName(1)]);
    });
  });

  describe('recover', () => {
    /** Epoch 1 committed; 2, 3 and 4 pending (a crash left them). */
    async function crashedSink(dir: string): Promise<void> {
      const sink = new FileSink(dir);
      for (const id of [1, 2, 3, 4]) await sink.preCommit(id, [out(id, 0, `e${id}`)]);
      await sink.commit(1);
    }

    it('commits the pending epochs up to the restored checkpoint and deletes the later ones', async () => {
      // Arrange
      const dir = freshDir();
      await crashedSink(dir);

      // Act: a new sink over the directory, as after a restart restoring checkpoint 3.
      await new FileSink(dir).recover(3);

      // Assert
      expect(filesIn(dir)).toEqual([committedName(1), committedName(2), committedName(3)]);
      expect(readCommitted(dir)).toBe(linesOf([out(1, 0, 'e1'), out(2, 0, 'e2'), out(3, 0, 'e3')]));
    });

    it('resolves to the highest epoch id it found, pending ones included, so that the pipeline numbers new epochs above it', async () => {
      // Arrange: epoch 1 committed, 2 to 4 pending; and an empty directory
      const dir = freshDir();
      await crashedSink(dir);
      const empty = freshDir();

      // Act
      const highest = await new FileSink(dir).recover(3);
      const none = await new FileSink(empty).recover(undefined);

      // Assert: epoch 4 was deleted, but its id was used
      expect(highest).toBe(4);
      expect(none).toBe(0);
    });

    it('deletes every pending epoch on a fresh start (recover(undefined)) when nothing is committed', async () => {
      // Arrange
      const dir = freshDir();
      const sink = new FileSink(dir);
      for (const id of [1, 2]) await sink.preCommit(id, [out(id, 0, `e${id}`)]);

      // Act
      await new FileSink(dir).recover(undefined);

      // Assert
      expect(filesIn(dir)).toEqual([]);
    });

    it.each<[string, number | undefined, number[]]>([
      ['recover(undefined) (a fresh start) over committed epochs', undefined, [1, 2, 3]],
      ['recover(1) with epochs 2 and 3 committed', 1, [2, 3]],
      ['recover(2) with epoch 3 committed', 2, [3]],
    ])('%s: throws CheckpointRestoreError naming the epochs beyond, and changes nothing', async (_name, restored, beyond) => {
      // Arrange: epochs 1..3 committed, 4 pending.
      const dir = freshDir();
      const sink = new FileSink(dir);
      for (const id of [1, 2, 3, 4]) await sink.preCommit(id, [out(id, 0, `e${id}`)]);
      for (const id of [1, 2, 3]) await sink.commit(id);
      const filesBefore = filesIn(dir);
      const committedBefore = readCommitted(dir);

      // Act
      const error = await new FileSink(dir).recover(restored).then(() => undefined, (e: unknown) => e);

      // Assert
      expect(error).toBeInstanceOf(CheckpointRestoreError);
      expect((error as CheckpointRestoreError).checkpointId).toBe(restored ?? 0);
      expect([...((error as CheckpointRestoreError).input as number[])].sort((a, b) => a - b)).toEqual(beyond); // in directory order
      expect((error as Error).message).toContain(dir);
      expect(filesIn(dir)).toEqual(filesBefore);
      expect(readCommitted(dir)).toBe(committedBefore);
    });

    it('accepts committed epochs up to the restored checkpoint', async () => {
      // Arrange: epochs 1..3 committed.
      const dir = freshDir();
      const sink = new FileSink(dir);
      for (const id of [1, 2, 3]) await sink.preCommit(id, [out(id, 0, `e${id}`)]);
      for (const id of [1, 2, 3]) await sink.commit(id);

      // Act
      await new FileSink(dir).recover(3);

      // Assert
      expect(filesIn(dir)).toEqual([1, 2, 3].map(committedName));
    });

    it('keeps the committed copy and drops the pending one when an epoch is both', async () => {
      // Arrange: epoch 2 committed, then staged again (a replay) before a crash.
      const dir = freshDir();
      const sink = new FileSink(dir);
      await sink.preCommit(2, [out(2, 0, 'committed')]);
      await sink.commit(2);
      await sink.preCommit(2, [out(2, 0, 'replayed')]);

      // Act
      await new FileSink(dir).recover(2);

      // Assert
      expect(filesIn(dir)).toEqual([committedName(2)]);
      expect(readCommitted(dir)).toBe(linesOf([out(2, 0, 'committed')]));
    });

    it('is idempotent', async () => {
      // Arrange
      const dir = freshDir();
      await crashedSink(dir);
      const sink = new FileSink(dir);

      // Act
      await sink.recover(2);
      await sink.recover(2);

      // Assert
      expect(filesIn(dir)).toEqual([committedName(1), committedName(2)]);
    });

    it('ignores files that are not epochs', async () => {
      // Arrange
      const dir = freshDir();
      writeFileSync(join(dir, 'README'), 'keep me');
      writeFileSync(join(dir, 'epoch-1.jsonl.pending'), 'short id: not ours');

      // Act
      await new FileSink(dir).recover(5);

      // Assert
      expect(filesIn(dir)).toEqual(['README', 'epoch-1.jsonl.pending']);
    });
  });

  describe('readCommitted', () => {
    it('concatenates the committed epochs in id order and ignores pending ones', async () => {
      // Arrange: epochs 1, 2 and 10 committed (3 to 9 failed: their outputs went into 10); 11 pending.
      const dir = freshDir();
      const sink = new FileSink(dir);
      for (const id of [1, 2, 10, 11]) await sink.preCommit(id, [out(id, 0, `e${id}`), out(id, 1, `e${id}b`)]);
      for (const id of [1, 2, 10]) await sink.commit(id);

      // Act
      const text = readCommitted(dir);

      // Assert
      expect(text).toBe(linesOf([1, 2, 10].flatMap((id) => [out(id, 0, `e${id}`), out(id, 1, `e${id}b`)])));
    });

    it('is empty for an empty directory', () => {
      // Arrange
      const dir = freshDir();

      // Act / Assert
      expect(readCommitted(dir)).toBe('');
    });
  });

  describe('the directory', () => {
    it('is created when missing, parents included, and kept as an absolute path', () => {
      // Arrange
      const nested = join(freshDir(), 'out', 'a', 'b');

      // Act
      const sink = new FileSink(nested);

      // Assert
      expect(readdirSync(nested)).toEqual([]);
      expect(sink.dir).toBe(nested);
    });

    it('makes each directory it creates durable: the parent of every new directory is fsynced', () => {
      // Arrange
      const dir = freshDir();
      const synced = spyOnSyncFsyncs();

      // Act: creates out/ in dir, and epochs/ in out/.
      new FileSink(join(dir, 'out', 'epochs'));

      // Assert
      expect([...synced].sort()).toEqual([dir, join(dir, 'out')]);
    });

    it('throws CheckpointStoreError when the path is a file', () => {
      // Arrange
      const file = join(freshDir(), 'a-file');
      writeFileSync(file, 'x');

      // Act / Assert
      expect(() => new FileSink(file)).toThrow(CheckpointStoreError);
      expect(() => new FileSink(file)).toThrow(/^FileSink directory .*a-file: is not a directory$/);
    });

    it('throws a TypeError for an empty or non-string path', () => {
      // Arrange / Act / Assert
      expect(() => new FileSink('')).toThrow(TypeError);
      expect(() => new FileSink(undefined as never)).toThrow(TypeError);
    });
  });

  // ---- end to end --------------------------------------------------------------------------------------------

  describe('in an exactly-once pipeline with FileCheckpointStore', () => {
    const VALUES = Array.from({ length: 24 }, (_, i) => i + 1);
    const EVERY = 4;

    /**
     * arraySource paced in chunks of one checkpoint interval: each chunk (and its barrier) is read only once the
     * asyncWait holds nothing, so every barrier meets the same outputs at the end of the pipeline in every run,
     * and the epoch stamps (hence the committed files) are deterministic. Without pacing the synchronous source
     * would put every output into the final epoch.
     */
    function pacedSource(idle: () => boolean): ReplayableSource<number, number> {
      const inner = arraySource(VALUES);
      return {
        open: (position) => new Observable<SourceItem<number, number>>((subscriber) => {
          const items: SourceItem<number, number>[] = [];
          from(inner.open(position)).subscribe((item) => items.push(item));
          let next = 0;
          let timer: ReturnType<typeof setTimeout>;
          const pump = (): void => {
            if (idle()) {
              for (const end = Math.min(next + EVERY, items.length); next < end && !subscriber.closed; next++) subscriber.next(items[next]!);
              if (next >= items.length) {
                subscriber.complete();
                return;
              }
            }
            timer = setTimeout(pump, 1);
          };
          timer = setTimeout(pump, 0);
          return () => clearTimeout(timer);
        }),
      };
    }

    interface Pipeline {
      readonly output: Observable<CheckpointedOutput<unknown>>;
      readonly metrics: CheckpointMetrics;
      /** The store and sink (unwrapped), whose locks a crash gives up. */
      readonly files: readonly [FileCheckpointStore, FileSink];
    }

    /**
     * values → asyncWaitOrdered (x * 10) → keyedTimers (running sum per key x % 3, plus a per-key total when input
     * ends), over a FileCheckpointStore in `dir/checkpoints` and a FileSink in `dir/output`.
     */
    function pipeline(dir: string, wrap: { store?: (s: CheckpointStore) => CheckpointStore; sink?: (s: CheckpointSink) => CheckpointSink } = {}): Pipeline {
      const waits = asyncWaitMetrics();
      const metrics = checkpointMetrics();
      const store = new FileCheckpointStore(join(dir, 'checkpoints'));
      const sink = new FileSink(join(dir, 'output'));
      const job = checkpointable({
        source: pacedSource(() => waits.inFlight + waits.waiting + waits.buffered === 0),
        store: wrap.store ? wrap.store(store) : store,
        sink: wrap.sink ? wrap.sink(sink) : sink,
        every: { records: EVERY },
        delivery: 'exactly-once',
        metrics,
      });
      const output = job.pipe(
        asyncWaitOrdered(async (x: number) => x * 10, { id: 'times-ten', capacity: 3, metrics: waits }),
        keyedTimers<number, string, number, number>({
          key: (x) => x % 3,
          processElement: (x, ctx) => {
            if (ctx.state.value() === undefined) ctx.timerService.registerEventTimeTimer(Number.MAX_SAFE_INTEGER);
            ctx.state.update((ctx.state.value() ?? 0) + x);
            ctx.emit(`${ctx.key}:+${x}=${ctx.state.value()}`);
          },
          onTimer: (_t, ctx) => ctx.emit(`total ${ctx.key}=${ctx.state.value()}`),
        }, { id: 'running-sum' }),
      );
      return { output, metrics, files: [store, sink] };
    }

    /**
     * Runs the pipeline on `dir` until `checkpoints` checkpoints are durable, then crashes (unsubscribes) while the
     * next one is being written: that write never completes, so the crash point is exact.
     */
    async function crashAfter(dir: string, checkpoints: number): Promise<void> {
      const p = pipeline(dir, { store: (s) => ({ ...bind(s), write: (id, text) => (id > checkpoints ? new Promise<void>(() => {}) : s.write(id, text)) }) });
      let error: unknown;
      const subscription = p.output.subscribe({ error: (e: unknown) => (error = e) });
      await until(() => error !== undefined || p.metrics.completed >= checkpoints);
      await crash(subscription, ...p.files);
      if (error !== undefined) throw error;
      expect(p.metrics.completed).toBe(checkpoints);
    }

    /** The committed output of `dir`: readCommitted, and each file by name (the epochs must match too). */
    /**
     * The committed output, and each epoch file's content in id order. Not the ids themselves: a restart numbers
     * its epochs above every epoch id the sink has seen (a pending one deleted on recover included), so after a
     * crash the ids may skip where the uninterrupted run's do not.
     */
    const committedIn = (dir: string) => ({
      text: readCommitted(join(dir, 'output')),
      epochs: filesIn(join(dir, 'output')).filter((n) => n.endsWith('.jsonl')).sort().map((n) => readFileSync(join(dir, 'output', n), 'utf8')),
    });

    /** The uninterrupted run's committed output. */
    async function uninterrupted(): Promise<ReturnType<typeof committedIn>> {
      const dir = freshDir();
      await lastValueFrom(pipeline(dir).output.pipe(toArray()));
      return committedIn(dir);
    }

    const pendingFiles = (dir: string): string[] => readdirSync(join(dir, 'output')).filter((n) => n.endsWith('.pending'));

    it('commits one file per epoch, with outputs spread over the epochs, and no pending file at the end', async () => {
      // Arrange
      const dir = freshDir();

      // Act
      const emitted = await lastValueFrom(pipeline(dir).output.pipe(toArray()));

      // Assert: 6 barrier checkpoints + the final one; chunk k's outputs are epoch k + 1; the totals close epoch 7.
      const files = filesIn(join(dir, 'output'));
      expect(files).toEqual([1, 2, 3, 4, 5, 6, 7].map(committedName));
      for (const id of [1, 2, 3, 4, 5, 6, 7]) {
        expect(readFileSync(join(dir, 'output', committedName(id)), 'utf8')).toBe(linesOf(emitted.filter((o) => o.checkpointId === id)));
      }
      expect(readFileSync(join(dir, 'output', committedName(1)), 'utf8')).toBe('');
      expect(readCommitted(join(dir, 'output'))).toBe(linesOf(emitted));
      expect(emitted.filter((o) => o.checkpointId === 2)).toHaveLength(EVERY);
      expect(emitted).toHaveLength(VALUES.length + 3);
      expect(emitted.slice(-3).map((o) => o.element.kind === 'record' && o.element.value)).toEqual(['1=920', '2=1000', '0=1080'].map((s) => `total ${s}`));
      expect(pendingFiles(dir)).toEqual([]);
    });

    it.each([1, 3, 5])('commits after a crash (once %i checkpoints were durable) and a restart exactly what an uninterrupted run commits', async (checkpoints) => {
      // Arrange
      const expected = await uninterrupted();
      const dir = freshDir();
      await crashAfter(dir, checkpoints);
      const committedAtCrash = filesIn(join(dir, 'output')).filter((n) => n.endsWith('.jsonl'));
      const epochId = (name: string): number => Number(/^epoch-(\d+)/.exec(name)![1]);
      const highestAtCrash = Math.max(...filesIn(join(dir, 'output')).filter((n) => n.startsWith('epoch-')).map(epochId));

      // Act
      const restarted = pipeline(dir);
      await lastValueFrom(restarted.output.pipe(toArray()));

      // Assert: the restart's epochs are numbered above every epoch id seen at the crash, pending ones included
      expect(committedAtCrash).toEqual(Array.from({ length: checkpoints }, (_, i) => committedName(i + 1)));
      const newEpochs = filesIn(join(dir, 'output')).filter((n) => n.endsWith('.jsonl')).map(epochId).filter((id) => id > checkpoints);
      expect(Math.min(...newEpochs)).toBeGreaterThan(highestAtCrash);
      expect(restarted.metrics.restored).toBe(1);
      expect(restarted.metrics.started).toBe(7 - checkpoints); // resumed at checkpoint `checkpoints`, not from scratch
      expect(committedIn(dir)).toEqual(expected);
      expect(pendingFiles(dir)).toEqual([]);
    });

    it('commits on restart an epoch whose checkpoint became durable just before the crash (pending, not yet renamed)', async () => {
      // Arrange: the sink's commit of epoch 3 never happens: the process "dies" after checkpoint 3 is stored.
      const expected = await uninterrupted();
      const dir = freshDir();
      const first = pipeline(dir, { sink: (s) => ({ ...bind(s), commit: (id) => (id === 3 ? new Promise<void>(() => {}) : s.commit(id)) }) });
      const subscription = first.output.subscribe();
      await until(() => pendingFiles(dir).includes(pendingName(3)) && existsCheckpoint(dir, 3));
      await crash(subscription, ...first.files);
      const pendingAtCrash = pendingFiles(dir);

      // Act
      const restarted = pipeline(dir);
      await lastValueFrom(restarted.output.pipe(toArray()));

      // Assert
      expect(pendingAtCrash).toEqual([pendingName(3), `${sumName(3)}.pending`]);
      expect(committedIn(dir)).toEqual(expected);
      expect(pendingFiles(dir)).toEqual([]);
    });

    it('deletes on restart an epoch whose checkpoint never became durable (pre-committed, store write lost)', async () => {
      // Arrange: the store's write of checkpoint 3 never completes.
      const expected = await uninterrupted();
      const dir = freshDir();
      const first = pipeline(dir, { store: (s) => ({ ...bind(s), write: (id, text) => (id === 3 ? new Promise<void>(() => {}) : s.write(id, text)) }) });
      const subscription = first.output.subscribe();
      await until(() => pendingFiles(dir).includes(pendingName(3)));
      await crash(subscription, ...first.files);
      const latestAtCrash = await readLatestCheckpoint(new FileCheckpointStore(join(dir, 'checkpoints')));
      const recovered: string[][] = [];
      const restarted = pipeline(dir, {
        sink: (s) => ({ ...bind(s), recover: async (id, recovery) => { await s.recover(id, recovery); recovered.push(filesIn(join(dir, 'output'))); } }),
      });

      // Act
      await lastValueFrom(restarted.output.pipe(toArray()));

      // Assert: recover(2) removed epoch 3's pending file before the replay wrote it again.
      expect(latestAtCrash?.checkpointId).toBe(2);
      expect(recovered).toEqual([[committedName(1), committedName(2)]]);
      expect(committedIn(dir)).toEqual(expected);
      expect(restarted.metrics.restored).toBe(1);
      expect(pendingFiles(dir)).toEqual([]);
    });
  });
});

describe('FileSink after a crash, with FileCheckpointStore', () => {
  const pad20 = (id: number): string => String(id).padStart(20, '0');

  /** `values`, then stays open: a run over it ends only by a crash. */
  const endless = (values: readonly string[]): ReplayableSource<string, number> => ({
    open: (position = 0) => concat(from(values.slice(position).map((value, i): SourceItem<string, number> => ({ value, position: position + i + 1 }))), NEVER),
  });

  /** Runs a pipeline over arraySource(values) on the two dirs to completion; resolves, or rejects with its error. */
  const runToEnd = (values: readonly string[], storeDir: string, sinkDir: string, records: number): Promise<unknown> =>
    lastValueFrom(checkpointable({
      source: arraySource(values), store: new FileCheckpointStore(storeDir), sink: new FileSink(sinkDir), every: { records },
    }).pipe().pipe(toArray()));

  /** The committed output of an uninterrupted run over `values`. */
  async function uninterrupted(values: readonly string[]): Promise<string> {
    const sinkDir = freshDir();
    await runToEnd(values, freshDir(), sinkDir, 1);
    return readCommitted(sinkDir);
  }

  describe('a checkpoint stored but reported failed (the write rejected after the rename)', () => {
    const VALUES = ['a', 'b', 'c', 'd'];

    /** Run 1: checkpoint 1 (a) durable; checkpoint 2 (b) on disk but its write rejects; then a crash. */
    async function crashedRun(storeDir: string, sinkDir: string): Promise<CheckpointWarning[]> {
      const files = new FileCheckpointStore(storeDir);
      const store: CheckpointStore = {
        write: async (id, text) => {
          await files.write(id, text);
          if (id === 2) throw new Error('ETIMEDOUT after the rename');
        },
        list: () => files.list(),
        read: (id) => files.read(id),
      };
      const warnings: CheckpointWarning[] = [];
      const sink = new FileSink(sinkDir);
      const subscription = checkpointable({
        source: endless(VALUES.slice(0, 2)), store, sink, every: { records: 1 }, onWarning: (w) => warnings.push(w),
      }).pipe().subscribe();
      await until(() => warnings.length > 0);
      await crash(subscription, sink);
      return warnings;
    }

    it('keeps the pre-committed epoch (no abort), and a restart from that checkpoint commits exactly what an uninterrupted run commits', async () => {
      // Arrange
      const expected = await uninterrupted(VALUES);
      const storeDir = freshDir();
      const sinkDir = freshDir();
      const warnings = await crashedRun(storeDir, sinkDir);
      const filesAtCrash = filesIn(sinkDir);

      // Act
      await runToEnd(VALUES, storeDir, sinkDir, 1);

      // Assert
      expect(warnings.map((w) => [w.kind, w.checkpointId])).toEqual([['checkpoint-failed', 2]]);
      expect(filesAtCrash).toEqual([committedName(1), pendingName(2)]);
      expect(readCommitted(sinkDir)).toBe(expected);
      expect(filesIn(sinkDir).filter((n) => n.endsWith('.pending'))).toEqual([]);
    });

    it('a restart from the older checkpoint (the ambiguous one deleted) commits exactly what an uninterrupted run commits too', async () => {
      // Arrange
      const expected = await uninterrupted(VALUES);
      const storeDir = freshDir();
      const sinkDir = freshDir();
      await crashedRun(storeDir, sinkDir);
      unlinkSync(join(storeDir, `checkpoint-${pad20(2)}.json`));

      // Act
      await runToEnd(VALUES, storeDir, sinkDir, 1);

      // Assert
      expect(readCommitted(sinkDir)).toBe(expected);
      expect(filesIn(sinkDir).filter((n) => n.endsWith('.pending'))).toEqual([]);
    });
  });

  it('a restart that falls back past a damaged checkpoint whose epoch is committed fails with CheckpointRestoreError, committing nothing more', async () => {
    // Arrange: run 1 (every 2 records) commits epochs [a, b] and [c, d], then crashes; checkpoint 2 then rots.
    const storeDir = freshDir();
    const sinkDir = freshDir();
    const files = [new FileCheckpointStore(storeDir), new FileSink(sinkDir)] as const;
    const run1 = checkpointable({ source: endless(['a', 'b', 'c', 'd']), store: files[0], sink: files[1], every: { records: 2 } }).pipe().subscribe();
    await until(() => readdirSync(sinkDir).filter((n) => n.endsWith('.jsonl')).length === 2);
    await crash(run1, ...files);
    writeFileSync(join(storeDir, `checkpoint-${pad20(2)}.json`), '{"format":"rxjs-sluice.checkpoint","vers');
    const committedBefore = readCommitted(sinkDir);

    // Act: restart (redeployed with every 1 record); loading falls back to checkpoint 1.
    const error = await runToEnd(['a', 'b', 'c', 'd'], storeDir, sinkDir, 1).then(() => undefined, (e: unknown) => e);

    // Assert: replaying from checkpoint 1 would commit c and d a second time (under other epochs).
    expect(error).toBeInstanceOf(CheckpointRestoreError);
    expect(error).toMatchObject({ checkpointId: 1, input: [2] });
    // The message names the epochs beyond, and the repair (documented in docs/checkpoints.md).
    expect((error as Error).message).toMatch(/epoch\(s\) 2, beyond checkpoint 1/);
    expect((error as Error).message).toMatch(/Repair: put the newer checkpoint files back/);
    expect((error as Error).message).toContain('"A damaged checkpoint with a FileSink" in docs/checkpoints.md');
    expect(committedBefore).toBe(linesOf([out(1, 0, 'a'), out(1, 1, 'b'), out(2, 0, 'c'), out(2, 1, 'd')]));
    expect(readCommitted(sinkDir)).toBe(committedBefore);
    expect(filesIn(sinkDir)).toEqual([committedName(1), committedName(2)]);
  });
});

/** The methods of an object bound to it, so that a spread copy can override one of them. */
function bind<T extends object>(target: T): T {
  const copy = {} as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(target))) {
    const value = (target as Record<string, unknown>)[key];
    if (key !== 'constructor' && typeof value === 'function') copy[key] = value.bind(target);
  }
  return copy as T;
}

/** Resolves once `condition()` holds, polling on macrotasks (fails after 3 s). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('until: condition not met within 3 s');
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** Whether checkpoint `id` is stored in `dir/checkpoints`. */
function existsCheckpoint(dir: string, id: number): boolean {
  return readdirSync(join(dir, 'checkpoints')).includes(`checkpoint-${pad(id)}.json`);
}
