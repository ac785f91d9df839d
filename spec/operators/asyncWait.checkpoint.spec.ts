import { of, Subject, type Observable } from 'rxjs';
import { asyncWaitOrdered, checkpointable, MemoryCheckpointStore, type CheckpointedOutput } from 'rxjs-sluice';

type Item = { value: number; position: number };
const valueOf = (o: CheckpointedOutput<number>) => (o.element as { value: number }).value;

describe('asyncWait inside a checkpointable pipeline', () => {
  it('a barrier that arrives re-entrantly during the drain loop does not snapshot what the loop emitted before it', () => {
    // Arrange: fn(1) answers when the test says so, fn(x) answers [10x] synchronously; the downstream feeds
    // source item 2 back as soon as it sees 10 (a feedback loop), so item 2 and barrier 2 arrive mid-drain.
    const store = new MemoryCheckpointStore();
    const gate = new Subject<number>();
    const feed = new Subject<Item>();
    let opened = 0;
    const source = { open: (): Observable<Item> => (++opened === 1 ? feed : of()) };
    const fn = (x: number) => (x === 1 ? gate : [10 * x]);
    const build = () =>
      checkpointable<number, number>({ source, every: { records: 1 }, store, delivery: 'at-least-once' })
        .pipe(asyncWaitOrdered(fn, { id: 'a' }));
    const run1: CheckpointedOutput<number>[] = [];
    const subscription = build().subscribe((o) => {
      run1.push(o);
      if (valueOf(o) === 10) feed.next({ value: 2, position: 2 });
    });

    // Act: complete the first call, crash, restore.
    feed.next({ value: 1, position: 1 });
    gate.next(10);
    gate.complete();
    subscription.unsubscribe();
    const latest = JSON.parse(store.read(store.list().at(-1)!));
    const run2: CheckpointedOutput<number>[] = [];
    build().subscribe((o) => run2.push(o));

    // Assert: 20 went out before barrier 2, so checkpoint 2 does not hold record 2, and 20 does not repeat.
    expect(run1.map(valueOf)).toEqual([10, 20]);
    expect(latest.checkpointId).toBe(2);
    expect(JSON.parse(latest.body.operators[0].state)).toEqual([]);
    expect([...run1, ...run2].map(valueOf).filter((v) => v === 20)).toHaveLength(1);
  });
});
