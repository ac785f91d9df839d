// `npm start -- <flags>`: the job's command line. parseJobArgs is pure: it returns the settings or throws a
// UsageError naming the flag and the value.
import { parseArgs } from 'node:util';
import { SERVICE_DEFAULTS } from './service.mjs';

export class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

// Every flag: [name, type, default, check, help]. Numbers are checked as [min, max, integer].
const FLAGS = [
  ['events', 'number', 1_000_000, [1, 1e8, true], 'how many click events the input holds'],
  ['seed', 'number', 1, [0, 2 ** 31 - 1, true], 'the input generator\'s seed (same size and seed: the same input)'],
  ['latency', 'number', SERVICE_DEFAULTS.latency, [0, 60_000, false], 'the service\'s time per request, in ms (±25%)'],
  ['failure-rate', 'number', SERVICE_DEFAULTS.failureRate, [0, 0.9, false], 'the share of requests the service fails with 503'],
  ['slow-rate', 'number', SERVICE_DEFAULTS.slowRate, [0, 1, false], 'the share of requests the service answers slowly'],
  ['slow-ms', 'number', SERVICE_DEFAULTS.slowMs, [0, 60_000, false], 'how much slower, in ms'],
  ['batch-size', 'number', 500, [1, 1_000, true], 'events per call to POST /users:batchGet (the service takes 1000 at most)'],
  ['linger', 'number', 5, [0, 60_000, false], 'ms a batch waits to fill before it is sent anyway'],
  ['concurrency', 'number', 'auto', [1, 10_000, true], 'calls in flight at once: batches (auto: 4), or events with --per-record (auto: 64)'],
  ['adaptive', 'string', 'off', ['off', 'aimd', 'gradient'], 'adapt the calls in flight to the service (at most --concurrency; 503s count as overload)'],
  ['timeout', 'number', 30_000, [1, 2 ** 31 - 1, false], 'ms each event may spend on its lookup, retries included'],
  ['retries', 'number', 8, [0, 100, true], 'retries of a failed call, with exponential backoff from 20 ms'],
  ['checkpoint-ms', 'number', 1_000, [1, 2 ** 31 - 1, false], 'ms between checkpoints'],
  ['checkpoint-records', 'number', 0, [0, 1e9, true], 'also a checkpoint every N events (0: by time only)'],
  ['per-record', 'boolean', false, null, 'one GET /users/<id> per event (asyncWaitUnordered) instead of batches'],
  ['fresh', 'boolean', false, null, 'start over: delete this job\'s checkpoints and output (the input is kept)'],
  ['dir', 'string', 'work', null, 'the work directory: input, checkpoints, output'],
  ['verify', 'boolean', false, null, 'check mode: a clean run, then a run SIGKILLed at random moments and resumed; compare'],
  ['kills', 'number', 3, [1, 100, true], 'with --verify: how many SIGKILLs'],
  ['progress', 'string', 'auto', ['auto', 'tty', 'lines', 'none'], 'the live display: a redrawn panel (tty), a line every few seconds (lines), or none'],
  ['help', 'boolean', false, null, 'this help'],
];

const camel = (name) => name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/** The help text. */
export function helpText() {
  const rows = FLAGS.map(([name, type, def, , help]) => {
    const flag = `--${name}${type === 'boolean' ? '' : ` <${type === 'number' ? 'n' : 'value'}>`}`;
    const shown = type === 'boolean' ? '' : ` (default: ${def})`;
    return `  ${flag.padEnd(26)} ${help}${shown}`;
  });
  return [
    'npm start -- [flags]   (or: node examples/main-job/cli.mjs [flags])',
    '',
    'Enriches a file of click events from a lookup service over HTTP, counts clicks per country per minute of',
    'event time, and writes the counts exactly once. Resumable: after Ctrl-C or a crash, run it again.',
    '',
    ...rows,
  ].join('\n');
}

/** argv (without node and the script) -> settings; throws UsageError. */
export function parseJobArgs(argv) {
  const options = Object.fromEntries(FLAGS.map(([name, type]) => [name, { type: type === 'boolean' ? 'boolean' : 'string' }]));
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${err.message} (see --help)`);
  }
  const settings = {};
  for (const [name, type, def, check] of FLAGS) {
    const given = values[name];
    let value = given ?? def;
    if (given !== undefined && type === 'number' && !(given === 'auto' && def === 'auto')) {
      value = given.trim() === '' ? NaN : Number(given.replace(/_/g, '').replace(/^(\d+(?:\.\d+)?)e(\d+)$/i, (_, m, e) => String(Number(m) * 10 ** Number(e))));
      const [min, max, integer] = check;
      if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
        throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(given)}`);
      }
    }
    if (given !== undefined && type === 'string' && Array.isArray(check) && !check.includes(given)) {
      throw new UsageError(`--${name} must be one of ${check.join(', ')}, got ${JSON.stringify(given)}`);
    }
    if (type === 'string' && given !== undefined && given.trim() === '') throw new UsageError(`--${name} must not be empty`);
    settings[camel(name)] = value;
  }
  if (settings.concurrency === 'auto') settings.concurrency = settings.perRecord ? 64 : 4;
  if (settings.verify && settings.fresh) throw new UsageError('--verify always starts over in its own directories: drop --fresh');
  return settings;
}
