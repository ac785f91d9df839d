import { spawnSync } from 'child_process';
import { readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { hostname } from 'os';
import { join } from 'path';
import { FileCheckpointStore, FileSink, DirectoryLockedError } from 'rxjs-sluice/node';
import { tempDirs } from '../support/tempDirs';

/**
 * The directory lock of FileCheckpointStore and FileSink (in-process side; the process-level tests, a live child
 * holding the directories and a SIGKILLed owner, are in sigkill.spec.ts): open() takes an exclusive lock on the
 * directory, close() gives it back; a live owner (another instance, another process) makes open() reject with
 * DirectoryLockedError; a dead owner's lock (a crash) is taken over, by exactly one of several contenders. The
 * lock file format is documented (docs/checkpoints.md), so these tests forge the locks of dead or foreign owners.
 */

/** The lock holders a test opened, closed after it (registered first: before the temp dirs are removed). */
const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const holder of opened.splice(0)) await holder.close();
});
const freshDir = tempDirs('sluice-lock-');
/** Symlinks a test made, removed after it. */
const links: string[] = [];
afterEach(() => {
  for (const link of links.splice(0)) rmSync(link, { force: true });
});

/** A lock file as the documented format describes it, for an owner that is not this test. */
interface ForgedOwner {
  pid: number;
  host?: string;
  bootId?: string | null;
  startTime?: string | null;
  released?: boolean;
}

/** Writes `sluice-<role>.lock-<generation>` into `dir` for `owner`. */
function forgeLock(dir: string, role: 'store' | 'sink', generation: number, owner: ForgedOwner): string {
  const name = `sluice-${role}.lock-${String(generation).padStart(20, '0')}`;
  const content = { format: 'rxjs-sluice.lock', version: 1, pid: owner.pid, host: owner.host ?? hostname(), bootId: owner.bootId ?? null,
    startTime: owner.startTime ?? null, token: `forged-${generation}`, released: owner.released ?? false };
  writeFileSync(join(dir, name), `${JSON.stringify(content)}\n`);
  return name;
}

/** The pid of a process that has exited (a crashed owner). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid!;
}

/** The lock files of a role in `dir`, sorted (oldest generation first). */
const locksIn = (dir: string, role: 'store' | 'sink'): string[] =>
  readdirSync(dir).filter((n) => n.startsWith(`sluice-${role}.lock-`) && !n.endsWith('.tmp')).sort();

/** The newest lock file's content. */
const newestLock = (dir: string, role: 'store' | 'sink'): Record<string, unknown> => {
  const names = locksIn(dir, role);
  return JSON.parse(readFileSync(join(dir, names[names.length - 1]!), 'utf8')) as Record<string, unknown>;
};

/** What a promise rejects with (fails the test when it resolves). */
const rejectionOf = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e);

const store = (dir: string): FileCheckpointStore => {
  const s = new FileCheckpointStore(dir);
  opened.push(s);
  return s;
};
const sink = (dir: string): FileSink => {
  const s = new FileSink(dir);
  opened.push(s);
  return s;
};

