/**
 * `ssl-ad`: the command line of the study (package.json `bin`, via bin/ssl-ad.js).
 *
 * ```
 * ssl-ad train  --config runs/results/<id>/config.json            # one run from a config file
 * ssl-ad train  --method simclr --backbone resnet18 --proportion 0.05 --scale smoke
 * ssl-ad sweep  --study ssl --scale default --workers 2           # local worker processes
 * ssl-ad sweep  --study resolution --scale paper --slurm --partition gpu --gres gpu:1 --wait
 * ssl-ad status                                                   # done / running / failed / diverged
 * ssl-ad export --out runs/export                                 # tidy.csv and tidy.arrow
 * ```
 * Every command takes `--results DIR` (default: SSLAD_RESULTS_DIR or runs/results).
 *
 * @example
 *   import { main } from '../lib/cli';
 *   const code = await main(['status', '--results', '/tmp/results']);
 */
import * as fs from 'fs';
import * as path from 'path';
import { makeRunConfig, validateRunConfig } from '../methods/config';
import { methodNames } from '../methods';
import { BACKBONES, BackboneName, MethodName, PROPORTIONS, RunConfig, RunOverrides } from '../runs/config';
import { runId } from '../runs/id';
import { GridOptions, STUDIES, StudyName, studyGrid } from '../experiments/grid';
import { fashionMnistGridOptions, sslStudyConfigs } from '../experiments/selection';
import { learningCurveGrid } from '../experiments/curve';
import { acquireRunLock, describeHolder, liveLockHolder } from '../experiments/lock';
import { submitSlurm, waitForSlurmJob, writeSlurmArray } from '../experiments/slurm';
import { projectPaths } from '../runs/paths';
import { parseScale, ScaleName, SCALES } from '../runs/scale';
import {
  collectRows,
  listRuns,
  openRun,
  readJson,
  ResultRow,
  RunRecord,
  RunState,
  RunStatus,
  writeFileAtomic,
} from '../runs/store';
import { describeIdentity, type DatasetIdentity } from '../data/identity';
import { runSweep, TRAIN_EXIT } from '../experiments/sweep';
import { tidyArrowFile } from '../experiments/tidy_arrow';

/** The trainer's entry point (lib/train/run.ts), loaded lazily so the other commands never pay for tfjs. */
export type RunExperiment = (config: RunConfig, options: { resultsDir: string }) => Promise<RunStatus>;

export class UsageError extends Error {}

/**
 * Bad input that is not a flag: an environment variable, a dataset folder, an annotation file. Printed as one line
 * (no stack trace: the message names what is wrong), exit code 2.
 */
export class InputError extends Error {}

/** Errors whose message says everything: bad input, not a bug, so no stack trace. */
export function isInputError(err: unknown): boolean {
  if (err instanceof InputError || err instanceof UsageError) return true;
  const e = err as Error | undefined;
  return e?.name === 'SewerDataError' || /^invalid config: /.test(e?.message ?? '');
}

/**
 * The modules only some commands need, loaded when a command first asks for one: TF.js (under lib/backend, the
 * frozen probe) costs about a second at start that `status`, `sweep` and `export` never
 * pay. With the trainer (trainerModulePath) these are the CLI's only lazy loads; each points down the layers
 * (test/layers.test.ts checks it against LAZY_LOADS in lib/util/layers.ts).
 */
const heavy = {
  backend: () => require('../backend') as typeof import('../backend'),
  frozen: () => require('../train/frozen') as typeof import('../train/frozen'),
};

/** SSLAD_BACKEND names a backend (checked before anything is written, without loading TF.js). */
function checkBackendVariable(): void {
  const { parseForced } = heavy.backend();
  try {
    parseForced();
  } catch (err) {
    throw new InputError((err as Error).message);
  }
}

type FlagSpec = Record<string, 'string' | 'boolean'>;

