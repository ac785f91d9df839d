/// <reference types="node" />
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a process is, as far as a lock can tell: host name and pid everywhere; on Linux also the boot id (a
 * lock written before a reboot is stale whatever its pid) and the process's start time (a live pid that
 * started at another time is another process: the pid was reused).
 */
export interface ProcessIdentity {
  readonly pid: number;
  readonly host: string;
  /** The kernel's boot id (Linux), else null. */
  readonly bootId: string | null;
  /** The process's start time in clock ticks since boot (Linux), else null. */
  readonly startTime: string | null;
}

/** This process's identity, read once (none of it changes while it runs). */
let self: ProcessIdentity | undefined;

export function selfIdentity(): ProcessIdentity {
  self ??= { pid: process.pid, host: hostname(), bootId: readOrNull('/proc/sys/kernel/random/boot_id'), startTime: startTimeOfSync('self') };
  return self;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The start time of a live process (Linux), or null when it cannot be read. */
export async function startTimeOf(pid: number): Promise<string | null> {
  try {
    return parseStartTime(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

function startTimeOfSync(pid: 'self'): string | null {
  const stat = readOrNull(`/proc/${pid}/stat`);
  return stat === null ? null : parseStartTime(stat);
}

/** Field 22 of /proc/<pid>/stat; the command name (field 2) may hold spaces and parentheses, so count from its end. */
function parseStartTime(stat: string): string | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  return startTime !== undefined && /^\d+$/.test(startTime) ? startTime : null;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}
