/// <reference types="node" />
import { randomUUID } from 'node:crypto';
import { linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { link, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectoryLockedError, type LockOwner } from './DirectoryLockedError.js';
import { isAlive, selfIdentity, startTimeOf, type ProcessIdentity } from './processIdentity.js';
import { paddedId } from './fsync.js';
import { readRegularFile, writeRegularFile } from './regularFile.js';

/** Which lock of a directory: a store and a sink may share one directory, each with its own lock. */
export type LockRole = 'store' | 'sink';

/** What a lock file holds: one JSON line. */
interface LockContent extends ProcessIdentity {
  readonly format: typeof FORMAT;
  readonly version: 1;
  readonly role: LockRole;
  /** Identifies one acquisition (an instance, in this process), so a second instance is told apart from the first. */
  readonly token: string;
  /** True for the file a clean release leaves: the lock is free. */
  readonly released: boolean;
}

const FORMAT = 'rxjs-sluice.lock';
/** How often open() looks again after losing a race to another contender before giving up. */
const MAX_ATTEMPTS = 8;
/** Errors of link() on file systems without hard links: the lock file is then created in place. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * The tokens of this process's lock holders, of every directory: a token is registered from the moment its
 * instance starts creating a lock file until it has released it, so that a contender in this process (which
 * shares the pid) sees a lock being taken as live, not as a stale lock left by an earlier process with this pid.
 * Tokens are random UUIDs, so the set needs no key: the same directory reached by another path (a symlink, a
 * bind mount) is recognised by the token in its lock file, not by its name. The set lives on globalThis under a
 * Symbol.for key, shared by every copy of the package in the process (an ES module and a CommonJS build side by
 * side), as the checkpoint binding slot is.
 */
const liveTokens: Set<string> = liveTokenSet();
/**
 * The live tokens whose pipeline has ended (see ending()), each with a promise that resolves when its lock is
 * given back: a contender in this process waits for it rather than being refused. On globalThis, as liveTokens.
 */
const endingTokens: Map<string, Promise<void>> = globalSlot('rxjs-sluice.directory-lock-ending', () => new Map());

function liveTokenSet(): Set<string> {
  return globalSlot('rxjs-sluice.directory-lock-tokens', () => new Set());
}

/** The process-wide object under `Symbol.for(name)` on globalThis, created by `make` on first use. */
function globalSlot<T extends object>(name: string, make: () => T): T {
  const key = Symbol.for(name);
  const holder = globalThis as { [key: symbol]: unknown };
  const existing = holder[key];
  if (existing !== undefined) return existing as T;
  const created = make();
  Object.defineProperty(holder, key, { value: created, enumerable: false, writable: false, configurable: false });
  return created;
}
/** The locks this process holds: released synchronously if the process exits without closing them. */
const heldLocks = new Set<DirectoryLock>();
/** Whether the exit hook is installed (once per process). */
let exitHookInstalled = false;

/**
 * An exclusive, crash-safe lock on a directory, held from acquire() to release() (or process exit).
 *
 * The lock is a sequence of generation files, `sluice-<role>.lock-<generation, 20 digits>`; the newest one
 * decides. Its owner is live when it is this process's registered token, or a live pid on this host with the
 * recorded start time (Linux: and the same boot id); a lock on another host is always treated as live, as its
 * liveness cannot be checked. A release writes a newer generation marked released.
 *
 * Taking over a stale lock is safe against any number of contenders: a contender that found generation g
 * stale creates g + 1 with link() (atomic, fails if it exists, and the file appears with its whole content),
 * so only one can create each generation; then it lists the directory again and gives up if a newer generation
 * exists (it read an old listing). Files are only ever deleted below the deleter's own newer generation, so the
 * newest generation ever created is never deleted, and a contender that created its file under a newer one
 * always sees it.
 */
export class DirectoryLock {
  /** The lock file this instance holds; null when it holds none. */
  private generation: number | null = null;
  /** The current acquisition's token, from acquire() until release(); null when idle. */
  private token: string | null = null;
  /** The release under way, if any: a second close() waits for it rather than return before the lock is free. */
  private releasing: Promise<void> | null = null;
  /** Resolves this lock's entry in endingTokens once it is given back; null unless ending() was called. */
  private endingDone: (() => void) | null = null;

  constructor(
    /** The directory, absolute. */
    private readonly dir: string,
    private readonly role: LockRole,
    /** Who takes it, for messages: 'FileSink' or 'FileCheckpointStore'. */
    private readonly what: string,
  ) {}

  /** Takes the lock, or rejects with DirectoryLockedError (or the file system's error). */
  async acquire(): Promise<void> {
    if (this.token !== null) {
      const file = this.generation === null ? this.dir : this.fileOf(this.generation);
      throw new DirectoryLockedError(this.dir, file, ownerOf(selfIdentity()), `${this.what} ${this.dir} is already open in this process: one pipeline per directory (close it first)`);
    }
    const token = randomUUID();
    this.token = token;
    register(token);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const newest = await this.newestGeneration();
        if (newest !== 0) {
          const verdict = await this.judge(newest);
          if (verdict === 'gone') continue; // replaced by a newer generation meanwhile: look again
          if (typeof verdict === 'object' && 'ended' in verdict) {
            // Held in this process by a pipeline that has ended and is about to close: wait for that, then look
            // again. Not an attempt lost to a race, so it does not count against MAX_ATTEMPTS.
            await verdict.ended;
            attempt--;
            continue;
          }
          if (verdict !== 'stale') throw verdict;
        }
        const next = newest + 1;
        if (!(await this.create(next, this.contentOf(token, false)))) continue; // another contender created it first
        if ((await this.newestGeneration()) !== next) {
          // Created from an old listing, under a newer generation: not ours. It is not the newest, so deleting it is safe.
          await unlink(this.fileOf(next)).catch(() => undefined);
          continue;
        }
        this.generation = next;
        heldLocks.add(this);
        installExitHook();
        await this.removeOlderThan(next);
        return;
      }
      throw new DirectoryLockedError(this.dir, this.dir, undefined,
        `${this.what} ${this.dir}: could not take the directory's lock after ${MAX_ATTEMPTS} attempts; other processes keep taking it`);
    } catch (err) {
      if (this.generation === null) {
        unregister(token);
        this.token = null;
      }
      throw err;
    }
  }

  /**
   * Gives the lock back: a newer generation marked released. Does nothing when the lock is not held; a call while
   * a release is under way resolves when that one has finished.
   */
  release(): Promise<void> {
    const { generation, token } = this;
    if (generation === null || token === null) return this.releasing ?? Promise.resolve();
    this.generation = null;
    heldLocks.delete(this);
    const releasing = (async () => {
      try {
        await this.create(generation + 1, this.contentOf(token, true));
        await unlink(this.fileOf(generation)).catch(() => undefined);
      } finally {
        unregister(token);
        this.token = null;
        this.releasing = null;
        this.endEnding(token);
      }
    })();
    this.releasing = releasing;
    return releasing;
  }

  /**
   * The pipeline holding the lock has ended, and will release it once its writes settle: from now on a contender
   * in this process waits for that release instead of being refused. Does nothing when the lock is not held.
   */
  ending(): void {
    const token = this.token;
    if (token === null || this.generation === null || this.endingDone !== null) return;
    endingTokens.set(token, new Promise<void>((resolve) => (this.endingDone = resolve)));
  }

  /** Ends the `ending()` of `token`: whoever waits for its release looks again. */
  private endEnding(token: string): void {
    const done = this.endingDone;
    this.endingDone = null;
    if (done === null) return;
    endingTokens.delete(token);
    done();
  }

  /** release(), synchronously and best effort: at process exit, when nothing asynchronous runs any more. */
  releaseSync(): void {
    const { generation, token } = this;
    if (generation === null || token === null) return;
    this.generation = null;
    heldLocks.delete(this);
    unregister(token);
    this.token = null;
    this.endEnding(token);
    try {
      const temporary = this.temporaryName();
      writeFileSync(temporary, serialize(this.contentOf(token, true)), { flag: 'wx' });
      try {
        linkSync(temporary, this.fileOf(generation + 1));
        unlinkSync(this.fileOf(generation));
      } finally {
        unlinkSync(temporary);
      }
    } catch {
      // The process is exiting: its pid dies with it, and the lock reads as stale.
    }
  }

  /** The newest generation in the directory; 0 when there is none. */
  private async newestGeneration(): Promise<number> {
    let newest = 0;
    for (const name of await readdir(this.dir)) {
      const generation = this.generationOf(name);
      if (generation !== undefined && generation > newest) newest = generation;
    }
    return newest;
  }

  /** Whether the owner of a generation is gone ('stale'), the file vanished ('gone'), or why it is not. */
  private async judge(generation: number): Promise<'stale' | 'gone' | DirectoryLockedError | { readonly ended: Promise<void> }> {
    const file = this.fileOf(generation);
    const damaged = (cause?: unknown): DirectoryLockedError => new DirectoryLockedError(this.dir, file, undefined,
      `${this.what} ${this.dir} has a damaged lock file, ${file}; delete it once you are sure that no other pipeline uses the directory`, cause);
    let content: LockContent | undefined;
    try {
      content = parse((await readRegularFile(file)).toString('utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
      return damaged(err);
    }
    if (content === undefined) return damaged();
    if (content.released) return 'stale';
    const self = selfIdentity();
    const owner = ownerOf(content);
    const repair = `if it is gone, delete ${file} and start again`;
    if (content.host !== self.host) {
      return new DirectoryLockedError(this.dir, file, owner,
        `${this.what} ${this.dir} is locked by pid ${content.pid} on another host, ${content.host}, whose liveness cannot be checked from here; ${repair}`);
    }
    if (content.bootId !== null && self.bootId !== null && content.bootId !== self.bootId) return 'stale'; // written before a reboot
    if (content.pid === self.pid) {
      if (!liveTokens.has(content.token)) return 'stale'; // an earlier process that had this pid
      const ended = endingTokens.get(content.token);
      if (ended !== undefined) return { ended };
      return new DirectoryLockedError(this.dir, file, owner,
        `${this.what} ${this.dir} is locked by another ${this.what} in this process (pid ${self.pid}): one pipeline per directory; close the other first`);
    }
    if (!isAlive(content.pid)) return 'stale';
    if (content.startTime !== null) {
      const startTime = await startTimeOf(content.pid);
      if (startTime !== null && startTime !== content.startTime) return 'stale'; // the pid now names another process
    }
    return new DirectoryLockedError(this.dir, file, owner,
      `${this.what} ${this.dir} is locked by a running process, pid ${content.pid} on this host: two pipelines must not share a directory. ` +
        `If that process is not a pipeline using it (its pid was reused), ${repair}`);
  }

  /**
   * Creates a generation file with its whole content at once: written and fsynced under a temporary name, then
   * hard-linked into place (link fails if the name exists). False when it already exists.
   */
  private async create(generation: number, content: LockContent): Promise<boolean> {
    const file = this.fileOf(generation);
    const text = serialize(content);
    for (let attempt = 0; ; attempt++) {
      const temporary = this.temporaryName();
      await writeRegularFile(temporary, text, true);
      try {
        await link(temporary, file);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        // Our temporary file was cleaned away by a start-up of another contender: write it again.
        if (code === 'ENOENT' && attempt < 3) continue;
        if (code === undefined || !NO_HARD_LINKS.has(code)) throw err;
        // No hard links here: create the file in place (exclusive). A reader may then briefly see it empty.
        try {
          await writeRegularFile(file, text, true);
          return true;
        } catch (createErr) {
          if ((createErr as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw createErr;
        }
      } finally {
        await unlink(temporary).catch(() => undefined);
      }
    }
  }

  /** Deletes the generations below the one just taken (best effort: a failure leaves a file the next owner deletes). */
  private async removeOlderThan(generation: number): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(names.filter((name) => (this.generationOf(name) ?? generation) < generation)
      .map((name) => unlink(join(this.dir, name)).catch(() => undefined)));
  }

  private contentOf(token: string, released: boolean): LockContent {
    return { format: FORMAT, version: 1, role: this.role, ...selfIdentity(), token, released };
  }

  private generationOf(name: string): number | undefined {
    const prefix = `sluice-${this.role}.lock-`;
    if (!name.startsWith(prefix) || !/^\d{20}$/.test(name.slice(prefix.length))) return undefined;
    return Number(name.slice(prefix.length));
  }

  private fileOf(generation: number): string {
    return join(this.dir, `sluice-${this.role}.lock-${paddedId(generation)}`);
  }

  private temporaryName(): string {
    return join(this.dir, `sluice-${this.role}.lock.${randomUUID()}.tmp`);
  }
}

/** Whether a file name is a lock's temporary file (left behind only by a crash while taking or giving a lock). */
export function isLockTemporary(name: string, role: LockRole): boolean {
  return name.startsWith(`sluice-${role}.lock.`) && name.endsWith('.tmp');
}

function serialize(content: LockContent): string {
  return `${JSON.stringify(content)}\n`;
}

/** The lock file's content, or undefined when it is not a lock file of this format. */
function parse(text: string): LockContent | undefined {
  let value: Partial<Record<keyof LockContent, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || value.format !== FORMAT) return undefined;
  const { pid, host, bootId = null, startTime = null, token, released } = value;
  // A pid of 0 or below would signal a process group: never pass one to process.kill.
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0 || typeof host !== 'string' || typeof token !== 'string') return undefined;
  if ((bootId !== null && typeof bootId !== 'string') || (startTime !== null && typeof startTime !== 'string') || typeof released !== 'boolean') return undefined;
  return { ...(value as LockContent), pid, host, bootId, startTime, token, released };
}

function ownerOf(identity: ProcessIdentity): LockOwner {
  return { pid: identity.pid, host: identity.host };
}

function register(token: string): void {
  liveTokens.add(token);
}

function unregister(token: string): void {
  liveTokens.delete(token);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const lock of [...heldLocks]) lock.releaseSync();
  });
}