const COMMON: FlagSpec = { results: 'string', help: 'boolean' };
const COMMANDS: Record<string, { flags: FlagSpec; usage: string }> = {
  train: {
    flags: {
      ...COMMON,
      config: 'string',
      method: 'string',
      backbone: 'string',
      proportion: 'string',
      scale: 'string',
      seed: 'string',
      epochs: 'string',
      'image-size': 'string',
      'batch-size': 'string',
      override: 'string',
    },
    usage:
      'ssl-ad train (--config FILE | --method M --backbone B [--proportion P] [--scale S] [--seed N] [--epochs N]' +
      ' [--image-size N] [--batch-size N] [--override JSON]) [--results DIR]',
  },
  sweep: {
    flags: {
      ...COMMON,
      study: 'string',
      scale: 'string',
      seeds: 'string',
      workers: 'string',
      proportions: 'string',
      methods: 'string',
      backbones: 'string',
      override: 'string',
      'no-retry-failed': 'boolean',
      'dry-run': 'boolean',
      slurm: 'boolean',
      wait: 'boolean',
      partition: 'string',
      time: 'string',
      gres: 'string',
      mem: 'string',
      'max-parallel': 'string',
      'sbatch-arg': 'string',
    },
    usage:
      'ssl-ad sweep [--study ssl|resolution|augmentation] [--scale smoke|default|paper] [--seeds 42,43] [--workers N]' +
      ' [--methods a,b] [--backbones resnet18,vit_tiny] [--proportions 0.01,0.45] [--override JSON]' +
      ' [--no-retry-failed] [--dry-run] [--slurm [--wait] [--partition P] [--time HH:MM:SS] [--gres gpu:1]' +
      ' [--mem 16G] [--max-parallel N] [--sbatch-arg "--account=x"]] [--results DIR]',
  },
  eval: { flags: { ...COMMON, run: 'string' }, usage: 'ssl-ad eval --run RUN_ID [--results DIR]' },
  probe: {
    flags: {
      ...COMMON,
      run: 'string',
      study: 'string',
      scale: 'string',
      seeds: 'string',
      methods: 'string',
      backbones: 'string',
      proportions: 'string',
      override: 'string',
      'random-init': 'boolean',
      l2: 'string',
    },
    usage:
      'ssl-ad probe (--run RUN_ID | [--study ssl] [--scale S] [--seeds 42,43] [--methods a,b] [--backbones b]' +
      ' [--proportions 0.45] [--override JSON]) [--random-init] [--l2 X (default: 5-fold CV)] [--results DIR]',
  },
  status: { flags: { ...COMMON, json: 'boolean' }, usage: 'ssl-ad status [--json] [--results DIR]' },
  export: {
    flags: { ...COMMON, out: 'string', format: 'string', grids: 'string', scale: 'string' },
    usage:
      'ssl-ad export [--out DIR] [--format csv,arrow]' +
      ' [--grids ssl,resolution,augmentation,fashion-mnist,learning-curve [--scale S]] [--results DIR]',
  },
};

const TOP_USAGE = `usage: ssl-ad <command> [flags]\n\ncommands:\n${Object.values(COMMANDS)
  .map((c) => `  ${c.usage}`)
  .join('\n')}`;

export function parseFlags(command: string, argv: string[]): Record<string, string | boolean> {
  const spec = COMMANDS[command].flags;
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--'))
      throw new UsageError(`${command}: unexpected argument ${JSON.stringify(arg)}; flags start with --`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind)
      throw new UsageError(
        `${command}: unknown flag --${name}; allowed: ${Object.keys(spec)
          .map((f) => `--${f}`)
          .join(', ')}`,
      );
    if (kind === 'boolean') {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      out[name] = true;
    } else {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--')))
        throw new UsageError(`${command}: --${name} needs a value`);
      out[name] = value;
    }
  }
  return out;
}

