import { from, of, Subject, type Observable } from 'rxjs';
import {
  asyncWaitOrdered, asyncWaitUnordered, checkpointable, keyedTimers, MemoryCheckpointStore,
  type CheckpointedOutput, type CheckpointWarning, type ReplayableSource,
} from 'rxjs-sluice';
import { LiveLog, type CheckpointBody } from '../support/checkpoints';

type Item = { value: number; position: number };
const valueOf = (o: CheckpointedOutput<number>) => (o.element as { value: number }).value;

/** The body of checkpoint `id` as written. */
const bodyOf = (store: MemoryCheckpointStore, id: number): CheckpointBody =>
  (JSON.parse(store.read(id)) as { body: CheckpointBody }).body;

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

    // Assert: 20 went out before barrier 2, so its checkpoint (3: under 'at-least-once' checkpoint 1 is the run's
    // start checkpoint) does not hold record 2, and 20 does not repeat.
    expect(run1.map(valueOf)).toEqual([10, 20]);
    expect(latest.checkpointId).toBe(3);
    expect(JSON.parse(latest.body.operators[0].state)).toEqual([]);
    expect([...run1, ...run2].map(valueOf).filter((v) => v === 20)).toHaveLength(1);
  });

  describe.each([
    ['asyncWaitOrdered', asyncWaitOrdered],
    ['asyncWaitUnordered', asyncWaitUnordered],
  ] as const)('%s: a barrier that arrives while the drain loop is emitting', (_name, operator) => {
    /** keyedTimers counting every record under one key, and passing it on: its state must match the source position. */
    const counter = () => keyedTimers<number, number, string, number>({
      key: () => 'k',
      processElement: (x, ctx) => {
        ctx.state.update((ctx.state.value() ?? 0) + 1);
        ctx.emit(x);
      },
    }, { id: 'count' });

    /** The count keyedTimers had stored in a checkpoint body (0 when it had no state yet). */
    const countIn = (body: CheckpointBody): number => {
      const state = JSON.parse(body.operators.find((o) => o.id === 'count')!.state) as { state: Array<[string, number]> };
      return state.state[0]?.[1] ?? 0;
    };

    it('waits, and every input after it waits behind it: no later record reaches downstream before it', () => {
      // Arrange: a barrier after every record; fn answers at once; the consumer appends the next entry of the log
      // when it sees an output (a feedback loop), so each new record and its barrier arrive mid-drain.
      const log = new LiveLog<number>();
      const store = new MemoryCheckpointStore({ retain: 100 });
      const warnings: CheckpointWarning[] = [];
      const job = checkpointable({
        source: log.source, store, every: { records: 1 }, delivery: 'at-least-once', onWarning: (w) => warnings.push(w),
      });
      const seen: number[] = [];
      let completed = false;
      job.pipe(operator((x: number) => [x], { id: 'a' }), counter()).subscribe({
        next: (o) => {
          const x = valueOf(o as CheckpointedOutput<number>);
          seen.push(x);
          if (x < 4) log.append(x + 1);
          else log.end();
        },
        complete: () => (completed = true),
      });

      // Act
      log.append(0);

      // Assert: every barrier got through in order (no checkpoint failed), and each checkpoint's count equals the
      // number of records its source position covers: nothing that arrived after a barrier was counted before it.
      expect(completed).toBe(true);
      expect(seen).toEqual([0, 1, 2, 3, 4]);
      expect(warnings).toEqual([]);
      // (records 0 and 1 share barrier 1: record 1 arrives inside the emission of record 0, before its barrier;
      // checkpoint 1 is the run's start checkpoint, so barrier n completes checkpoint n + 1.)
      const barrierCheckpoints = store.list().filter((id) => !bodyOf(store, id).final).slice(1);
      expect(barrierCheckpoints).toEqual([2, 3, 4, 5]);
      expect(barrierCheckpoints.map((id) => [JSON.parse(bodyOf(store, id).position!), countIn(bodyOf(store, id))]))
        .toEqual([[2, 2], [3, 3], [4, 4], [5, 5]]);
    });

    it('two barriers waiting at once leave in order, each after the inputs ahead of it', () => {
      // Arrange: fn(1) waits on a gate, fn(2) never answers, fn(3) answers [30] at once. Seeing 10, the consumer
      // appends 2 and 3, so record 2, barrier 2, record 3 and barrier 3 all arrive while 10 is being emitted.
      const log = new LiveLog<number>();
      const store = new MemoryCheckpointStore({ retain: 100 });
      const warnings: CheckpointWarning[] = [];
      const gate = new Subject<number>();
      const fn = (x: number): Observable<number> | number[] => (x === 1 ? gate : x === 2 ? new Subject<number>() : [x * 10]);
      const seen: number[] = [];
      const subscription = checkpointable({
        source: log.source, store, every: { records: 1 }, delivery: 'at-least-once', onWarning: (w) => warnings.push(w),
      }).pipe(operator(fn, { id: 'a' })).subscribe((o) => {
        seen.push(valueOf(o as CheckpointedOutput<number>));
        if (valueOf(o as CheckpointedOutput<number>) === 10) {
          log.append(2);
          log.append(3);
        }
      });
      log.append(1);

      // Act
      gate.next(10);
      gate.complete();

      // Assert: the checkpoints of barriers 1, 2, 3 (2, 3, 4: 1 is the run's start checkpoint) all completed, in
      // order, at positions 1, 2, 3; at barrier 3 the operator holds record 2 (in flight) and, when ordered,
      // record 3 (done, waiting behind it).
      expect(warnings).toEqual([]);
      expect(store.list()).toEqual([1, 2, 3, 4]);
      expect(store.list().map((id) => bodyOf(store, id).position)).toEqual([null, '1', '2', '3']);
      const held3 = (JSON.parse(bodyOf(store, 4).operators[0]!.state) as Array<{ value: number }>).map((e) => e.value);
      expect(held3).toEqual(operator === asyncWaitOrdered ? [2, 3] : [2]);
      expect(seen).toEqual(operator === asyncWaitOrdered ? [10] : [10, 30]);
      subscription.unsubscribe();
    });
  });

  describe('a barrier that waits behind the drain loop', () => {
    it('a barrier waiting behind the drain loop snapshots only what arrived before it (checkpoint 2 holds record 2, not record 3)', () => {
      // Arrange: fn(1) waits on gate, fn(2) never answers, fn(3) answers [30] at once. Seeing 10, the consumer appends 2 and 3,
      // so record 2, barrier 2, record 3, barrier 3 all arrive while asyncWait's drain loop is emitting 10.
      const log = new LiveLog<number>();
      const store = new MemoryCheckpointStore({ retain: 100 });
      const gate = new Subject<number>();
      const fn = (x: number) => (x === 1 ? gate : x === 2 ? new Subject<number>() : [x * 10]);
      const run1 = checkpointable({ source: log.source, store, every: { records: 1 }, delivery: 'at-least-once' })
        .pipe(asyncWaitOrdered(fn, { id: 'a' }))
        .subscribe(({ element }) => { if (element.value === 10) { log.append(2); log.append(3); } });
      log.append(1);
      gate.next(10); gate.complete();
      run1.unsubscribe();
      const body2 = JSON.parse(store.read(3)).body; // barrier 2's (1 is the run's start checkpoint)
      // Act: restore it (as if the next were damaged), everything answering at once.
      const older = new MemoryCheckpointStore({ retain: 100 });
      for (const id of [1, 2, 3]) older.write(id, store.read(id));
      log.end();
      const out: number[] = [];
      checkpointable({ source: log.source, store: older, every: { records: 1 }, delivery: 'at-least-once' })
        .pipe(asyncWaitOrdered((x: number) => [x * 10], { id: 'a' }))
        .subscribe(({ element }) => out.push(element.value as number));
      // Assert: checkpoint 2 is at position 2, so record 3 is the source's to replay, not the snapshot's.
      expect([body2.position, JSON.parse(body2.operators[0].state).map((e: { value: number }) => e.value)]).toEqual(['2', [2]]);
      expect(out).toEqual([20, 30]);
    });

    it.each([['ordered', asyncWaitOrdered], ['unordered', asyncWaitUnordered]] as const)('%s: in a feedback loop, the snapshot of a waiting barrier holds nothing that arrived after it, so a restore replays each record once', (_n, operator) => {
      // Arrange: a barrier per record; the consumer appends the next entry when it sees an output (the reviewer's
      // asyncWaitDeferredBarrier scenario). Barrier 1's checkpoint is at position 2, yet asyncWait's snapshot holds record 2.
      const log = new LiveLog<number>();
      const store = new MemoryCheckpointStore({ retain: 100 });
      checkpointable({ source: log.source, store, every: { records: 1 }, delivery: 'at-least-once' })
        .pipe(operator((x: number) => [x], { id: 'a' }))
        .subscribe((o) => { const x = o.element.value as number; if (x < 4) log.append(x + 1); else log.end(); });
      log.append(0);
      const older = new MemoryCheckpointStore({ retain: 100 });
      for (const id of [1, 2]) older.write(id, store.read(id)); // barrier 1's checkpoint is 2 (1: the start checkpoint)
      const out: unknown[] = [];
      // Act
      checkpointable({ source: log.source, store: older, every: { records: 1 }, delivery: 'at-least-once' })
        .pipe(operator((x: number) => [x], { id: 'a' })).subscribe((o) => out.push(o.element.value));
      // Assert
      const body = JSON.parse(store.read(2)).body;
      expect([body.position, JSON.parse(body.operators[0].state)]).toEqual(['2', []]);
      expect(out).toEqual([2, 3, 4]);
    });
  });
});

