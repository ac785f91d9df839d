import fc from 'fast-check';
import { TestScheduler } from 'rxjs/testing';
import { barrier, outputTag, record, sideOutput, watermark, type StreamElement } from 'rxjs-sluice';
import { formatElementMarbles, legend, type MarbleFrame } from 'rxjs-sluice/testing';

// The legend: the text that says what each letter of an element marble stands for, read by legend() and written
// back by formatElementMarbles (the text failure messages print).

const late = outputTag<unknown>('late');

describe('legend', () => {
  it.each<[string, StreamElement<unknown>]>([
    ['a=1@5', record(1, 5)],
    ['a=1', record(1)],
    ['a@5', record('a', 5)],
    ['a', record('a')],
    ['a=-2.5@-10', record(-2.5, -10)],
    ['a=7@60_000', record(7, 60_000)],
    ["a='x y'@5", record('x y', 5)],
    ['a="W6"', record('W6')],
    ['a=hello', record('hello')],
    ['a={"sensor":"s1","n":2}@1000', record({ sensor: 's1', n: 2 }, 1000)],
    ['a=[1, 2]', record([1, 2])],
    ['a=true', record(true)],
    ['a=null@3', record(null, 3)],
    ['W6', watermark(6)],
    ['V=W6', watermark(6)],
    ['W=W-inf', watermark(-Infinity)],
    ['W=W+inf', watermark(Infinity)],
    ['B3', barrier(3)],
    ['C=B4', barrier(4)],
    ['L=late:9@4', sideOutput(late, 9, 4)],
    ['L=late:{"id":1}', sideOutput(late, { id: 1 })],
  ])('reads %s', (entry, element) => {
    // Arrange / Act
    const map = legend(entry);

    // Assert: the entry's first character is the letter
    expect(map).toEqual({ [entry[0]!]: element });
  });

  it('reads several entries separated by spaces or commas, and an object of elements and legend strings', () => {
    // Arrange / Act
    const fromText = legend('a=1@5, b=2@7 W6');
    const fromObject = legend({ a: record({ id: 'x' }, 5), W: 'W6', B: 'B2' });

    // Assert
    expect(fromText).toEqual({ a: record(1, 5), b: record(2, 7), W: watermark(6) });
    expect(fromObject).toEqual({ a: record({ id: 'x' }, 5), W: watermark(6), B: barrier(2) });
  });

  it.each([
    ['-=1', /must start with one letter that is not marble syntax/],
    ['a=1@x', /cannot read "a=1@x": the event time after @ must be a finite number/],
    ['a=1@inf', /the event time after @ must be a finite number/],
    ['a={"open"', /unclosed quote or bracket/],
    ['a=x{y}', /is not a value/],
    ['ab', /cannot read "ab": write x=<element>, x@<time>, W<time>, B<id> or x/],
    ['B=B-1', /cannot read "B=B-1": W and B take a number: W<time> is a watermark, B<id> a barrier \(quote a string\)/],
    ['W=W6x', /W and B take a number/],
  ])('refuses %s with a TypeError naming the entry', (entry, message) => {
    // Arrange / Act / Assert
    expect(() => legend(entry)).toThrow(TypeError);
    expect(() => legend(entry)).toThrow(message);
  });

  it('refuses an object entry that is neither an element nor a legend string', () => {
    // Arrange / Act / Assert
    expect(() => legend({ a: 42 } as never)).toThrow(/legend: a must be an element .* got 42/);
    expect(() => legend({ ab: 'W6' })).toThrow(TypeError);
  });

  it('writes back what it reads: any stream of elements, formatted and parsed again, gives the same frames', () => {
    // Arrange
    const time = fc.option(fc.integer({ min: -1e6, max: 1e6 }), { nil: undefined });
    const value = fc.oneof(fc.integer(), fc.string(), fc.constantFrom('W6', 'B2', 'W-', 'B+', 'true', '5', 'a:b', "it's"), fc.record({ id: fc.string() }));
    const element = fc.oneof(
      fc.tuple(value, time).map(([v, t]) => record(v, t)),
      fc.oneof(fc.integer(), fc.constantFrom(Infinity, -Infinity)).map((t) => watermark(t)),
      fc.nat().map((id) => barrier(id)),
      fc.tuple(value, time).map(([v, t]) => sideOutput(late, v, t)),
    );
    const frames = fc.array(fc.tuple(fc.nat({ max: 30 }), element), { maxLength: 12 }).map((items) => {
      // Frames in order, and far enough apart for a group of the elements of one frame.
      let frame = 0;
      return items.map(([step, el]): MarbleFrame => ({ frame: (frame += step === 0 ? 0 : step + 14), notification: { kind: 'N', value: el } }));
    });

    fc.assert(fc.property(frames, (messages) => {
      // Act
      const { marble, legend: text } = formatElementMarbles(messages);
      const parsed = new TestScheduler(() => undefined).run(() => TestScheduler.parseMarbles(marble, legend(text), undefined, true, true));

      // Assert
      expect(parsed).toEqual(messages.map((m) => ({ frame: m.frame, notification: { kind: 'N', value: m.notification.value, error: undefined } })));
    }));
  });
});
