import { of, type Observable, type OperatorFunction } from 'rxjs';
import {
  keyedTimers, outputTag, record, values, watermark,
  type KeyedContext, type KeyedProcessFunction, type KeyedTimersOptions, type OnTimerContext, type StreamElement, type ValueState,
} from 'rxjs-sluice';
import { collect } from '../support/marbles';

/**
 * What keyedTimers' types infer. `npm test` runs `tsc --noEmit` over spec/, so every assignment below is a
 * compile-time assertion, and every `@ts-expect-error` line must fail to compile (an unused one is itself an
 * error). The same pipelines also run, so each check is about code that works.
 *
 * The annotation-free call infers I from the input stream (or key's parameter), K from key, S from
 * initialState and O from the arrays the callbacks return. What cannot be inferred fails to compile instead
 * of becoming unknown: ctx.emit takes never, and a state without initialState is never.
 */

/** Compiles only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
const assertType = <T extends true>(): T | undefined => undefined;
/** Type-checks code without running it: for the lines that must not compile, which would do something if run. */
const compileOnly = (_code: () => void): void => undefined;

interface Reading {
  readonly sensor: string;
  readonly n: number;
}
const readings = of<StreamElement<Reading>[]>(record({ sensor: 'a', n: 1 }, 1_000), record({ sensor: 'a', n: 2 }, 2_000), watermark(60_000));

