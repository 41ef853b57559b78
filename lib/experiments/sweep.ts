/**
 * Run a list of configs as a resumable sweep of local worker processes.
 *
 * - A `done` or `diverged` run is skipped (diverged is an outcome: the same seed diverges again).
 * - Anything else (pending, a stale `running` left by a killed process, `failed`) is started again; the
 *   trainer resumes from the run's checkpoint. `retryFailed: false` leaves failed runs alone.
 * - One worker process per run (the wasm backend is single-threaded, so parallelism is per process):
 *   each runs the CLI's `train` command on the run's config.json. The native kernels (when built) get
 *   SSLAD_NATIVE_THREADS = ⌊cores / workers⌋ (at least 1) per worker unless it is set already, so workers ×
 *   threads never oversubscribes the cores. The worker takes the run's lock
 *   (lock.ts), so two sweeps over the same results folder never train the same run; a run locked by a
 *   live process is waited for, not skipped: the sweep polls until that process lets go, then counts the run as
 *   finished by it, or trains it itself when it was left unfinished. The summary line is always printed.
 * - A worker that fails, diverges or dies is recorded in the run's status with its reason; the sweep
 *   goes on. A worker notices when its sweep dies (even by `kill -9`) and stops at its next step.
 * - Every file a run writes is atomic (store.ts), so a kill at any moment leaves a rerunnable state.
 *
 * @example
 *   const configs = studyGrid('ssl', { scale: 'smoke' });
 *   const summary = await runSweep(configs, { resultsDir: projectPaths().results, workers: 2 });
 *   summary.counts; // { done: 55, failed: 0, diverged: 0, ... }
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RunConfig } from '../runs/config';
import { describeHolder, liveLockHolder } from './lock';
import { openRun, RunRecord, RunState, RunStatus } from '../runs/store';

/** Exit codes of the CLI `train` command, shared with the worker pool and the SLURM script. */
export const TRAIN_EXIT = { done: 0, failed: 1, usage: 2, diverged: 3, interrupted: 4, locked: 75 } as const;

export interface WorkerTask {
  run: RunRecord;
  resultsDir: string;
  /** Where the worker's stdout/stderr go. */
  logFile: string;
  /** Threads for the worker's native kernels (SSLAD_NATIVE_THREADS): the cores shared out among the workers. */
  threads?: number;
}

export interface WorkerOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines of the worker's output, for the failure reason. */
  tail: string;
}

/** Starts one worker for a task; the default spawns the CLI `train` command. */
export type WorkerLauncher = (task: WorkerTask) => {
  done: Promise<WorkerOutcome>;
  kill: (signal: NodeJS.Signals) => void;
};

export interface SweepProgress {
  total: number;
  /** Finished before this sweep started. */
  skipped: number;
  done: number;
  running: number;
  waiting: number;
  failed: number;
  diverged: number;
  etaSeconds: number | null;
  /** The run whose change triggered this report, if any. */
  event?: { runId: string; state: RunState | 'started' | 'waiting'; reason?: string; seconds?: number };
}

export interface SweepOptions {
  resultsDir: string;
  /** Concurrent workers (default: one per core). */
  workers?: number;
  /** Start failed runs again (default true). */
  retryFailed?: boolean;
  launch?: WorkerLauncher;
  /** Progress lines (default: console.log); null silences them. */
  log?: ((line: string) => void) | null;
  onProgress?: (progress: SweepProgress) => void;
  /** Seconds between periodic progress lines (default 30). */
  reportEverySeconds?: number;
  /** How often to look at runs locked by other processes (ms, default 2000). */
  pollMs?: number;
  signal?: AbortSignal;
}

export interface SweepRunResult {
  runId: string;
  state: RunState;
  reason?: string;
  seconds?: number;
  /** true when the run was already finished before this sweep. */
  skipped: boolean;
}

export interface SweepSummary {
  results: SweepRunResult[];
  counts: Record<RunState, number>;
  seconds: number;
  interrupted: boolean;
}

/**
 * The command line that runs this project's CLI (lib/cli, a layer above: started as a process, never imported):
 * compiled JS under dist/, or TypeScript via tsx.
 */
export function cliInvocation(): { command: string; args: string[] } {
  const here = __filename;
  if (here.endsWith('.ts')) {
    return {
      command: process.execPath,
      args: ['--require', require.resolve('tsx/cjs'), path.join(__dirname, '..', 'cli', 'index.ts')],
    };
  }
  return { command: process.execPath, args: [path.join(__dirname, '..', 'cli', 'index.js')] };
}

