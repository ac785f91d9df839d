import { execFileSync } from 'child_process';
import fc from 'fast-check';
import * as fs from 'fs';
import { join } from 'path';
import { from, lastValueFrom, map, take, tap, toArray } from 'rxjs';
import {
  asyncWaitOrdered, checkpointable, checkpointMetrics, SourcePositionError, sourceMetrics, type CheckpointMetrics, type CheckpointWarning, type SourceItem,
} from 'rxjs-sluice';
import { FileCheckpointStore, fileLinesSource, LineTooLongError, SourceReadError } from 'rxjs-sluice/node';
import { soak } from '../support/soak';
import { crashedAndRestoredRun, failureOf, fdsOn, readAll, tick, uninterruptedRun, until } from '../support/sourceRuns';
import { tempDirs } from '../support/tempDirs';

/**
 * fileLinesSource: the lines of a text file, each with the byte offset after it as its position, so a restore
 * seeks (one read at the offset) instead of reading the file again. Lines are found in the bytes and decoded
 * whole, so characters split across read chunks come out intact; a line spanning chunks is joined once and never
 * beyond maxLineBytes. Every bad input is a named error.
 */

const freshDir = tempDirs('sluice-lines-');
/** The real fs module (what the source calls), for jest.spyOn. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realFs = require('node:fs') as typeof import('fs');
afterEach(() => jest.restoreAllMocks());

/** Writes `content` to a new file in a fresh dir and returns its path. */
function fileWith(content: string | Buffer): string {
  const path = join(freshDir(), 'input.txt');
  fs.writeFileSync(path, content);
  return path;
}

const valuesOf = <T>(items: readonly SourceItem<T, number>[]): T[] => items.map((i) => i.value);
const positionsOf = <T>(items: readonly SourceItem<T, number>[]): number[] => items.map((i) => i.position);

/** The lines of `text` as the source should give them: split on \n, a \r before it removed, byte offsets after. */
function modelLines(text: string): { value: string; position: number }[] {
  const lines: { value: string; position: number }[] = [];
  let offset = 0;
  const parts = text.split('\n');
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (last && part === '') return;
    offset += Buffer.byteLength(part) + (last ? 0 : 1);
    lines.push({ value: part.endsWith('\r') ? part.slice(0, -1) : part, position: offset });
  });
  return lines;
}

