import { join } from 'path';
import * as fs from 'fs';
import { from, lastValueFrom, map, take, tap, toArray } from 'rxjs';
import { asyncWaitOrdered, SourcePositionError, sourceMetrics, type SourceItem } from 'rxjs-sluice';
import { LineTooLongError, MalformedRecordError, ndjsonSource, SourceReadError, type NdjsonWarning } from 'rxjs-sluice/node';
import { crashedAndRestoredRun, failureOf, fdsOn, readAll, tick, uninterruptedRun, until } from '../support/sourceRuns';
import { tempDirs } from '../support/tempDirs';

/**
 * ndjsonSource: one JSON value per line, read by fileLinesSource's line reader (so positions are byte offsets
 * after a line, and a restore seeks). Blank lines are not records; a malformed line is a MalformedRecordError, or
 * with onMalformed: 'skip' a counted skip reported to onWarning.
 */

const freshDir = tempDirs('sluice-ndjson-');

/** Writes `content` to a new file in a fresh dir and returns its path. */
function fileWith(content: string | Buffer): string {
  const path = join(freshDir(), 'input.ndjson');
  fs.writeFileSync(path, content);
  return path;
}

const valuesOf = <T>(items: readonly SourceItem<T, number>[]): T[] => items.map((i) => i.value);

describe('ndjsonSource: values and positions', () => {
  it('parses each line, its position the byte offset after the line', async () => {
    // Arrange
    const path = fileWith('{"a":1}\n[2,"€"]\n"three"\n4\nnull\n');

    // Act
    const items = await readAll(ndjsonSource(path));

    // Assert
    expect(items).toEqual([
      { value: { a: 1 }, position: 8 }, { value: [2, '€'], position: 18 }, { value: 'three', position: 26 },
      { value: 4, position: 28 }, { value: null, position: 33 },
    ]);
  });

  it('passes over empty and whitespace-only lines (not records, not counted, no warning), CRLF included', async () => {
    // Arrange
    const path = fileWith('\n  \t \r\n{"a":1}\r\n\r\n{"a":2}');
    const metrics = sourceMetrics();
    const warnings: NdjsonWarning[] = [];

    // Act
    const items = await readAll(ndjsonSource(path, { metrics, onMalformed: 'skip', onWarning: (w) => warnings.push(w) }));

    // Assert: the last line has no newline; its position is the file size
    expect(items).toEqual([{ value: { a: 1 }, position: 16 }, { value: { a: 2 }, position: 25 }]);
    expect(metrics.snapshot()).toMatchObject({ read: 2, skipped: 0 });
    expect(warnings).toEqual([]);
  });

  it('passes timestampOf the parsed value and the byte offset where its line starts', async () => {
    // Arrange
    const path = fileWith('{"at":5}\n{"at":7}\n');
    const calls: [unknown, number][] = [];

    // Act
    const items = await readAll(ndjsonSource<{ at: number }>(path, { timestampOf: (e, start) => (calls.push([e, start]), e.at) }));

    // Assert
    expect(items).toEqual([{ value: { at: 5 }, position: 9, timestamp: 5 }, { value: { at: 7 }, position: 18, timestamp: 7 }]);
    expect(calls).toEqual([[{ at: 5 }, 0], [{ at: 7 }, 9]]);
  });

  it('reads records spanning chunks, with multi-byte characters split across them (chunkSize 3)', async () => {
    // Arrange
    const records = [{ name: 'Zoë', emoji: '𝄞🎉' }, { name: '€'.repeat(20) }, { n: 1 }];
    const path = fileWith(records.map((r) => JSON.stringify(r)).join('\n') + '\n');

    // Act
    const items = await readAll(ndjsonSource(path, { chunkSize: 3 }));

    // Assert
    expect(valuesOf(items)).toEqual(records);
  });
});

describe('ndjsonSource: a restore seeks', () => {
  it('opened at a position, never reads the bytes before it: garbage there does not matter', async () => {
    // Arrange: a valid file is read once; then everything before the second record is overwritten with garbage
    // (same length, its '\n' kept), which reading from the start would fail on
    const path = fileWith('{"id":1}\n{"id":2}\n{"id":3}\n');
    const source = ndjsonSource(path);
    const [first] = await readAll(source);
    const bytes = fs.readFileSync(path);
    bytes.fill('#'.charCodeAt(0), 0, first!.position - 1);
    fs.writeFileSync(path, bytes);

    // Act
    const resumed = await readAll(source, first!.position);
    const fromStart = await failureOf(source);

    // Assert
    expect(first).toEqual({ value: { id: 1 }, position: 9 });
    expect(resumed).toEqual([{ value: { id: 2 }, position: 18 }, { value: { id: 3 }, position: 27 }]);
    expect(fromStart).toBeInstanceOf(MalformedRecordError);
  });
});

