import fc from 'fast-check';
import { type SchedulerLike } from 'rxjs';
import { resolveRetryBudget, RetryBudget, type ResolvedRetryBudget } from '../../src/limits/retryBudget';
import { soak } from '../support/soak';

/**
 * RetryBudget is internal (the `retry.budget` of the async operators), so it is checked directly, in virtual
 * time: a hand-driven clock stands in for the scheduler (the budget only ever reads now()).
 */

/** A scheduler whose now() is whatever the test sets; the budget must never schedule anything. */
function manualClock(start = 0): { scheduler: SchedulerLike; set(t: number): void } {
  let t = start;
  const scheduler = {
    now: () => t,
    schedule: () => {
      throw new Error('a retry budget must not schedule');
    },
  } as unknown as SchedulerLike;
  return { scheduler, set: (next) => (t = next) };
}

/** How many retries the budget allows right now, one after another (counts them). */
function withdrawAll(budget: RetryBudget, max = 100_000): number {
  let allowed = 0;
  while (allowed < max && budget.tryWithdraw()) allowed++;
  return allowed;
}

/** `count` first attempts. */
function depositMany(budget: RetryBudget, count: number): void {
  for (let i = 0; i < count; i++) budget.deposit();
}

describe('RetryBudget', () => {
  it('allows retries up to ratio times the first attempts in the window', () => {
    // Arrange
    const clock = manualClock(12_345);
    const budget = new RetryBudget(clock.scheduler, { ratio: 0.1, minPerSecond: 0, ttl: 10_000 });
    depositMany(budget, 100);

    // Act
    const balanceBefore = budget.balance;
    const allowed = withdrawAll(budget);

    // Assert
    expect(balanceBefore).toBe(10);
    expect(allowed).toBe(10);
    expect(budget.balance).toBe(0);
    budget.deposit();
    expect(budget.tryWithdraw()).toBe(false); // 10.1 allows no 11th
    depositMany(budget, 9);
    expect(budget.tryWithdraw()).toBe(true); // 11 with 110 first attempts
  });

  it('allows minPerSecond · ttl / 1000 retries with no traffic at all (the floor)', () => {
    // Arrange
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 0.5, minPerSecond: 1, ttl: 10_000 });

    // Act
    const allowed = withdrawAll(budget);

    // Assert
    expect(allowed).toBe(10);
  });

  it('adds the floor to the ratio', () => {
    // Arrange
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 0.2, minPerSecond: 0.5, ttl: 4_000 });
    depositMany(budget, 20);

    // Act / Assert: 0.2 · 20 + 0.5 · 4 = 6
    expect(budget.balance).toBe(6);
    expect(withdrawAll(budget)).toBe(6);
  });

  it('never retries with ratio 0 and no floor, whatever the traffic', () => {
    // Arrange
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 0, minPerSecond: 0, ttl: 1_000 });

    // Act / Assert
    for (let t = 0; t < 5_000; t += 250) {
      clock.set(t);
      depositMany(budget, 1_000);
      expect(budget.tryWithdraw()).toBe(false);
      expect(budget.balance).toBe(0);
    }
  });

  it('allows the retries the exact arithmetic allows (0.29 · 100 is 29, not 28.999…)', () => {
    // Arrange
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 0.29, minPerSecond: 0, ttl: 1_000 });
    depositMany(budget, 100);

    // Act / Assert
    expect(budget.balance).toBe(29);
    expect(withdrawAll(budget)).toBe(29);
  });

  it('lets first attempts count until their bucket leaves the window: between 0.9 · ttl and ttl', () => {
    // Arrange: ttl 1000 ms, buckets of 100 ms
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 1, minPerSecond: 0, ttl: 1_000 });
    depositMany(budget, 2); // at 0, bucket [0, 100)
    clock.set(50);
    depositMany(budget, 3); // at 50, same bucket

    // Act / Assert
    clock.set(999); // bucket [900, 1000): the window is [0, 999]
    expect(budget.balance).toBe(5);
    expect(budget.tryWithdraw()).toBe(true);
    clock.set(1_000); // bucket [1000, 1100): [0, 100) has left, 1000 ms after the first deposits, 950 after the others
    expect(budget.balance).toBe(0);
    expect(budget.tryWithdraw()).toBe(false);
  });

  it('lets retries count for the window too: once they leave it, the floor is available again', () => {
    // Arrange
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 0, minPerSecond: 2, ttl: 2_000 });
    expect(withdrawAll(budget)).toBe(4);

    // Act / Assert
    clock.set(1_999);
    expect(budget.tryWithdraw()).toBe(false);
    clock.set(2_000);
    expect(withdrawAll(budget)).toBe(4);
  });

  it('slides bucket by bucket: each tenth of ttl expires the attempts of its own bucket only', () => {
    // Arrange: one first attempt in each of 10 buckets of 100 ms, ratio 1
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 1, minPerSecond: 0, ttl: 1_000 });
    for (let k = 0; k < 10; k++) {
      clock.set(k * 100 + 7);
      budget.deposit();
    }

    // Act / Assert
    const balances: number[] = [];
    for (let k = 10; k <= 20; k++) {
      clock.set(k * 100);
      balances.push(budget.balance);
    }
    expect(balances).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
  });

  it('forgets everything after a long quiet spell, however long', () => {
    // Arrange
    const clock = manualClock();
    const budget = new RetryBudget(clock.scheduler, { ratio: 1, minPerSecond: 0, ttl: 1_000 });
    depositMany(budget, 50);

    // Act
    clock.set(1e15);

    // Assert
    expect(budget.balance).toBe(0);
    budget.deposit();
    expect(budget.balance).toBe(1);
  });

  it('treats a clock going backwards as no time passing: nothing expires, the window moves on from the new time', () => {
    // Arrange
    const clock = manualClock(50_000);
    const budget = new RetryBudget(clock.scheduler, { ratio: 1, minPerSecond: 0, ttl: 1_000 });
    depositMany(budget, 3);

    // Act: a virtual clock reset
    clock.set(0);

    // Assert
    expect(budget.balance).toBe(3);
    expect(budget.tryWithdraw()).toBe(true);
    clock.set(999);
    expect(budget.balance).toBe(2);
    clock.set(1_000);
    expect(budget.balance).toBe(0);
  });

  it('works with a bucket width that is not a whole number of ms', () => {
    // Arrange: ttl 1 ms, buckets of 0.1 ms
    const clock = manualClock(3);
    const budget = new RetryBudget(clock.scheduler, { ratio: 1, minPerSecond: 0, ttl: 1 });
    budget.deposit();

    // Act / Assert
    clock.set(3.5);
    expect(budget.tryWithdraw()).toBe(true);
    clock.set(5);
    budget.deposit();
    expect(budget.balance).toBe(1);
  });

  describe('properties', () => {
    /** Integer bucket widths and integer times keep the model's bucket arithmetic exact. */
    const options: fc.Arbitrary<ResolvedRetryBudget> = fc.record({
      ratio: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3, noNaN: true })),
      minPerSecond: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5, noNaN: true })),
      ttl: fc.integer({ min: 1, max: 100 }).map((w) => w * 10),
    });
    /**
     * Options, and events: a step of the clock (often none, often within a bucket or two, sometimes past the
     * whole window), then a first attempt or a retry that asks the budget.
     */
    const scenario = options.chain((resolved) => {
      const width = resolved.ttl / 10;
      const dt = fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 3, arbitrary: fc.integer({ min: 0, max: width }) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 3 * width }) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 * resolved.ttl }) },
      );
      const event = fc.record({ dt, kind: fc.constantFrom('deposit' as const, 'withdraw' as const) });
      return fc.tuple(fc.constant(resolved), fc.array(event, { maxLength: 150, size: 'max' }));
    });
    type Log = { t: number; kind: 'deposit' | 'withdraw'; allowed: boolean }[];

    /** Runs the events against a budget, from time 0, and logs what happened. */
    function run(resolved: ResolvedRetryBudget, events: readonly { dt: number; kind: 'deposit' | 'withdraw' }[], onEach?: (budget: RetryBudget, log: Log) => boolean): Log | null {
      const clock = manualClock();
      const budget = new RetryBudget(clock.scheduler, resolved);
      const log: Log = [];
      let t = 0;
      for (const { dt, kind } of events) {
        t += dt;
        clock.set(t);
        if (kind === 'deposit') {
          budget.deposit();
          log.push({ t, kind, allowed: true });
        } else log.push({ t, kind, allowed: budget.tryWithdraw() });
        if (onEach !== undefined && !onEach(budget, log)) return null;
      }
      return log;
    }

    it('holds the ratio over the window: retries in [t − (ttl − ttl/10), t] ≤ ratio · deposits in (t − ttl, t] + floor', () => {
      fc.assert(
        fc.property(scenario, ([resolved, events]) => {
          // Arrange / Act
          const log = run(resolved, events)!;
          const width = resolved.ttl / 10;
          const floor = (resolved.minPerSecond * resolved.ttl) / 1000;

          // Assert: at each allowed retry, counting what happened before it (itself included)
          for (let i = 0; i < log.length; i++) {
            const { t, kind, allowed } = log[i]!;
            if (kind !== 'withdraw' || !allowed) continue;
            let retries = 0;
            let deposits = 0;
            for (let j = 0; j <= i; j++) {
              const e = log[j]!;
              if (e.kind === 'withdraw' && e.allowed && e.t >= t - (resolved.ttl - width)) retries++;
              if (e.kind === 'deposit' && e.t > t - resolved.ttl) deposits++;
            }
            if (retries > resolved.ratio * deposits + floor + 1e-6) return false;
          }
          return true;
        }),
        { numRuns: soak(300, 5_000) },
      );
    });

    it('matches a model that counts the window bucket by bucket, and balance is what is left', () => {
      fc.assert(
        fc.property(scenario, ([resolved, events]) => {
          // Arrange
          const width = resolved.ttl / 10;
          const floor = (resolved.minPerSecond * resolved.ttl) / 1000;
          /** Deposits and allowed retries in the window of time t, from the log (before the current event). */
          const inWindow = (log: Log, t: number, upTo: number) => {
            const first = Math.floor(t / width) - 9;
            let deposits = 0;
            let retries = 0;
            for (let j = 0; j < upTo; j++) {
              const e = log[j]!;
              if (Math.floor(e.t / width) < first) continue;
              if (e.kind === 'deposit') deposits++;
              else if (e.allowed) retries++;
            }
            return { deposits, retries };
          };

          // Act / Assert after every event
          const log = run(resolved, events, (budget, log) => {
            const last = log[log.length - 1]!;
            const before = inWindow(log, last.t, log.length - 1);
            if (last.kind === 'withdraw') {
              const expected = before.retries + 1 <= resolved.ratio * before.deposits + floor + 1e-9;
              if (last.allowed !== expected) return false;
            }
            const after = inWindow(log, last.t, log.length);
            const balance = Math.max(0, Math.floor(resolved.ratio * after.deposits + floor - after.retries + 1e-9));
            return budget.balance === balance;
          });
          return log !== null;
        }),
        { numRuns: soak(200, 3_000) },
      );
    });
  });
});

