/**
 * The ablations' tables: Table 2 (image resolution) and Figure 3 (augmentation strength), from the runs'
 * summaries and logs joined to their tidy rows.
 *
 * @example
 *   resolutionTable(runLogs(dir, configs), rows); // backbone, imageSize, bestF1, finalF1, secondsPerEpoch, n
 *   augmentationTable(rows, runSummaries(dir, configs)); // backbone, jitter, minScale, value, n
 */
import * as aq from 'arquero';
import type { ResultRow } from '../runs/store';
import { spearman } from '../eval/correlation';
import { epochRecords, type LogRecord, type RunLog, type RunSummary } from './runs';
import { APPENDIX_METRICS, atNaturalProportion } from './table1';
import { meanOf, meanOverSeeds, paperOrder, rowsToTable, tableOf } from './tidy';

const { op } = aq;

/** Best validation F1 over the run's validation epochs (the log's `val_f1`), or null when none was logged. */
export function bestValF1(log: LogRecord[]): number | null {
  const values = epochRecords(log)
    .map((r) => r.val_f1)
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return values.length ? Math.max(...values) : null;
}

/** The final validation `metric` at the natural proportion of each run: columns runId, value. */
function finalMetric(rows: ResultRow[], metric: string): aq.ColumnTable {
  return rowsToTable(rows.filter((r) => r.metric === metric && atNaturalProportion(r))).select('runId', 'value');
}

/**
 * Table 2: per backbone and image size, the best validation F1 over epochs (mean over seeds), the final
 * natural-proportion F1 from the rows, and seconds per epoch.
 */
export function resolutionTable(runs: RunLog[], rows: ResultRow[]): aq.ColumnTable {
  const done = runs.filter((r) => r.summary.state === 'done');
  const perRun = tableOf(
    done.map(({ summary, log }) => ({
      runId: summary.runId,
      backbone: summary.backbone,
      imageSize: summary.imageSize,
      logged: bestValF1(log) ?? NaN,
      seconds: summary.secondsPerEpoch ?? NaN,
    })),
    ['runId', 'backbone', 'imageSize', 'logged', 'seconds'],
  )
    .join_left(finalMetric(rows, 'f1'), 'runId')
    // A run that logged no validation epoch falls back to its final F1.
    .derive({ final: (d: { value: number }) => d.value ?? NaN })
    .derive({ best: (d: { logged: number; final: number }) => (op.is_finite(d.logged) ? d.logged : d.final) });
  const means = perRun
    .groupby('backbone', 'imageSize')
    .rollup({
      bestF1: meanOf('best'),
      finalF1: meanOf('final'),
      secondsPerEpoch: meanOf('seconds'),
      n: op.valid('best'),
    })
    .filter((d: { n: number }) => d.n > 0)
    // A group whose runs have no final F1 (or no timing) shows null, not NaN.
    .derive({
      finalF1: (d: { finalF1: number }) => (op.is_finite(d.finalF1) ? d.finalF1 : null),
      secondsPerEpoch: (d: { secondsPerEpoch: number }) => (op.is_finite(d.secondsPerEpoch) ? d.secondsPerEpoch : null),
    });
  return paperOrder(means, APPENDIX_METRICS).select(
    'backbone',
    'imageSize',
    'bestF1',
    'finalF1',
    'secondsPerEpoch',
    'n',
  );
}

/** Figure 3: validation F1 at the natural proportion per ColorJitter strength t_val × min_scale (mean over seeds). */
export function augmentationTable(rows: ResultRow[], summaries: RunSummary[], metric = 'f1'): aq.ColumnTable {
  const strengths = tableOf(summaries, ['runId', 'jitter', 'minScale']);
  const values = rowsToTable(rows.filter((r) => r.metric === metric && atNaturalProportion(r)))
    .select('runId', 'backbone', 'value')
    .join(strengths, 'runId');
  return paperOrder(meanOverSeeds(values, ['backbone', 'jitter', 'minScale']), APPENDIX_METRICS).select(
    'backbone',
    'jitter',
    'minScale',
    'value',
    'n',
  );
}

/** Table 2's reading: per backbone, Spearman ρ of image size with best F1 and with time, ours and the paper's. */
export function resolutionReading(table2: aq.ColumnTable, paperTable2: aq.ColumnTable): string {
  type Row = { backbone: string; imageSize: number; bestF1: number; secondsPerEpoch: number };
  type PaperRow = { backbone: string; metric: string; resolution: number; value: number };
  const records = table2.objects() as Row[];
  const paperRows = paperTable2.objects() as PaperRow[];
  const backbones = ['resnet18', 'vit_tiny'];
  const lines = backbones.map((backbone) => {
    const r = records.filter((x) => x.backbone === backbone).sort((a, b) => a.imageSize - b.imageSize);
    if (r.length < 2) return `- ${backbone}: fewer than two sizes finished.`;
    const sizes = r.map((x) => x.imageSize);
    const f1 = spearman(
      sizes,
      r.map((x) => x.bestF1),
    );
    const time = spearman(
      sizes,
      r.map((x) => x.secondsPerEpoch),
    );
    const reading =
      f1 > 0.5 ? 'F1 grows with size, as in the paper' : 'F1 does not grow steadily with size, unlike the paper';
    return `- ${backbone}: size vs best F1 ρ = ${f1.toFixed(2)}, size vs time ρ = ${time.toFixed(2)}; ${reading}.`;
  });
  const paperLines = backbones.map((backbone) => {
    const r = paperRows
      .filter((x) => x.backbone === backbone && x.metric === 'f1')
      .sort((a, b) => a.resolution - b.resolution);
    const rho = spearman(
      r.map((x) => x.resolution),
      r.map((x) => x.value),
    );
    return `- paper ${backbone}: size vs best F1 ρ = ${rho.toFixed(2)}.`;
  });
  return [...lines, ...paperLines].join('\n');
}

/** Figure 3's reading: the best cell, whether it lies in the paper's best region, and the spread of F1. */
export function augmentationReading(figure3: aq.ColumnTable): string {
  type Cell = { jitter: number; minScale: number; value: number };
  const cells = (figure3.objects() as Cell[]).sort((a, b) => b.value - a.value);
  if (!cells.length) return '*No finished runs.*';
  const top = cells[0];
  const inPaperRange = top.jitter >= 0.1 && top.jitter <= 0.45 && top.minScale >= 0.395 && top.minScale <= 0.605;
  const spread = cells[0].value - cells[cells.length - 1].value;
  const best = `t_val = ${top.jitter}, min_scale = ${top.minScale} (F1 ${top.value.toFixed(3)})`;
  return (
    `Best: ${best}, ${inPaperRange ? 'inside' : 'outside'} the paper's best region; ` +
    `best and worst cells differ by ${spread.toFixed(3)} F1 over ${cells.length} cells.`
  );
}
