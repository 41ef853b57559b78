/**
 * The study's analysis: pure functions from the tidy results rows (store.ts `collectRows`) and the runs'
 * logs to the tables behind every table and figure of the paper, plus computed sentences that compare our
 * reading with the paper's, so notebook prose stays true whatever the numbers turn out to be.
 *
 * Everything here except the three loaders (`resultsTable`, `runSummaries`, `runLogs`) is pure and works
 * on plain arrays; outputs are arquero tables in long (tidy) form, ready for `wideTable`, `heatmap`,
 * `paperVsOurs`.
 *
 * @example
 *   import { studyGrid } from '../experiments/grid';
 *   const configs = studyGrid('ssl', { scale: 'smoke', ...SMOKE_SSL_SUBSET });
 *   const rows = resultsTable(projectPaths().results, configs).objects() as ResultRow[];
 *   const ours = table1(rows);                       // metric, method, backbone, trainProportion, value, n
 *   paperVsOurs(ours.select('metric', 'method', 'backbone', 'trainProportion', 'value'),
 *     paperTable('table1'), ['metric', 'method', 'backbone', 'trainProportion']);
 *   heatmapTable(rows, { backbone: 'resnet18', metrics: ['f1', 'f2Ciw', 'f1Normal'] }); // Figures 2/4/5
 */