function str(flags: Record<string, string | boolean>, name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

function intFlag(flag: string, raw: string | undefined, min = 0): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${flag}: ${JSON.stringify(raw)} is not an integer ≥ ${min}`);
  return n;
}

function listFlag<T extends string | number>(
  flag: string,
  raw: string | undefined,
  allowed: readonly T[],
  parse: (s: string) => T,
): T[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(parse);
  if (!values.length) throw new UsageError(`--${flag}: empty list; allowed: ${allowed.join(',')}`);
  for (const v of values)
    if (!allowed.includes(v))
      throw new UsageError(`--${flag}: ${JSON.stringify(v)} is not allowed; allowed: ${allowed.join(',')}`);
  return values;
}

function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T))
    throw new UsageError(`--${flag}: ${JSON.stringify(raw)} is not allowed; allowed: ${allowed.join(', ')}`);
  return raw as T;
}

function overridesFlag(raw: string | undefined): RunOverrides | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('expected a JSON object');
    return parsed as RunOverrides;
  } catch (err) {
    throw new UsageError(
      `--override: not a JSON object (${(err as Error).message}); ` +
        `e.g. --override '{"epochs":2,"optimizer":{"lr":0.1}}'`,
    );
  }
}

function resultsDir(flags: Record<string, string | boolean>): string {
  return path.resolve(str(flags, 'results') ?? projectPaths().results);
}

/** The config a `train` invocation describes: a config file, or flags over appendix B at a scale. */
export function trainConfigFromFlags(flags: Record<string, string | boolean>): RunConfig {
  const file = str(flags, 'config');
  if (file !== undefined) {
    const others = [
      'method',
      'backbone',
      'proportion',
      'scale',
      'seed',
      'epochs',
      'image-size',
      'batch-size',
      'override',
    ].filter((f) => flags[f] !== undefined);
    if (others.length)
      throw new UsageError(
        `train: --config cannot be combined with ${others.map((f) => `--${f}`).join(', ')}; edit the file instead`,
      );
    if (!fs.existsSync(file)) throw new UsageError(`train: --config ${file} does not exist`);
    try {
      return validateRunConfig(readJson<RunConfig>(file));
    } catch (err) {
      throw new UsageError(`train: ${file}: ${(err as Error).message}`);
    }
  }
  const method = oneOf('method', str(flags, 'method'), methodNames());
  const backbone = oneOf('backbone', str(flags, 'backbone'), BACKBONES);
  if (!method || !backbone)
    throw new UsageError(
      `train: give --config FILE, or --method (${methodNames().join(', ')}) and --backbone (${BACKBONES.join(', ')})`,
    );
  const scale = str(flags, 'scale') === undefined ? undefined : oneOf('scale', str(flags, 'scale'), SCALES);
  const overrides: RunOverrides & { method: MethodName; backbone: BackboneName } = {
    ...(overridesFlag(str(flags, 'override')) ?? {}),
    method,
    backbone,
  };
  const proportion = str(flags, 'proportion');
  if (proportion !== undefined) {
    const p = Number(proportion);
    if (!Number.isFinite(p))
      throw new UsageError(
        `--proportion: ${JSON.stringify(proportion)} is not a number; the study uses ${PROPORTIONS.join(', ')}`,
      );
    overrides.trainProportion = p;
  }
  const seed = intFlag('seed', str(flags, 'seed'));
  if (seed !== undefined) overrides.seed = seed;
  const epochs = intFlag('epochs', str(flags, 'epochs'), 1);
  if (epochs !== undefined) overrides.epochs = epochs;
  const imageSize = intFlag('image-size', str(flags, 'image-size'), 16);
  if (imageSize !== undefined) overrides.imageSize = imageSize;
  const batchSize = intFlag('batch-size', str(flags, 'batch-size'), 2);
  if (batchSize !== undefined) overrides.batchSize = batchSize;
  try {
    return makeRunConfig(overrides, scale);
  } catch (err) {
    throw new UsageError(`train: ${(err as Error).message}`);
  }
}

/**
 * The trainer module: lib/train/run.ts, or the module SSLAD_TRAINER_MODULE names (an absolute path; the
 * scheduler tests use a stand-in that writes the same files in milliseconds).
 */
function trainerModulePath(): string {
  return process.env.SSLAD_TRAINER_MODULE || '../train/run';
}

function loadTrainer(): RunExperiment {
  let mod: { runExperiment?: RunExperiment };
  try {
    mod = require(trainerModulePath()) as { runExperiment?: RunExperiment };
  } catch (err) {
    throw new Error(`the trainer (${trainerModulePath()}) could not be loaded: ${(err as Error).message}`);
  }
  if (typeof mod.runExperiment !== 'function') throw new Error('lib/train/run.ts does not export runExperiment');
  return mod.runExperiment;
}

const EXIT_FOR_STATE: Partial<Record<RunState, number>> = {
  done: TRAIN_EXIT.done,
  failed: TRAIN_EXIT.failed,
  diverged: TRAIN_EXIT.diverged,
};

async function commandTrain(flags: Record<string, string | boolean>, out: Output): Promise<number> {
  const config = trainConfigFromFlags(flags);
  const dir = resultsDir(flags);
  // Everything that can be checked is checked before the run's folder exists, so bad input leaves nothing behind:
  // the backend variable, the dataset folder (the run id includes its identity), then the backend itself.
  checkBackendVariable();
  const id = runId(config);
  const expected = process.env.SSLAD_EXPECTED_RUN_ID;
  if (expected && expected !== id) {
    throw new InputError(
      `the run id is ${id} now, not ${expected} as when the sweep listed it: ` +
        `the dataset changed since (${JSON.stringify(config.dataset)}); rerun the sweep`,
    );
  }
  const { initBackend } = heavy.backend();
  try {
    await initBackend({ quiet: true });
  } catch (err) {
    throw new InputError((err as Error).message);
  }
  const run = openRun(dir, config);
  const lock = acquireRunLock(run.dir);
  if (!lock.acquired) {
    out.err(`[train] ${run.id} is locked by ${describeHolder(lock.holder)}; not starting it twice`);
    return TRAIN_EXIT.locked;
  }
  // The trainer checkpoints atomically, so stopping at any instant is as safe as kill -9; on a signal (or
  // when the sweep that started us is gone) we record the interruption and exit at once.
  const stop = (why: string, code: number) => {
    const now = run.status();
    if (!['done', 'diverged', 'failed'].includes(now.state))
      run.setStatus({ ...now, state: 'pending', reason: `interrupted: ${why}` });
    lock.release();
    out.err(`[train] ${run.id}: ${why}; stopped (rerun to resume from the last checkpoint)`);
    process.exit(code);
  };
  const onTerm = () => stop('received SIGTERM', TRAIN_EXIT.interrupted);
  const onInt = () => stop('received SIGINT', TRAIN_EXIT.interrupted);
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  const heartbeat = setInterval(() => lock.heartbeat(), 30_000);
  heartbeat.unref();
  // A sweep killed with -9 cannot stop its workers; they notice the parent is gone and stop themselves.
  const sweepPid = Number(process.env.SSLAD_SWEEP_PID ?? 0);
  const parentWatch = sweepPid
    ? setInterval(() => {
        if (process.ppid !== sweepPid) stop(`the sweep (pid ${sweepPid}) is gone`, TRAIN_EXIT.interrupted);
      }, 1000)
    : null;
  parentWatch?.unref();
  try {
    const before = run.status();
    if (before.state === 'done') {
      out.log(`[train] ${run.id} is already done; nothing to do`);
      return TRAIN_EXIT.done;
    }
    out.log(
      `[train] ${run.id} (${config.method}, ${config.backbone}, p=${config.trainProportion}, ${config.scale})` +
        ` → ${run.dir}`,
    );
    let status: RunStatus;
    try {
      status = await loadTrainer()(config, { resultsDir: dir });
    } catch (err) {
      const reason = isInputError(err) ? (err as Error).message : ((err as Error).stack ?? String(err));
      out.err(`[train] ${run.id} failed: ${reason}`);
      const now = run.status();
      if (!['failed', 'diverged', 'done'].includes(now.state))
        run.setStatus({ ...now, state: 'failed', reason: (err as Error).message ?? String(err) });
      return TRAIN_EXIT.failed;
    }
    out.log(`[train] ${run.id} ${status.state}${status.reason ? `: ${status.reason}` : ''}`);
    return EXIT_FOR_STATE[status.state] ?? TRAIN_EXIT.failed;
  } finally {
    clearInterval(heartbeat);
    if (parentWatch) clearInterval(parentWatch);
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    lock.release();
  }
}

/** `--scale` (default `default`), as a usage error when it names no scale. */
function scaleFlag(flags: Record<string, string | boolean>): ScaleName {
  const raw = str(flags, 'scale');
  try {
    return raw === undefined ? 'default' : parseScale(raw, '--scale');
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The configs a `sweep` invocation describes. */
export function sweepConfigsFromFlags(flags: Record<string, string | boolean>): {
  study: StudyName;
  scale: ScaleName;
  configs: RunConfig[];
} {
  const study = oneOf('study', str(flags, 'study'), STUDIES) ?? 'ssl';
  const scale = scaleFlag(flags);
  const options: GridOptions = {
    scale,
    seeds: listFlagSeeds(str(flags, 'seeds')),
    overrides: overridesFlag(str(flags, 'override')),
    methods: listFlag('methods', str(flags, 'methods'), methodNames(), (s) => s as MethodName),
    backbones: listFlag('backbones', str(flags, 'backbones'), BACKBONES, (s) => s as BackboneName),
    proportions: listFlag('proportions', str(flags, 'proportions'), PROPORTIONS as readonly number[], Number),
  };
  try {
    return { study, scale, configs: studyGrid(study, options) };
  } catch (err) {
    throw new UsageError(`sweep --study ${study}: ${(err as Error).message}`);
  }
}

// Seeds are free integers, so they skip listFlag's membership check.
function listFlagSeeds(raw: string | undefined): number[] | undefined {
  if (raw === undefined) return undefined;
  const values = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!values.length) throw new UsageError('--seeds: empty list; e.g. --seeds 42,43');
  for (const s of values)
    if (!Number.isInteger(s) || s < 0)
      throw new UsageError(`--seeds: ${JSON.stringify(s)} is not a non-negative integer`);
  return values;
}

async function commandSweep(flags: Record<string, string | boolean>, out: Output): Promise<number> {
  const { study, scale, configs: finalConfigs } = sweepConfigsFromFlags(flags);
  if (!flags['dry-run']) checkBackendVariable();
  const dir = resultsDir(flags);
  const workers = intFlag('workers', str(flags, 'workers'), 1);
  if (flags['dry-run']) {
    out.log(`[sweep] ${study} at scale ${scale}: ${finalConfigs.length} runs`);
    for (const c of finalConfigs)
      out.log(
        `${runId(c)}  ${c.method} ${c.backbone} p=${c.trainProportion} size=${c.imageSize}` +
          ` jitter=${c.augment.jitter} minScale=${c.augment.minScale} aug=${c.augment.enabled}`,
      );
    return 0;
  }
  if (flags.slurm) {
    const job = writeSlurmArray(finalConfigs, {
      resultsDir: dir,
      name: `ssl-ad-${study}-${scale}`,
      partition: str(flags, 'partition'),
      timeLimit: str(flags, 'time'),
      gres: str(flags, 'gres'),
      memory: str(flags, 'mem'),
      maxParallel: intFlag('max-parallel', str(flags, 'max-parallel'), 1),
      extraSbatchArgs: str(flags, 'sbatch-arg') ? [str(flags, 'sbatch-arg')!] : [],
      retryFailed: !flags['no-retry-failed'],
    });
    if (job.count === 0) {
      out.log(`[slurm] all ${finalConfigs.length} runs are finished already; nothing to submit`);
      return 0;
    }
    out.log(`[slurm] wrote ${job.script} (${job.count} array tasks; logs in ${job.logsDir})`);
    const submitted = submitSlurm(job.script);
    if (!submitted.submitted) {
      out.log(`[slurm] ${submitted.message}\n[slurm] submit it on the cluster with: sbatch ${job.script}`);
      return 0;
    }
    out.log(`[slurm] submitted job ${submitted.jobId}`);
    if (!flags.wait) return 0;
    await waitForSlurmJob(submitted.jobId, { resultsDir: dir, runIds: job.runIds, log: (l) => out.log(l) });
    const states = job.runIds.map(
      (id) =>
        listRuns(dir)
          .find((r) => r.id === id)
          ?.status().state ?? 'pending',
    );
    const notDone = states.filter((s) => s !== 'done' && s !== 'diverged').length;
    out.log(
      `[slurm] job ${submitted.jobId} finished: ${states.length - notDone}/${states.length} runs done or diverged`,
    );
    return notDone ? 1 : 0;
  }
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => () => {
    out.err(`[sweep] ${signal}: stopping the workers; rerun the same command to resume`);
    controller.abort();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    out.log(`[sweep] ${study} at scale ${scale}: ${finalConfigs.length} runs → ${dir}`);
    const summary = await runSweep(finalConfigs, {
      resultsDir: dir,
      workers,
      retryFailed: !flags['no-retry-failed'],
      log: (l) => out.log(l),
      signal: controller.signal,
    });
    if (summary.interrupted) return 130;
    return summary.counts.failed || summary.counts.pending || summary.counts.running ? 1 : 0;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

export interface StatusRow {
  runId: string;
  state: RunState;
  /** true when `running` but no live process holds the run's lock (killed: resumable). */
  stale: boolean;
  epoch: number | null;
  epochs: number;
  seconds: number | null;
  reason: string;
  /** The data the run was trained on (its dataset.json), in one line; '' for a run that has not started training. */
  dataset: string;
  datasetIdentity: DatasetIdentity | null;
}

/** Every run's state, with `running` runs whose worker is gone marked stale. */
export function statusTable(dir: string): StatusRow[] {
  return listRuns(dir).map((run) => {
    const status = run.status();
    let epochs = 0;
    try {
      epochs = run.config().epochs;
    } catch {
      /* a torn config cannot happen (atomic writes), but a hand-edited one might */
    }
    return {
      runId: run.id,
      state: status.state,
      stale: status.state === 'running' && !liveLockHolder(run.dir),
      epoch: typeof status.epoch === 'number' ? status.epoch : null,
      epochs,
      seconds: typeof status.seconds === 'number' ? status.seconds : null,
      reason: status.reason ?? '',
      ...datasetOf(run),
    };
  });
}

function datasetOf(run: RunRecord): { dataset: string; datasetIdentity: DatasetIdentity | null } {
  try {
    const identity = run.dataset();
    return { dataset: identity ? describeIdentity(identity) : '', datasetIdentity: identity };
  } catch (err) {
    return { dataset: `unreadable dataset.json (${(err as Error).message})`, datasetIdentity: null };
  }
}

function commandStatus(flags: Record<string, string | boolean>, out: Output): number {
  const dir = resultsDir(flags);
  const rows = statusTable(dir);
  if (flags.json) {
    out.log(JSON.stringify(rows, null, 1));
    return 0;
  }
  if (!rows.length) {
    out.log(`no runs under ${dir}`);
    return 0;
  }
  const counts = new Map<string, number>();
  for (const r of rows)
    counts.set(r.stale ? 'running (stale)' : r.state, (counts.get(r.stale ? 'running (stale)' : r.state) ?? 0) + 1);
  const width = Math.max(...rows.map((r) => r.runId.length));
  out.log(`${'run'.padEnd(width)}  ${'state'.padEnd(16)}  epoch   reason`);
  for (const r of rows) {
    const state = r.stale ? 'running (stale)' : r.state;
    const epoch = r.epoch === null ? '-' : `${r.epoch}/${r.epochs}`;
    out.log(
      `${r.runId.padEnd(width)}  ${state.padEnd(16)}  ${epoch.padEnd(6)}  ${r.reason.split('\n')[0].slice(0, 160)}`,
    );
    if (r.dataset) out.log(`${' '.repeat(width)}  data: ${r.dataset}`);
  }
  out.log(`\n${rows.length} runs in ${dir}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  return 0;
}

