import { NEVER, map, of, take, timer, type Observable } from 'rxjs';
import { asyncWaitOrdered, asyncWaitUnordered, keyedTimers, toRecords, type StreamElement } from 'rxjs-sluice';
import { elementMarbles, elementTestScheduler, MarbleMismatchError, type ElementMarbles, type Legend } from 'rxjs-sluice/testing';

// What a failing expectation prints: both streams as element marbles, one legend, and the frames that differ.
// The snapshots are the messages users read, so a change to them is a change to the kit's interface.

/** Runs `test` with element marbles and returns the message of the MarbleMismatchError it fails with. */
function failureOf(test: (m: ElementMarbles, helpers: Parameters<Parameters<ReturnType<typeof elementTestScheduler>['run']>[0]>[0]) => void): string {
  try {
    elementTestScheduler().run((helpers) => test(elementMarbles(helpers), helpers));
  } catch (e) {
    if (e instanceof MarbleMismatchError) return e.message;
    throw e;
  }
  throw new Error('the expectation passed');
}

/** An async call that answers 10 * x after delays[x] ms. */
const answerAfter = (delays: Record<number, number>) => (x: number): Observable<number> => timer(delays[x]!).pipe(map(() => 10 * x));

/** Expects `output` to be `marble` / `legend`, with the input given. */
const expecting = (build: (input: Observable<StreamElement<number>>) => Observable<unknown>, input: [string, Legend<number>], output: [string, Legend]) =>
  failureOf(({ cold, expectElements }) => expectElements(build(cold<number>(...input))).toBe(...output));

describe('failure messages', () => {
  it('prints the order inside a frame: unordered expected, ordered observed', () => {
    expect(expecting(
      (input) => input.pipe(asyncWaitOrdered(answerAfter({ 1: 8, 2: 1, 3: 1 }))),
      ['a-b-W-c-------|', 'a=1 b=2 W4 c=3'],
      ['---b----(aWc)-|', 'a=10 b=20 W4 c=30'],
    )).toMatchSnapshot();
  });

  it('prints a value that is right but a frame late', () => {
    expect(expecting((input) => input.pipe(asyncWaitUnordered(answerAfter({ 1: 3 }))), ['a|', 'a=1@5'], ['--a|', 'a=10@5'])).toMatchSnapshot();
  });

  it('gives a record with another timestamp a letter of its own', () => {
    expect(expecting((input) => input, ['a-b|', 'a=1@5 b=2@7'], ['a-b|', 'a=1@5 b=2@8'])).toMatchSnapshot();
  });

  it('prints the error a stream failed with when it was expected to complete', () => {
    expect(expecting(
      (input) => input.pipe(asyncWaitOrdered(() => NEVER, { timeout: 3 })),
      ['a|', 'a=1@5'],
      ['---(a|)', 'a=10@5'],
    )).toMatchSnapshot();
  });

  it('prints long silences as time progressions, and the first differing frames only', () => {
    expect(expecting(
      (input) => input,
      ['a 99ms b 999ms (cW) 10ms d 10ms e 10ms f 10ms g 10ms h|', 'a@1 b@2 c@3 W3 d@4 e@5 f@6 g@7 h@8'],
      ['a 99ms b 998ms (cW) 10ms d 9ms e 9ms f 9ms g 9ms h|', 'a@1 b@2 c@3 W3 d@4 e@5 f@6 g@7 h@8'],
    )).toMatchSnapshot();
  });

  it('prints side outputs and barriers, and says when a stream carries plain values instead of elements', () => {
    expect(failureOf(({ cold, expectElements }) => {
      const output = cold<number>('a-L-B|', { a: '1@10', L: 'late:9@1', B: 'B2' }).pipe(keyedTimers({ key: () => 0, processElement: (x) => [x + 1] }));
      expectElements(output).toBe('a-L-B|', { a: '2@10', L: 'late:9@1', B: 'B1' });
    })).toMatchSnapshot();
    expect(failureOf(({ expectElements }) => expectElements(of(1, 2)).toBe('(ab|)', 'a=1 b=2'))).toMatchSnapshot();
    expect(failureOf(({ expectElements }) => expectElements(of(1, 2).pipe(toRecords((x) => x))).toBe('(ab|)', 'a=1 b=2'))).toMatchSnapshot();
  });

  it('prints subscription marbles', () => {
    expect(failureOf((_m, { cold, expectSubscriptions }) => {
      const call = cold('---(x|)');
      call.subscribe();
      expectSubscriptions(call.subscriptions).toBe('^-!');
    })).toMatchSnapshot();
  });

  it('prints a subscription ended in the frame it began as a group, (^!), which reads back as what happened', () => {
    // Arrange / Act: take(1) of a synchronous value unsubscribes at once; the expectation is wrong on purpose
    const message = failureOf((_m, { cold, expectSubscriptions }) => {
      const source = cold('(ab|)');
      source.pipe(take(1)).subscribe();
      expectSubscriptions(source.subscriptions).toBe('^-!');
    });
    // Assert: before, the actual side printed ^!, which means unsubscribed one frame later
    expect(message).toContain('actual    (^!)');
  });

  it('prints an asymmetric matcher by its description', () => {
    expect(failureOf(({ cold, expectElements }) => {
      expectElements(cold('a|', 'a=1')).toBe('a|', { a: expect.objectContaining({ value: 2 }) });
    })).toMatchSnapshot();
  });
});

describe('failure messages, streams no marble can write exactly', () => {
  it('says when the actual stream has a frame inside the group before it', () => {
    expect(expecting((input) => input.pipe(asyncWaitOrdered(answerAfter({ 1: 6, 2: 1, 3: 1 }))), ['a-b-B-c---|', 'a=1 b=2 B1 c=3'], ['----B-(ab)c|', 'a=10 b=20 B1 c=30'])).toMatchSnapshot();
  });
});
