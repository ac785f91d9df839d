import { TestScheduler } from 'rxjs/testing';
import { Subject, map, throwError, timer, type Observable } from 'rxjs';
import {
  asyncWaitKeyed, asyncWaitMetrics, record, watermark, type AsyncCallContext, type StreamElement,
} from 'rxjs-sluice';
import { ASYNC_WAIT_KEYED_SCENARIOS } from './asyncWaitKeyed.scenarios';
import { checkScenario } from './support/scenario';

/**
 * asyncWaitKeyed in marble diagrams, one per rule. Every character is 1 ms of virtual time; `(...)` is a group of
 * values emitted in the same millisecond (each character still takes one frame of the diagram).
 *
 * The records' values carry their key in the tens: a = 11, c = 12 and e = 13 are key 1; b = 21 and d = 22 are
 * key 2. The call answers the value itself after `delays[value]` ms, so an output letter is its input's letter.
 */

type El = StreamElement<number>;

const newScheduler = (): TestScheduler => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const IN = { a: record(11), b: record(21), c: record(12), d: record(22), e: record(13), W: watermark(5) };
const OUT = { ...IN, f: record(-11) };
const LETTER: Record<number, string> = { 11: 'a', 21: 'b', 12: 'c', 22: 'd', 13: 'e' };
const key = (x: number): number => Math.floor(x / 10);

/** An async call for x that answers x after delays[x] ms; each call start is reported on `starts`. */
const answerAfter = (delays: Record<number, number>, starts?: Subject<string>) => (x: number): Observable<number> => {
  starts?.next(LETTER[x]!);
  return timer(delays[x]!).pipe(map(() => x));
};