describe('keyedTimers types', () => {
  it('infers I from the stream, K from key, S from initialState and O from the returned outputs', () => {
    // Arrange + Act
    const sums = readings.pipe(
      keyedTimers({
        key: (r) => r.sensor,
        initialState: () => 0,
        processElement: (r, ctx) => {
          const key: string = ctx.key;
          const sum: number = ctx.state.value(); // never undefined: there is an initialState
          ctx.state.update(sum + r.n);
          ctx.timerService.registerEventTimeTimer(60_000);
          return key === '' ? [] : undefined;
        },
        onTimer: (end, ctx) => [{ sensor: ctx.key, end, sum: ctx.state.value() }],
      }),
      values(),
    );
    // Assert
    assertType<Equal<typeof sums, Observable<{ sensor: string; end: number; sum: number }>>>();
    expect(collect(sums).values).toEqual([{ sensor: 'a', end: 60_000, sum: 3 }]);
  });

  it('infers I from key\'s parameter outside a pipe, and gives the operator its full type', () => {
    // Arrange + Act
    const op = keyedTimers({ key: (r: Reading) => r.n, processElement: (r) => [r.sensor.length] });
    // Assert
    assertType<Equal<typeof op, OperatorFunction<StreamElement<Reading>, StreamElement<number>>>>();
    expect(collect(readings.pipe(op, values())).values).toEqual([1, 1]);
  });

  it('types a state object from initialState, and an optional state from an annotated initialState', () => {
    // Arrange + Act
    const out = readings.pipe(
      keyedTimers({
        key: (r) => r.sensor,
        initialState: () => ({ count: 0, last: undefined as number | undefined }),
        processElement: (r, ctx) => {
          const state = ctx.state.value();
          state.count++;
          state.last = r.n;
          return [state.count];
        },
      }),
      keyedTimers({
        key: () => 'all',
        initialState: (): number | undefined => undefined,
        processElement: (count, ctx) => {
          const previous = ctx.state.value();
          assertType<Equal<typeof previous, number | undefined>>();
          ctx.state.update(count);
          return [previous ?? -1];
        },
      }),
      values(),
    );
    // Assert
    assertType<Equal<typeof out, Observable<number>>>();
    expect(collect(out).values).toEqual([-1, 1]);
  });

  it('fails to compile where nothing can be inferred, instead of falling back to unknown', () => {
    // Arrange + Act
    const out = readings.pipe(
      keyedTimers({
        key: (r) => r.sensor,
        processElement: (r, ctx) => {
          compileOnly(() => {
            // @ts-expect-error O is not inferred from ctx.emit: emit takes never (return the outputs instead)
            ctx.emit(r.sensor);
            // @ts-expect-error S is not inferred from update: without initialState the state is never
            ctx.state.update(r.n);
          });
          const nothing: undefined = ctx.state.value();
          return nothing;
        },
      }),
    );
    // Assert: no output type was inferred
    assertType<Equal<typeof out, Observable<StreamElement<never>>>>();
    expect(collect(out).values).toEqual([watermark(60_000)]);
  });

  it('refuses returns that are not arrays of outputs', () => {
    // Arrange + Act
    const build = () => keyedTimers({
      key: (r: Reading) => r.sensor,
      // @ts-expect-error a callback returns an array of outputs, or nothing; a bare value is not one
      processElement: (r) => r.sensor,
    });
    // Assert: refused at run time too
    expect(collect(readings.pipe(build())).error).toBeInstanceOf(Error);
  });

  it('types ctx.timestamp: a number in onTimer, and in processElement under requireTimestamps: true', () => {
    // Arrange + Act
    const out = readings.pipe(
      keyedTimers({
        key: (r) => r.sensor,
        processElement: (_r, ctx) => {
          const at: number = ctx.timestamp; // requireTimestamps: true
          ctx.timerService.registerEventTimeTimer(at - (at % 60_000) + 60_000);
        },
        onTimer: (end, ctx) => {
          const at: number = ctx.timestamp;
          return [end === at];
        },
      }, { requireTimestamps: true }),
      keyedTimers({
        key: () => 0,
        processElement: (same, ctx) => {
          // @ts-expect-error without requireTimestamps a record may have no timestamp
          const at: number = ctx.timestamp;
          return [same && at === ctx.timestamp];
        },
      }),
      values(),
    );
    // Assert
    assertType<Equal<typeof out, Observable<boolean>>>();
    expect(collect(out).values).toEqual([true]);
  });

  it('keeps the explicit form: keyedTimers<I, O, K, S> with ctx.emit typed O and value() possibly undefined', () => {
    // Arrange + Act
    const out = readings.pipe(
      keyedTimers<Reading, string, string, number>({
        key: (r) => r.sensor,
        processElement: (r, ctx) => {
          const count: number | undefined = ctx.state.value();
          ctx.state.update((count ?? 0) + 1);
          ctx.emit(`${r.sensor}#${ctx.state.value()}`);
          // @ts-expect-error O is string
          compileOnly(() => ctx.emit(1));
        },
      }),
      values(),
    );
    // Assert
    assertType<Equal<typeof out, Observable<string>>>();
    expect(collect(out).values).toEqual(['a#1', 'a#2']);
  });

  it('keeps declared functions, contexts and states assignable as before', () => {
    // Arrange
    const declared: KeyedProcessFunction<Reading, string, string, number> = {
      key: (r) => r.sensor,
      processElement: (r, ctx) => ctx.emit(r.sensor),
      onTimer: (_t, ctx: OnTimerContext<string, string, number>) => [ctx.key],
    };
    const echo = (value: Reading, ctx: KeyedContext<string, string, number>) => ctx.emit(`${value.n}@${ctx.timestamp}`);
    const bump = (state: ValueState<number>) => state.update((state.value() ?? 0) + 1);
    const late = outputTag<Reading>('late');
    const options: KeyedTimersOptions = { id: undefined, scheduler: undefined, requireTimestamps: undefined };
    // Act
    const out = readings.pipe(
      keyedTimers(declared),
      values(),
    );
    const both = readings.pipe(
      keyedTimers<Reading, string, string, number>({
        key: (r) => r.sensor,
        processElement: (r, ctx) => {
          bump(ctx.state);
          if (r.n > 1) ctx.output(late, r);
          else echo(r, ctx);
        },
      }, options),
    );
    // Assert
    assertType<Equal<typeof out, Observable<string>>>();
    expect(collect(out).values).toEqual(['a', 'a']);
    expect(collect(both).values).toHaveLength(3);
  });
});
