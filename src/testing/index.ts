/**
 * rxjs-sluice/testing: element marbles for your own specs. Records with event time, watermarks, barriers and
 * side outputs in marble diagrams on RxJS's `TestScheduler`, and failure messages that print both streams as
 * element marbles. It imports no test framework, so it runs wherever `rxjs/testing` does, browsers included.
 *
 * @packageDocumentation
 */
export { legend, type Legend } from './legend.js';
export { elementMarbles, elementTestScheduler, type ElementMarbles, type MarbleHelpers } from './elementMarbles.js';
export { assertElementMarbles, compareElementMarbles } from './assertElementMarbles.js';
export { formatElementMarbles, type MarbleFrame, type MarbleNotification } from './marbleText.js';
export { MarbleMismatchError } from './MarbleMismatchError.js';
