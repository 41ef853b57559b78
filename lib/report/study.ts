/**
 * The study's analysis in one import, for notebooks (`import * as study from '../dist/lib/report/study'`):
 * each name below lives in the module that does one thing, and is documented there.
 *
 * - `runs.ts`: loading runs from the results store (the only functions here that read files).
 * - `table1.ts`: Table 1, Figures 2/4/5 and Tables 3/4 from the tidy rows; `ablations.ts`: Table 2, Figure 3.
 * - `monitoring.ts`: Figures 6–10; `correlation.ts`: correlations across runs and their reading.
 * - `claims.ts`: the paper's claims checked on both tables, and paper-versus-ours cells.
 * - `labels.ts`: display names and number formats; `tidy.ts`: table helpers on arquero.
 *
 * @example
 *   const rows = study.resultRows(projectPaths().results, configs);
 *   const findings = study.table1Findings(study.table1(rows), study.paperTable('table1'));
 */
export { resultRows, resultsTable, runLogs, runSummaries, summarizeRun } from './runs';
export type { LogRecord, RunLog, RunSummary } from './runs';
export {
  APPENDIX_METRICS,
  NATURAL_PROPORTION,
  TABLE1_KEYS,
  TABLE1_METRICS,
  appendixTable,
  heatmapTable,
  labelledPaperHeatmap,
  table1,
} from './table1';
export type { HeatmapTableOptions } from './table1';
export { augmentationReading, augmentationTable, bestValF1, resolutionReading, resolutionTable } from './ablations';
export {
  MONITOR_MEASURES,
  monitoringCurves,
  rankMeAnswer,
  rankMeByBackbone,
  rankMeCorrelationBullets,
  rankMeVsF1,
} from './monitoring';
export { CORRELATION_ROW_COLUMNS, correlationTable, describeCorrelation } from './correlation';
export type { CorrelationRow } from './correlation';
export {
  comparisonCells,
  comparisonSummary,
  findingSentence,
  findingsTable,
  heatmapFindings,
  summarizeFindings,
  table1Findings,
  trainRecallReading,
} from './claims';
export type { Finding } from './claims';
export {
  BACKBONE_LABELS,
  METHOD_LABELS,
  METRIC_LABELS,
  backboneLabel,
  methodLabel,
  metricLabel,
  percent,
} from './labels';
export { rowsToTable, tableOf, whereEquals } from './tidy';
export { figuresDir } from './figures';
export { paperTable } from './paper';