describe.each([
  ['FileCheckpointStore', 'store', store],
  ['FileSink', 'sink', sink],
] as const)('%s: the directory lock', (name, role, build) => {
  it('open() takes the lock: a second instance on the same directory in this process is refused with DirectoryLockedError', async () => {
    // Arrange
    const dir = freshDir();
    await build(dir).open();

    // Act
    const error = await rejectionOf(build(dir).open());

    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect(error).toMatchObject({ input: dir, owner: { pid: process.pid, host: hostname() } });
    expect((error as Error).message).toContain(dir);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toMatch(/this process/);
    expect(locksIn(dir, role)).toHaveLength(1);
  });

  it('an instance reaching the directory through a symlink is refused too: a lock is told by its owner, not its path', async () => {
    // Arrange
    const dir = freshDir();
    const link = `${dir}-link`;
    symlinkSync(dir, link, 'dir');
    links.push(link);
    const first = build(dir);
    const second = build(link);
    await first.open();
    // Act
    const error = await rejectionOf(second.open());
    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect(locksIn(dir, role)).toHaveLength(1);
  });

  it('an instance from another copy of the package in this process is refused too (an ES module and a CommonJS build side by side)', async () => {
    // Arrange: a second, separate module instance of the Node entry
    let other: typeof import('rxjs-sluice/node') | undefined;
    jest.isolateModules(() => {
      other = jest.requireActual<typeof import('rxjs-sluice/node')>('rxjs-sluice/node');
    });
    const dir = freshDir();
    await build(dir).open();
    const second = role === 'store' ? new other!.FileCheckpointStore(dir) : new other!.FileSink(dir);
    // Act
    const error = await rejectionOf(second.open());
    // Assert
    expect(other!.FileCheckpointStore).not.toBe(FileCheckpointStore);
    expect((error as Error).name).toBe('DirectoryLockedError');
    expect(locksIn(dir, role)).toHaveLength(1);
  });

  it('open() twice on one instance is refused too (one pipeline per directory)', async () => {
    // Arrange
    const dir = freshDir();
    const holder = build(dir);
    await holder.open();

    // Act
    const error = await rejectionOf(holder.open());

    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
  });

  it('close() gives the lock back: another instance opens, and the first can open again after it', async () => {
    // Arrange
    const dir = freshDir();
    const first = build(dir);
    await first.open();

    // Act
    await first.close();
    const second = build(dir);
    await second.open();
    await second.close();
    await first.open();

    // Assert: one lock file left, the newest generation, held by the first again.
    expect(locksIn(dir, role)).toHaveLength(1);
    expect(newestLock(dir, role)).toMatchObject({ pid: process.pid, released: false });
  });

  it('close() without open(), and twice, does nothing', async () => {
    // Arrange
    const dir = freshDir();
    const holder = build(dir);

    // Act
    await holder.close();
    await holder.open();
    await holder.close();
    await holder.close();

    // Assert
    expect(newestLock(dir, role)).toMatchObject({ released: true });
  });

  it('a close() while another is under way resolves only once the lock is given back (a pipeline and a test may both close)', async () => {
    // Arrange
    const dir = freshDir();
    const holder = build(dir);
    await holder.open();

    // Act
    const first = holder.close();
    await holder.close();
    const afterSecond = newestLock(dir, role);
    await first;

    // Assert
    expect(afterSecond).toMatchObject({ released: true });
  });

  it("takes over the lock of a process that has died (a crash), and deletes the dead owner's file", async () => {
    // Arrange
    const dir = freshDir();
    const dead = forgeLock(dir, role, 7, { pid: deadPid() });

    // Act
    await build(dir).open();

    // Assert
    expect(locksIn(dir, role)).toEqual([`sluice-${role}.lock-${String(8).padStart(20, '0')}`]);
    expect(locksIn(dir, role)).not.toContain(dead);
    expect(newestLock(dir, role)).toMatchObject({ pid: process.pid, host: hostname(), released: false });
  });

  it('takes over a lock that names this very process when no instance here holds it (the pid was reused after a restart)', async () => {
    // Arrange
    const dir = freshDir();
    forgeLock(dir, role, 1, { pid: process.pid });

    // Act / Assert
    await expect(build(dir).open()).resolves.toBeUndefined();
  });

  it('takes over a lock whose pid is alive but belongs to another process than the owner (another start time)', async () => {
    // Arrange: the parent process is alive, but it is not the process that wrote this lock.
    const dir = freshDir();
    forgeLock(dir, role, 1, { pid: process.ppid, startTime: '1' });

    // Act / Assert
    await expect(build(dir).open()).resolves.toBeUndefined();
  });

  it('takes over a lock written before the machine restarted (another boot id)', async () => {
    // Arrange
    const dir = freshDir();
    forgeLock(dir, role, 1, { pid: process.ppid, bootId: '00000000-0000-0000-0000-000000000000' });

    // Act / Assert
    await expect(build(dir).open()).resolves.toBeUndefined();
  });

  it('refuses a lock held by a live process of this host, naming its pid', async () => {
    // Arrange: the parent process is alive (no start time recorded: it cannot be told apart).
    const dir = freshDir();
    forgeLock(dir, role, 3, { pid: process.ppid });

    // Act
    const error = await rejectionOf(build(dir).open());

    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect(error).toMatchObject({ input: dir, owner: { pid: process.ppid, host: hostname() } });
    expect((error as DirectoryLockedError).lockFile).toBe(join(dir, `sluice-${role}.lock-${String(3).padStart(20, '0')}`));
    expect((error as Error).message).toContain(String(process.ppid));
  });

  it('refuses a lock held on another host (its liveness cannot be checked), and says how to repair', async () => {
    // Arrange
    const dir = freshDir();
    forgeLock(dir, role, 1, { pid: deadPid(), host: 'some-other-host' });

    // Act
    const error = await rejectionOf(build(dir).open());

    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect(error).toMatchObject({ owner: { host: 'some-other-host' } });
    expect((error as Error).message).toMatch(/another host/);
    expect((error as Error).message).toMatch(/delete/);
  });

  it('refuses a damaged lock file rather than guess that its owner is dead', async () => {
    // Arrange
    const dir = freshDir();
    writeFileSync(join(dir, `sluice-${role}.lock-${String(2).padStart(20, '0')}`), '{"format":"rxjs-sl');

    // Act
    const error = await rejectionOf(build(dir).open());

    // Assert
    expect(error).toBeInstanceOf(DirectoryLockedError);
    expect(error).toMatchObject({ owner: undefined });
    expect((error as Error).message).toMatch(/damaged/);
  });

  it('a released lock (the owner closed) is simply taken', async () => {
    // Arrange: released by a live process (the parent).
    const dir = freshDir();
    forgeLock(dir, role, 4, { pid: process.ppid, released: true });

    // Act / Assert
    await expect(build(dir).open()).resolves.toBeUndefined();
    expect(locksIn(dir, role)).toHaveLength(1);
  });

  it('lets exactly one of several instances racing to take over a dead owner\'s lock win', async () => {
    // Arrange
    const dir = freshDir();
    forgeLock(dir, role, 5, { pid: deadPid() });
    const contenders = Array.from({ length: 6 }, () => build(dir));

    // Act
    const results = await Promise.allSettled(contenders.map((c) => c.open()));

    // Assert
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DirectoryLockedError);
    expect(newestLock(dir, role)).toMatchObject({ pid: process.pid, released: false });
  });
});

describe('the directory lock, across store and sink', () => {
  it('a store and a sink may share one directory: each has its own lock', async () => {
    // Arrange
    const dir = freshDir();

    // Act / Assert
    await store(dir).open();
    await expect(sink(dir).open()).resolves.toBeUndefined();
  });

  it('without open(), the methods work unlocked, as a reader of a running pipeline\'s files needs', async () => {
    // Arrange: a running owner holds both.
    const dir = freshDir();
    const owner = store(dir);
    await owner.open();
    await owner.write(1, 'one');

    // Act: another instance, never opened, reads.
    const reader = new FileCheckpointStore(dir);

    // Assert
    expect(await reader.list()).toEqual([1]);
    expect(await reader.read(1)).toBe('one');
  });
});
