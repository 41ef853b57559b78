/**
 * `ssl-ad sweep --slurm`: one sbatch array job per sweep, one array task per unfinished run. Each task
 * runs the CLI `train` command on the run's config.json (written by `openRun` under the results dir),
 * so a task resumes from the run's checkpoint and a finished run is a no-op. Logs go to one file per
 * task under `<results>/slurm/<name>-<stamp>/logs/`.
 *
 * @example
 *   const job = writeSlurmArray(configs, { resultsDir, name: 'ssl-ad-ssl-paper', partition: 'gpu', gres: 'gpu:1' });
 *   const submitted = submitSlurm(job.script);            // runs sbatch --parsable, if sbatch exists
 *   if (submitted.submitted) await waitForSlurmJob(submitted.jobId, { resultsDir, runIds: job.runIds });
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { RunConfig } from '../runs/config';
import { projectRoot } from '../runs/paths';
import { openRun, RunRecord } from '../runs/store';
import { cliInvocation, TRAIN_EXIT } from './sweep';

export interface SlurmArrayOptions {
  resultsDir: string;
  /** Job name; also names the folder of the script, task list and logs. */
  name: string;
  partition?: string;
  /** sbatch --time, e.g. 12:00:00. */
  timeLimit?: string;
  /** e.g. gpu:1 for the paper scale on GPU nodes. */
  gres?: string;
  cpusPerTask?: number;
  memory?: string;
  /** At most this many array tasks at once (`--array=0-N%K`). */
  maxParallel?: number;
  /** Further sbatch arguments written as #SBATCH lines, e.g. ['--account=proj42']. */
  extraSbatchArgs?: string[];
  /** Include failed runs (default true); done and diverged runs are never included. */
  retryFailed?: boolean;
  /** Lines run before the task's command (module loads, environment). */
  setup?: string[];
  /** The CLI command line (default: this installation's, see cliInvocation). */
  cli?: { command: string; args: string[] };
}

export interface SlurmArrayJob {
  dir: string;
  script: string;
  tasksFile: string;
  logsDir: string;
  count: number;
  runIds: string[];
}

