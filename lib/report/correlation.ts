/**
 * Correlations across runs (Figures 9–10's reading): Pearson and Spearman with percentile-bootstrap intervals
 * and Kendall τ-b, overall and per group, and the sentence that reads one of them.
 *
 * @example
 *   const table = correlationTable(rankMeVsF1(runs, rows).objects(), 'rankme', ['trainF1', 'valF1'], {
 *     groupBy: 'backbone',
 *   });
 *   describeCorrelation(table.objects()[0] as CorrelationRow, { x: 'RankMe', y: 'validation F1' });
 */
import type * as aq from 'arquero';
import { bootstrapCi, kendallTauB, pearson, spearman } from '../eval/correlation';
import { signed } from './labels';
import { tableOf } from './tidy';

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

/** The columns of `correlationTable`, in order. */
export const CORRELATION_ROW_COLUMNS: ReadonlyArray<keyof CorrelationRow> = [
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
];

const UNDEFINED_CORRELATION = {
  pearson: NaN,
  pearsonLow: NaN,
  pearsonHigh: NaN,
  spearman: NaN,
  spearmanLow: NaN,
  spearmanHigh: NaN,
  kendallTauB: NaN,
};

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
  const groupBy = options.groupBy;
  if (groupBy) {
    const values = [...new Set(records.map((r) => String(r[groupBy])))];
    for (const v of values) groups.push([v, records.filter((r) => String(r[groupBy]) === v)]);
  }
  const boot = {
    resamples: options.resamples ?? 2000,
    confidence: options.confidence ?? 0.95,
    seed: options.seed ?? 42,
  };
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const out: CorrelationRow[] = [];
  for (const [group, members] of groups) {
    for (const y of ys) {
      const pairs = members.filter((r) => finite(r[x]) && finite(r[y]));
      const xs = pairs.map((r) => r[x] as number);
      const yv = pairs.map((r) => r[y] as number);
      const base = { group, x, y, n: pairs.length };
      if (pairs.length < 3) {
        out.push({ ...base, ...UNDEFINED_CORRELATION });
        continue;
      }
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
  return tableOf(out, CORRELATION_ROW_COLUMNS);
}

/** A sentence reading one correlation row: estimate, interval, and whether the interval excludes zero. */
export function describeCorrelation(row: CorrelationRow, what: { x: string; y: string }): string {
  const scope = row.group === 'all' ? `over all ${row.n} runs` : `over the ${row.n} ${row.group} runs`;
  if (!Number.isFinite(row.spearman))
    return `${what.x} vs ${what.y} ${scope}: too few runs (or a constant variable) for a correlation.`;
  const excludesZero = row.spearmanLow > 0 || row.spearmanHigh < 0;
  const direction = row.spearman > 0 ? 'positive' : 'negative';
  const verdict = excludesZero
    ? `the 95% interval excludes zero, so ${what.x} does carry a ${direction} rank association with ${what.y} here`
    : `the 95% interval contains zero, so these runs give no evidence that ${what.x} predicts ${what.y}`;
  const spearmanPart = `Spearman ρ = ${signed(row.spearman)} [${signed(row.spearmanLow)}, ${signed(row.spearmanHigh)}]`;
  const pearsonPart = `Pearson r = ${signed(row.pearson)} [${signed(row.pearsonLow)}, ${signed(row.pearsonHigh)}]`;
  return `${what.x} vs ${what.y} ${scope}: ${spearmanPart}, ${pearsonPart}; ${verdict}.`;
}
