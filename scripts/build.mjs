// Builds dist/esm (ES modules), dist/cjs (CommonJS) and dist/types (.d.ts) with tsc alone.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';

const tsc = (...args) => execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', ...args], { stdio: 'inherit' });

rmSync('dist', { recursive: true, force: true });
tsc('--outDir', 'dist/esm', '--module', 'ESNext', '--moduleResolution', 'Bundler');
tsc('--outDir', 'dist/cjs', '--module', 'CommonJS', '--moduleResolution', 'Node10');
tsc('--outDir', 'dist/types', '--declaration', '--emitDeclarationOnly', '--sourceMap', 'false', '--declarationMap');
// Each output folder says which module system its .js files use, so Node loads both correctly.
mkdirSync('dist/esm', { recursive: true });
writeFileSync('dist/esm/package.json', '{ "type": "module", "sideEffects": false }\n');
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs", "sideEffects": false }\n');
console.log('built dist/esm, dist/cjs, dist/types');
