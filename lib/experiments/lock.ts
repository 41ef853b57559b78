/**
 * One lock file per run, so two workers (two local sweeps, or SLURM tasks on a shared filesystem) never
 * train the same run. The lock holds the owner's pid, host and process start time; a lock whose owner is
 * dead (same host: the pid is gone or is a different process now; other host: no heartbeat for
 * `STALE_AFTER_MS`) is stale and may be broken. The file appears with its full content at once
 * (written to a temporary name, then hard-linked into place, which fails if a lock exists), so a process
 * killed mid-acquire never leaves a torn lock.
 *
 * @example
 *   const lock = acquireRunLock(run.dir);
 *   if (!lock.acquired) console.log(`busy: ${describeHolder(lock.holder)}`);
 *   else try { ... } finally { lock.release(); }
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { processIsAlive } from '../util/process';

export const LOCK_FILE = 'lock';
/** A lock from another host is stale once its heartbeat (mtime) is older than this. */
export const STALE_AFTER_MS = 10 * 60 * 1000;
const BREAK_STALE_MS = 60 * 1000;

export interface LockInfo {
  pid: number;
  host: string;
  /** Linux process start time (clock ticks since boot) to tell a reused pid from the owner. */
  startTicks: number | null;
  acquiredAt: string;
}

export type LockResult =
  { acquired: true; release: () => void; heartbeat: () => void } | { acquired: false; holder: LockInfo | null };

/** The start time of a process in clock ticks (field 22 of /proc/<pid>/stat), or null off Linux. */
export function processStartTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}

export function readLock(runDir: string): { info: LockInfo | null; mtimeMs: number } | null {
  const file = path.join(runDir, LOCK_FILE);
  try {
    const mtimeMs = fs.statSync(file).mtimeMs;
    let info: LockInfo | null = null;
    try {
      info = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
    } catch {
      info = null;
    }
    return { info, mtimeMs };
  } catch {
    return null;
  }
}

/** Whether the lock's owner is still alive, as far as this host can tell. */
export function lockIsLive(info: LockInfo | null, mtimeMs: number, now = Date.now()): boolean {
  if (info === null) return now - mtimeMs < BREAK_STALE_MS;
  if (info.host !== os.hostname()) return now - mtimeMs < STALE_AFTER_MS;
  if (!processIsAlive(info.pid)) return false;
  const ticks = processStartTicks(info.pid);
  return info.startTicks === null || ticks === null || ticks === info.startTicks;
}

/** Who holds the run's lock now, or null when it is free or stale. */
export function liveLockHolder(runDir: string): LockInfo | null {
  const lock = readLock(runDir);
  if (!lock) return null;
  return lockIsLive(lock.info, lock.mtimeMs)
    ? (lock.info ?? { pid: -1, host: '?', startTicks: null, acquiredAt: '' })
    : null;
}

export function describeHolder(holder: LockInfo | null): string {
  return holder
    ? `pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt}`
    : 'another process (breaking a stale lock)';
}

function tryCreate(file: string, info: LockInfo): boolean {
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  fs.writeFileSync(tmp, JSON.stringify(info));
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Take the run's lock for this process, breaking a stale one; never waits. */
export function acquireRunLock(runDir: string): LockResult {
  fs.mkdirSync(runDir, { recursive: true });
  const file = path.join(runDir, LOCK_FILE);
  const info: LockInfo = {
    pid: process.pid,
    host: os.hostname(),
    startTicks: processStartTicks(process.pid),
    acquiredAt: new Date().toISOString(),
  };
  const held = (): LockResult => ({
    acquired: true,
    release: () => {
      const current = readLock(runDir);
      if (current?.info?.pid === info.pid && current.info.host === info.host) fs.rmSync(file, { force: true });
    },
    heartbeat: () => {
      const now = new Date();
      try {
        fs.utimesSync(file, now, now);
      } catch {
        /* the lock was broken by someone who judged us dead; the run's files stay consistent either way */
      }
    },
  });
  if (tryCreate(file, info)) return held();
  const existing = readLock(runDir);
  if (existing && lockIsLive(existing.info, existing.mtimeMs)) return { acquired: false, holder: existing.info };
  // Stale: only one process may break it, or two breakers could each delete the other's fresh lock.
  const breaker = `${file}.break`;
  const breakInfo = { ...info, acquiredAt: new Date().toISOString() };
  if (!tryCreate(breaker, breakInfo)) {
    const stat = fs.statSync(breaker, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > BREAK_STALE_MS) fs.rmSync(breaker, { force: true });
    return { acquired: false, holder: null };
  }
  try {
    const again = readLock(runDir);
    if (
      again &&
      JSON.stringify(again.info) === JSON.stringify(existing?.info ?? null) &&
      !lockIsLive(again.info, again.mtimeMs)
    )
      fs.rmSync(file, { force: true });
    if (tryCreate(file, info)) return held();
    return { acquired: false, holder: readLock(runDir)?.info ?? null };
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}
