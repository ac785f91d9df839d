import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { lastValueFrom, toArray } from 'rxjs';
import {
  CheckpointRestoreError, arraySource, checkpointable, jsonCodec, mapRecords,
  type CheckpointCodec, type CheckpointWarning, type CheckpointedOutput,
} from 'rxjs-sluice';
import { FileCheckpointStore, FileSink, FileSinkError, readCommitted, readCommittedElements } from 'rxjs-sluice/node';
import { tempDirs } from '../support/tempDirs';

/**
 * FileSink and codecs: the sink writes each output element with the pipeline's codec (handed to recover), or a
 * codec of its own (the `codec` option, validated as the pipeline validates its codec), and jsonCodec when used
 * on its own. A value the codec refuses is a FileSinkError with the element as `input`, never a bare TypeError or
 * a value silently changed (NaN to null, a Map to {}); readCommittedElements decodes the committed output.
 */

const freshDir = tempDirs('sluice-sink-codec-');

/** The docs' BigInt codec: tagged JSON. */
const bigintJson: CheckpointCodec = {
  name: 'bigint-json',
  encode: (v) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? { $big: String(x) } : x)),
  decode: (t) => JSON.parse(t, (_k, x: { $big?: string } | null) => (x && typeof x === 'object' && '$big' in x ? BigInt(x.$big!) : x)),
};

/** A codec that marks its lines, to tell whose codec wrote a file. */
const marked: CheckpointCodec = {
  name: 'marked',
  encode: (v) => `>${JSON.stringify(v)}`,
  decode: (t) => JSON.parse(t.slice(1)),
};

const out = (checkpointId: number, sequence: number, value: unknown): CheckpointedOutput<unknown> =>
  ({ checkpointId, sequence, element: { kind: 'record', value } });

const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);

/** The committed epoch files' names. */
const committedFiles = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort();

describe('FileSink with the pipeline\'s codec', () => {
  it('commits BigInt outputs under exactly-once with a BigInt codec, and readCommittedElements gives them back', async () => {
    // Arrange
    const storeDir = freshDir();
    const sinkDir = freshDir();
    const warnings: CheckpointWarning[] = [];
    const job = checkpointable({
      source: arraySource([1n, 2n, 3n]), store: new FileCheckpointStore(storeDir), sink: new FileSink(sinkDir),
      every: { records: 1 }, codec: bigintJson, onWarning: (w) => warnings.push(w),
    });

    // Act
    const emitted = await lastValueFrom(job.pipe(mapRecords((x: bigint) => x * 10n)).pipe(toArray()));

    // Assert
    expect(warnings).toEqual([]);
    expect(emitted.map((o) => o.element.value)).toEqual([10n, 20n, 30n]);
    expect(readCommittedElements(sinkDir, { codec: bigintJson })).toEqual(emitted.map((o) => o.element));
    expect(readCommitted(sinkDir)).toContain('{"$big":"20"}');
  });

  it('refuses under at-least-once what JSON would change (NaN to null): the checkpoints fail with FileSinkError, the run errors', async () => {
    // Arrange
    const storeDir = freshDir();
    const sinkDir = freshDir();
    const warnings: CheckpointWarning[] = [];
    const job = checkpointable({
      source: arraySource([1, 2, 3]), store: new FileCheckpointStore(storeDir), sink: new FileSink(sinkDir),
      every: { records: 1 }, delivery: 'at-least-once', onWarning: (w) => warnings.push(w),
    });

    // Act
    const error = await lastValueFrom(job.pipe(mapRecords((x: number) => (x === 2 ? Number.NaN : x))).pipe(toArray()))
      .then(() => undefined, (e: unknown) => e);

    // Assert: epoch 1 ([1]) committed; every later checkpoint carries the NaN and fails; the final one stops the run.
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'encode', input: { kind: 'record', value: Number.NaN } });
    expect(warnings.length).toBeGreaterThan(0);
    for (const w of warnings) expect(w).toMatchObject({ kind: 'checkpoint-failed', error: expect.any(FileSinkError) });
    expect(readCommitted(sinkDir)).toBe('{"kind":"record","value":1}\n');
    expect(readCommitted(sinkDir)).not.toContain('null');
  });
});

