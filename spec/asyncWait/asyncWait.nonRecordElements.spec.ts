import { map, Subject, take, type Observable } from 'rxjs';
import {
  asyncWaitMetrics, checkpointable, MemoryCheckpointStore, outputTag, record, sideOutput, watermark,
  type AsyncWaitMetrics, type CheckpointedOutput, type StreamElement,
} from 'rxjs-sluice';
import { ASYNC_WAIT_OPERATORS, type AsyncWaitOperator, type El } from '../support/marbles';

/**
 * Watermarks, side outputs and barriers behind a record whose call is slow or never settles (docs/async-io.md,
 * "Watermarks, side outputs and capacity"): a run of watermarks with nothing between them leaves as one, the
 * highest; a side output takes a capacity slot; everything queued beyond capacity shows in `buffered`.
 * Record 0's call answers [0] only when the test opens its gate; every other record answers [10x] at once.
 */

/** The operator under test over a Subject, with record 0's call waiting for `gate`; collects the output. */
function harness(operator: AsyncWaitOperator, capacity: number) {
  const source = new Subject<El>();
  const gate = new Subject<void>();
  const metrics = asyncWaitMetrics();
  const fn = (x: number): Observable<number> | number[] => (x === 0 ? gate.pipe(take(1), map(() => 0)) : [10 * x]);
  const out: StreamElement<number>[] = [];
  let completed = false;
  const subscription = source
    .pipe(operator(fn, { capacity, metrics }))
    .subscribe({ next: (el) => out.push(el), complete: () => (completed = true) });
  return { source, gate, metrics, out, subscription, isCompleted: () => completed };
}

const gauges = (m: AsyncWaitMetrics) => ({ inFlight: m.inFlight, waiting: m.waiting, buffered: m.buffered, watermarksCoalesced: m.watermarksCoalesced });