describe('fileLinesSource: lines and positions', () => {
  it('gives each line with the byte offset after its newline as its position', async () => {
    // Arrange
    const path = fileWith('a\nbb\nccc\n');

    // Act
    const items = await readAll(fileLinesSource(path));

    // Assert
    expect(items).toEqual([{ value: 'a', position: 2 }, { value: 'bb', position: 5 }, { value: 'ccc', position: 9 }]);
  });

  it('removes the \\r of CRLF line ends, and only a \\r right before the \\n', async () => {
    // Arrange
    const path = fileWith('a\r\nb\rc\r\n\r\n');

    // Act
    const items = await readAll(fileLinesSource(path));

    // Assert
    expect(items).toEqual([{ value: 'a', position: 3 }, { value: 'b\rc', position: 8 }, { value: '', position: 10 }]);
  });

  it('gives a last line without a newline, its position the file size', async () => {
    // Arrange
    const path = fileWith('first\nlast');

    // Act
    const items = await readAll(fileLinesSource(path));

    // Assert
    expect(items).toEqual([{ value: 'first', position: 6 }, { value: 'last', position: 10 }]);
  });

  it('gives empty lines as empty strings', async () => {
    // Arrange
    const path = fileWith('\n\nx\n');

    // Act
    const items = await readAll(fileLinesSource(path));

    // Assert
    expect(items).toEqual([{ value: '', position: 1 }, { value: '', position: 2 }, { value: 'x', position: 4 }]);
  });

  it('drops a UTF-8 byte-order mark at the start of the file (positions stay byte offsets); latin1 keeps its bytes', async () => {
    // Arrange
    const path = fileWith(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\nb\n')]));

    // Act
    const utf8 = await readAll(fileLinesSource(path, { chunkSize: 2 }));
    const latin1 = await readAll(fileLinesSource(path, { encoding: 'latin1' }));

    // Assert
    expect(utf8).toEqual([{ value: 'a', position: 5 }, { value: 'b', position: 7 }]);
    expect(latin1[0]).toEqual({ value: '\u00ef\u00bb\u00bfa', position: 5 });
  });

  it('completes at once, with nothing, on an empty file, and closes it', () => {
    // Arrange
    const path = fileWith('');
    const seen: string[] = [];

    // Act: synchronous, no read at all
    from(fileLinesSource(path).open(undefined)).subscribe({ next: () => seen.push('item'), complete: () => seen.push('complete') });

    // Assert
    expect(seen).toEqual(['complete']);
    expect(fdsOn(path)).toBe(0);
  });

  it('decodes multi-byte UTF-8 characters split across chunk boundaries intact (chunkSize 1 to 5)', async () => {
    // Arrange: 2-, 3- and 4-byte characters
    const text = 'é€𝄞\n€€\n𝄞a𝄞\né';
    const path = fileWith(text);

    // Act
    const runs = await Promise.all([1, 2, 3, 4, 5].map((chunkSize) => readAll(fileLinesSource(path, { chunkSize }))));

    // Assert
    for (const items of runs) expect(items).toEqual(modelLines(text));
    expect(valuesOf(runs[0]!)).toEqual(['é€𝄞', '€€', '𝄞a𝄞', 'é']);
  });

  it('joins a line that spans many chunks once (one Buffer.concat per such line), intact', async () => {
    // Arrange: a 100-byte line read 7 bytes at a time spans 15 chunks
    const long = 'x'.repeat(50) + '€'.repeat(10) + 'y'.repeat(20);
    const path = fileWith(`${long}\nshort\n${long}`);
    const concat = jest.spyOn(Buffer, 'concat');

    // Act
    const items = await readAll(fileLinesSource(path, { chunkSize: 7 }));

    // Assert
    expect(valuesOf(items)).toEqual([long, 'short', long]);
    expect(positionsOf(items)).toEqual([101, 107, 207]);
    expect(concat).toHaveBeenCalledTimes(3); // both long lines, and 'short' (bytes 101-106), which straddles byte 105

  });

  it('decodes latin1 when told to', async () => {
    // Arrange
    const path = fileWith(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));

    // Act
    const items = await readAll(fileLinesSource(path, { encoding: 'latin1' }));

    // Assert
    expect(items).toEqual([{ value: 'café', position: 5 }]);
  });

  it('stamps each line with timestampOf(line, byte offset of its start)', async () => {
    // Arrange
    const path = fileWith('10\n20\n');
    const calls: [string, number][] = [];

    // Act
    const items = await readAll(fileLinesSource(path, { timestampOf: (line, start) => (calls.push([line, start]), Number(line) * 1000) }));

    // Assert
    expect(items).toEqual([{ value: '10', position: 3, timestamp: 10_000 }, { value: '20', position: 6, timestamp: 20_000 }]);
    expect(calls).toEqual([['10', 0], ['20', 3]]);
  });

  it('for any text and chunk size, gives the model\'s lines, and opened at any position, the lines after it', async () => {
    // Arrange
    const piece = fc.constantFrom('a', 'bc', ' ', 'é', '€', '𝄞', '\n', '\r\n', '\r');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 1, max: 9 }), async (pieces, chunkSize) => {
        const text = pieces.join('');
        const path = fileWith(text);
        const source = fileLinesSource(path, { chunkSize });
        const expected = modelLines(text);

        // Act
        const whole = await readAll(source);
        const resumed = await Promise.all([0, ...expected.map((l) => l.position)].map((p) => readAll(source, p)));

        // Assert
        expect(whole).toEqual(expected);
        resumed.forEach((items, i) => expect(items).toEqual(expected.slice(i)));
      }),
      { numRuns: soak(40, 400) },
    );
  });
});