function tailOf(file: string, lines = 15): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 16384);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return buffer
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim())
        .slice(-lines)
        .join('\n');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Native-kernel threads per worker: the cores shared out evenly, at least one each. */
export function nativeThreadsPerWorker(cores: number, workers: number): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

/** The default launcher: `ssl-ad train --config <run>/config.json --results <dir>` in a child process. */
export const spawnCliWorker: WorkerLauncher = (task) => {
  const { command, args } = cliInvocation();
  fs.mkdirSync(path.dirname(task.logFile), { recursive: true });
  const out = fs.openSync(task.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, [...args, 'train', '--config', task.run.configFile, '--results', task.resultsDir], {
      stdio: ['ignore', out, out],
      // The worker recomputes the run id from the data as it is then: a different id means the data changed.
      env: {
        ...process.env,
        SSLAD_SWEEP_PID: String(process.pid),
        SSLAD_EXPECTED_RUN_ID: task.run.id,
        SSLAD_NATIVE_THREADS: process.env.SSLAD_NATIVE_THREADS ?? String(task.threads ?? 1),
      },
    });
  } finally {
    fs.closeSync(out);
  }
  const done = new Promise<WorkerOutcome>((resolve) => {
    child.on('error', (err) =>
      resolve({ exitCode: null, signal: null, tail: `could not start the worker: ${err.message}` }),
    );
    child.on('exit', (exitCode, signal) => resolve({ exitCode, signal, tail: tailOf(task.logFile) }));
  });
  return { done, kill: (signal) => child.kill(signal) };
};

function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function formatProgress(p: SweepProgress): string {
  const finished = p.skipped + p.done + p.failed + p.diverged;
  const parts = [`${finished}/${p.total} finished (${p.done} done now, ${p.skipped} before)`, `${p.running} running`];
  if (p.waiting) parts.push(`${p.waiting} waiting on other processes`);
  parts.push(`${p.failed} failed`, `${p.diverged} diverged`);
  if (p.etaSeconds !== null) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  let line = `[sweep] ${parts.join(' · ')}`;
  if (p.event) {
    const e = p.event;
    const took = e.seconds !== undefined ? ` in ${formatDuration(e.seconds)}` : '';
    line += `  — ${e.runId} ${e.state}${took}${e.reason ? `: ${e.reason}` : ''}`;
  }
  return line;
}

const FINAL: ReadonlySet<RunState> = new Set(['done', 'diverged']);

