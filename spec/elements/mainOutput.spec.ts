import { Subject } from 'rxjs';
import { barrier, mainOutput, outputTag, record, sideOutput, watermark, type StreamElement } from 'rxjs-sluice';
import { collect, newScheduler, stream } from '../support/marbles';

/** mainOutput(): the stream Flink's process(...) returns, without the side outputs. */
describe('mainOutput', () => {
  const late = outputTag<number>('late');
  const alerts = outputTag<string>('alerts');

  it('drops side-output elements of every tag and keeps records, watermarks and barriers in order', () => {
    // Arrange
    const r1 = record(1, 1);
    const w = watermark(1);
    const b = barrier(2);
    const source = stream<number>(
      sideOutput(late, 0, 0), r1, sideOutput(alerts, 'x'), w, b, record(2), sideOutput(late, 5, 5), watermark(9),
    );

    // Act
    const out = collect(source.pipe(mainOutput()));

    // Assert
    expect(out.values).toEqual([record(1, 1), watermark(1), barrier(2), record(2), watermark(9)]);
    expect(out.values[0]).toBe(r1);
    expect(out.values[1]).toBe(w);
    expect(out.values[2]).toBe(b);
    expect(out.completed).toBe(true);
  });

  it('emits nothing but completion for a stream of side outputs only', () => {
    const out = collect(stream<number>(sideOutput(late, 1), sideOutput(late, 2)).pipe(mainOutput()));

    expect(out.values).toEqual([]);
    expect(out.completed).toBe(true);
  });

  it('keeps the timing of what it passes (marbles)', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<number>>('a s 2ms W t B |', {
        a: record(1, 1), s: sideOutput(late, 9, 1), W: watermark(1), t: sideOutput(alerts, 'x'), B: barrier(1),
      });

      // Act
      const out = source.pipe(mainOutput());

      // Assert
      expectObservable(out).toBe('a - 2ms W - B |', { a: record(1, 1), W: watermark(1), B: barrier(1) });
    });
  });

  it('forwards an upstream error unchanged, after the earlier elements', () => {
    // Arrange
    const upstream = new Error('upstream');
    const source = new Subject<StreamElement<number>>();
    const out = collect(source.pipe(mainOutput()));

    // Act
    source.next(record(1));
    source.next(sideOutput(late, 2));
    source.error(upstream);

    // Assert
    expect(out.values).toEqual([record(1)]);
    expect(out.error).toBe(upstream);
  });

  it('narrows the output type so that no side-output case is left (checked by tsc)', () => {
    // Arrange
    const source = stream<number>(record(1, 1), sideOutput(outputTag<number>('late'), 2, 2), watermark(3), barrier(1));
    const kinds: Array<'record' | 'watermark' | 'barrier'> = [];
    // Act: the assignment below does not compile unless the element type lost its 'sideOutput' member.
    source.pipe(mainOutput()).subscribe((element) => {
      const kind: 'record' | 'watermark' | 'barrier' = element.kind;
      kinds.push(kind);
    });
    // Assert
    expect(kinds).toEqual(['record', 'watermark', 'barrier']);
  });
});