describe('fileLinesSource: a restore seeks', () => {
  it('reads from the byte before the position, never the bytes before it', async () => {
    // Arrange
    const path = fileWith('first\nsecond\nthird\n');
    const read = jest.spyOn(realFs, 'read');

    // Act
    const items = await readAll(fileLinesSource(path), 13);

    // Assert: one read at 12 (the '\n' that ends the line before), then the end
    expect(items).toEqual([{ value: 'third', position: 19 }]);
    expect((read.mock.calls as unknown[][]).map((call) => call[4])).toEqual([12, 19]);
  });

  it('resumes after garbage that reading from the start would fail on (a line longer than maxLineBytes)', async () => {
    // Arrange: 1000 bytes without a newline, then two lines; the limit is 100 bytes
    const path = fileWith(`${'#'.repeat(1000)}\nnext\nlast\n`);
    const source = fileLinesSource(path, { maxLineBytes: 100, chunkSize: 16 });

    // Act
    const resumed = await readAll(source, 1001);
    const fromStart = await failureOf(source);

    // Assert
    expect(resumed).toEqual([{ value: 'next', position: 1006 }, { value: 'last', position: 1011 }]);
    expect(fromStart).toBeInstanceOf(LineTooLongError);
  });

  it('opened at the end of the file completes at once, without a read, and closes it', () => {
    // Arrange: the last line has no newline; its position (the file size) is a valid position
    const path = fileWith('a\nb');
    const read = jest.spyOn(realFs, 'read');
    const seen: string[] = [];

    // Act
    from(fileLinesSource(path).open(3)).subscribe({ next: () => seen.push('item'), complete: () => seen.push('complete') });

    // Assert
    expect(seen).toEqual(['complete']);
    expect(read).not.toHaveBeenCalled();
    expect(fdsOn(path)).toBe(0);
  });
});

