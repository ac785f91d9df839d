// npm run docs:marbles: runs the marble scenarios in marbles/ and redraws each one as an SVG in docs/marbles/,
// with the checkpoint protocol diagram (docs/checkpoint-protocol.svg). It is marbles/diagrams.spec.ts, the test
// that checks the committed drawings, run with SLUICE_WRITE_DIAGRAMS=1 so that it writes them instead.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(process.execPath, [jest, '--maxWorkers=1', 'marbles/diagrams.spec.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, SLUICE_WRITE_DIAGRAMS: '1' },
});
process.exit(result.status ?? 1);
