// A consumer's ES module: named, namespace and default imports of both entries, one module instance shared with
// require(), and a small pipeline whose timeout error is recognised by the class a CommonJS file sees.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { lastValueFrom, NEVER, of, range, toArray } from 'rxjs';
import sluiceDefault, * as sluice from 'rxjs-sluice';
import { AsyncTimeoutError, asyncWaitOrdered, toRecords, values } from 'rxjs-sluice';
import * as node from 'rxjs-sluice/node';
import { FileSink } from 'rxjs-sluice/node';

const require = createRequire(import.meta.url);
const cjs = require('rxjs-sluice');
const cjsNode = require('rxjs-sluice/node');

// One module instance: every export that require() sees is the very same object under import.
assert.ok(Object.keys(cjs).length > 30, 'the core entry exports its API');
for (const name of Object.keys(cjs)) assert.equal(sluice[name], cjs[name], `import and require see one ${name}`);
for (const name of Object.keys(cjsNode)) assert.equal(node[name], cjsNode[name], `import and require see one rxjs-sluice/node ${name}`);
assert.equal(sluiceDefault.asyncWaitOrdered, asyncWaitOrdered, 'the default import is the module object');
assert.equal(FileSink, cjsNode.FileSink);

// A small pipeline.
const tripled = await lastValueFrom(range(0, 4).pipe(toRecords(), asyncWaitOrdered(async (x) => x * 3, { capacity: 2 }), values(), toArray()));
assert.deepEqual(tripled, [0, 3, 6, 9]);

// An operator from the require()d module fails with the class this file imported.
const failure = await lastValueFrom(of(1).pipe(toRecords(), cjs.asyncWaitOrdered(() => NEVER, { timeout: 5 }), values())).catch((e) => e);
assert.ok(failure instanceof AsyncTimeoutError, `a timeout is an AsyncTimeoutError, got ${failure}`);
console.log('ok esm');
