// A consumer's ES module: named, namespace and default imports of both entries, one module instance shared with
// require(), and a small pipeline whose timeout error is recognised by the class a CommonJS file sees.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { lastValueFrom, NEVER, of, range, toArray } from 'rxjs';
import sluiceDefault, * as sluice from 'rxjs-sluice';
import { AsyncTimeoutError, asyncWaitOrdered, toRecords, values } from 'rxjs-sluice';
import * as node from 'rxjs-sluice/node';
import { FileSink } from 'rxjs-sluice/node';
import * as testing from 'rxjs-sluice/testing';
import { elementMarbles, elementTestScheduler, MarbleMismatchError } from 'rxjs-sluice/testing';

const require = createRequire(import.meta.url);
const cjs = require('rxjs-sluice');
const cjsNode = require('rxjs-sluice/node');
const cjsTesting = require('rxjs-sluice/testing');

// One module instance: every export that require() sees is the very same object under import.
assert.ok(Object.keys(cjs).length > 30, 'the core entry exports its API');
for (const name of Object.keys(cjs)) assert.equal(sluice[name], cjs[name], `import and require see one ${name}`);
for (const name of Object.keys(cjsNode)) assert.equal(node[name], cjsNode[name], `import and require see one rxjs-sluice/node ${name}`);
for (const name of Object.keys(cjsTesting)) assert.equal(testing[name], cjsTesting[name], `import and require see one rxjs-sluice/testing ${name}`);
assert.equal(sluiceDefault.asyncWaitOrdered, asyncWaitOrdered, 'the default import is the module object');
assert.equal(FileSink, cjsNode.FileSink);

// A small pipeline.
const tripled = await lastValueFrom(range(0, 4).pipe(toRecords(), asyncWaitOrdered(async (x) => x * 3, { capacity: 2 }), values(), toArray()));
assert.deepEqual(tripled, [0, 3, 6, 9]);

// An operator from the require()d module fails with the class this file imported.
const failure = await lastValueFrom(of(1).pipe(toRecords(), cjs.asyncWaitOrdered(() => NEVER, { timeout: 5 }), values())).catch((e) => e);
assert.ok(failure instanceof AsyncTimeoutError, `a timeout is an AsyncTimeoutError, got ${failure}`);
// The marble kit, with no test framework: a passing expectation, then a failing one that throws its own error.
elementTestScheduler().run((helpers) => {
  const { cold, expectElements } = elementMarbles(helpers);
  expectElements(cold('a-W|', 'a=1@5 W5').pipe(asyncWaitOrdered((x) => [x * 3]))).toBe('a-W|', 'a=3@5 W5');
});
const mismatch = (() => {
  try {
    elementTestScheduler().run((helpers) => elementMarbles(helpers).expectElements(of(sluice.record(1, 5))).toBe('(a|)', 'a=2@5'));
  } catch (e) {
    return e;
  }
})();
assert.ok(mismatch instanceof MarbleMismatchError && mismatch.actual === '(b|)', `a mismatch is a MarbleMismatchError, got ${mismatch}`);
console.log('ok esm');
