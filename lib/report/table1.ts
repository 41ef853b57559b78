/**
 * Table 1 and the tables read off the same rows: validation at the natural proportion per method × backbone ×
 * training proportion (Table 1), the train × validation proportion heatmaps (Figures 2, 4, 5) and the appendix's
 * TRAIN / VAL tables (Tables 3, 4). Each is the mean over seeds of the tidy rows, in the paper's row order.
 *
 * @example
 *   const ours = table1(rows); // metric, method, backbone, trainProportion, value, n, sd
 *   heatmapTable(rows, { backbone: 'resnet18', metrics: ['f1', 'f2Ciw', 'f1Normal'] }); // Figures 2/4/5
 *   appendixTable(rows, 'vit_tiny'); // Table 4
 */
import * as aq from 'arquero';
import type { ResultRow } from '../runs/store';
import { methodLabel, metricLabel, percent, sameProportion } from './labels';
import { meanOverSeeds, paperOrder, rowsToTable } from './tidy';

/** The validation proportion that stands for the natural (balanced-benchmark) distribution in Table 1. */
export const NATURAL_PROPORTION = 0.45;
export const TABLE1_METRICS = ['f1', 'f2Ciw', 'f1Normal'] as const;
export const APPENDIX_METRICS = ['precision', 'recall', 'f1', 'f2Ciw', 'f1Normal'] as const;
/** The cells of Table 1: one per metric, method, backbone and training proportion. */
export const TABLE1_KEYS = ['metric', 'method', 'backbone', 'trainProportion'];

/** Whether a row is a validation row at the natural proportion. */
export function atNaturalProportion(row: Pick<ResultRow, 'split' | 'evalProportion'>): boolean {
  return row.split === 'val' && sameProportion(row.evalProportion, NATURAL_PROPORTION);
}

/** Table 1: validation at the natural proportion; F1, F2_CIW, F1_Normal per cell; mean over seeds. */
export function table1(rows: ResultRow[], metrics: readonly string[] = TABLE1_METRICS): aq.ColumnTable {
  const selected = rows.filter((r) => atNaturalProportion(r) && metrics.includes(r.metric));
  return paperOrder(meanOverSeeds(rowsToTable(selected), TABLE1_KEYS), metrics);
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
  const cells = meanOverSeeds(rowsToTable(selected), [...TABLE1_KEYS, 'evalProportion']).derive({
    row: aq.escape(
      (d: { method: string; trainProportion: number }) => `${methodLabel(d.method)} ${percent(d.trainProportion)}`,
    ),
    metricLabel: aq.escape((d: { metric: string }) => metricLabel(d.metric)),
  });
  return paperOrder(cells, options.metrics).select(
    'metric',
    'metricLabel',
    'method',
    'backbone',
    'trainProportion',
    'evalProportion',
    'row',
    'value',
    'n',
  );
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
      (r.split === 'train' || sameProportion(r.evalProportion, NATURAL_PROPORTION)),
  );
  const cells = meanOverSeeds(rowsToTable(selected), ['split', ...TABLE1_KEYS]);
  return paperOrder(cells, APPENDIX_METRICS).select('split', ...TABLE1_KEYS, 'value', 'n');
}

/** A paper heatmap table (paper.ts, e.g. Figure 2) with the `row` and `metricLabel` columns of `heatmapTable`. */
export function labelledPaperHeatmap(paper: aq.ColumnTable): aq.ColumnTable {
  return paper.derive({
    row: aq.escape(
      (d: { method: string; trainProportion: number }) => `${methodLabel(d.method)} ${percent(d.trainProportion)}`,
    ),
    metricLabel: aq.escape((d: { metric: string }) => metricLabel(d.metric)),
  });
}
