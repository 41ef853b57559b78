/**
 * Loading runs from the results store: the tidy rows of finished runs, and each run's summary (the config
 * fields the tables vary, its state and timing) and log. The only report functions that read run folders.
 *
 * @example
 *   const configs = studyGrid('ssl', { scale, ...sslSubsetFor(scale) });
 *   const rows = resultRows(projectPaths().results, configs); // ResultRow[] of the finished runs
 *   const runs = runLogs(projectPaths().results, configs).filter((r) => r.summary.state === 'done');
 */
import type * as aq from 'arquero';
import type { RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import { collectRows, listRuns, type ResultRow } from '../runs/store';
import { rowsToTable } from './tidy';

/** The tidy table of every finished run in `dir`; with `configs`, only those runs (by run id). */
export function resultsTable(dir: string, configs?: RunConfig[]): aq.ColumnTable {
  let rows = collectRows(dir);
  if (configs) {
    const ids = new Set(configs.map((c) => runId(c)));
    rows = rows.filter((r) => ids.has(r.runId));
  }
  return rowsToTable(rows);
}

/** The tidy rows of the finished runs of `configs` (typed, for notebooks). */
export function resultRows(dir: string, configs?: RunConfig[]): ResultRow[] {
  return resultsTable(dir, configs).objects() as ResultRow[];
}

/** What a table needs to know about a run beyond its rows: the varied config fields and its timing. */
export interface RunSummary {
  runId: string;
  method: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  imageSize: number;
  augmentEnabled: boolean;
  jitter: number;
  minScale: number;
  trainFraction: number;
  dataset: string;
  epochs: number;
  state: string;
  secondsPerEpoch: number | null;
}

/** A run's log records (`kind` 'step', 'epoch', …). */
export type LogRecord = Record<string, unknown> & { kind: string };

/** A run's summary and log, what the monitoring and label-free analyses read. */
export interface RunLog {
  summary: RunSummary;
  log: LogRecord[];
}

export function summarizeRun(config: RunConfig, status: { state: string; secondsPerEpoch?: unknown }): RunSummary {
  return {
    runId: runId(config),
    method: config.method,
    backbone: config.backbone,
    trainProportion: config.trainProportion,
    seed: config.seed,
    imageSize: config.imageSize,
    augmentEnabled: config.augment.enabled,
    jitter: config.augment.jitter,
    minScale: config.augment.minScale,
    trainFraction: config.dataset.trainFraction,
    dataset: config.dataset.kind,
    epochs: config.epochs,
    state: status.state,
    secondsPerEpoch: typeof status.secondsPerEpoch === 'number' ? status.secondsPerEpoch : null,
  };
}

function runsOf(dir: string, configs: RunConfig[]) {
  const ids = new Set(configs.map((c) => runId(c)));
  return listRuns(dir).filter((r) => ids.has(r.id));
}

/** A summary of every run of `configs` found in `dir` (any state). */
export function runSummaries(dir: string, configs: RunConfig[]): RunSummary[] {
  return runsOf(dir, configs).map((r) => summarizeRun(r.config(), r.status()));
}

/** The logs of the runs of `configs` found in `dir`, with their summaries. */
export function runLogs(dir: string, configs: RunConfig[]): RunLog[] {
  return runsOf(dir, configs).map((r) => ({ summary: summarizeRun(r.config(), r.status()), log: r.log<LogRecord>() }));
}

/** A log's epoch records, in epoch order (a log is written in order; the sort makes it a guarantee). */
export function epochRecords(log: LogRecord[]): LogRecord[] {
  return log.filter((r) => r.kind === 'epoch').sort((a, b) => Number(a.epoch) - Number(b.epoch));
}