describe.each([
  ['asyncWaitOrdered', asyncWaitOrdered],
  ['asyncWaitUnordered', asyncWaitUnordered],
] as const)('%s: a snapshot of a long queue beyond capacity', (_name, operator) => {
  it('holds every queued input, across the queue\'s chunk boundaries, and a restore replays them once each', () => {
    // Arrange: capacity 2 and calls that never answer in run 1, so a synchronous source of 100 records queues 98;
    // barriers after records 40 and 80 snapshot 40 and 80 held inputs (the queue's chunks hold 16, 32, 64…).
    // The source is a push source on purpose: arraySource is a pull source, which would pause at the first
    // input beyond capacity (docs/flow-control.md) and never build the long queue this test is about.
    const store = new MemoryCheckpointStore({ retain: 10 });
    const values = Array.from({ length: 100 }, (_, i) => i);
    const source: ReplayableSource<number, number> = {
      open: (position = 0) => from(values.slice(position).map((value, i) => ({ value, position: position + i + 1 }))),
    };
    const never = new Subject<number>();
    const build = (fn: (x: number) => unknown) =>
      checkpointable<number, number>({ source, every: { records: 40 }, store, delivery: 'at-least-once' })
        .pipe(operator(fn as (x: number) => Observable<number>, { id: 'a', capacity: 2 }));
    const run1: CheckpointedOutput<number>[] = [];
    const subscription = build(() => never).subscribe((o) => run1.push(o));

    // Act: crash with everything held, then restore with a function that answers at once.
    subscription.unsubscribe();
    // (checkpoint 1 is the run's start checkpoint: barriers 1 and 2 complete checkpoints 2 and 3)
    const snapshot2 = (JSON.parse(bodyOf(store, 3).operators[0].state) as Array<{ value: number }>).map((r) => r.value);
    const snapshot1 = (JSON.parse(bodyOf(store, 2).operators[0].state) as Array<{ value: number }>).map((r) => r.value);
    const run2: number[] = [];
    build((x) => [10 * x]).subscribe((o) => run2.push(valueOf(o)));

    // Assert
    expect(run1.filter((o) => o.element.kind === 'record')).toEqual([]);
    expect(snapshot1).toEqual(values.slice(0, 40));
    expect(snapshot2).toEqual(values.slice(0, 80));
    expect(run2.filter((v) => v !== undefined)).toEqual(values.map((x) => 10 * x));
  });
});
