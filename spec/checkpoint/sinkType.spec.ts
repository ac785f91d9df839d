import { map } from 'rxjs';
import {
  arraySource, checkpointable, mapRecords, type CheckpointedOutput, type CheckpointSink, type StreamElement,
} from 'rxjs-sluice';
import { typeErrors } from '../support/typeCheck';

/**
 * The sink's element type is tied to the pipeline's output: `checkpointable({ sink })` with a CheckpointSink<S>
 * makes `job.pipe(...)` compile only when the last operator emits StreamElement<S>. Checked twice: the
 * `@ts-expect-error` lines below by tsc (npm test type-checks the specs), and snippets compiled here.
 */

/** A sink of strings that keeps what it is given. */
function stringSink(kept: string[]): CheckpointSink<string> {
  return {
    preCommit: (_id, outputs) => {
      for (const o of outputs) if (o.element.kind === 'record') kept.push(o.element.value.toUpperCase());
    },
    commit: () => undefined,
    abort: () => undefined,
    recover: () => undefined,
  };
}

describe('the sink type of checkpointable', () => {
  it('a pipeline whose output matches the sink compiles and runs; one that does not is a compile error', () => {
    // Arrange
    const kept: string[] = [];
    const job = checkpointable({ source: arraySource([1, 2]), every: { records: 1 }, sink: stringSink(kept) });
    // Act
    const outputs: CheckpointedOutput<string>[] = [];
    job.pipe(mapRecords((x: number) => `n${x}`)).subscribe((o) => outputs.push(o));
    // @ts-expect-error: the pipeline emits numbers, the sink takes strings
    void job.pipe(mapRecords((x: number) => x * 2));
    // @ts-expect-error: without operators the pipeline emits the source's numbers
    void job.pipe();
    // @ts-expect-error: the last of several operators decides
    void job.pipe(mapRecords((x: number) => `n${x}`), map((e: StreamElement<string>) => e), mapRecords((s: string) => s.length));
    // Assert
    expect(outputs.map((o) => o.element.value)).toEqual(['n1', 'n2']);
    expect(kept).toEqual(['N1', 'N2']);
  });

  it('compiled as a consumer would: the mismatches are errors, the matches are not', () => {
    // Arrange
    const prelude = `
      import { map } from 'rxjs';
      import { arraySource, checkpointable, mapRecords, type CheckpointSink, type StreamElement } from 'rxjs-sluice';
      declare const sink: CheckpointSink<string>;
      declare const anySink: CheckpointSink<unknown>;
      const job = checkpointable({ source: arraySource([1, 2]), every: { records: 1 }, sink });
      const open = checkpointable({ source: arraySource([1, 2]), every: { records: 1 }, sink: anySink });
      const free = checkpointable({ source: arraySource([1, 2]), every: { records: 1 } });
      const id = map((e: StreamElement<string>) => e);
    `;
    const mismatches = [
      'job.pipe(mapRecords((x: number) => x * 2));',
      'job.pipe();',
      'job.pipe(mapRecords((x: number) => `n${x}`), id, mapRecords((s: string) => s.length));',
      'job.pipe(mapRecords((x: number) => `n${x}`), id, id, id, id, id, id, id, id);', // nine: not typed one by one
    ];
    const matches = [
      'job.pipe(mapRecords((x: number) => `n${x}`));',
      'job.pipe(mapRecords((x: number) => `n${x}`), id, id, id, id, id, id, id);',
      'open.pipe(mapRecords((x: number) => x * 2));',
      'open.pipe();',
      'free.pipe(mapRecords((x: number) => `n${x}`), id, id, id, id, id, id, id, id);',
    ];
    // Act
    // One program, each line in a file of its own: the snippets whose files have errors, by number.
    const errors = typeErrors([...mismatches, ...matches].map((line) => prelude + line));
    const failing = new Set(errors.map((e) => Number(/^snippet (\d+)/.exec(e)![1])));
    // Assert: snippets 1..mismatches.length fail, the rest compile
    expect([...failing].sort((a, b) => a - b)).toEqual(mismatches.map((_, i) => i + 1));
  });
});