describe('FileSink used on its own (no recover): jsonCodec', () => {
  it.each<[string, unknown]>([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['undefined', undefined],
    ['a Map', new Map([['a', 1]])],
    ['a Date', new Date(0)],
    ['a BigInt', 10n],
  ])('refuses %s with FileSinkError (operation encode, input: the element, cause: the codec\'s error), writing nothing', async (_name, value) => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir);
    const element = { kind: 'record' as const, value };

    // Act
    const error = await rejectionOf(sink.preCommit(1, [out(1, 0, 'fine'), { checkpointId: 1, sequence: 1, element }]));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'encode', checkpointId: 1, path: dir });
    expect((error as FileSinkError).input).toBe(element);
    expect((error as FileSinkError).cause).toBeInstanceOf(TypeError);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('FileSink with a codec of its own', () => {
  it('writes with its own codec rather than the pipeline\'s, and readCommittedElements reads it with that codec', async () => {
    // Arrange
    const sinkDir = freshDir();
    const job = checkpointable({
      source: arraySource(['a', 'b']), store: new FileCheckpointStore(freshDir()), sink: new FileSink(sinkDir, { codec: marked }), every: { records: 1 },
    });

    // Act
    await lastValueFrom(job.pipe().pipe(toArray()));

    // Assert
    expect(readCommitted(sinkDir)).toBe('>{"kind":"record","value":"a"}\n>{"kind":"record","value":"b"}\n');
    expect(readCommittedElements(sinkDir, { codec: marked })).toEqual([{ kind: 'record', value: 'a' }, { kind: 'record', value: 'b' }]);
  });

  it('refuses an encoding with a line break (an epoch file holds one element per line)', async () => {
    // Arrange
    const multiline: CheckpointCodec = { name: 'pretty', encode: (v) => JSON.stringify(v, null, 2), decode: (t) => JSON.parse(t) };
    const sink = new FileSink(freshDir(), { codec: multiline });

    // Act
    const error = await rejectionOf(sink.preCommit(1, [out(1, 0, { a: 1 })]));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect((error as Error).message).toMatch(/line break/);
  });

  it('refuses an encode that does not return a string', async () => {
    // Arrange
    const sink = new FileSink(freshDir(), { codec: { name: 'bad', encode: () => 42 as unknown as string, decode: (t) => t } });

    // Act
    const error = await rejectionOf(sink.preCommit(1, [out(1, 0, 'x')]));

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect((error as Error).message).toMatch(/not a string/);
  });

  it.each<[string, unknown, RegExp]>([
    ['a codec without a name', { name: '', encode: () => '', decode: () => null }, /FileSink: option "codec.name" must be a non-empty string/],
    ['a codec without encode', { name: 'x', decode: () => null }, /FileSink: option "codec.encode" must be a function/],
    ['a codec without decode', { name: 'x', encode: () => '' }, /FileSink: option "codec.decode" must be a function/],
    ['a codec that is a string', 'json', /FileSink: option "codec" must be an object/],
  ])('throws a TypeError naming the option for %s', (_name, codec, message) => {
    // Arrange / Act / Assert
    expect(() => new FileSink(freshDir(), { codec: codec as CheckpointCodec })).toThrow(TypeError);
    expect(() => new FileSink(freshDir(), { codec: codec as CheckpointCodec })).toThrow(message);
  });

  it('throws a TypeError for an unknown option or options that are not an object', () => {
    // Arrange / Act / Assert
    expect(() => new FileSink(freshDir(), { codex: jsonCodec } as never)).toThrow(/FileSink: unknown option "codex"/);
    expect(() => new FileSink(freshDir(), null as never)).toThrow(/FileSink: option "options" must be an object/);
  });

  it('accepts codec: undefined (the pipeline\'s codec)', () => {
    // Arrange / Act / Assert
    expect(() => new FileSink(freshDir(), { codec: undefined })).not.toThrow();
  });
});

