// The benchmark suite. `npm run bench` builds the package, then runs this with --expose-gc.
//   --quick            smaller N and 3 runs (memory: 1): a spot check in a minute or two; prints only
//   --only=a,b         run only these scenarios (flood, syncInner, latency, memory, timers, watermarks, batching,
//                      flowControl, saturation, keyed, mainJob); prints only
//   --write            also write docs/benchmarks.md (+ docs/benchmarks-flood.svg when flood ran, and
//                      docs/protecting-services-saturation.svg when saturation ran) with --quick/--only
// A full run (no --quick, no --only) always writes the docs. Progress goes to stderr, the report to stdout.
// Exit code 0 even when targets fail (the report says FAIL); 1 on any exception (e.g. a contender's wrong result).
import { fileURLToPath } from 'node:url';
import { machineInfo } from './harness.mjs';
import { printReport, writeDocs } from './report.mjs';

const SCENARIOS = ['flood', 'syncInner', 'latency', 'memory', 'timers', 'watermarks', 'batching', 'flowControl', 'saturation', 'keyed', 'mainJob'];

function parseArgs(argv) {
  const opts = { quick: false, write: false, only: undefined };
  for (const arg of argv) {
    if (arg === '--quick') opts.quick = true;
    else if (arg === '--write') opts.write = true;
    else if (arg.startsWith('--only=')) opts.only = arg.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean);
    else throw new Error(`unknown argument ${arg} (expected --quick, --write, --only=${SCENARIOS.join(',')})`);
  }
  for (const id of opts.only ?? []) {
    if (!SCENARIOS.includes(id)) throw new Error(`unknown scenario '${id}' in --only (known: ${SCENARIOS.join(', ')})`);
  }
  return opts;
}

async function main() {
  const { quick, write, only } = parseArgs(process.argv.slice(2));
  if (typeof globalThis.gc !== 'function') throw new Error('run the suite with `node --expose-gc bench/run.mjs` (npm run bench does)');
  const runs = quick ? 3 : 5;
  const selected = only ? SCENARIOS.filter((id) => only.includes(id)) : SCENARIOS;
  const log = (msg) => process.stderr.write(`${msg}\n`);
  const machine = machineInfo();
  const t0 = performance.now();
  log(`rxjs-sluice bench${quick ? ' --quick' : ''}: ${selected.join(', ')} (Node ${machine.node}, ${machine.cpuCount} x ${machine.cpu})`);

  // Load every selected scenario (and so the built package) before running any: a rebuild of dist/ while the
  // suite runs (it deletes dist/ first) then cannot break a later scenario's import halfway through.
  const modules = await Promise.all(selected.map((id) => import(`./${id}.mjs`)));
  const results = [];
  for (const [i, id] of selected.entries()) {
    const ts = performance.now();
    log(`[${id}]`);
    const result = await modules[i].run({ quick, runs, log });
    results.push(...(Array.isArray(result) ? result : [result])); // a scenario file may report several tables
    log(`[${id}] done in ${((performance.now() - ts) / 1000).toFixed(1)} s`);
  }
  const wallMs = performance.now() - t0;
  log(`all scenarios done in ${(wallMs / 1000).toFixed(1)} s\n`);

  printReport(results, { machine, quick, runs, wallMs });
  if (write || (!quick && !only)) {
    const docsDir = fileURLToPath(new URL('../docs', import.meta.url));
    const written = writeDocs(results, { machine, quick, runs, wallMs, only: only && selected, docsDir });
    log(`wrote ${written.join(', ')}`);
  } else {
    log('docs not written (--quick or --only without --write)');
  }
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exitCode = 1;
});