describe('fileLinesSource: bad input is a named error', () => {
  it('a missing file: SourceReadError with the path, the position and ENOENT', async () => {
    // Arrange
    const path = join(freshDir(), 'missing.txt');

    // Act
    const error = await failureOf(fileLinesSource(path), 0);

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
    expect(error).toMatchObject({ name: 'SourceReadError', input: path, position: 0, cause: expect.objectContaining({ code: 'ENOENT' }) });
    expect((error as Error).message).toContain(path);
  });

  it('an unreadable file: SourceReadError with the open error (EACCES)', async () => {
    // Arrange: the tests may run as root, who reads anything: the open fails as it would for another user
    const path = fileWith('secret\n');
    const denied = Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    jest.spyOn(realFs, 'openSync').mockImplementationOnce(() => {
      throw denied;
    });

    // Act
    const error = await failureOf(fileLinesSource(path));

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
    expect(error).toMatchObject({ input: path, cause: denied });
  });

  it('a directory: SourceReadError, the descriptor closed', async () => {
    // Arrange
    const dir = freshDir();

    // Act
    const error = await failureOf(fileLinesSource(dir));

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
    expect((error as SourceReadError).message).toContain('a directory');
    expect(fdsOn(dir)).toBe(0);
  });

  it('a FIFO: SourceReadError at once (it would block, and cannot seek)', async () => {
    // Arrange
    const path = join(freshDir(), 'fifo');
    execFileSync('mkfifo', [path]);

    // Act
    const error = await failureOf(fileLinesSource(path));

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
    expect((error as SourceReadError).message).toContain('a FIFO');
  });

  it('a read that fails part-way: SourceReadError with the offset and the system error, the file closed', async () => {
    // Arrange: the second read fails with EIO
    const path = fileWith('one\ntwo\nthree\n');
    const real = realFs.read;
    const eio = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    let reads = 0;
    jest.spyOn(realFs, 'read').mockImplementation(((...args: unknown[]) => {
      if (++reads === 2) {
        const callback = args[args.length - 1] as (err: Error, bytesRead: number) => void;
        setImmediate(() => callback(eio, 0));
        return;
      }
      (real as (...a: unknown[]) => void)(...args);
    }) as typeof fs.read);
    const seen: string[] = [];

    // Act
    const error = await lastValueFrom(from(fileLinesSource(path, { chunkSize: 6 }).open(undefined)).pipe(tap((i) => seen.push(i.value)), toArray()))
      .then(() => undefined, (e: unknown) => e);

    // Assert
    expect(seen).toEqual(['one']);
    expect(error).toBeInstanceOf(SourceReadError);
    expect(error).toMatchObject({ input: path, position: 6, cause: eio });
    expect(fdsOn(path)).toBe(0);
  });

  it('a position past the end (the file shrank): SourcePositionError with the position', async () => {
    // Arrange
    const path = fileWith('a\nb\n');

    // Act
    const error = await failureOf(fileLinesSource(path), 5);

    // Assert
    expect(error).toBeInstanceOf(SourcePositionError);
    expect(error).toMatchObject({ input: 5 });
    expect((error as Error).message).toContain('only 4 bytes');
    expect(fdsOn(path)).toBe(0);
  });

  it('a position that is not the end of a line (the file changed): SourcePositionError, the file closed', async () => {
    // Arrange
    const path = fileWith('abc\ndef\n');

    // Act
    const error = await failureOf(fileLinesSource(path), 2);

    // Assert
    expect(error).toBeInstanceOf(SourcePositionError);
    expect(error).toMatchObject({ input: 2 });
    expect((error as Error).message).toContain('not the end of a line');
    expect(fdsOn(path)).toBe(0);
  });

  it('a last line without a newline that grew since (the old size is no longer its end): SourcePositionError', async () => {
    // Arrange: the checkpoint was taken at 3, the end of 'abc'; then 'def\n' was appended to the same line
    const path = fileWith('abcdef\n');

    // Act
    const error = await failureOf(fileLinesSource(path), 3);

    // Assert
    expect(error).toBeInstanceOf(SourcePositionError);
  });

  it.each([[-1], [1.5], [Number.NaN], [Infinity], ['2'], [null]])('a position %p that is not an integer >= 0: SourcePositionError', async (position) => {
    // Arrange
    const path = fileWith('a\nb\n');

    // Act
    const error = await failureOf(fileLinesSource(path), position as number);

    // Assert
    expect(error).toBeInstanceOf(SourcePositionError);
    expect((error as SourcePositionError).input).toBe(position);
    expect(fdsOn(path)).toBe(0);
  });

  it('a line longer than maxLineBytes: LineTooLongError naming the line\'s start, after reading only about maxLineBytes', async () => {
    // Arrange: a 10-byte line is fine, the 11-byte one is not; the 100 kB line is never read whole
    const path = fileWith(`${'a'.repeat(10)}\n${'b'.repeat(11)}\n`);
    const huge = fileWith('z'.repeat(100_000));
    const read = jest.spyOn(realFs, 'read');

    // Act
    const items: string[] = [];
    const error = await lastValueFrom(from(fileLinesSource(path, { maxLineBytes: 10, chunkSize: 4 }).open(undefined)).pipe(
      tap((i) => items.push(i.value)), toArray())).then(() => undefined, (e: unknown) => e);
    read.mockClear();
    const hugeError = await failureOf(fileLinesSource(huge, { maxLineBytes: 1000, chunkSize: 100 }));

    // Assert
    expect(items).toEqual(['a'.repeat(10)]);
    expect(error).toBeInstanceOf(LineTooLongError);
    expect(error).toMatchObject({ input: path, position: 11, maxLineBytes: 10 });
    expect(hugeError).toMatchObject({ name: 'LineTooLongError', position: 0 });
    expect(read.mock.calls.length).toBeLessThanOrEqual(11);
    expect(fdsOn(huge)).toBe(0);
  });

  it('a line exactly maxLineBytes long (before its newline) is accepted, also across chunks', async () => {
    // Arrange
    const path = fileWith(`${'a'.repeat(10)}\n${'b'.repeat(10)}`);

    // Act
    const items = await readAll(fileLinesSource(path, { maxLineBytes: 10, chunkSize: 3 }));

    // Assert
    expect(valuesOf(items)).toEqual(['a'.repeat(10), 'b'.repeat(10)]);
  });

  it('timestampOf throwing errors the output with what it threw, and closes the file', async () => {
    // Arrange
    const path = fileWith('1\n2\n3\n');
    const boom = new Error('no timestamp');

    // Act
    const error = await failureOf(fileLinesSource(path, { timestampOf: (line) => { if (line === '2') throw boom; return 1; } }));

    // Assert
    expect(error).toBe(boom);
    expect(fdsOn(path)).toBe(0);
  });
});

