// `npm start`: the main job. See docs/main-job.md, and `npm start -- --help` for the flags.
import { helpText, parseJobArgs, UsageError } from './args.mjs';
import { runJob } from './job.mjs';
import { runVerify } from './verify.mjs';

// Output piped into a command that exits early (`| head`) must not crash the job.
process.stdout.on('error', (err) => { if (err.code !== 'EPIPE') throw err; });

let settings;
try {
  settings = parseJobArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(err.message);
  process.exit(2);
}
if (settings.help) {
  console.log(helpText());
} else {
  process.exitCode = settings.verify ? await runVerify(settings) : await runJob(settings);
}
