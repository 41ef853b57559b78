/**
 * Whether a process id names a live process, for lock files and temporary files left by writers that died.
 * EPERM means the process exists but belongs to someone else, so it counts as alive.
 *
 * @example
 *   processIsAlive(process.pid);   // true
 */
export function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