import * as path from 'path';
import * as aq from 'arquero';
import { METHOD_LABELS } from '../methods/config';
import { methodNames } from '../methods';
import { BACKBONE_LABELS, type BackboneName, type MethodName, type RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import type { GridOptions } from '../experiments/grid';
import { projectPaths } from '../runs/paths';
import type { ScaleName } from '../runs/scale';
import { collectRows, listRuns, type ResultRow } from '../runs/store';
import { bootstrapCi, kendallTauB, pearson, spearman } from '../eval/correlation';
import { paperTable as loadPaperTable, type PaperTableName } from './paper';

/** The validation proportion that stands for the natural (balanced-benchmark) distribution in Table 1. */
export const NATURAL_PROPORTION = 0.45;
export const TABLE1_METRICS = ['f1', 'f2Ciw', 'f1Normal'] as const;
export const APPENDIX_METRICS = ['precision', 'recall', 'f1', 'f2Ciw', 'f1Normal'] as const;
/** Display names of methods and backbones (re-exported so notebooks need one import). */
export { METHOD_LABELS, BACKBONE_LABELS };
export const METRIC_LABELS: Record<string, string> = {
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1',
  f2Ciw: 'F2_CIW',
  f2CiwPresent: 'F2_CIW (codes present)',
  f1Normal: 'F1_Normal',
  auroc: 'AUROC',
  auprc: 'AUPRC',
};

/**
 * The part of the SSL grid the smoke scale runs (used by notebooks 03–06): one SSL method against the
 * supervised baseline, on both backbones, at the natural proportion (4 runs, 20–55 s each on 2 shared
 * cores). The full 55-run grid takes 15–25 minutes even at smoke size, too long for `npm test`; the default
 * and paper scales run every method and proportion.
 */
export const SMOKE_SSL_SUBSET: Pick<GridOptions, 'methods' | 'backbones' | 'proportions'> = {
  methods: ['supervised', 'simclr'],
  backbones: ['resnet18', 'vit_tiny'],
  proportions: [0.45],
};

type SslSubset = Pick<GridOptions, 'methods' | 'backbones' | 'proportions'>;

/**
 * The grid restriction for a scale: SMOKE_SSL_SUBSET at smoke, nothing (the full grid) otherwise. A user can
 * narrow any scale with SSLAD_SUBSET, a JSON object with any of `methods`, `backbones`, `proportions`
 * (e.g. `{"backbones":["resnet18"]}` to study one backbone on a CPU), which every SSL notebook obeys.
 */
export function sslSubsetFor(scale: ScaleName): SslSubset {
  const base: SslSubset = scale === 'smoke' ? SMOKE_SSL_SUBSET : {};
  const raw = process.env.SSLAD_SUBSET;
  if (!raw) return base;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`SSLAD_SUBSET is not valid JSON (${(err as Error).message}): ${raw}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`SSLAD_SUBSET must be a JSON object, got ${raw}`);
  const allowed = ['methods', 'backbones', 'proportions'];
  for (const key of Object.keys(parsed)) {
    if (!allowed.includes(key))
      throw new Error(`SSLAD_SUBSET.${key} is not a subset field; allowed: ${allowed.join(', ')}`);
    if (!Array.isArray((parsed as Record<string, unknown>)[key])) throw new Error(`SSLAD_SUBSET.${key} must be a list`);
  }
  // The grid checks every value against the allowed methods, backbones and proportions.
  return { ...base, ...(parsed as SslSubset) };
}

/** Where figures go: `figures/` (or SSLAD_FIGURES_DIR), and `figures/smoke` at the smoke scale so tests never overwrite the committed figures. */
export function figuresDir(scale: ScaleName): string {
  const base = projectPaths().figures;
  return scale === 'smoke' ? path.join(base, 'smoke') : base;
}

/** "5%" for 0.05, "0.5%" for 0.005. */
export function percent(proportion: number): string {
  const value = Math.round(proportion * 1000) / 10;
  return `${value}%`;
}

/** A method's display name (the raw value when it is not a known method). */
export function methodLabel(method: string): string {
  return METHOD_LABELS[method as MethodName] ?? method;
}

/** A backbone's display name (the raw value when it is not a known backbone). */
export function backboneLabel(backbone: string): string {
  return BACKBONE_LABELS[backbone as BackboneName] ?? backbone;
}

function close(a: number, b: number): boolean {
  return Math.abs(a - b) < 1e-9;
}

// ---------------------------------------------------------------------------------------------------------
// Loaders (the only functions that read files).

/** The tidy table of every finished run in `dir`; with `configs`, only those runs (by run id). */
export function resultsTable(dir: string, configs?: RunConfig[]): aq.ColumnTable {
  let rows = collectRows(dir);
  if (configs) {
    const ids = new Set(configs.map((c) => runId(c)));
    rows = rows.filter((r) => ids.has(r.runId));
  }
  return rowsToTable(rows);
}

/** Rows to an arquero table that keeps its columns even when there are no rows. */
export function rowsToTable(rows: ResultRow[]): aq.ColumnTable {
  if (rows.length) return aq.from(rows);
  const columns = [
    'runId',
    'method',
    'backbone',
    'trainProportion',
    'evalProportion',
    'split',
    'metric',
    'value',
    'seed',
    'threshold',
    'epoch',
    'dataset',
    'scale',
    'imageSize',
  ];
  return aq.table(Object.fromEntries(columns.map((c) => [c, [] as unknown[]])));
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

/** A summary of every run of `configs` found in `dir` (any state). */
export function runSummaries(dir: string, configs: RunConfig[]): RunSummary[] {
  const ids = new Set(configs.map((c) => runId(c)));
  return listRuns(dir)
    .filter((r) => ids.has(r.id))
    .map((r) => summarizeRun(r.config(), r.status()));
}

export type LogRecord = Record<string, unknown> & { kind: string };

/** The logs of the runs of `configs` found in `dir`, with their summaries. */
export function runLogs(dir: string, configs: RunConfig[]): Array<{ summary: RunSummary; log: LogRecord[] }> {
  const ids = new Set(configs.map((c) => runId(c)));
  return listRuns(dir)
    .filter((r) => ids.has(r.id))
    .map((r) => ({ summary: summarizeRun(r.config(), r.status()), log: r.log<LogRecord>() }));
}

// ---------------------------------------------------------------------------------------------------------
// Grouped means.

interface Aggregate {
  keys: Record<string, string | number>;
  value: number;
  n: number;
  sd: number | null;
}

/** Mean (over seeds), count and sample standard deviation of `value` per combination of `keys`. */
export function meanBy<T extends Record<string, unknown>>(
  records: T[],
  keys: string[],
  value: (r: T) => number,
): Aggregate[] {
  const groups = new Map<string, { keys: Record<string, string | number>; values: number[] }>();
  for (const record of records) {
    const v = value(record);
    if (!Number.isFinite(v)) continue;
    const keyValues = Object.fromEntries(keys.map((k) => [k, record[k] as string | number]));
    const id = JSON.stringify(keys.map((k) => record[k]));
    const group = groups.get(id) ?? { keys: keyValues, values: [] };
    group.values.push(v);
    groups.set(id, group);
  }
  return [...groups.values()].map(({ keys: k, values }) => {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd =
      values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : null;
    return { keys: k, value: mean, n: values.length, sd };
  });
}

const BACKBONE_ORDER = ['resnet18', 'vit_tiny'];

function orderOf(list: readonly string[], value: unknown): number {
  const i = list.indexOf(String(value));
  return i < 0 ? list.length : i;
}

/** Paper order: metric, backbone, method (Supervised first, as the paper prints), then numbers ascending. */
function sortRecords<T extends Record<string, unknown>>(
  records: T[],
  metricOrder: readonly string[] = APPENDIX_METRICS,
): T[] {
  const cmp = (a: T, b: T): number => {
    for (const [field, order] of [
      ['split', ['train', 'val']],
      ['metric', metricOrder],
      ['backbone', BACKBONE_ORDER],
      ['method', methodNames()], // the paper's table order: the registry's (lib/methods/index.ts)
    ] as const) {
      if (field in a && field in b) {
        const d = orderOf(order, a[field]) - orderOf(order, b[field]);
        if (d !== 0) return d;
      }
    }
    for (const field of ['trainProportion', 'evalProportion', 'imageSize', 'jitter', 'minScale', 'epoch']) {
      if (typeof a[field] === 'number' && typeof b[field] === 'number') {
        const d = (a[field] as number) - (b[field] as number);
        if (d !== 0) return d;
      }
    }
    return 0;
  };
  return [...records].sort(cmp);
}

function fromAggregates(
  aggregates: Aggregate[],
  extra: (a: Aggregate) => Record<string, unknown> = () => ({}),
): Array<Record<string, unknown>> {
  return aggregates.map((a) => ({ ...a.keys, value: a.value, n: a.n, sd: a.sd, ...extra(a) }));
}

function tableOf(records: Array<Record<string, unknown>>, columns: string[]): aq.ColumnTable {
  return aq.table(Object.fromEntries(columns.map((c) => [c, records.map((r) => r[c] ?? null)])));
}

// ---------------------------------------------------------------------------------------------------------
// Table 1, Figures 2/4/5, Tables 3/4.

/** Table 1: validation at the natural proportion; F1, F2_CIW, F1_Normal per method × backbone × train proportion; mean over seeds. */
export function table1(rows: ResultRow[], metrics: readonly string[] = TABLE1_METRICS): aq.ColumnTable {
  const selected = rows.filter(
    (r) => r.split === 'val' && close(r.evalProportion, NATURAL_PROPORTION) && metrics.includes(r.metric),
  );
  const records = sortRecords(
    fromAggregates(meanBy(selected, ['metric', 'method', 'backbone', 'trainProportion'], (r) => r.value)),
    metrics,
  );
  return tableOf(records, ['metric', 'method', 'backbone', 'trainProportion', 'value', 'n', 'sd']);
}

export interface HeatmapTableOptions {
  /** Backbone shown (the paper's heatmaps are ResNet-18). */
  backbone: string;
  metrics: readonly string[];
  /** Methods, in the paper's top-to-bottom order (default: every method present). */
  methods?: readonly string[];
}

/**
 * Figures 2, 4, 5: validation metric per (method, train proportion) row × evaluation proportion column.
 * `row` is the paper's y label, e.g. "SimCLR 5%".
 */
export function heatmapTable(rows: ResultRow[], options: HeatmapTableOptions): aq.ColumnTable {
  const selected = rows.filter(
    (r) =>
      r.split === 'val' &&
      r.backbone === options.backbone &&
      options.metrics.includes(r.metric) &&
      (!options.methods || options.methods.includes(r.method)),
  );
  const records = sortRecords(
    fromAggregates(
      meanBy(selected, ['metric', 'method', 'backbone', 'trainProportion', 'evalProportion'], (r) => r.value),
    ),
    options.metrics,
  );
  for (const r of records) {
    r.row = `${methodLabel(String(r.method))} ${percent(r.trainProportion as number)}`;
    r.metricLabel = METRIC_LABELS[String(r.metric)] ?? r.metric;
  }
  return tableOf(records, [
    'metric',
    'metricLabel',
    'method',
    'backbone',
    'trainProportion',
    'evalProportion',
    'row',
    'value',
    'n',
  ]);
}

/**
 * Tables 3 and 4: TRAIN (the run's own imbalanced training subset) and VAL (natural proportion) precision,
 * recall, F1, F2_CIW, F1_Normal per method and train proportion for one backbone.
 */
export function appendixTable(rows: ResultRow[], backbone: string): aq.ColumnTable {
  const selected = rows.filter(
    (r) =>
      r.backbone === backbone &&
      (APPENDIX_METRICS as readonly string[]).includes(r.metric) &&
      (r.split === 'train' || close(r.evalProportion, NATURAL_PROPORTION)),
  );
  const records = sortRecords(
    fromAggregates(meanBy(selected, ['split', 'metric', 'method', 'backbone', 'trainProportion'], (r) => r.value)),
  );
  return tableOf(records, ['split', 'metric', 'method', 'backbone', 'trainProportion', 'value', 'n']);
}

// ---------------------------------------------------------------------------------------------------------
// Table 2 (resolution) and Figure 3 (augmentation).

function epochRecords(log: LogRecord[]): LogRecord[] {
  return log.filter((r) => r.kind === 'epoch');
}

/** Best validation F1 over the run's validation epochs (the log's `val_f1`), or null when none was logged. */
export function bestValF1(log: LogRecord[]): number | null {
  const values = epochRecords(log)
    .map((r) => r.val_f1)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return values.length ? Math.max(...values) : null;
}

/**
 * Table 2: per backbone and image size, the best validation F1 over epochs (mean over seeds), the final
 * natural-proportion F1 from the rows, and seconds per epoch.
 */
export function resolutionTable(
  runs: Array<{ summary: RunSummary; log: LogRecord[] }>,
  rows: ResultRow[],
): aq.ColumnTable {
  const finalF1 = new Map<string, number>();
  for (const r of rows)
    if (r.split === 'val' && r.metric === 'f1' && close(r.evalProportion, NATURAL_PROPORTION))
      finalF1.set(r.runId, r.value);
  const perRun = runs
    .filter((r) => r.summary.state === 'done')
    .map((r) => ({
      backbone: r.summary.backbone,
      imageSize: r.summary.imageSize,
      best: bestValF1(r.log) ?? finalF1.get(r.summary.runId) ?? NaN,
      final: finalF1.get(r.summary.runId) ?? NaN,
      seconds: r.summary.secondsPerEpoch ?? NaN,
    }));
  const keys = ['backbone', 'imageSize'];
  const best = meanBy(perRun, keys, (r) => r.best);
  const final = new Map(meanBy(perRun, keys, (r) => r.final).map((a) => [JSON.stringify(a.keys), a.value]));
  const seconds = new Map(meanBy(perRun, keys, (r) => r.seconds).map((a) => [JSON.stringify(a.keys), a.value]));
  const records = sortRecords(
    best.map((a) => ({
      ...a.keys,
      bestF1: a.value,
      finalF1: final.get(JSON.stringify(a.keys)) ?? null,
      secondsPerEpoch: seconds.get(JSON.stringify(a.keys)) ?? null,
      n: a.n,
    })),
  );
  return tableOf(records, ['backbone', 'imageSize', 'bestF1', 'finalF1', 'secondsPerEpoch', 'n']);
}

/** Figure 3: validation F1 at the natural proportion per ColorJitter strength t_val × min_scale (mean over seeds). */
export function augmentationTable(rows: ResultRow[], summaries: RunSummary[], metric = 'f1'): aq.ColumnTable {
  const byRun = new Map(summaries.map((s) => [s.runId, s]));
  const joined = rows
    .filter(
      (r) =>
        r.split === 'val' && r.metric === metric && close(r.evalProportion, NATURAL_PROPORTION) && byRun.has(r.runId),
    )
    .map((r) => ({
      backbone: r.backbone,
      jitter: byRun.get(r.runId)!.jitter,
      minScale: byRun.get(r.runId)!.minScale,
      value: r.value,
    }));
  const records = sortRecords(fromAggregates(meanBy(joined, ['backbone', 'jitter', 'minScale'], (r) => r.value)));
  return tableOf(records, ['backbone', 'jitter', 'minScale', 'value', 'n']);
}

// ---------------------------------------------------------------------------------------------------------
// Monitoring (Figures 6–10).

/** What the epoch records carry that the monitoring figures plot. */
export const MONITOR_MEASURES = [
  'rankme',
  'rankme_sample',
  'feature_std',
  'feature_mean',
  'embedding_std',
  'embedding_mean',
  'sample_feature_std',
  'sample_feature_mean',
  'loss',
  'val_f1',
  'val_f2Ciw',
  'val_f1Normal',
  'val_precision',
  'val_recall',
  'val_auroc',
] as const;

/**
 * Per-epoch monitoring curves in long form: one record per run × epoch × measure (1-based epochs, as the
 * paper's x axes). Measures a run did not log at an epoch (validation every k epochs) are absent.
 */
export function monitoringCurves(
  runs: Array<{ summary: RunSummary; log: LogRecord[] }>,
  measures: readonly string[] = MONITOR_MEASURES,
): aq.ColumnTable {
  const records: Array<Record<string, unknown>> = [];
  for (const { summary, log } of runs) {
    for (const epoch of epochRecords(log)) {
      for (const measure of measures) {
        const value = epoch[measure];
        if (typeof value !== 'number' || !Number.isFinite(value)) continue;
        records.push({
          runId: summary.runId,
          method: summary.method,
          backbone: summary.backbone,
          backboneLabel: backboneLabel(summary.backbone),
          trainProportion: summary.trainProportion,
          proportionLabel: percent(summary.trainProportion),
          seed: summary.seed,
          epoch: (epoch.epoch as number) + 1,
          measure,
          value,
        });
      }
    }
  }
  return tableOf(sortRecords(records), [
    'runId',
    'method',
    'backbone',
    'backboneLabel',
    'trainProportion',
    'proportionLabel',
    'seed',
    'epoch',
    'measure',
    'value',
  ]);
}

/**
 * Figures 9–10: one record per run with its final-epoch RankMe (per-batch mean `rankme` and the sample
 * estimate `rankme_sample`), min–max re-scaled RankMe (as the paper re-scales, over the runs given), and its
 * train F1 (own training subset) and validation F1 (natural proportion).
 */
export function rankMeVsF1(runs: Array<{ summary: RunSummary; log: LogRecord[] }>, rows: ResultRow[]): aq.ColumnTable {
  const f1 = new Map<string, { train?: number; val?: number }>();
  for (const r of rows) {
    if (r.metric !== 'f1') continue;
    const entry = f1.get(r.runId) ?? {};
    if (r.split === 'train') entry.train = r.value;
    else if (close(r.evalProportion, NATURAL_PROPORTION)) entry.val = r.value;
    f1.set(r.runId, entry);
  }
  const records: Array<Record<string, unknown>> = [];
  for (const { summary, log } of runs) {
    const epochs = epochRecords(log);
    const last = [...epochs].reverse().find((e) => typeof e.rankme === 'number');
    const scores = f1.get(summary.runId);
    if (!last || !scores || scores.train === undefined || scores.val === undefined) continue;
    records.push({
      runId: summary.runId,
      method: summary.method,
      methodLabel: methodLabel(summary.method),
      backbone: summary.backbone,
      backboneLabel: backboneLabel(summary.backbone),
      trainProportion: summary.trainProportion,
      proportionLabel: percent(summary.trainProportion),
      rankme: last.rankme as number,
      rankmeSample: typeof last.rankme_sample === 'number' ? last.rankme_sample : null,
      trainF1: scores.train,
      valF1: scores.val,
    });
  }
  const values = records.map((r) => r.rankme as number);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  for (const r of records) r.rankmeScaled = hi > lo ? ((r.rankme as number) - lo) / (hi - lo) : 0.5;
  return tableOf(sortRecords(records), [
    'runId',
    'method',
    'methodLabel',
    'backbone',
    'backboneLabel',
    'trainProportion',
    'proportionLabel',
    'rankme',
    'rankmeSample',
    'rankmeScaled',
    'trainF1',
    'valF1',
  ]);
}

export interface CorrelationRow {
  group: string;
  x: string;
  y: string;
  n: number;
  pearson: number;
  pearsonLow: number;
  pearsonHigh: number;
  spearman: number;
  spearmanLow: number;
  spearmanHigh: number;
  kendallTauB: number;
}

/**
 * Pearson and Spearman (each with a percentile bootstrap CI) and Kendall tau-b of `x` against each of
 * `ys`, over all records and within each value of `groupBy` (e.g. backbone). Groups with fewer than 3
 * records get NaN.
 */
export function correlationTable(
  records: Array<Record<string, unknown>>,
  x: string,
  ys: string[],
  options: { groupBy?: string; resamples?: number; confidence?: number; seed?: number } = {},
): aq.ColumnTable {
  const groups: Array<[string, Array<Record<string, unknown>>]> = [['all', records]];
  if (options.groupBy) {
    const values = [...new Set(records.map((r) => String(r[options.groupBy!])))];
    for (const v of values) groups.push([v, records.filter((r) => String(r[options.groupBy!]) === v)]);
  }
  const out: CorrelationRow[] = [];
  for (const [group, members] of groups) {
    for (const y of ys) {
      const pairs = members.filter(
        (r) => typeof r[x] === 'number' && Number.isFinite(r[x]) && typeof r[y] === 'number' && Number.isFinite(r[y]),
      );
      const xs = pairs.map((r) => r[x] as number);
      const yv = pairs.map((r) => r[y] as number);
      const base = { group, x, y, n: pairs.length };
      if (pairs.length < 3) {
        out.push({
          ...base,
          pearson: NaN,
          pearsonLow: NaN,
          pearsonHigh: NaN,
          spearman: NaN,
          spearmanLow: NaN,
          spearmanHigh: NaN,
          kendallTauB: NaN,
        });
        continue;
      }
      const boot = {
        resamples: options.resamples ?? 2000,
        confidence: options.confidence ?? 0.95,
        seed: options.seed ?? 42,
      };
      const p = bootstrapCi(xs, yv, pearson, boot);
      const s = bootstrapCi(xs, yv, spearman, boot);
      out.push({
        ...base,
        pearson: p.estimate,
        pearsonLow: p.low,
        pearsonHigh: p.high,
        spearman: s.estimate,
        spearmanLow: s.low,
        spearmanHigh: s.high,
        kendallTauB: kendallTauB(xs, yv),
      });
    }
  }
  return tableOf(out as unknown as Array<Record<string, unknown>>, [
    'group',
    'x',
    'y',
    'n',
    'pearson',
    'pearsonLow',
    'pearsonHigh',
    'spearman',
    'spearmanLow',
    'spearmanHigh',
    'kendallTauB',
  ]);
}

function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits).replace(/^-/, '−') : 'undefined';
}

/** A sentence reading one correlation row: estimate, interval, and whether the interval excludes zero. */
export function describeCorrelation(row: CorrelationRow, what: { x: string; y: string }): string {
  const scope = row.group === 'all' ? `over all ${row.n} runs` : `over the ${row.n} ${row.group} runs`;
  if (!Number.isFinite(row.spearman))
    return `${what.x} vs ${what.y} ${scope}: too few runs (or a constant variable) for a correlation.`;
  const ci = `[${fmt(row.spearmanLow)}, ${fmt(row.spearmanHigh)}]`;
  const excludesZero = row.spearmanLow > 0 || row.spearmanHigh < 0;
  const verdict = excludesZero
    ? `the 95% interval excludes zero, so ${what.x} does carry a ${row.spearman > 0 ? 'positive' : 'negative'} rank association with ${what.y} here`
    : `the 95% interval contains zero, so these runs give no evidence that ${what.x} predicts ${what.y}`;
  return `${what.x} vs ${what.y} ${scope}: Spearman ρ = ${fmt(row.spearman)} ${ci}, Pearson r = ${fmt(row.pearson)} [${fmt(row.pearsonLow)}, ${fmt(row.pearsonHigh)}]; ${verdict}.`;
}

// ---------------------------------------------------------------------------------------------------------
// Paper versus ours: the paper's claims checked on both tables.

export interface Finding {
  claim: string;
  paper: string;
  ours: string;
  /** null when our table lacks what the claim needs. */
  agree: boolean | null;
}

type Cell = { metric: string; method: string; backbone: string; trainProportion: number; value: number | null };

function cellsOf(table: aq.ColumnTable): Cell[] {
  return (table.objects() as Array<Record<string, unknown>>).map((r) => ({
    metric: String(r.metric),
    method: String(r.method),
    backbone: String(r.backbone),
    trainProportion: Number(r.trainProportion),
    value: typeof r.value === 'number' && Number.isFinite(r.value) ? r.value : null,
  }));
}

function best(cells: Cell[], filter: (c: Cell) => boolean, direction: 1 | -1 = 1): Cell | null {
  let chosen: Cell | null = null;
  for (const c of cells)
    if (filter(c) && c.value !== null && (chosen === null || direction * (c.value - chosen.value!) > 0)) chosen = c;
  return chosen;
}

function mean(values: number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/**
 * The paper's Table 1 claims (§2.2), evaluated on the paper's own numbers and on ours with the same rule.
 * Both tables: columns metric, method, backbone, trainProportion, value.
 */
export function table1Findings(ours: aq.ColumnTable, paper: aq.ColumnTable): Finding[] {
  const o = cellsOf(ours).filter((c) => c.metric === 'f1');
  const p = cellsOf(paper).filter((c) => c.metric === 'f1');
  const findings: Finding[] = [];
  const label = (c: Cell | null) => (c ? `${methodLabel(c.method)} (${fmt(c.value!, 3)})` : 'n/a');

  // Best SSL method per (backbone, proportion) where both tables have at least two SSL methods.
  const ssl = (c: Cell) => c.method !== 'supervised';
  for (const [backbone, proportion, claim] of [
    ['resnet18', 0.01, 'Best SSL method by F1 at 1 % defects, ResNet-18 (the text names BYOL)'],
    ['resnet18', 0.15, 'Best SSL method by F1 at 15 %, ResNet-18 (the text: SimCLR above 5 %)'],
    ['resnet18', 0.45, 'Best SSL method by F1 at 45 %, ResNet-18 (the text: SimCLR above 5 %)'],
  ] as const) {
    const inCell = (c: Cell) => ssl(c) && c.backbone === backbone && close(c.trainProportion, proportion);
    const pb = best(p, inCell);
    const ob = best(o, inCell);
    const oursCount = o.filter(inCell).length;
    findings.push({
      claim,
      paper: label(pb),
      ours: oursCount >= 2 ? label(ob) : `${oursCount} SSL method(s) run`,
      agree: oursCount >= 2 && pb && ob ? pb.method === ob.method : null,
    });
  }

  // MAE weakest on ViT-Tiny: in how many proportions is it the worst method?
  const maeWorst = (cells: Cell[]) => {
    const props = [
      ...new Set(cells.filter((c) => c.backbone === 'vit_tiny' && c.method === 'mae').map((c) => c.trainProportion)),
    ];
    const worst = props.filter(
      (pp) => best(cells, (c) => c.backbone === 'vit_tiny' && close(c.trainProportion, pp), -1)?.method === 'mae',
    );
    return { props: props.length, worst: worst.length };
  };
  const pm = maeWorst(p);
  const om = maeWorst(o);
  findings.push({
    claim: 'MAE is the weakest method (ViT-Tiny, F1)',
    paper: `worst at ${pm.worst} of ${pm.props} proportions`,
    ours: om.props ? `worst at ${om.worst} of ${om.props} proportions` : 'MAE not run',
    agree: om.props ? om.worst * 2 > om.props === pm.worst * 2 > pm.props : null,
  });

  // Backbone: mean F1 difference ResNet-18 − ViT-Tiny over the (method, proportion) cells both backbones have.
  const backboneGap = (cells: Cell[]) => {
    const diffs: number[] = [];
    for (const c of cells.filter((x) => x.backbone === 'resnet18' && x.value !== null)) {
      const v = cells.find(
        (x) =>
          x.backbone === 'vit_tiny' &&
          x.method === c.method &&
          close(x.trainProportion, c.trainProportion) &&
          x.value !== null,
      );
      if (v) diffs.push(c.value! - v.value!);
    }
    return { gap: mean(diffs), wins: diffs.filter((d) => d > 0).length, n: diffs.length };
  };
  const pg = backboneGap(p);
  const og = backboneGap(o);
  const describeGap = (g: { gap: number; wins: number; n: number }) =>
    g.n
      ? `ResNet-18 − ViT-Tiny = ${fmt(g.gap, 3)} on average; ResNet-18 higher in ${g.wins} of ${g.n} cells`
      : 'one backbone only';
  // "Neither consistently outperforms": neither backbone wins every cell.
  const consistent = (g: { wins: number; n: number }) => g.wins === 0 || g.wins === g.n;
  findings.push({
    claim: 'Neither backbone consistently outperforms the other',
    paper: describeGap(pg),
    ours: describeGap(og),
    agree: og.n ? consistent(og) === consistent(pg) : null,
  });

  // Supervised against the best SSL method, per cell.
  const supervisedWins = (cells: Cell[]) => {
    let wins = 0;
    let n = 0;
    for (const s of cells.filter((c) => c.method === 'supervised' && c.value !== null)) {
      const b = best(cells, (c) => ssl(c) && c.backbone === s.backbone && close(c.trainProportion, s.trainProportion));
      if (!b) continue;
      n++;
      if (s.value! > b.value!) wins++;
    }
    return { wins, n };
  };
  const ps = supervisedWins(p);
  const os = supervisedWins(o);
  findings.push({
    claim: 'The supervised baseline beats the best SSL method',
    paper: `in ${ps.wins} of ${ps.n} cells`,
    ours: os.n ? `in ${os.wins} of ${os.n} cells` : 'no SSL method run',
    agree: os.n ? os.wins * 2 > os.n === ps.wins * 2 > ps.n : null,
  });
  return findings;
}

/** Findings as an arquero table (claim, paper, ours, agree as yes/no/—). */
export function findingsTable(findings: Finding[]): aq.ColumnTable {
  return aq.table({
    claim: findings.map((f) => f.claim),
    paper: findings.map((f) => f.paper),
    ours: findings.map((f) => f.ours),
    agree: findings.map((f) => (f.agree === null ? '—' : f.agree ? 'yes' : 'no')),
  });
}

/** One sentence summarising findings: how many claims hold in our runs, and which do not. */
export function summarizeFindings(findings: Finding[]): string {
  const judged = findings.filter((f) => f.agree !== null);
  const agree = judged.filter((f) => f.agree);
  const disagree = judged.filter((f) => !f.agree).map((f) => `“${f.claim}”`);
  const missing = findings.length - judged.length;
  return `Of the paper's ${findings.length} claims checked here, ${agree.length} hold in our runs and ${disagree.length} do not${disagree.length ? ` (${disagree.join('; ')})` : ''}${missing ? `; ${missing} cannot be judged from the runs at this scale` : ''}.`;
}

/**
 * Figure 2's reading (§2.2): "a clear and consistent decline" of F1 as validation becomes imbalanced, while
 * F2_CIW "remains relatively stable". Measured per heatmap row: F1 at the lowest evaluation proportion below
 * F1 at the highest, and the mean range (max − min) of each metric across evaluation proportions.
 */
export function heatmapFindings(table: aq.ColumnTable): {
  f1Declines: { rows: number; declining: number };
  meanRange: Record<string, number>;
  sentence: string;
} {
  const records = table.objects() as Array<{ metric: string; row: string; evalProportion: number; value: number }>;
  const byRow = new Map<string, Array<{ evalProportion: number; value: number }>>();
  for (const r of records) {
    const key = `${r.metric}|${r.row}`;
    byRow.set(key, [...(byRow.get(key) ?? []), r]);
  }
  let rows = 0;
  let declining = 0;
  const ranges: Record<string, number[]> = {};
  for (const [key, cells] of byRow) {
    const metric = key.split('|')[0];
    const values = cells.map((c) => c.value);
    (ranges[metric] ??= []).push(Math.max(...values) - Math.min(...values));
    if (metric !== 'f1' || cells.length < 2) continue;
    const sorted = [...cells].sort((a, b) => a.evalProportion - b.evalProportion);
    rows++;
    if (sorted[0].value < sorted[sorted.length - 1].value) declining++;
  }
  const meanRange = Object.fromEntries(Object.entries(ranges).map(([m, v]) => [m, mean(v)]));
  const parts = [
    `F1 is lower on the most imbalanced validation set than on the natural one in ${declining} of ${rows} rows`,
  ];
  if (meanRange.f1 !== undefined && meanRange.f2Ciw !== undefined) {
    parts.push(
      `across validation proportions F1 moves by ${fmt(meanRange.f1, 3)} on average and F2_CIW by ${fmt(meanRange.f2Ciw, 3)}, so F2_CIW is ${meanRange.f2Ciw < meanRange.f1 ? 'the more stable of the two, as the paper reports' : 'not more stable than F1 here, unlike the paper'}`,
    );
  }
  return { f1Declines: { rows, declining }, meanRange, sentence: parts.join('; ') + '.' };
}

// ---------------------------------------------------------------------------------------------------------
// Small table helpers for the notebooks (arquero's own filter cannot see notebook variables).

/** Rows whose fields equal the given values (arrays: any of the values). */
export function whereEquals(table: aq.ColumnTable, fields: Record<string, unknown>): aq.ColumnTable {
  const names = table.columnNames();
  for (const field of Object.keys(fields))
    if (!names.includes(field)) throw new Error(`whereEquals: no column "${field}" (columns: ${names.join(', ')})`);
  const records = (table.objects() as Array<Record<string, unknown>>).filter((r) =>
    Object.entries(fields).every(([k, v]) => (Array.isArray(v) ? v.includes(r[k]) : r[k] === v)),
  );
  return aq.table(Object.fromEntries(names.map((c) => [c, records.map((r) => r[c])])));
}

/**
 * A paperVsOurs table (ours, paper, diff) with a `cell` text column "ours · paper (diff)" for side-by-side
 * wide tables; rows only the paper has are dropped unless `keepPaperOnly`.
 */
export function comparisonCells(
  comparison: aq.ColumnTable,
  options: { digits?: number; keepPaperOnly?: boolean } = {},
): aq.ColumnTable {
  const digits = options.digits ?? 3;
  const show = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
  const records = (comparison.objects() as Array<Record<string, unknown>>).filter(
    (r) => options.keepPaperOnly || r.ours !== null,
  );
  for (const r of records) {
    const diff = typeof r.diff === 'number' ? ` (${r.diff >= 0 ? '+' : '−'}${Math.abs(r.diff).toFixed(digits)})` : '';
    r.cell = `${show(r.ours)} · ${show(r.paper)}${diff}`;
  }
  const names = [...comparison.columnNames(), 'cell'];
  return aq.table(Object.fromEntries(names.map((c) => [c, records.map((r) => r[c] ?? null)])));
}

/** Mean absolute difference and count of the cells both sides have. */
export function comparisonSummary(comparison: aq.ColumnTable): {
  cells: number;
  meanAbsDiff: number;
  oursHigher: number;
} {
  const diffs = (comparison.objects() as Array<Record<string, unknown>>)
    .map((r) => r.diff)
    .filter((d): d is number => typeof d === 'number' && Number.isFinite(d));
  return { cells: diffs.length, meanAbsDiff: mean(diffs.map(Math.abs)), oursHigher: diffs.filter((d) => d > 0).length };
}

/** The tidy rows of the finished runs of `configs` (typed, for notebooks). */
export function resultRows(dir: string, configs?: RunConfig[]): ResultRow[] {
  return resultsTable(dir, configs).objects() as ResultRow[];
}

/** The paper's numbers (paper.ts), re-exported so a notebook imports one module for its analysis. */
export function paperTable(name: PaperTableName): aq.ColumnTable {
  return loadPaperTable(name);
}