describe('one codec per FileSink directory', () => {
  it('a restore whose codec is not the one the committed epochs were written with is a CheckpointRestoreError', async () => {
    // Arrange: epochs written with jsonCodec; the restarted pipeline uses bigintJson.
    const dir = freshDir();
    const receipt = await new FileSink(dir).preCommit(1, [out(1, 0, 'a')]);
    await new FileSink(dir).commit(1);

    // Act
    const error = await rejectionOf(new FileSink(dir).recover(1, { checkpointId: 1, receipt, codec: bigintJson }));

    // Assert
    expect(error).toBeInstanceOf(CheckpointRestoreError);
    expect(error).toMatchObject({ checkpointId: 1, input: 'json' });
    expect((error as Error).message).toMatch(/bigint-json/);
  });

  it('readCommittedElements with another codec than the epochs\' is a TypeError naming both', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir, { codec: bigintJson });
    await sink.preCommit(1, [out(1, 0, 5n)]);
    await sink.commit(1);

    // Act / Assert
    expect(() => readCommittedElements(dir)).toThrow(TypeError);
    expect(() => readCommittedElements(dir)).toThrow(/"bigint-json".*"json"/);
    expect(readCommittedElements(dir, { codec: bigintJson })).toEqual([{ kind: 'record', value: 5n }]);
  });

  it('records the codec of each epoch in its checksum file', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir, { codec: marked });

    // Act
    await sink.preCommit(1, [out(1, 0, 'a')]);
    await sink.commit(1);

    // Assert
    expect(committedFiles(dir)).toEqual([`epoch-${String(1).padStart(20, '0')}.jsonl`]);
    expect(JSON.parse(readFileSync(join(dir, `epoch-${String(1).padStart(20, '0')}.sum`), 'utf8'))).toMatchObject({ codec: 'marked', records: 1 });
  });
});

describe('readCommittedElements', () => {
  it('gives the committed records and side-output records in order, timestamps included', async () => {
    // Arrange
    const dir = freshDir();
    const sink = new FileSink(dir);
    const outputs: CheckpointedOutput<unknown>[] = [
      { checkpointId: 1, sequence: 0, element: { kind: 'record', value: { n: 1 }, timestamp: 5 } },
      { checkpointId: 1, sequence: 1, element: { kind: 'sideOutput', tag: 'late', value: 'x' } },
    ];
    await sink.preCommit(1, outputs);
    await sink.commit(1);
    await sink.preCommit(2, [out(2, 0, 'after')]);
    await sink.commit(2);
    await sink.preCommit(3, [out(3, 0, 'pending: not committed')]);

    // Act
    const elements = readCommittedElements(dir);

    // Assert
    expect(elements).toEqual([...outputs.map((o) => o.element), { kind: 'record', value: 'after' }]);
  });

  it('throws FileSinkError naming the file when a line does not decode to an element', async () => {
    // Arrange: a codec that decodes to plain strings.
    const dir = freshDir();
    const sink = new FileSink(dir, { codec: { name: 'text', encode: (v) => String((v as { value: unknown }).value), decode: (t) => t } });
    await sink.preCommit(1, [out(1, 0, 'hello')]);
    await sink.commit(1);

    // Act
    let error: unknown;
    try {
      readCommittedElements(dir, { codec: { name: 'text', encode: String, decode: (t) => t } });
    } catch (e) {
      error = e;
    }

    // Assert
    expect(error).toBeInstanceOf(FileSinkError);
    expect(error).toMatchObject({ operation: 'read', checkpointId: 1, input: 'hello', path: join(dir, `epoch-${String(1).padStart(20, '0')}.jsonl`) });
  });
});