/**
 * The tidy table of the finished runs under `dir` (only those in `runIds` when given) as CSV and/or Arrow IPC
 * file format with a fixed schema (lib/experiments/tidy_arrow.ts); returns the row count and the paths.
 */
export function exportTidyTable(
  dir: string,
  outDir: string,
  formats: Array<'csv' | 'arrow'> = ['csv', 'arrow'],
  runIds?: Set<string>,
): { rows: number; files: string[] } {
  const aq = require('arquero') as typeof import('arquero');
  const rows: ResultRow[] = collectRows(dir).filter((r) => !runIds || runIds.has(r.runId));
  // Rows from different runs may carry different extra columns; arquero wants one column set.
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const table = aq.from(rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))));
  const files: string[] = [];
  fs.mkdirSync(outDir, { recursive: true });
  if (formats.includes('csv')) {
    const file = path.join(outDir, 'tidy.csv');
    writeFileAtomic(file, table.toCSV());
    files.push(file);
  }
  if (formats.includes('arrow')) {
    const file = path.join(outDir, 'tidy.arrow');
    writeFileAtomic(file, Buffer.from(tidyArrowFile(table)));
    files.push(file);
  }
  return { rows: rows.length, files };
}

/**
 * Grids `export --grids` can restrict the table to: the studies (`ssl` with the scale's extra seeds, as notebook 08
 * analyses them), notebook 07's Fashion-MNIST grid and notebook 03's learning curve.
 */
