import { describe } from './describe.js';

/** Builds the TypeError every operator throws for a bad option: it names the operator, the option and the value. */
export function optionError(operator: string, option: string, expectation: string, value: unknown): TypeError {
  return new TypeError(`${operator}: option "${option}" must be ${expectation}, got ${describe(value)}`);
}

/** Throws unless every own key of `options` is one of `allowed`: a misspelt option fails loudly. */
export function rejectUnknownOptions(operator: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${operator}: unknown option "${key}" (known options: ${allowed.join(', ')})`);
    }
  }
}

/** Throws unless `value` is an object (not null, not an array). */
export function expectObject(operator: string, option: string, value: unknown): asserts value is object {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw optionError(operator, option, 'an object', value);
  }
}

/** Throws unless `value` is a function, or undefined when `optional`. */
export function expectFunction(operator: string, option: string, value: unknown, optional = true): void {
  if (value === undefined && optional) return;
  if (typeof value !== 'function') throw optionError(operator, option, 'a function', value);
}

/** Throws unless `value` is an integer >= `min`. */
export function expectInteger(operator: string, option: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw optionError(operator, option, `an integer >= ${min}`, value);
  }
}

/** Throws unless `value` is a finite number >= `min` (or > `min` when `exclusive`). */
export function expectNumber(operator: string, option: string, value: unknown, min: number, exclusive = false): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || (exclusive ? value <= min : value < min)) {
    throw optionError(operator, option, `a finite number ${exclusive ? '>' : '>='} ${min}`, value);
  }
}

/** Throws unless `value` looks like an RxJS `SchedulerLike`. */
export function expectScheduler(operator: string, option: string, value: unknown): void {
  const s = value as { now?: unknown; schedule?: unknown } | null;
  if (s === null || typeof s !== 'object' || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    throw optionError(operator, option, 'a SchedulerLike (with now() and schedule())', value);
  }
}

/** Throws unless `value` is a codec: `{ name: non-empty string, encode: function, decode: function }`. */
export function expectCodec(operator: string, option: string, value: unknown): void {
  expectObject(operator, option, value);
  const codec = value as { name?: unknown; encode?: unknown; decode?: unknown };
  if (typeof codec.name !== 'string' || codec.name.length === 0) throw optionError(operator, `${option}.name`, 'a non-empty string', codec.name);
  expectFunction(operator, `${option}.encode`, codec.encode, false);
  expectFunction(operator, `${option}.decode`, codec.decode, false);
}
