// A consumer's CommonJS file: require() of both entries, the same module instance as import(), a small pipeline.
const assert = require('node:assert/strict');
const { lastValueFrom, NEVER, of, range, toArray } = require('rxjs');
const sluice = require('rxjs-sluice');
const node = require('rxjs-sluice/node');
const testing = require('rxjs-sluice/testing');

(async () => {
  // One module instance: import() of the same entry gives the very same classes.
  const imported = await import('rxjs-sluice');
  const importedNode = await import('rxjs-sluice/node');
  assert.equal(imported.AsyncTimeoutError, sluice.AsyncTimeoutError);
  assert.equal(imported.checkpointable, sluice.checkpointable);
  assert.equal(importedNode.FileCheckpointStore, node.FileCheckpointStore);
  const importedTesting = await import('rxjs-sluice/testing');
  assert.equal(importedTesting.MarbleMismatchError, testing.MarbleMismatchError);
  testing.elementTestScheduler().run((helpers) => {
    const { cold, expectElements } = testing.elementMarbles(helpers);
    expectElements(cold('a-b|', 'a@1 b@2')).toBe('a-b|', 'a@1 b@2');
  });
  for (const name of ['FileCheckpointStore', 'FileSink', 'readCommitted', 'readCommittedElements']) {
    assert.equal(typeof node[name], 'function', `rxjs-sluice/node exports ${name}`);
  }

  // A small pipeline.
  const { toRecords, asyncWaitOrdered, values } = sluice;
  const tripled = await lastValueFrom(range(0, 4).pipe(toRecords(), asyncWaitOrdered(async (x) => x * 3, { capacity: 2 }), values(), toArray()));
  assert.deepEqual(tripled, [0, 3, 6, 9]);

  // An operator from the imported module fails with the class this file required.
  const failure = await lastValueFrom(of(1).pipe(toRecords(), imported.asyncWaitOrdered(() => NEVER, { timeout: 5 }), values())).catch((e) => e);
  assert.ok(failure instanceof sluice.AsyncTimeoutError, `a timeout is an AsyncTimeoutError, got ${failure}`);
  console.log('ok cjs');
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
