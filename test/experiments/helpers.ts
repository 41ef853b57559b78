/** Shared helpers for the experiment tests: temp folders, the CLI as a child process, row keys. */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ResultRow } from '../../lib/runs/store';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'lib', 'cli', 'index.ts');
export const FAKE_TRAINER = path.join(__dirname, 'fakeTrainer.ts');
export const REAL_TRAINER = path.join(ROOT, 'lib', 'train', 'run.ts');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sslad-${prefix}-`));
}

/** The CLI in a child process; `detached` puts it in its own process group (for kill -9 of the group). */
export function spawnCli(
  args: string[],
  options: { env?: Record<string, string>; detached?: boolean } = {},
): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--require', require.resolve('tsx/cjs'), CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exit };
}

export async function runCli(
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const cli = spawnCli(args, { env });
  const code = await cli.exit;
  return { code, output: cli.output() };
}

export function rowKey(r: ResultRow): string {
  return `${r.runId}|${r.split}|${r.evalProportion}|${r.metric}`;
}

export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether a process group still has members. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
