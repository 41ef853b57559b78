/**
 * The results store: one folder per run, every file written atomically (write to a temporary name, then
 * rename), so a process killed at any moment leaves either the old file or the new one, never half of one.
 *
 * ```
 * <results>/<runId>/config.json      the full RunConfig
 * <results>/<runId>/status.json      {state, reason?, updatedAt, ...}
 * <results>/<runId>/log.jsonl        one JSON object per step / epoch (appended; a torn last line is ignored)
 * <results>/<runId>/rows.json        the final evaluation rows (the run's share of the tidy table)
 * <results>/<runId>/checkpoint/      latest checkpoint (weights, optimiser, schedule, RNG and sampler state)
 * ```
 *
 * @example
 *   const run = openRun(resultsDir, config);
 *   run.setStatus({ state: 'running' });
 *   run.appendLog({ kind: 'epoch', epoch: 0, loss: 1.2 });
 *   run.writeRows(rows);
 *   run.setStatus({ state: 'done' });
 *   collectRows(resultsDir); // every finished run's rows, once each
 */
import * as fs from 'fs';
import * as path from 'path';
import { RunConfig, runId as makeRunId, upgradeRunConfig } from './config';

export type RunState = 'pending' | 'running' | 'done' | 'failed' | 'diverged';

export interface RunStatus {
  state: RunState;
  /** Why a run failed or diverged (the error message, or the step and loss terms). */
  reason?: string;
  /** Last completed epoch (for progress and resume). */
  epoch?: number;
  step?: number;
  updatedAt?: string;
  pid?: number;
  host?: string;
  /** Wall-clock seconds spent training so far. */
  seconds?: number;
  [extra: string]: unknown;
}

/** One cell of the tidy results table. */
export interface ResultRow {
  runId: string;
  method: string;
  backbone: string;
  trainProportion: number;
  /** Proportion of the evaluated split (the training split's own for split = 'train'). */
  evalProportion: number;
  split: 'train' | 'val';
  metric: string;
  value: number;
  seed: number;
  /** Decision threshold on the logit. */
  threshold: number;
  epoch: number;
  dataset: string;
  scale: string;
  imageSize: number;
  [extra: string]: string | number;
}

/** Write a file so that readers see the old or the new content, never a torn one. */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function readJson<T>(file: string): T {
  const text = fs.readFileSync(file, 'utf8');
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
}

/** Parse a JSONL file; a torn final line (a process killed mid-append) is dropped, any other bad line is an error. */
export function readJsonl<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch (err) {
      const isLast = lines.slice(i + 1).every((l) => !l.trim());
      if (!isLast) throw new Error(`${file}:${i + 1}: not valid JSON (${(err as Error).message})`);
    }
  });
  return out;
}

export class RunRecord {
  constructor(
    readonly dir: string,
    readonly id: string,
  ) {}

  get configFile(): string {
    return path.join(this.dir, 'config.json');
  }
  get statusFile(): string {
    return path.join(this.dir, 'status.json');
  }
  get logFile(): string {
    return path.join(this.dir, 'log.jsonl');
  }
  get rowsFile(): string {
    return path.join(this.dir, 'rows.json');
  }
  get checkpointDir(): string {
    return path.join(this.dir, 'checkpoint');
  }

  config(): RunConfig {
    return upgradeRunConfig(readJson<RunConfig>(this.configFile));
  }

  status(): RunStatus {
    return fs.existsSync(this.statusFile) ? readJson<RunStatus>(this.statusFile) : { state: 'pending' };
  }

  setStatus(status: RunStatus): void {
    writeFileAtomic(this.statusFile, JSON.stringify({ ...status, updatedAt: new Date().toISOString(), pid: process.pid, host: require('os').hostname() }, null, 1));
  }

  appendLog(record: Record<string, unknown>): void {
    fs.appendFileSync(this.logFile, JSON.stringify(record) + '\n');
  }

  /** Keep the log consistent with a checkpoint: drop records after the step it was taken at. */
  truncateLogAfterStep(step: number): void {
    const kept = readJsonl<Record<string, unknown>>(this.logFile).filter((r) => typeof r.step !== 'number' || (r.step as number) <= step);
    writeFileAtomic(this.logFile, kept.map((r) => JSON.stringify(r) + '\n').join(''));
  }

  log<T = Record<string, unknown>>(): T[] {
    return readJsonl<T>(this.logFile);
  }

  writeRows(rows: ResultRow[]): void {
    writeFileAtomic(this.rowsFile, JSON.stringify(rows));
  }

  rows(): ResultRow[] {
    return fs.existsSync(this.rowsFile) ? readJson<ResultRow[]>(this.rowsFile) : [];
  }
}

/** Open (creating if needed) the folder of the run `config` describes. */
export function openRun(resultsDir: string, config: RunConfig): RunRecord {
  const id = makeRunId(config);
  const dir = path.join(resultsDir, id);
  const record = new RunRecord(dir, id);
  if (fs.existsSync(record.configFile)) {
    const stored = JSON.stringify(record.config());
    if (stored !== JSON.stringify(config)) {
      // Same hash, different content would mean a hash collision or a hand-edited file: refuse to mix them.
      const { canonicalJson } = require('./config') as typeof import('./config');
      if (canonicalJson(record.config()) !== canonicalJson(config)) throw new Error(`${record.configFile} holds a different config than run ${id}`);
    }
  } else {
    writeFileAtomic(record.configFile, JSON.stringify(config, null, 1));
  }
  return record;
}

/** Every run folder under `resultsDir`. */
export function listRuns(resultsDir: string): RunRecord[] {
  if (!fs.existsSync(resultsDir)) return [];
  return fs
    .readdirSync(resultsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && fs.existsSync(path.join(resultsDir, d.name, 'config.json')))
    .map((d) => new RunRecord(path.join(resultsDir, d.name), d.name))
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The tidy table: rows of every finished run (state done), each run once. */
export function collectRows(resultsDir: string): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const run of listRuns(resultsDir)) {
    if (run.status().state === 'done') rows.push(...run.rows());
  }
  return rows;
}