describe('ndjsonSource: a malformed line', () => {
  it('fails the output with MalformedRecordError (the default): the line, its start, the SyntaxError; the file closed', async () => {
    // Arrange
    const path = fileWith('{"ok":1}\n{"broken":\n{"ok":2}\n');
    const seen: unknown[] = [];

    // Act
    const error = await lastValueFrom(from(ndjsonSource(path).open(undefined)).pipe(tap((i) => seen.push(i.value)), toArray()))
      .then(() => undefined, (e: unknown) => e);

    // Assert
    expect(seen).toEqual([{ ok: 1 }]);
    expect(error).toBeInstanceOf(MalformedRecordError);
    expect(error).toMatchObject({ name: 'MalformedRecordError', input: { line: '{"broken":', position: 9 } });
    expect((error as MalformedRecordError).cause).toBeInstanceOf(SyntaxError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('byte 9');
    expect(fdsOn(path)).toBe(0);
  });

  it('quotes at most 200 characters of a long malformed line in the message, and keeps the whole line in .input', async () => {
    // Arrange
    const line = `{${'x'.repeat(5_000)}`;
    const path = fileWith(`${line}\n`);

    // Act
    const error = (await failureOf(ndjsonSource(path))) as MalformedRecordError;

    // Assert
    expect(error.input.line).toBe(line);
    expect(error.message.length).toBeLessThan(500);
    expect(error.message).toContain('5001 characters');
  });

  it('with onMalformed: \'skip\', is dropped, counted in metrics.skipped and reported to onWarning', async () => {
    // Arrange
    const path = fileWith('1\nnot json\n2\n{"a":\n3\n');
    const metrics = sourceMetrics();
    const warnings: NdjsonWarning[] = [];

    // Act
    const items = await readAll(ndjsonSource(path, { onMalformed: 'skip', metrics, onWarning: (w) => warnings.push(w) }));

    // Assert: the positions of the records are unchanged by the skipped lines around them
    expect(items).toEqual([{ value: 1, position: 2 }, { value: 2, position: 13 }, { value: 3, position: 21 }]);
    expect(metrics.snapshot()).toMatchObject({ read: 3, skipped: 2 });
    expect(warnings).toEqual([
      { kind: 'malformed-skipped', path, position: 2, line: 'not json', error: expect.any(SyntaxError), message: expect.stringContaining('byte 2') },
      { kind: 'malformed-skipped', path, position: 13, line: '{"a":', error: expect.any(SyntaxError), message: expect.stringContaining('(skipped)') },
    ]);
  });

  it('with onMalformed: \'skip\', what onWarning throws is ignored', async () => {
    // Arrange
    const path = fileWith('1\noops\n2\n');
    let calls = 0;

    // Act
    const items = await readAll(ndjsonSource(path, { onMalformed: 'skip', onWarning: () => { calls++; throw new Error('hook failed'); } }));

    // Assert
    expect(valuesOf(items)).toEqual([1, 2]);
    expect(calls).toBe(1);
  });

  it('with onMalformed: \'skip\' and no hook or metrics, is still skipped', async () => {
    // Arrange
    const path = fileWith('oops\n2\n');

    // Act
    const items = await readAll(ndjsonSource(path, { onMalformed: 'skip' }));

    // Assert
    expect(items).toEqual([{ value: 2, position: 7 }]);
  });
});

describe('ndjsonSource: the line reader\'s errors', () => {
  it('a missing file: SourceReadError', async () => {
    // Arrange
    const path = join(freshDir(), 'missing.ndjson');

    // Act
    const error = await failureOf(ndjsonSource(path));

    // Assert
    expect(error).toBeInstanceOf(SourceReadError);
    expect(error).toMatchObject({ input: path, cause: expect.objectContaining({ code: 'ENOENT' }) });
  });

  it('a position past the end, or not at a line end: SourcePositionError', async () => {
    // Arrange
    const path = fileWith('{"a":1}\n{"a":2}\n');

    // Act
    const past = await failureOf(ndjsonSource(path), 17);
    const inside = await failureOf(ndjsonSource(path), 4);

    // Assert
    expect(past).toBeInstanceOf(SourcePositionError);
    expect(inside).toBeInstanceOf(SourcePositionError);
    expect(inside).toMatchObject({ input: 4 });
  });

  it('a line longer than maxLineBytes: LineTooLongError', async () => {
    // Arrange
    const path = fileWith(`{"a":1}\n"${'x'.repeat(100)}"\n`);

    // Act
    const error = await failureOf(ndjsonSource(path, { maxLineBytes: 50, chunkSize: 8 }));

    // Assert
    expect(error).toBeInstanceOf(LineTooLongError);
    expect(error).toMatchObject({ position: 8, maxLineBytes: 50 });
  });

  it('timestampOf throwing errors the output with what it threw', async () => {
    // Arrange
    const path = fileWith('{"at":1}\n{}\n');
    const boom = new Error('no time');

    // Act
    const error = await failureOf(ndjsonSource<{ at?: number }>(path, { timestampOf: (e) => e.at ?? (() => { throw boom; })() }));

    // Assert
    expect(error).toBe(boom);
    expect(fdsOn(path)).toBe(0);
  });
});

describe('ndjsonSource: options are checked at creation', () => {
  it.each([
    [{ onMalformed: 'ignore' }, /option "onMalformed" must be 'error' or 'skip', got "ignore"/],
    [{ onWarning: 'log' }, /option "onWarning" must be a function, got "log"/],
    [{ encoding: 'ucs2' }, /option "encoding"/],
    [{ chunkSize: -1 }, /option "chunkSize" must be an integer >= 1, got -1/],
    [{ maxLineBytes: 1.5 }, /option "maxLineBytes" must be an integer >= 1, got 1.5/],
    [{ onmalformed: 'skip' }, /unknown option "onmalformed"/],
  ])('%p throws a TypeError naming the option and the value', (options, message) => {
    // Act / Assert
    expect(() => ndjsonSource('/tmp/x.ndjson', options as never)).toThrow(TypeError);
    expect(() => ndjsonSource('/tmp/x.ndjson', options as never)).toThrow(message);
  });

  it('a path that is not a non-empty string throws a TypeError', () => {
    // Act / Assert
    expect(() => ndjsonSource('')).toThrow(/ndjsonSource: path must be a non-empty string/);
  });
});

describe('ndjsonSource: the file is closed', () => {
  it('when take(2) ends the subscription early', async () => {
    // Arrange
    const path = fileWith(Array.from({ length: 100 }, (_, i) => JSON.stringify({ i })).join('\n'));

    // Act
    const items = await lastValueFrom(from(ndjsonSource(path, { chunkSize: 16 }).open(undefined)).pipe(take(2), toArray()));
    await until(() => fdsOn(path) === 0);

    // Assert
    expect(valuesOf(items)).toEqual([{ i: 0 }, { i: 1 }]);
  });
});

describe('ndjsonSource: flow control', () => {
  it('reads at most capacity + 1 records ahead of a slow asyncWaitOrdered (capacity 5)', async () => {
    // Arrange
    const records = Array.from({ length: 200 }, (_, i) => ({ i }));
    const path = fileWith(records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const metrics = sourceMetrics();
    let emitted = 0;
    let maxAhead = 0;
    const note = (): void => {
      maxAhead = Math.max(maxAhead, metrics.read - emitted);
    };

    // Act
    const out = await lastValueFrom(from(ndjsonSource<{ i: number }>(path, { chunkSize: 50, metrics }).open(undefined)).pipe(
      map((item) => item.value),
      tap(note),
      asyncWaitOrdered(async (r: { i: number }) => {
        await tick();
        return r.i;
      }, { capacity: 5, input: 'values' }),
      tap(() => {
        emitted++;
        note();
      }),
      toArray(),
    ));

    // Assert: the single-operator bound of docs/flow-control.md, and the source did pause
    expect(out.map((e) => e.kind === 'record' && e.value)).toEqual(records.map((r) => r.i));
    expect(maxAhead).toBeLessThanOrEqual(6);
    expect(metrics.pauses).toBeGreaterThan(10);
  });
});

describe('ndjsonSource in a checkpointable pipeline', () => {
  it('crashed part-way and restored, commits exactly what an uninterrupted run commits (malformed lines skipped both times)', async () => {
    // Arrange: 150 records, every 10th line malformed
    const lines = Array.from({ length: 150 }, (_, i) => (i % 10 === 9 ? `{"broken": ${i}` : JSON.stringify({ i, label: '€'.repeat(i % 4) })));
    const path = fileWith(lines.join('\n') + '\n');
    const source = ndjsonSource<{ i: number; label: string }>(path, { chunkSize: 128, onMalformed: 'skip' });
    const transform = (r: { i: number; label: string }): string => `${r.i}:${r.label}`;

    // Act
    const expected = await uninterruptedRun(source, freshDir, 15, transform);
    const restored = await crashedAndRestoredRun(source, freshDir, 15, transform, 3);

    // Assert
    expect(expected).toHaveLength(135);
    expect(restored.committed).toEqual(expected);
    expect(restored.firstOpened).toEqual([undefined]);
    expect(restored.secondOpened[0]).toBeGreaterThan(0);
    expect(fdsOn(path)).toBe(0);
  });
});