const EXPORT_GRIDS = [...STUDIES, 'fashion-mnist', 'learning-curve'] as const;

function exportGridConfigs(grid: (typeof EXPORT_GRIDS)[number], scale: ScaleName): RunConfig[] {
  if (grid === 'fashion-mnist') return studyGrid('ssl', fashionMnistGridOptions(scale));
  if (grid === 'learning-curve') return learningCurveGrid(scale);
  if (grid === 'ssl') return sslStudyConfigs(scale, {});
  return studyGrid(grid, { scale });
}

function commandExport(flags: Record<string, string | boolean>, out: Output): number {
  const dir = resultsDir(flags);
  const formats = listFlag(
    'format',
    str(flags, 'format') ?? 'csv,arrow',
    ['csv', 'arrow'] as const,
    (s) => s as 'csv' | 'arrow',
  )!;
  const outDir = path.resolve(str(flags, 'out') ?? dir);
  const grids = listFlag('grids', str(flags, 'grids'), EXPORT_GRIDS, (s) => s as (typeof EXPORT_GRIDS)[number]);
  let runIds: Set<string> | undefined;
  if (grids) {
    const scale = scaleFlag(flags);
    const configs = grids.flatMap((g) => exportGridConfigs(g, scale));
    runIds = new Set(configs.map(runId));
  } else if (str(flags, 'scale') !== undefined) {
    throw new UsageError('export: --scale selects the grids of --grids; give --grids too');
  }
  const { rows, files } = exportTidyTable(dir, outDir, formats, runIds);
  out.log(`[export] ${rows} rows from ${dir}${grids ? ` (runs of the ${grids.join(', ')} grids at this scale)` : ''}`);
  for (const f of files) out.log(`[export] wrote ${f}`);
  return 0;
}

