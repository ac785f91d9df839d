/**
 * rxjs-sluice/node: the Node-only parts (durable files, and sources that read files and Node streams). The core
 * entry, `rxjs-sluice`, stays free of Node imports so that it runs in a browser.
 *
 * @packageDocumentation
 */
export { FileCheckpointStore, type FileCheckpointStoreOptions } from './fileCheckpointStore.js';
export { FileCheckpointStoreError, type FileCheckpointStoreOperation } from './FileCheckpointStoreError.js';
export { FileSink, type FileSinkOptions } from './fileSink.js';
export { readCommitted, readCommittedElements, type ReadCommittedOptions } from './readCommitted.js';
export { FileSinkError, type FileSinkOperation } from './FileSinkError.js';
export { FileSinkCorruptError } from './FileSinkCorruptError.js';
export { DirectoryLockedError, type LockOwner } from './DirectoryLockedError.js';
export { fileLinesSource, type FileLinesSourceOptions } from './fileLinesSource.js';
export { ndjsonSource, type NdjsonSourceOptions, type NdjsonWarning } from './ndjsonSource.js';
export { readableSource } from './readableSource.js';
export { SourceReadError } from './SourceReadError.js';
export { MalformedRecordError } from './MalformedRecordError.js';
export { LineTooLongError } from './LineTooLongError.js';