describe('fileLinesSource: options are checked at creation', () => {
  it.each([
    [{ encoding: 'utf16le' }, /option "encoding" must be one of 'utf8'.*got "utf16le"/],
    [{ encoding: 'hex' }, /option "encoding"/],
    [{ chunkSize: 0 }, /option "chunkSize" must be an integer >= 1, got 0/],
    [{ chunkSize: 1.5 }, /option "chunkSize" must be an integer >= 1, got 1.5/],
    [{ chunkSize: 2 ** 40 }, /option "chunkSize" must be an integer from 1 to/],
    [{ maxLineBytes: 0 }, /option "maxLineBytes" must be an integer >= 1, got 0/],
    [{ maxLineBytes: '1mb' }, /option "maxLineBytes" must be an integer >= 1, got "1mb"/],
    [{ timestampOf: 5 }, /option "timestampOf" must be a function, got 5/],
    [{ metrics: {} }, /option "metrics" must be an object made by sourceMetrics\(\)/],
    [{ chunksize: 10 }, /unknown option "chunksize"/],
  ])('%p throws a TypeError naming the option and the value', (options, message) => {
    // Act / Assert
    expect(() => fileLinesSource('/tmp/x', options as never)).toThrow(TypeError);
    expect(() => fileLinesSource('/tmp/x', options as never)).toThrow(message);
  });

  it.each([[''], [42], [undefined]])('a path %p throws a TypeError', (path) => {
    // Act / Assert
    expect(() => fileLinesSource(path as string)).toThrow(/fileLinesSource: path must be a non-empty string/);
  });
});

describe('fileLinesSource: the file is closed', () => {
  it('when take(2) ends the subscription early', async () => {
    // Arrange
    const path = fileWith(Array.from({ length: 100 }, (_, i) => `line ${i}`).join('\n'));
    const before = fdsOn(path);

    // Act
    const items = await lastValueFrom(from(fileLinesSource(path, { chunkSize: 32 }).open(undefined)).pipe(take(2), toArray()));
    await until(() => fdsOn(path) === 0);

    // Assert
    expect(before).toBe(0);
    expect(valuesOf(items)).toEqual(['line 0', 'line 1']);
  });

  it('on an unsubscribe during a read: only once the read has settled, never under it', async () => {
    // Arrange
    const path = fileWith('a\nb\n');

    // Act: the first read is in flight right after subscribe
    const subscription = from(fileLinesSource(path).open(undefined)).subscribe();
    const openDuringRead = fdsOn(path);
    subscription.unsubscribe();
    const openAfterUnsubscribe = fdsOn(path);
    await until(() => fdsOn(path) === 0);

    // Assert
    expect(openDuringRead).toBe(1);
    expect(openAfterUnsubscribe).toBe(1);
  });

  it('at the end of the file, before the output completes', async () => {
    // Arrange
    const path = fileWith('a\nb\nc');
    let openAtComplete = -1;

    // Act
    await new Promise<void>((resolve, reject) =>
      from(fileLinesSource(path, { chunkSize: 2 }).open(undefined)).subscribe({ error: reject, complete: () => { openAtComplete = fdsOn(path); resolve(); } }));

    // Assert
    expect(openAtComplete).toBe(0);
  });
});