async function commandEval(flags: Record<string, string | boolean>, out: Output): Promise<number> {
  const id = str(flags, 'run');
  if (!id) throw new UsageError('eval: --run RUN_ID is required (see ssl-ad status)');
  const dir = resultsDir(flags);
  const run = listRuns(dir).find((r) => r.id === id || r.dir === path.resolve(id));
  if (!run) throw new UsageError(`eval: no run ${JSON.stringify(id)} under ${dir}; see ssl-ad status`);
  let mod: { evaluateRun?: (config: RunConfig, options: { resultsDir: string }) => Promise<ResultRow[]> };
  try {
    mod = require(trainerModulePath()) as typeof mod;
  } catch (err) {
    throw new Error(`the trainer (${trainerModulePath()}) could not be loaded: ${(err as Error).message}`);
  }
  if (typeof mod.evaluateRun !== 'function') {
    out.err(
      'eval: the trainer does not export evaluateRun(config, {resultsDir}) yet;' +
        ' a finished run already holds its evaluation rows (rows.json)',
    );
    return 1;
  }
  const { initBackend } = heavy.backend();
  await initBackend({ quiet: true });
  const rows = await mod.evaluateRun(run.config(), { resultsDir: dir });
  out.log(`[eval] ${run.id}: ${rows.length} rows`);
  return 0;
}

