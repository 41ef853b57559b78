/**
 * The monitoring figures' tables (Figures 6–10): per-epoch curves of what the runs log, and each run's final
 * RankMe against its train and validation F1.
 *
 * @example
 *   const runs = runLogs(dir, configs);
 *   monitoringCurves(runs, ['rankme', 'loss']); // runId, method, …, epoch, measure, value
 *   rankMeVsF1(runs, rows); // one row per run: rankme, rankmeScaled, trainF1, valF1
 */
import * as aq from 'arquero';
import type { ResultRow } from '../runs/store';
import { backboneLabel, methodLabel, percent } from './labels';
import { epochRecords, type RunLog } from './runs';
import { APPENDIX_METRICS, atNaturalProportion } from './table1';
import { describeCorrelation, type CorrelationRow } from './correlation';
import { meanOf, paperOrder, tableOf } from './tidy';

const { op } = aq;

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
export function monitoringCurves(runs: RunLog[], measures: readonly string[] = MONITOR_MEASURES): aq.ColumnTable {
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
  const columns = [
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
  ];
  return paperOrder(tableOf(records, columns), APPENDIX_METRICS);
}

/**
 * Figures 9–10: one record per run with its final-epoch RankMe (per-batch mean `rankme` and the sample
 * estimate `rankme_sample`), min–max re-scaled RankMe (as the paper re-scales, over the runs given), and its
 * train F1 (own training subset) and validation F1 (natural proportion).
 */
export function rankMeVsF1(runs: RunLog[], rows: ResultRow[]): aq.ColumnTable {
  const f1 = new Map<string, { train?: number; val?: number }>();
  for (const r of rows) {
    if (r.metric !== 'f1') continue;
    const entry = f1.get(r.runId) ?? {};
    if (r.split === 'train') entry.train = r.value;
    else if (atNaturalProportion(r)) entry.val = r.value;
    f1.set(r.runId, entry);
  }
  const records: Array<Record<string, unknown>> = [];
  for (const { summary, log } of runs) {
    const last = [...epochRecords(log)].reverse().find((e) => typeof e.rankme === 'number');
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
  const columns = [
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
  ];
  return paperOrder(tableOf(records, columns), APPENDIX_METRICS);
}

/** The mean final-epoch RankMe of the SSL runs of a `rankMeVsF1` table, by backbone. */
export function rankMeByBackbone(scatterTable: aq.ColumnTable): string {
  const ssl = scatterTable.filter((d: { method: string }) => d.method !== 'supervised');
  if (!ssl.numRows()) return '*No finished SSL runs.*';
  const means = ssl
    .groupby('backbone')
    .rollup({ value: meanOf('rankme'), n: op.count() })
    .objects() as Array<{
    backbone: string;
    value: number;
    n: number;
  }>;
  const parts = means.map((a) => `${a.backbone}: ${a.value.toFixed(1)} (${a.n} runs)`);
  return `Mean final-epoch RankMe of the SSL runs, by backbone: ${parts.join('; ')}.`;
}

/** One bullet per row of a RankMe-against-F1 `correlationTable`. */
export function rankMeCorrelationBullets(correlations: aq.ColumnTable): string {
  const rows = correlations.objects() as CorrelationRow[];
  const what = (row: CorrelationRow) => ({ x: 'RankMe', y: row.y === 'trainF1' ? 'train F1' : 'validation F1' });
  return rows.map((row) => '- ' + describeCorrelation(row, what(row))).join('\n');
}

/** The answer to the paper's question (does RankMe predict validation F1?) from the pooled correlation. */
export function rankMeAnswer(correlations: aq.ColumnTable, scale: string): string {
  const pooled = (correlations.objects() as CorrelationRow[]).find((r) => r.group === 'all' && r.y === 'valF1');
  const answer = (verdict: string) => `**Answer (${scale} scale):** ${verdict}`;
  if (!pooled || !Number.isFinite(pooled.spearman))
    return answer('too few SSL runs at this scale to answer; run the default scale.');
  const interval = `[${pooled.spearmanLow.toFixed(2)}, ${pooled.spearmanHigh.toFixed(2)}]`;
  const estimate = `ρ = ${pooled.spearman.toFixed(2)}, 95 % CI ${interval}, n = ${pooled.n}`;
  return answer(
    pooled.spearmanLow > 0 || pooled.spearmanHigh < 0
      ? `RankMe is rank-correlated with validation F1 here (${estimate}), which disagrees with the paper's reading.`
      : `no evidence that RankMe predicts validation F1 (${estimate}), in line with the paper.`,
  );
}
