import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { acquireRunLock, LOCK_FILE, liveLockHolder, lockIsLive, processStartTicks } from '../../lib/experiments/lock';
import { tempDir } from './helpers';

describe('run locks', () => {
  it('one holder at a time; release frees it', () => {
    const dir = tempDir('lock');
    const first = acquireRunLock(dir);
    assert.ok(first.acquired);
    const second = acquireRunLock(dir);
    assert.equal(second.acquired, false);
    if (!second.acquired) assert.equal(second.holder?.pid, process.pid);
    assert.equal(liveLockHolder(dir)?.pid, process.pid);
    if (first.acquired) first.release();
    assert.equal(fs.existsSync(path.join(dir, LOCK_FILE)), false);
    const third = acquireRunLock(dir);
    assert.ok(third.acquired);
    if (third.acquired) third.release();
  });

  it('a lock left by a dead process is stale and gets broken', () => {
    const dir = tempDir('lock-stale');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    fs.writeFileSync(
      path.join(dir, LOCK_FILE),
      JSON.stringify({ pid: deadPid, host: os.hostname(), startTicks: 1, acquiredAt: 'then' }),
    );
    assert.equal(liveLockHolder(dir), null);
    const lock = acquireRunLock(dir);
    assert.ok(lock.acquired, 'the stale lock was broken');
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    if (lock.acquired) lock.release();
  });

  it('a reused pid (same pid, different start time) is not the owner', () => {
    const ticks = processStartTicks(process.pid);
    if (ticks === null) return; // not Linux: only the pid is checked
    const info = { pid: process.pid, host: os.hostname(), startTicks: ticks + 1, acquiredAt: '' };
    assert.equal(lockIsLive(info, Date.now()), false);
    assert.equal(lockIsLive({ ...info, startTicks: ticks }, Date.now()), true);
    // Another host's lock lives while its heartbeat is fresh.
    assert.equal(lockIsLive({ ...info, host: 'elsewhere' }, Date.now()), true);
    assert.equal(lockIsLive({ ...info, host: 'elsewhere' }, Date.now() - 11 * 60 * 1000), false);
  });
});