/**
 * Linear evaluation on frozen features (lib/train/frozen.ts) of one finished run, or of every finished run of a
 * study grid, printed next to the online probe's validation F1 and AUROC at the natural proportion.
 */
async function commandProbe(flags: Record<string, string | boolean>, out: Output): Promise<number> {
  const dir = resultsDir(flags);
  const l2Raw = str(flags, 'l2');
  const l2 = l2Raw === undefined ? undefined : Number(l2Raw);
  if (l2 !== undefined && !(Number.isFinite(l2) && l2 > 0))
    throw new UsageError(`probe: --l2 must be a positive number, got ${JSON.stringify(l2Raw)}`);
  const randomInit = Boolean(flags['random-init']);
  let configs: RunConfig[];
  const id = str(flags, 'run');
  if (id !== undefined) {
    const run = listRuns(dir).find((r) => r.id === id || r.dir === path.resolve(id));
    if (!run) throw new UsageError(`probe: no run ${JSON.stringify(id)} under ${dir}; see ssl-ad status`);
    configs = [run.config()];
  } else {
    configs = sweepConfigsFromFlags(flags).configs.filter((c) => c.method !== 'supervised');
  }
  const runs = new Map(listRuns(dir).map((r) => [r.id, r]));
  const finished = configs.filter((c) => runs.get(runId(c))?.status().state === 'done');
  if (!randomInit && finished.length === 0) {
    out.err(`probe: none of the ${configs.length} runs has finished under ${dir}`);
    return 1;
  }
  const targets = randomInit ? configs : finished;
  const { frozenLinearProbe } = heavy.frozen();
  const natural = <T extends { proportion: number }>(values: T[]): T =>
    values.reduce((a, b) => (b.proportion > a.proportion ? b : a));
  out.log(
    `[probe] ${targets.length} runs, ${randomInit ? 'randomly initialised' : 'trained'} backbones` +
      ' (results in each run folder)',
  );
  out.log('run                                          online F1  AUROC | frozen F1  AUROC | drift');
  for (const config of targets) {
    const started = Date.now();
    const result = await frozenLinearProbe(config, { resultsDir: dir, randomInit, l2 });
    const online =
      runs
        .get(result.runId)
        ?.rows()
        .filter((r) => r.split === 'val' && r.evalProportion === natural(result.val).proportion) ?? [];
    const onlineValue = (metric: string) => online.find((r) => r.metric === metric)?.value;
    const frozen = natural(result.val).metrics;
    const fmt = (v: number | undefined) =>
      v === undefined || !Number.isFinite(v) ? '   -  ' : v.toFixed(3).padStart(6);
    out.log(
      `${result.runId.padEnd(44)} ${fmt(onlineValue('f1'))} ${fmt(onlineValue('auroc'))}` +
        ` | ${fmt(frozen.f1)} ${fmt(frozen.auroc)} | ${fmt(result.backboneDrift)}` +
        `  (l2 ${result.l2}${result.l2Selection ? ' by CV' : ''}, ${((Date.now() - started) / 1000).toFixed(0)} s` +
        `${result.converged ? '' : ', not converged'})`,
    );
  }
  return 0;
}

