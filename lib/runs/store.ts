/**
 * The results store: one folder per run, every file written atomically (write to a temporary name, then
 * rename), so a process killed at any moment leaves either the old file or the new one, never half of one.
 *
 * ```
 * <results>/<runId>/config.json      the full RunConfig
 * <results>/<runId>/status.json      {state, reason?, updatedAt, ...}
 * <results>/<runId>/dataset.json     the identity of the data it was trained on (folder, file digests)
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
import * as os from 'os';
import * as path from 'path';
import { RunConfig, upgradeRunConfig } from './config';
import { canonicalJson, runId as makeRunId } from './id';
import type { DatasetIdentity } from '../data/identity';
import { processIsAlive } from '../util/process';

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

/**
 * The file-system calls writeFileAtomic makes, replaceable so tests can inject a short write or a full disk
 * (ENOSPC) at a chosen moment. Production code never changes it.
 */
export const atomicWriteFs: {
  openSync: typeof fs.openSync;
  writeSync: (fd: number, buffer: Buffer, offset: number, length: number) => number;
  fsyncSync: typeof fs.fsyncSync;
  closeSync: typeof fs.closeSync;
  renameSync: typeof fs.renameSync;
} = {
  openSync: fs.openSync,
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
};

/** Marks the temporary names writeFileAtomic uses: `<file>.tmp-<host>-<pid>-<random>`. */
const TMP_MARK = '.tmp-';

function tmpNameFor(file: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');
  return `${file}${TMP_MARK}${host}-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** fsync a folder so a rename inside it survives a power cut (a no-op where folders cannot be opened). */
function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    /* some file systems refuse to fsync a folder; the rename is still atomic there */
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Write a file so that readers see the old or the new content, never a torn one: every byte goes to a temporary
 * file in the same folder (`writeSync` may write fewer bytes than asked, so it loops), the file and then its folder
 * are fsynced, and only then is it renamed over the target. On any error (a full disk, a short write that makes no
 * progress) the temporary file is removed, the previous version stays in place, and the error is rethrown naming
 * the file.
 */
export function writeFileAtomic(file: string, data: string | Buffer): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const tmp = tmpNameFor(file);
  const io = atomicWriteFs;
  let fd: number | null = null;
  try {
    fd = io.openSync(tmp, 'w');
    let written = 0;
    while (written < bytes.length) {
      const n = io.writeSync(fd, bytes, written, bytes.length - written);
      if (!(n > 0))
        throw Object.assign(new Error(`write made no progress after ${written} of ${bytes.length} bytes`), {
          code: 'EIO',
        });
      written += n;
    }
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = null;
    io.renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) {
      try {
        io.closeSync(fd);
      } catch {
        /* already failing; the original error matters */
      }
    }
    fs.rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw Object.assign(
      new Error(
        `cannot write ${file} (${e.code ?? 'error'}: ${e.message}); the previous version, if any, is unchanged`,
      ),
      { code: e.code, cause: err },
    );
  }
  fsyncDir(dir);
}

/**
 * Remove temporary files (`*.tmp-…`) that writers killed mid-write left in `dir`. Only those whose writer is gone
 * are removed: same host and a pid that no longer runs, or older than `olderThanMs` (another host's, or a name
 * from before the host was part of it). Returns the removed names.
 */
export function removeOrphanedTmpFiles(dir: string, olderThanMs = 10 * 60 * 1000): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  const host = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');
  for (const name of names) {
    const at = name.lastIndexOf(TMP_MARK);
    if (at <= 0) continue;
    const file = path.join(dir, name);
    const tail = name.slice(at + TMP_MARK.length);
    // `<host>-<pid>-<rand>` (now), or `<pid>-<ms>` / `<pid>` (before the host was in the name; lock.ts and the
    // safetensors writer still write those): the legacy forms are taken to be this host's.
    const parts = tail.split('-');
    const legacy = parts.length <= 2;
    const sameHost = legacy || parts.slice(0, -2).join('-') === host;
    const pid = Number(legacy ? parts[0] : parts[parts.length - 2]);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(file);
    } catch {
      continue;
    }
    if (!stat.isFile()) continue;
    const writerGone = sameHost && Number.isInteger(pid) && pid > 0 && !processIsAlive(pid);
    if (writerGone || Date.now() - stat.mtimeMs > olderThanMs) {
      fs.rmSync(file, { force: true });
      removed.push(name);
    }
  }
  return removed;
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
  /** The identity of the dataset the run was trained on (lib/data/identity.ts), written when training starts. */
  get datasetFile(): string {
    return path.join(this.dir, 'dataset.json');
  }

  writeDataset(identity: DatasetIdentity): void {
    writeFileAtomic(this.datasetFile, JSON.stringify(identity, null, 1));
  }

  dataset(): DatasetIdentity | null {
    return fs.existsSync(this.datasetFile) ? readJson<DatasetIdentity>(this.datasetFile) : null;
  }

  config(): RunConfig {
    return upgradeRunConfig(readJson<RunConfig>(this.configFile));
  }

  status(): RunStatus {
    return fs.existsSync(this.statusFile) ? readJson<RunStatus>(this.statusFile) : { state: 'pending' };
  }

  setStatus(status: RunStatus): void {
    writeFileAtomic(
      this.statusFile,
      JSON.stringify(
        { ...status, updatedAt: new Date().toISOString(), pid: process.pid, host: os.hostname() },
        null,
        1,
      ),
    );
  }

  appendLog(record: Record<string, unknown>): void {
    fs.appendFileSync(this.logFile, JSON.stringify(record) + '\n');
  }

  /** Keep the log consistent with a checkpoint: drop records after the step it was taken at. */
  truncateLogAfterStep(step: number): void {
    const kept = readJsonl<Record<string, unknown>>(this.logFile).filter(
      (r) => typeof r.step !== 'number' || (r.step as number) <= step,
    );
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
  // A writer killed between creating its temporary file and the rename leaves the temporary file behind.
  for (const folder of [dir, record.checkpointDir]) removeOrphanedTmpFiles(folder);
  if (fs.existsSync(record.configFile)) {
    const stored = JSON.stringify(record.config());
    if (stored !== JSON.stringify(config)) {
      // Same hash, different content would mean a hash collision or a hand-edited file: refuse to mix them.
      if (canonicalJson(record.config()) !== canonicalJson(config))
        throw new Error(`${record.configFile} holds a different config than run ${id}`);
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