describe.each(ASYNC_WAIT_OPERATORS)('%s: non-record elements behind a record that does not settle', (_name, operator) => {
  it('coalesces 100k watermarks behind it into the last one, held and queued alike, and counts them', () => {
    // Arrange: capacity 1, so record 0 holds the only slot; record 1 waits in the input queue.
    const { source, gate, metrics, out, isCompleted } = harness(operator, 1);
    source.next(record(0, 0));

    // Act: 50k watermarks behind record 0 in the held queue, record 1, 50k more behind it in the input queue.
    for (let t = 1; t <= 50_000; t++) source.next(watermark(t));
    source.next(record(1, 50_001));
    for (let t = 50_001; t <= 100_000; t++) source.next(watermark(t));
    const whileHung = { out: out.length, ...gauges(metrics) };
    source.complete();
    gate.next();

    // Assert: one watermark per run, each after the record before it; the input queue held record 1 and one watermark.
    expect(whileHung).toEqual({ out: 0, inFlight: 1, waiting: 0, buffered: 2, watermarksCoalesced: 2 * 49_999 });
    expect(out).toEqual([record(0, 0), watermark(50_000), record(10, 50_001), watermark(100_000)]);
    expect(isCompleted()).toBe(true);
    expect(gauges(metrics)).toEqual({ inFlight: 0, waiting: 0, buffered: 0, watermarksCoalesced: 2 * 49_999 });
  });

  it('keeps the highest watermark of a run, so a lower one arriving later never takes an advance back', () => {
    // Arrange
    const { source, gate, metrics, out } = harness(operator, 4);
    source.next(record(0, 0));

    // Act: 5 then 3 (a regression), then 3 then 7.
    source.next(watermark(5));
    source.next(watermark(3));
    source.next(record(1, 8));
    source.next(watermark(3));
    source.next(watermark(7));
    gate.next();

    // Assert: record 1 is done at once but stays behind the first watermark in both modes.
    expect(out).toEqual([record(0, 0), watermark(5), record(10, 8), watermark(7)]);
    expect(metrics.watermarksCoalesced).toBe(2);
  });

  it('does not coalesce watermarks with a record or a side output between them', () => {
    // Arrange
    const late = outputTag<number>('late');
    const { source, gate, metrics, out } = harness(operator, 4);
    source.next(record(0, 0));

    // Act: W1, a side output, W2, record 1, W3.
    source.next(watermark(1));
    source.next(sideOutput(late, 9, 1));
    source.next(watermark(2));
    source.next(record(1, 3));
    source.next(watermark(3));
    gate.next();

    // Assert: W1, W2 and W3 are separated by data, so nothing coalesces.
    expect(out).toEqual([record(0, 0), watermark(1), sideOutput(late, 9, 1), watermark(2), record(10, 3), watermark(3)]);
    expect(metrics.watermarksCoalesced).toBe(0);
  });

  it('gives a side output a capacity slot: beyond capacity, side outputs wait in the input queue and show in `buffered`', () => {
    // Arrange
    const late = outputTag<number>('late');
    const { source, gate, metrics, out } = harness(operator, 2);
    source.next(record(0, 0));

    // Act: S1 takes the second slot; S2, S3 and record 1 wait beyond capacity.
    source.next(sideOutput(late, 1));
    source.next(sideOutput(late, 2));
    source.next(sideOutput(late, 3));
    source.next(record(1));
    const whileHung = gauges(metrics);
    gate.next();

    // Assert: a held side output counts as waiting; the order is unchanged.
    expect(whileHung).toEqual({ inFlight: 1, waiting: 1, buffered: 3, watermarksCoalesced: 0 });
    expect(out).toEqual([record(0, 0), sideOutput(late, 1), sideOutput(late, 2), sideOutput(late, 3), record(10)]);
    expect(gauges(metrics)).toEqual({ inFlight: 0, waiting: 0, buffered: 0, watermarksCoalesced: 0 });
  });

  it('holds at most `capacity` side outputs behind it, whatever their number', () => {
    // Arrange
    const late = outputTag<number>('late');
    const { source, metrics, subscription } = harness(operator, 10);
    source.next(record(0, 0));

    // Act
    for (let i = 0; i < 100_000; i++) source.next(sideOutput(late, i));

    // Assert: 9 held (the slots left), the rest visibly queued; unsubscribing gives the gauges back.
    expect(gauges(metrics)).toEqual({ inFlight: 1, waiting: 9, buffered: 100_000 - 9, watermarksCoalesced: 0 });
    subscription.unsubscribe();
    expect(gauges(metrics)).toEqual({ inFlight: 0, waiting: 0, buffered: 0, watermarksCoalesced: 0 });
  });
});

describe.each(ASYNC_WAIT_OPERATORS)('%s: a barrier waiting in the input queue', (_name, operator) => {
  it('is counted in `buffered` while it waits', () => {
    // Arrange: a barrier after every record; fn answers [10x] at once; the consumer feeds record 2 back when it
    // sees 10, so record 2 and barrier 2 arrive while the operator is emitting, and barrier 2 must wait.
    const store = new MemoryCheckpointStore();
    const feed = new Subject<{ value: number; position: number }>();
    const metrics = asyncWaitMetrics();
    const job = checkpointable<number, number>({ source: { open: () => feed }, every: { records: 1 }, store, delivery: 'at-least-once' })
      .pipe(operator((x: number) => [10 * x], { id: 'a', metrics }));
    const seen: unknown[] = [];
    let bufferedMidDrain: number | undefined;
    job.subscribe((o: CheckpointedOutput<number>) => {
      seen.push(o.element);
      if ((o.element as { value?: number }).value === 10) {
        feed.next({ value: 2, position: 2 });
        bufferedMidDrain = metrics.buffered;
      }
    });

    // Act
    feed.next({ value: 1, position: 1 });

    // Assert: the waiting barrier was counted, then left behind 20 and was given back.
    expect(bufferedMidDrain).toBe(1);
    expect(seen.map((el) => (el as { kind: string }).kind)).toEqual(['record', 'record']);
    expect(metrics.buffered).toBe(0);
  });
});