describe('asyncWaitKeyed marble scenarios', () => {
  // The three orders side by side: the scenario drawn in docs/keyed.md (asyncWaitKeyed.scenarios.ts).
  it.each(ASYNC_WAIT_KEYED_SCENARIOS.map((s) => [s.title, s] as const))('%s', (_title, scenario) => checkScenario(scenario));

  // order: 'key' (the default): one key's results in its input order, other keys' as they complete.
  //
  //   input    a-b-c-----|
  //   starts   a-b---c           c (key 1) waits for a; b (key 2) starts at once
  //   output   ---b--ac--|       b at 3, a at 6, c (6 + 1) at 7
  it("order 'key': in key order within a key, as completed across keys", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const starts = new Subject<string>();
      const input = cold<El>('a-b-c-----|', IN);
      expectObservable(input.pipe(asyncWaitKeyed(answerAfter({ 11: 6, 21: 1, 12: 1 }, starts), { key }))).toBe('---b--ac--|', OUT);
      expectObservable(starts).toBe('a-b---c');
    });
  });

  // A watermark is a barrier in 'key' order, as in unordered mode: d (key 2) is done at 7 but may not pass W, and
  // W may not pass a (done at 8).
  //
  //   input    a-b-W-d------|
  //   output   ---b----(aWd)|
  it("order 'key': nothing crosses a watermark", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('a-b-W-d------|', IN);
      expectObservable(input.pipe(asyncWaitKeyed(answerAfter({ 11: 8, 21: 1, 22: 1 }), { key }))).toBe('---b----(aWd)|', OUT);
    });
  });

  // order: 'input': global input order (Akka's mapAsyncPartitioned), but the calls still run per key: c (key 1)
  // starts only when a is done, while b (key 2) ran at once.
  //
  //   input    a-b-c-------|
  //   starts   a-b-----c
  //   output   --------(ab)-(c|)
  it("order 'input': global input order, calls per key", () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const starts = new Subject<string>();
      const input = cold<El>('a-b-c-------|', IN);
      const output = input.pipe(asyncWaitKeyed(answerAfter({ 11: 8, 21: 1, 12: 5 }, starts), { key, order: 'input' }));
      expectObservable(output).toBe('--------(ab)-(c|)', OUT);
      expectObservable(starts).toBe('a-b-----c');
    });
  });

  // perKeyConcurrency 2: two calls of key 1 overlap, and their results still leave in key order. c finishes at 2
  // and waits for a; its end gives e the key's second slot.
  //
  //   input     ace|
  //   starts    ac(e)                 perKeyConcurrency 2
  //   output    -----(ace|)
  //   starts    a----ce               perKeyConcurrency 1: one call of the key at a time
  //   output    -----ac(e|)
  it('perKeyConcurrency: overlapping calls of one key, emitted in key order', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('ace|', IN);
      const delays = { 11: 5, 12: 1, 13: 1 };
      const twoStarts = new Subject<string>();
      const oneStarts = new Subject<string>();
      expectObservable(input.pipe(asyncWaitKeyed(answerAfter(delays, twoStarts), { key, perKeyConcurrency: 2 }))).toBe('-----(ace|)', OUT);
      expectObservable(twoStarts).toBe('ace');
      expectObservable(input.pipe(asyncWaitKeyed(answerAfter(delays, oneStarts), { key }))).toBe('-----ac(e|)', OUT);
      expectObservable(oneStarts).toBe('a----ce');
    });
  });

  // capacity bounds everything held, records waiting for their key included; a busy key does not hold back the
  // records of other keys behind it. a and c are key 1 (4 ms each), b is key 2 (1 ms).
  //
  //   input               a-cb|
  //   capacity 3 starts   a--b(c)        b starts on arrival, though c (waiting for a) is ahead of it
  //              output   ----(ab)(c|)   a and b both end at 4; c, started at 4, at 8
  //   capacity 2 starts   a---(cb)       a and c fill it: b waits beyond capacity until a leaves at 4
  //              output   ----ab--(c|)
  it('capacity counts records waiting for their key, and a busy key does not block the others', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('a-cb|', IN);
      const delays = { 11: 4, 12: 4, 21: 1 };
      const three = new Subject<string>();
      const two = new Subject<string>();
      expectObservable(input.pipe(asyncWaitKeyed(answerAfter(delays, three), { key, capacity: 3 }))).toBe('----(ab)(c|)', OUT);
      expectObservable(three).toBe('a--b(c)');
      expectObservable(input.pipe(asyncWaitKeyed(answerAfter(delays, two), { key, capacity: 2 }))).toBe('----ab--(c|)', OUT);
      expectObservable(two).toBe('a---(cb)');
    });
  });

  // The fairness rule, with a call gate of one call at a time: the slots go to records in the order their turn came
  // (retries first). a, c and e (key 1) and b (key 2) arrive together; c and e wait for key 1's turn, b for a call
  // slot. When a ends, c's turn comes, but b was startable first: b gets the slot. A hot key has at most one record
  // in the gate's queue at a time, so the others are never starved behind its run.
  //
  //   input    (aceb)|
  //   calls    a-b-c-e            (in admission order it would be a-c-e-b)
  //   output   --a-b-c-(e|)
  it('fairness: call slots go round-robin over the keys that can start', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const starts = new Subject<string>();
      const input = cold<El>('(aceb)|', IN);
      const output = input.pipe(asyncWaitKeyed(answerAfter({ 11: 2, 12: 2, 13: 2, 21: 2 }, starts), {
        key, concurrency: { adaptive: { limiter: 'aimd', min: 1, max: 1 } },
      }));
      expectObservable(output).toBe('--a-b-c-(e|)', OUT);
      expectObservable(starts).toBe('a-b-c-e');
    });
  });

  // A record's time budget starts with its turn: time spent waiting for its key does not count (as time queued
  // beyond capacity does not). timeout 4: a (6 ms) times out at 4 and its fallback f = -11 takes its place; c waits
  // until then, starts at 4 and ends at 7, within its own 4 ms.
  //
  //   input    ac---------|
  //   output   ----f--c---|
  it('timeout: the budget starts when the key turn comes', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('ac---------|', IN);
      const output = input.pipe(asyncWaitKeyed(answerAfter({ 11: 6, 12: 3 }), { key, timeout: 4, onTimeout: (x) => [-x] }));
      expectObservable(output).toBe('----f--c---|', OUT);
    });
  });

  // A record keeps its key's turn through its retries: c (key 1) starts only once a has its final result. a's first
  // call fails at 1, its retry (2 ms later) starts at 3 and answers at 4.
  //
  //   input    ac|
  //   calls    a--ac
  //   output   ----a(c|)
  it('retries keep the key turn', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const starts = new Subject<string>();
      const input = cold<El>('ac|', IN);
      const fn = (x: number, { attempt }: AsyncCallContext): Observable<number> => {
        starts.next(LETTER[x]!);
        if (x === 11 && attempt === 1) return timer(1).pipe(map(() => { throw new Error('busy'); }));
        return timer(1).pipe(map(() => x));
      };
      expectObservable(input.pipe(asyncWaitKeyed(fn, { key, retry: { maxRetries: 1, delay: 2 } }))).toBe('----a(c|)', OUT);
      expectObservable(starts).toBe('a--ac');
    });
  });

  // The key function runs on admission; a throw errors the output with an AsyncKeyError carrying the input.
  //
  //   input    a-b-|      key throws for b
  //   output   -a#
  it('a throwing key errors the output with AsyncKeyError', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('a-b-|', IN);
      const output = input.pipe(asyncWaitKeyed(answerAfter({ 11: 1 }), {
        key: (x) => {
          if (x === 21) throw new Error('no key');
          return key(x);
        },
      }));
      expectObservable(output).toBe('-a#', OUT, expect.objectContaining({ name: 'AsyncKeyError', input: 21 }));
    });
  });

  // metrics.waitingForKey counts the records waiting for their key's turn (they are in inFlight too).
  it('metrics: waitingForKey', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const metrics = asyncWaitMetrics();
      const input = cold<El>('(ace)|', IN);
      const output = input.pipe(asyncWaitKeyed(answerAfter({ 11: 2, 12: 2, 13: 2 }), { key, metrics }));
      const readings = cold('-x-x-x-x', { x: 0 }).pipe(map(() => `${metrics.waitingForKey}/${metrics.inFlight}`));
      expectObservable(output).toBe('--a-c-(e|)', OUT);
      expectObservable(readings).toBe('-x-y-z-w', { x: '2/3', y: '1/2', z: '0/1', w: '0/0' });
    });
  });

  it('keeps the error of a failed call (AsyncCallError) as asyncWait does', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const input = cold<El>('ab|', IN);
      const output = input.pipe(asyncWaitKeyed((x: number) => (x === 21 ? throwError(() => new Error('down')) : timer(3).pipe(map(() => x))), { key }));
      expectObservable(output).toBe('-#', OUT, expect.objectContaining({ name: 'AsyncCallError', input: 21 }));
    });
  });
});