function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Write the array script and its task list; only unfinished runs become tasks. */
export function writeSlurmArray(configs: RunConfig[], options: SlurmArrayOptions): SlurmArrayJob {
  const resultsDir = path.resolve(options.resultsDir);
  const retryFailed = options.retryFailed ?? true;
  const runs: RunRecord[] = [];
  const seen = new Set<string>();
  for (const config of configs) {
    const run = openRun(resultsDir, config);
    if (seen.has(run.id)) continue;
    seen.add(run.id);
    const state = run.status().state;
    if (state === 'done' || state === 'diverged' || (state === 'failed' && !retryFailed)) continue;
    runs.push(run);
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const dir = path.join(resultsDir, 'slurm', `${options.name}-${stamp}-${process.pid}`);
  const logsDir = path.join(dir, 'logs');
  fs.mkdirSync(logsDir, { recursive: true });
  const tasksFile = path.join(dir, 'tasks.txt');
  fs.writeFileSync(tasksFile, runs.map((r) => r.configFile + '\n').join(''));
  const cli = options.cli ?? cliInvocation();
  const directives = [
    `--job-name=${options.name}`,
    `--array=0-${Math.max(0, runs.length - 1)}${options.maxParallel ? `%${options.maxParallel}` : ''}`,
    `--cpus-per-task=${options.cpusPerTask ?? 1}`,
    `--output=${path.join(logsDir, '%A_%a.out')}`,
    `--error=${path.join(logsDir, '%A_%a.err')}`,
    ...(options.partition ? [`--partition=${options.partition}`] : []),
    ...(options.timeLimit ? [`--time=${options.timeLimit}`] : []),
    ...(options.gres ? [`--gres=${options.gres}`] : []),
    ...(options.memory ? [`--mem=${options.memory}`] : []),
    ...(options.extraSbatchArgs ?? []),
  ];
  const script = [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    `# Written by ssl-ad sweep --slurm: ${runs.length} runs, one per array task. Resubmitting is safe:`,
    '# a finished run exits at once and an unfinished one resumes from its checkpoint.',
    'set -euo pipefail',
    `cd ${shellQuote(projectRoot())}`,
    ...(options.setup ?? []),
    `config="$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" ${shellQuote(tasksFile)})"`,
    'echo "[slurm] task ${SLURM_ARRAY_TASK_ID} on $(hostname): ${config}"',
    // Each task is single-threaded wasm; keep any native thread pools (the oneDNN kernels' too) to the task's CPUs.
    'export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    'export SSLAD_NATIVE_THREADS="${SSLAD_NATIVE_THREADS:-${SLURM_CPUS_PER_TASK:-1}}"',
    'status=0',
    `${[cli.command, ...cli.args].map(shellQuote).join(' ')} train --config "$config"` +
      ` --results ${shellQuote(resultsDir)} || status=$?`,
    `# ${TRAIN_EXIT.locked}: another process holds the run (a resubmitted array overlapping the first);` +
      ' not an error here.',
    `if [ "$status" -eq ${TRAIN_EXIT.locked} ]; then status=0; fi`,
    'exit "$status"',
    '',
  ].join('\n');
  const scriptFile = path.join(dir, `${options.name}.sbatch`);
  fs.writeFileSync(scriptFile, script, { mode: 0o755 });
  return { dir, script: scriptFile, tasksFile, logsDir, count: runs.length, runIds: runs.map((r) => r.id) };
}

function which(binary: string): string | null {
  const result = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : null;
}

export function haveSbatch(): boolean {
  return which('sbatch') !== null;
}

export type SubmitResult = { submitted: true; jobId: string } | { submitted: false; message: string };

/** `sbatch --parsable <script>`; when sbatch is missing, says so instead of failing. */
export function submitSlurm(script: string): SubmitResult {
  if (!haveSbatch()) return { submitted: false, message: 'sbatch is not on PATH here' };
  const result = spawnSync('sbatch', ['--parsable', script], { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`sbatch ${script} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim()}`);
  const jobId = result.stdout.trim().split(';')[0];
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch printed ${JSON.stringify(result.stdout)}, not a job id`);
  return { submitted: true, jobId };
}

/** The job's tasks still pending or running, per squeue (empty when the job has left the queue). */
export function queuedTasks(jobId: string): string[] {
  try {
    const out = execFileSync('squeue', ['-h', '-r', '-j', jobId, '-o', '%i %T'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n').filter((l) => l.trim());
  } catch (err) {
    // squeue exits non-zero once the job id is no longer known to the controller.
    const text = String((err as { stderr?: string }).stderr ?? '');
    if (/Invalid job id/i.test(text)) return [];
    throw new Error(`squeue -j ${jobId} failed: ${text.trim() || (err as Error).message}`);
  }
}

/** Poll squeue until the job has left the queue, printing how many of its runs are done. */
export async function waitForSlurmJob(
  jobId: string,
  options: {
    resultsDir: string;
    runIds: string[];
    pollSeconds?: number;
    timeoutSeconds?: number;
    log?: (line: string) => void;
  },
): Promise<void> {
  const started = Date.now();
  const poll = (options.pollSeconds ?? 5) * 1000;
  let last = '';
  for (;;) {
    const queued = queuedTasks(jobId);
    const states = options.runIds.map((id) => new RunRecord(path.join(options.resultsDir, id), id).status().state);
    const count = (state: string) => states.filter((s) => s === state).length;
    const line =
      `[slurm] job ${jobId}: ${queued.length} tasks queued or running; runs ${count('done')} done,` +
      ` ${count('failed')} failed, ${count('diverged')} diverged of ${states.length}`;
    if (line !== last) options.log?.(line);
    last = line;
    if (!queued.length) return;
    if (options.timeoutSeconds !== undefined && Date.now() - started > options.timeoutSeconds * 1000) {
      throw new Error(`job ${jobId} still queued after ${options.timeoutSeconds} s (squeue: ${queued.join('; ')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, poll));
  }
}
