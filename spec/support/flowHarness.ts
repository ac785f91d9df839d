/**
 * Helpers of the flow-control specs: the four flow-controlled operators as a table, each built with a metrics
 * object of its own and fed plain values (behind `pulled`) or stream elements (inside `checkpointable`); every
 * call answers `10 * x` for each value x, after a latency of the test's choosing (virtual ms on a timer, or
 * 'sync': an array, so the call completes inside the operator's admit). A batch call answers after the longest
 * latency of its values, and synchronously only when all of them are 'sync'.
 */
import { map, timer, type Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import {
  asyncBatchMetrics, asyncBatchOrdered, asyncBatchUnordered, asyncWaitMetrics, asyncWaitOrdered, asyncWaitUnordered,
  type AsyncWaitMetrics, type StreamElement,
} from 'rxjs-sluice';

/** The flow-controlled operators. */
export type FlowKind = 'asyncWaitOrdered' | 'asyncWaitUnordered' | 'asyncBatchOrdered' | 'asyncBatchUnordered';

export const FLOW_KINDS: readonly FlowKind[] = ['asyncWaitOrdered', 'asyncWaitUnordered', 'asyncBatchOrdered', 'asyncBatchUnordered'];

/** True for the kinds that keep input order. */
export const isOrdered = (kind: FlowKind): boolean => kind === 'asyncWaitOrdered' || kind === 'asyncBatchOrdered';

/** A call's latency for a value: virtual ms, or 'sync' (the call answers with an array, at once). */
export type Latency = (value: number) => number | 'sync';

/** The batching knobs of the asyncBatch kinds (ignored by the asyncWait ones). */
export interface BatchKnobs {
  readonly maxBatchSize: number;
  readonly maxInFlightBatches: number;
  readonly linger: number;
}

/** A batch call of the test's own: the results of `xs`, one per value, in order (asyncWait calls get [x] and answer one). */
export type Answer = (xs: number[]) => number[] | Promise<number[]>;

/** How to build one operator. */
export interface FlowOperatorSpec {
  readonly capacity: number;
  /** How long each call takes; ignored when `answer` is given. */
  readonly latency?: Latency;
  /** The calls themselves, instead of `10 * x` after `latency`. */
  readonly answer?: Answer;
  /** The operator's and the calls' timers; the default asyncScheduler (which TestScheduler.run virtualises) when omitted. */
  readonly scheduler?: SchedulerLike;
  /** Defaults: batches of 2, one call at a time, linger 0. */
  readonly batch?: BatchKnobs;
  /** The operator id inside a checkpointable pipeline. */
  readonly id?: string;
}

/** An operator and the metrics object it counts into (an asyncBatchMetrics() one for the batch kinds). */
export interface BuiltOperator<In> {
  readonly operator: OperatorFunction<In, StreamElement<number>>;
  readonly metrics: AsyncWaitMetrics;
}

const DEFAULT_BATCH: BatchKnobs = { maxBatchSize: 2, maxInFlightBatches: 1, linger: 0 };

/** One asyncWait call's answer: `10 * x`, on a timer, or at once (an array of one result) for 'sync'; or the spec's own. */
function answerOne(x: number, spec: FlowOperatorSpec): number[] | Observable<number> | Promise<number> {
  if (spec.answer !== undefined) {
    const result = spec.answer([x]);
    return Array.isArray(result) ? result : result.then((ys) => ys[0]!);
  }
  const { latency = () => 0, scheduler } = spec;
  const ms = latency(x);
  if (ms === 'sync') return [10 * x];
  return (scheduler === undefined ? timer(ms) : timer(ms, scheduler)).pipe(map(() => 10 * x));
}

/** One batch call's answer: `10 * x` per value, on a timer of the longest latency, or at once when every value is 'sync'. */
function answer(values: number[], spec: FlowOperatorSpec): number[] | Observable<number[]> | Promise<number[]> {
  if (spec.answer !== undefined) return spec.answer(values);
  const { latency = () => 0, scheduler } = spec;
  const results = values.map((x) => 10 * x);
  const delays = values.map(latency);
  if (delays.every((d) => d === 'sync')) return results;
  const ms = Math.max(0, ...delays.map((d) => (d === 'sync' ? 0 : d)));
  return (scheduler === undefined ? timer(ms) : timer(ms, scheduler)).pipe(map(() => results));
}

/** The operator of `kind` fed plain values (`input: 'values'`), as behind `pulled`. */
export function valuesOperator(kind: FlowKind, spec: FlowOperatorSpec): BuiltOperator<number> {
  const { capacity, scheduler } = spec;
  const batch = spec.batch ?? DEFAULT_BATCH;
  const common = { capacity, input: 'values' as const, ...(scheduler === undefined ? {} : { scheduler }) };
  switch (kind) {
    case 'asyncWaitOrdered':
    case 'asyncWaitUnordered': {
      const metrics = asyncWaitMetrics();
      const op = kind === 'asyncWaitOrdered' ? asyncWaitOrdered : asyncWaitUnordered;
      return { operator: op((x: number) => answerOne(x, spec), { ...common, metrics }), metrics };
    }
    default: {
      const metrics = asyncBatchMetrics();
      const op = kind === 'asyncBatchOrdered' ? asyncBatchOrdered : asyncBatchUnordered;
      return { operator: op((xs: number[]) => answer(xs, spec), { ...common, ...batch, metrics }), metrics };
    }
  }
}

/** The operator of `kind` fed stream elements (records and barriers), as inside `checkpointable`. */
export function elementsOperator(kind: FlowKind, spec: FlowOperatorSpec): BuiltOperator<StreamElement<number>> {
  const { capacity, scheduler } = spec;
  const batch = spec.batch ?? DEFAULT_BATCH;
  const common = { capacity, ...(spec.id === undefined ? {} : { id: spec.id }), ...(scheduler === undefined ? {} : { scheduler }) };
  switch (kind) {
    case 'asyncWaitOrdered':
    case 'asyncWaitUnordered': {
      const metrics = asyncWaitMetrics();
      const op = kind === 'asyncWaitOrdered' ? asyncWaitOrdered : asyncWaitUnordered;
      return { operator: op((x: number) => answerOne(x, spec), { ...common, metrics }), metrics };
    }
    default: {
      const metrics = asyncBatchMetrics();
      const op = kind === 'asyncBatchOrdered' ? asyncBatchOrdered : asyncBatchUnordered;
      return { operator: op((xs: number[]) => answer(xs, spec), { ...common, ...batch, metrics }), metrics };
    }
  }
}

/** Records an operator holds right now: admitted (in flight, or done and waiting for their turn) and queued beyond capacity. */
export const heldBy = (metrics: AsyncWaitMetrics): number => metrics.inFlight + metrics.waiting + metrics.buffered;

/** 0, 1, …, n - 1. */
export const indices = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
