import { TestScheduler } from 'rxjs/testing';
import { Subject, map, timer } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, barrier, keyedTimers, outputTag, record, watermark } from 'rxjs-sluice';
import {
  assertElementMarbles, compareElementMarbles, elementMarbles, elementTestScheduler, legend, MarbleMismatchError,
} from 'rxjs-sluice/testing';

// The kit inside TestScheduler.run: element marbles in, element marbles expected, through the package's operators.

/** An async call that answers 10 * x after delays[x] ms. */
const answerAfter = (delays: Record<number, number>) => (x: number) => timer(delays[x]!).pipe(map(() => 10 * x));

describe('elementMarbles', () => {
  it('drives an operator from a legend and checks its output against one', () => {
    elementTestScheduler().run((helpers) => {
      // Arrange
      const { cold, expectElements } = elementMarbles(helpers);
      const input = cold<number>('a-b-W-c-------|', 'a=1@1 b=2@2 W=W2 c=3@3');

      // Act
      const output = input.pipe(asyncWaitUnordered(answerAfter({ 1: 8, 2: 1, 3: 1 })));

      // Assert
      expectElements(output).toBe('---b----(aWc)-|', 'a=10@1 b=20@2 W=W2 c=30@3');
    });
  });

  it('reads a letter the legend does not mention as a record of that letter', () => {
    elementTestScheduler().run((helpers) => {
      // Arrange
      const { cold, expectElements } = elementMarbles(helpers);

      // Act
      const input = cold('a-b-W|', 'W5');

      // Assert
      expectElements(input).toBe('a-b-W|', { a: record('a'), b: record('b'), W: watermark(5) });
    });
  });

  it('supports hot observables, subscription marbles and an error value', () => {
    elementTestScheduler().run((helpers) => {
      // Arrange
      const { hot, cold, expectElements } = elementMarbles(helpers);
      const input = hot('a-^-b-B-c-#', 'a@1 b@2 B3 c@3', new Error('gone'));
      const failing = cold('a#', 'a@1', new Error('gone'));

      // Act / Assert
      expectElements(input, '^---!').toBe('--b-', 'b@2');
      expectElements(input).toBe('--b-B-c-#', 'b@2 B3 c@3', new Error('gone'));
      expectElements(failing).toBe('a#', 'a@1', new Error('gone'));
    });
  });

  it('compares with asymmetric matchers, as expectObservable does under jest', () => {
    elementTestScheduler().run((helpers) => {
      // Arrange
      const { cold, expectElements } = elementMarbles(helpers);
      const late = outputTag<number>('late');
      const input = cold<number>('a-b-W|', 'a=1@10 W=W20 b=2@5');

      // Act: records at or below the watermark go to a side output
      const output = input.pipe(keyedTimers({
        key: () => 'k',
        processElement: (x, ctx) => (ctx.timestamp! <= ctx.timerService.currentWatermark() ? ctx.output(late, x) : [x]),
      }));

      // Assert
      expectElements(output).toBe('a-b-W|', { a: record(1, 10), b: expect.objectContaining({ kind: 'record' }), W: 'W20' });
      expectElements(cold('--(aS)|', 'a=1@30 S=late:2@5')).toBe('--(aS)|', 'a=1@30 S=late:2@5');
    });
  });

  it('gives RxJS helpers a values map: legend() works with plain expectObservable too', () => {
    new TestScheduler(assertElementMarbles).run(({ cold, expectObservable }) => {
      // Arrange
      const input = cold('a-b-B|', legend<number>('a=1@5 b=2@7 B=B1'));

      // Act
      const output = input.pipe(asyncWaitOrdered(answerAfter({ 1: 3, 2: 3 })));

      // Assert: the barrier overtakes the held records
      expectObservable(output).toBe('---AB(b|)', { A: record(10, 5), B: barrier(1), b: record(20, 7) });
    });
  });

  it('checks plain-value streams and subscription logs next to element streams', () => {
    elementTestScheduler().run((helpers) => {
      // Arrange
      const starts = new Subject<string>();
      const { cold, expectElements } = elementMarbles(helpers);
      const call = helpers.cold('---(x|)', { x: 7 });

      // Act
      const output = cold<number>('ab|', 'a=1 b=2').pipe(asyncWaitOrdered((x: number) => {
        starts.next('_ab'[x]!);
        return call;
      }, { capacity: 1 }));

      // Assert
      helpers.expectObservable(starts).toBe('a--b');
      expectElements(output).toBe('---a--(a|)', 'a=7');
      helpers.expectSubscriptions(call.subscriptions).toBe(['^--!', '---^--!']);
    });
  });

  it('throws a MarbleMismatchError whose fields carry both streams and the legend', () => {
    // Arrange
    const run = () => elementTestScheduler().run((helpers) => {
      const { cold, expectElements } = elementMarbles(helpers);
      expectElements(cold('a-W|', 'a=1@5 W5')).toBe('a--W|', 'a=1@5 W5');
    });

    // Act
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }

    // Assert
    expect(error).toBeInstanceOf(MarbleMismatchError);
    expect(error).toMatchObject({ name: 'MarbleMismatchError', expected: 'a--W|', actual: 'a-W|', legend: 'a=1@5 W5' });
    expect((error as MarbleMismatchError).input.actual).toHaveLength(3);
  });

  it('compareElementMarbles returns undefined for equal streams and the error it would throw otherwise', () => {
    // Arrange
    const frames = [{ frame: 0, notification: { kind: 'N' as const, value: record(1) } }];

    // Act / Assert
    expect(compareElementMarbles(frames, [{ frame: 0, notification: { kind: 'N', value: record(1), error: undefined } }])).toBeUndefined();
    expect(compareElementMarbles(frames, [])).toBeInstanceOf(MarbleMismatchError);
    expect(compareElementMarbles({ a: 1 }, { a: 1, b: undefined })).toBeUndefined();
    expect(compareElementMarbles({ a: 1 }, { a: 2 })?.message).toBe('the values differ\n  expected  {"a":2}\n  actual    {"a":1}');
  });
});