describe('fileLinesSource: flow control', () => {
  it('reads at most capacity + 1 lines ahead of a slow asyncWaitOrdered (capacity 5), pausing while it is full', async () => {
    // Arrange: 300 lines, read 64 bytes at a time (so some answers are synchronous, some wait for a read)
    const lines = Array.from({ length: 300 }, (_, i) => `line ${i}`);
    const path = fileWith(lines.join('\n') + '\n');
    const metrics = sourceMetrics();
    let emitted = 0;
    let maxAhead = 0;
    const note = (): void => {
      maxAhead = Math.max(maxAhead, metrics.read - emitted);
    };

    // Act
    const out = await lastValueFrom(from(fileLinesSource(path, { chunkSize: 64, metrics }).open(undefined)).pipe(
      map((item) => item.value),
      tap(note),
      asyncWaitOrdered(async (line: string) => {
        await tick();
        return line.toUpperCase();
      }, { capacity: 5, input: 'values' }),
      tap(() => {
        emitted++;
        note();
      }),
      toArray(),
    ));

    // Assert: the bound of docs/flow-control.md (single operator: capacity + 1), and the source did pause
    expect(out.map((e) => e.kind === 'record' && e.value)).toEqual(lines.map((l) => l.toUpperCase()));
    expect(maxAhead).toBeLessThanOrEqual(6);
    expect(metrics.pauses).toBeGreaterThan(10);
    expect(metrics.read).toBe(300);
  });
});

describe('fileLinesSource in a checkpointable pipeline', () => {
  it('crashed part-way and restored, commits exactly what an uninterrupted run commits, having reopened at a line end', async () => {
    // Arrange
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i} ${'€'.repeat(i % 7)}`);
    const text = lines.join('\r\n') + '\r\n';
    const path = fileWith(text);
    const source = fileLinesSource(path, { chunkSize: 100 });
    const transform = (line: string): string => `<${line}>`;

    // Act
    const expected = await uninterruptedRun(source, freshDir, 20, transform);
    const restored = await crashedAndRestoredRun(source, freshDir, 20, transform, 3);

    // Assert
    expect(expected).toEqual(lines.map(transform));
    expect(restored.committed).toEqual(expected);
    expect(restored.firstOpened).toEqual([undefined]);
    const [position] = restored.secondOpened as number[];
    expect(position).toBeGreaterThan(0);
    expect(modelLines(text).map((l) => l.position)).toContain(position);
    expect(fdsOn(path)).toBe(0);
  });

  it('rerun after it finished, completes at once without a warning; with lines appended since, warns (final-restored)', async () => {
    // Arrange: opened at the end of the unchanged file, the source completes synchronously, which is how
    // checkpointable tells that nothing was appended after its final checkpoint
    const path = fileWith('a\nb\n');
    const stateDir = freshDir();
    const run = (metrics: CheckpointMetrics, warnings: CheckpointWarning[]): Promise<unknown> => lastValueFrom(checkpointable({
      source: fileLinesSource(path), store: new FileCheckpointStore(stateDir), every: { records: 1 }, metrics, onWarning: (w) => warnings.push(w),
    }).pipe().pipe(toArray()));
    await run(checkpointMetrics(), []);
    const unchanged = { metrics: checkpointMetrics(), warnings: [] as CheckpointWarning[] };
    const appended = { metrics: checkpointMetrics(), warnings: [] as CheckpointWarning[] };

    // Act
    await run(unchanged.metrics, unchanged.warnings);
    fs.appendFileSync(path, 'c\n');
    await run(appended.metrics, appended.warnings);
    await until(() => fdsOn(path) === 0);

    // Assert
    expect(unchanged.warnings).toEqual([]);
    expect(unchanged.metrics.finalRestored).toBe(0);
    expect(appended.warnings.map((w) => w.kind)).toEqual(['final-restored']);
    expect(appended.metrics.finalRestored).toBe(1);
  });
});
