import { share } from 'rxjs';
import {
  barrier, keyedTimers, mainOutput, outputTag, record, selectTag, sideOutput, watermark, type StreamElement,
} from 'rxjs-sluice';
import { collect, newScheduler, stream } from '../support/marbles';

/** selectTag(tag): Flink's getSideOutput(tag) on a keyedTimers result. */
describe('selectTag', () => {
  const late = outputTag<string>('late');
  const alerts = outputTag<string>('alerts');

  it("turns the tag's side-output records into records, keeping value and timestamp", () => {
    // Arrange
    const payload = { id: 1 };
    const tag = outputTag<{ id: number }>('late');
    const source = stream<unknown>(sideOutput(tag, payload, 10), sideOutput(tag, { id: 2 }, -5));

    // Act
    const out = collect(source.pipe(selectTag(tag)));

    // Assert
    expect(out.values).toEqual([record(payload, 10), record({ id: 2 }, -5)]);
    expect(out.values[0]!.kind === 'record' && out.values[0]!.value).toBe(payload);
    expect(out.completed).toBe(true);
  });

  it('makes a record without a timestamp key from a side output without one', () => {
    // Act
    const out = collect(stream<unknown>(sideOutput(late, 'a')).pipe(selectTag(late)));

    // Assert
    expect(out.values).toEqual([{ kind: 'record', value: 'a' }]);
    expect(Object.keys(out.values[0]!).sort()).toEqual(['kind', 'value']);
  });

  it('drops main records and other tags, and passes watermarks and barriers in place', () => {
    // Arrange
    const source = stream<unknown>(
      record('main', 1), sideOutput(late, 'l1', 2), watermark(2), sideOutput(alerts, 'a1', 3),
      barrier(1), record('main2'), sideOutput(late, 'l2'), watermark(9),
    );

    // Act
    const out = collect(source.pipe(selectTag(late)));

    // Assert
    expect(out.values).toEqual([record('l1', 2), watermark(2), barrier(1), record('l2'), watermark(9)]);
  });

  it('keeps the timing of selected elements and markers (marbles)', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<unknown>>('a b 3ms c d 2ms e |', {
        a: record('main', 1), b: sideOutput(late, 'l', 1), c: watermark(1), d: sideOutput(alerts, 'x', 2), e: barrier(4),
      });

      // Act
      const out = source.pipe(selectTag(late));

      // Assert
      expectObservable(out).toBe('- b 3ms c - 2ms e |', { b: record('l', 1), c: watermark(1), e: barrier(4) });
    });
  });

  it('matches tags by name: two outputTag("x") objects select the same side output', () => {
    // Arrange
    const emittedWith = outputTag<number>('x');
    const selectedWith = outputTag<number>('x');
    const source = stream<unknown>(sideOutput(emittedWith, 1, 1), sideOutput(outputTag<number>('y'), 2, 2));

    // Act
    const out = collect(source.pipe(selectTag(selectedWith)));

    // Assert
    expect(emittedWith).not.toBe(selectedWith);
    expect(out.values).toEqual([record(1, 1)]);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['an empty object', {}],
    ['a tag with an empty name', { name: '' }],
    ['a tag with a numeric name', { name: 5 }],
    ['a string', 'late'],
  ])('throws a TypeError at creation for %s', (_label, tag) => {
    // Act
    const create = () => selectTag(tag as never);

    // Assert
    expect(create).toThrow(TypeError);
    expect(create).toThrow(/selectTag/);
  });

  it('splits a shared keyedTimers result into its main output and a side output', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange: negative readings go to a side output, the rest to the main output.
      const negatives = outputTag<number>('negatives');
      const source = cold<StreamElement<number>>('a b 2ms W c d |', {
        a: record(3, 10), b: record(-1, 11), W: watermark(11), c: record(-7), d: record(4, 12),
      });
      const result$ = source.pipe(
        keyedTimers<number, number>({
          key: () => 'all',
          processElement: (x, ctx) => (x < 0 ? ctx.output(negatives, x) : ctx.emit(x)),
        }),
        share(),
      );

      // Act
      const main$ = result$.pipe(mainOutput());
      const side$ = result$.pipe(selectTag(negatives));

      // Assert
      expectObservable(main$).toBe('a - 2ms W - d |', { a: record(3, 10), W: watermark(11), d: record(4, 12) });
      expectObservable(side$).toBe('- b 2ms W c - |', { b: record(-1, 11), W: watermark(11), c: record(-7) });
    });
  });

  it('narrows the output type so that no side-output case is left (checked by tsc)', () => {
    // Arrange
    const late = outputTag<number>('late');
    const source = stream<number>(record(1, 1), sideOutput(outputTag<number>('late'), 2, 2), watermark(3), barrier(1));
    const kinds: Array<'record' | 'watermark' | 'barrier'> = [];
    // Act: the assignment below does not compile unless the element type lost its 'sideOutput' member.
    source.pipe(selectTag(late)).subscribe((element) => {
      const kind: 'record' | 'watermark' | 'barrier' = element.kind;
      kinds.push(kind);
    });
    // Assert
    expect(kinds).toEqual(['record', 'watermark', 'barrier']);
  });
});