describe('compareElementMarbles: values of other kinds than plain objects and arrays', () => {
  const frame = (value: unknown) => [{ frame: 0, notification: { kind: 'N' as const, value: record(value), error: undefined } }];

  it.each([
    ['Maps with other entries', new Map([[1, 2]]), new Map()],
    ['Maps with other values', new Map([[1, 2]]), new Map([[1, 3]])],
    ['Sets with other members', new Set([1]), new Set([2])],
    ['regular expressions', /a/, /b/],
    ['regular expressions with other flags', /a/g, /a/i],
    ['boxed numbers', Object(1), Object(2)],
    ['typed arrays of other types', new Uint8Array([1]), new Float64Array([1])],
    ['typed arrays with other bytes', new Uint8Array([1]), new Uint8Array([2])],
    ['symbol-keyed properties', { [Symbol.for('x')]: 1 }, { [Symbol.for('x')]: 2 }],
    ['a Map and a plain object', new Map(), {}],
  ])('tells apart %s (before, they compared equal: a false pass)', (_what, actual, expected) => {
    // Act / Assert
    expect(compareElementMarbles(frame(actual), frame(expected))).toBeInstanceOf(MarbleMismatchError);
  });

  it.each([
    ['equal Maps', new Map<unknown, unknown>([[{ k: 1 }, [1]], ['b', 2]]), new Map<unknown, unknown>([['b', 2], [{ k: 1 }, [1]]])],
    ['equal Sets', new Set([1, { a: 2 }]), new Set([{ a: 2 }, 1])],
    ['equal regular expressions', /a+/g, /a+/g],
    ['equal typed arrays', new Int16Array([1, -2]), new Int16Array([1, -2])],
    ['equal symbol-keyed properties', { [Symbol.for('x')]: 1 }, { [Symbol.for('x')]: 1 }],
  ])('still finds %s equal', (_what, actual, expected) => {
    // Act / Assert
    expect(compareElementMarbles(frame(actual), frame(expected))).toBeUndefined();
  });
});
