import { keyedTimers, record, watermark, type StreamElement } from 'rxjs-sluice';
import { captureError, collect, newScheduler, stream } from '../support/marbles';

/**
 * requireTimestamps: true, for event-time pipelines: a record without a timestamp errors the output with a
 * TypeError naming the option and the record's value, before processElement sees it (which is why
 * ctx.timestamp is typed number there).
 */

describe('keyedTimers: requireTimestamps', () => {
  it('passes timestamped records to processElement as usual', () => {
    // Arrange
    const source = stream<string>(record('a', 3), watermark(4));
    // Act
    const out = collect(source.pipe(keyedTimers({ key: (k: string) => k, processElement: (k, ctx) => [`${k}@${ctx.timestamp + 1}`] }, { requireTimestamps: true })));
    // Assert
    expect(out.values).toEqual([record('a@4', 3), watermark(4)]);
  });

  it('errors the output with a TypeError on a record without a timestamp, before processElement', () => {
    const errors: unknown[] = [];
    const processElement = jest.fn();
    newScheduler().run(({ cold, expectObservable }) => {
      // Arrange
      const source = cold<StreamElement<string>>('ab', { a: record('a', 1), b: record('late') });
      // Act
      const out = source.pipe(keyedTimers({ key: (k) => k, processElement }, { requireTimestamps: true }), captureError(errors));
      // Assert
      expectObservable(out).toBe('-#', undefined, expect.any(TypeError));
    });
    expect(processElement).toHaveBeenCalledTimes(1);
    expect((errors[0] as Error).message).toContain('requireTimestamps');
    expect((errors[0] as Error).message).toContain('"late"');
  });

  it('lets a record without a timestamp through when false (the default)', () => {
    // Arrange
    const source = stream<string>(record('a'));
    // Act
    const out = collect(source.pipe(keyedTimers({ key: (k: string) => k, processElement: (k, ctx) => [`${k}@${ctx.timestamp}`] }, { requireTimestamps: false })));
    // Assert
    expect(out.values).toEqual([record('a@undefined')]);
  });
});