describe('resolveRetryBudget', () => {
  it('is null when the option is left out', () => {
    expect(resolveRetryBudget('op', undefined)).toBeNull();
  });

  it.each([
    ['defaults: 1 retry a second, a 10 s window', { ratio: 0.1 }, { ratio: 0.1, minPerSecond: 1, ttl: 10_000 }],
    ['undefined fields are the defaults', { ratio: 0, minPerSecond: undefined, ttl: undefined }, { ratio: 0, minPerSecond: 1, ttl: 10_000 }],
    ['as given', { ratio: 10, minPerSecond: 0, ttl: 0.5 }, { ratio: 10, minPerSecond: 0, ttl: 0.5 }],
  ])('resolves %s', (_label, value, expected) => {
    // Act
    const resolved = resolveRetryBudget('op', value);

    // Assert
    expect(resolved).toEqual(expected);
  });

  // [label, value, expected message]
  const invalid: [string, unknown, RegExp][] = [
    ['not an object', 0.1, /^op: option "retry\.budget" must be an object, got 0\.1$/],
    ['null', null, /option "retry\.budget" must be an object, got null/],
    ['ratio missing', {}, /option "retry\.budget\.ratio" must be a number in \[0, 10\] .*, got undefined/],
    ['ratio -0.1', { ratio: -0.1 }, /"retry\.budget\.ratio" .*got -0\.1/],
    ['ratio 20 (meant 20%?)', { ratio: 20 }, /"retry\.budget\.ratio" must be a number in \[0, 10\] \(retries per first attempt: 0\.1 allows 10%\), got 20/],
    ['ratio NaN', { ratio: NaN }, /"retry\.budget\.ratio" .*got NaN/],
    ["ratio '0.1'", { ratio: '0.1' }, /"retry\.budget\.ratio" .*got "0\.1"/],
    ['minPerSecond -1', { ratio: 0.1, minPerSecond: -1 }, /"retry\.budget\.minPerSecond" must be a finite number >= 0, got -1/],
    ['minPerSecond Infinity', { ratio: 0.1, minPerSecond: Infinity }, /"retry\.budget\.minPerSecond" .*got Infinity/],
    ['ttl 0', { ratio: 0.1, ttl: 0 }, /"retry\.budget\.ttl" must be a finite number > 0, got 0/],
    ['ttl Infinity', { ratio: 0.1, ttl: Infinity }, /"retry\.budget\.ttl" .*got Infinity/],
    ['unknown key', { ratio: 0.1, percentCanRetry: 0.2 }, /op retry\.budget: unknown option "percentCanRetry" \(known options: ratio, minPerSecond, ttl\)/],
  ];
  it.each(invalid)('throws a TypeError naming the option and the value: %s', (_label, value, message) => {
    // Act
    const act = () => resolveRetryBudget('op', value);

    // Assert
    expect(act).toThrow(TypeError);
    expect(act).toThrow(message);
  });
});