/** Run every config that is not finished; resolves when all have finished, failed or been interrupted. */
export async function runSweep(configs: RunConfig[], options: SweepOptions): Promise<SweepSummary> {
  const started = Date.now();
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  const workers = Math.max(1, options.workers ?? cores);
  const threads = nativeThreadsPerWorker(cores, workers);
  const retryFailed = options.retryFailed ?? true;
  const launch = options.launch ?? spawnCliWorker;
  const log = options.log === undefined ? (line: string) => console.log(line) : options.log;
  const pollMs = options.pollMs ?? 2000;
  fs.mkdirSync(options.resultsDir, { recursive: true });

  const runs = new Map<string, RunRecord>();
  for (const config of configs) {
    const run = openRun(options.resultsDir, config);
    runs.set(run.id, run);
  }
  const results = new Map<string, SweepRunResult>();
  const queue: RunRecord[] = [];
  for (const run of runs.values()) {
    const status = run.status();
    if (FINAL.has(status.state) || (status.state === 'failed' && !retryFailed)) {
      results.set(run.id, { runId: run.id, state: status.state, reason: status.reason, skipped: true });
    } else {
      queue.push(run);
    }
  }

  const active = new Map<string, { kill: (signal: NodeJS.Signals) => void; startedAt: number }>();
  const waiting = new Set<string>();
  const durations: number[] = [];
  let interrupted = false;

  const progress = (event?: SweepProgress['event']): SweepProgress => {
    const list = [...results.values()];
    const count = (state: RunState, skipped: boolean) =>
      list.filter((r) => r.state === state && r.skipped === skipped).length;
    const remaining = queue.length + active.size + waiting.size;
    const mean = durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : null;
    return {
      total: runs.size,
      skipped: list.filter((r) => r.skipped).length,
      done: count('done', false),
      running: active.size,
      waiting: waiting.size,
      failed: count('failed', false),
      diverged: count('diverged', false),
      etaSeconds: mean === null ? null : (mean * remaining) / Math.min(workers, Math.max(1, remaining)),
      event,
    };
  };
  const report = (event?: SweepProgress['event']) => {
    const p = progress(event);
    options.onProgress?.(p);
    log?.(formatProgress(p));
  };

  const settle = (run: RunRecord, outcome: WorkerOutcome, seconds: number): void => {
    if (outcome.exitCode === TRAIN_EXIT.locked) {
      waiting.add(run.id);
      return;
    }
    let status: RunStatus = run.status();
    if (!['done', 'failed', 'diverged'].includes(status.state)) {
      // The worker died without recording an outcome (killed, out of memory, crashed on start-up).
      const how = outcome.signal ? `killed by ${outcome.signal}` : `exited with code ${outcome.exitCode}`;
      if (interrupted) return; // our own shutdown: the run stays resumable, nothing to record.
      const last = outcome.tail.split('\n').slice(-3).join(' | ');
      status = {
        ...status,
        state: 'failed',
        reason:
          `worker ${how} at epoch ${status.epoch ?? '?'} (resumable: rerun the sweep)` +
          (last ? `; last output: ${last}` : ''),
      };
      try {
        run.setStatus(status);
      } catch (err) {
        // A full disk must not end the sweep without its summary; the run stays resumable.
        log?.(`[sweep] ${run.id}: could not record its failure: ${(err as Error).message}`);
      }
    }
    if (status.state === 'done') durations.push(seconds);
    results.set(run.id, { runId: run.id, state: status.state, reason: status.reason, seconds, skipped: false });
    report({ runId: run.id, state: status.state, reason: status.reason, seconds });
  };

  const start = (run: RunRecord): Promise<void> => {
    const holder = liveLockHolder(run.dir);
    if (holder) {
      if (!waiting.has(run.id))
        log?.(`[sweep] ${run.id} is being trained by ${describeHolder(holder)}; waiting for it`);
      waiting.add(run.id);
      return Promise.resolve();
    }
    waiting.delete(run.id);
    const t0 = Date.now();
    const worker = launch({ run, resultsDir: options.resultsDir, logFile: path.join(run.dir, 'worker.log'), threads });
    active.set(run.id, { kill: worker.kill, startedAt: t0 });
    return worker.done.then((outcome) => {
      active.delete(run.id);
      settle(run, outcome, (Date.now() - t0) / 1000);
    });
  };

  const onAbort = () => {
    interrupted = true;
    for (const worker of active.values()) worker.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  report();
  const reportEvery = (options.reportEverySeconds ?? 30) * 1000;
  const timer = reportEvery > 0 ? setInterval(() => report(), reportEvery) : null;
  timer?.unref();
  const inFlight = new Set<Promise<void>>();
  try {
    while (!interrupted && (queue.length || active.size || waiting.size)) {
      while (!interrupted && queue.length && active.size < workers) {
        const run = queue.shift()!;
        const job = start(run).finally(() => inFlight.delete(job));
        inFlight.add(job);
        await Promise.resolve();
      }
      // A run that someone else was training: once its lock is free, look at what they left.
      for (const id of [...waiting]) {
        const run = runs.get(id)!;
        if (liveLockHolder(run.dir)) continue;
        waiting.delete(id);
        const status = run.status();
        if (FINAL.has(status.state)) {
          results.set(id, { runId: id, state: status.state, reason: status.reason, skipped: true });
          report({ runId: id, state: status.state, reason: 'finished by another process' });
        } else if (!queue.includes(run) && !active.has(id)) {
          queue.push(run);
        }
      }
      if (!queue.length || active.size >= workers) {
        // Not unref'd: while the sweep only waits for runs held by other processes this timer is all that keeps
        // the process alive (an unref'd one let Node exit with code 0, no summary, before those runs finished).
        const tick = new Promise<void>((resolve) => setTimeout(resolve, pollMs));
        await Promise.race([tick, ...inFlight]);
      }
    }
    await Promise.all([...inFlight]);
  } finally {
    if (timer) clearInterval(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }

  const counts: Record<RunState, number> = { pending: 0, running: 0, done: 0, failed: 0, diverged: 0 };
  const ordered: SweepRunResult[] = [];
  for (const run of runs.values()) {
    const result = results.get(run.id) ?? {
      runId: run.id,
      state: run.status().state,
      reason: run.status().reason,
      skipped: false,
    };
    counts[result.state] += 1;
    ordered.push(result);
  }
  const summary: SweepSummary = { results: ordered, counts, seconds: (Date.now() - started) / 1000, interrupted };
  log?.(
    `[sweep] ${interrupted ? 'interrupted' : 'finished'} after ${formatDuration(summary.seconds)}: ${Object.entries(
      counts,
    )
      .filter(([, n]) => n)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}`,
  );
  return summary;
}