export interface Output {
  log: (line: string) => void;
  err: (line: string) => void;
}

const CONSOLE: Output = { log: (l) => console.log(l), err: (l) => console.error(l) };

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[], out: Output = CONSOLE): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    out.log(TOP_USAGE);
    return command ? 0 : 2;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    out.err(
      `ssl-ad: unknown command ${JSON.stringify(command)}; allowed: ${Object.keys(COMMANDS).join(', ')}` +
        `\n\n${TOP_USAGE}`,
    );
    return 2;
  }
  try {
    const flags = parseFlags(command, rest);
    if (flags.help) {
      out.log(`usage: ${spec.usage}`);
      return 0;
    }
    switch (command) {
      case 'train':
        return await commandTrain(flags, out);
      case 'sweep':
        return await commandSweep(flags, out);
      case 'eval':
        return await commandEval(flags, out);
      case 'probe':
        return await commandProbe(flags, out);
      case 'status':
        return commandStatus(flags, out);
      case 'export':
        return commandExport(flags, out);
    }
    return 2;
  } catch (err) {
    if (err instanceof UsageError) {
      const message =
        err.message.startsWith(`${command}:`) || err.message.startsWith(`${command} `)
          ? err.message
          : `${command}: ${err.message}`;
      out.err(`ssl-ad ${message}\nusage: ${spec.usage}`);
      return TRAIN_EXIT.usage;
    }
    if (isInputError(err)) {
      out.err(`ssl-ad ${command}: ${(err as Error).message}`);
      return TRAIN_EXIT.usage;
    }
    out.err(`ssl-ad ${command}: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
