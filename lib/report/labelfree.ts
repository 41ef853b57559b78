/**
 * Notebook 08's analysis: do label-free representation scores predict downstream F1, and what does choosing a
 * checkpoint or a method by them cost?
 *
 * Inputs are the runs' logs (epoch records carry `lf_*` backbone and `lfe_*` projector scores, the per-batch
 * `rankme`, and periodic `val_f1`) and the tidy result rows. Everything here except `writeTableFiles` is pure.
 *
 * - `SCORES`: every score, with the direction in which it is expected to indicate a better representation.
 *   `orient` turns a raw value into "higher = predicted better" (−x for lower-is-better, −|x − t| for
 *   close-to-t), so a positive correlation always reads "the score ranks runs as its rationale says".
 * - `finalScoreRecords`: one record per run: final-epoch scores and final validation F1 / F2_CIW at the natural
 *   proportion.
 * - `scoreCorrelations`: Spearman and Kendall τ-b of every oriented score with every target, overall and within
 *   groups (method, backbone), each with a percentile-bootstrap interval.
 * - `checkpointSelection` / `methodSelection`: regret (F1 lost against choosing with validation labels) of
 *   choosing the epoch of a run, or the method of a (backbone, proportion, seed) cell, by each score.
 * - `seedTable` / `pairedMethodTests`: mean ± 95 % t-interval over seeds, paired bootstrap tests between methods.
 * - the sentences notebook 08 prints (`labelFreeVerdict`, `rankMeAgainstPaper`, `pairedTestsSentence`, …) and
 *   the column lists of its tables (`CORRELATION_COLUMNS`, `REGRET_COLUMNS`, …).
 *
 * @example
 *   const configs = sslStudyConfigs(scale);
 *   const runs = runLogs(resultsDir, configs).filter((r) => r.summary.state === 'done');
 *   const records = finalScoreRecords(runs, resultRows(resultsDir, configs));
 *   const correlations = scoreCorrelations(records, { targets: ['f1', 'f2Ciw'], groupBy: ['method', 'backbone'] });
 *   showTable(tableOf(correlations, CORRELATION_COLUMNS));
 *   const regret = regretSummary(checkpointSelection(runs));
 */
import * as fs from 'fs';
import * as path from 'path';
import * as aq from 'arquero';
import type { ResultRow } from '../runs/store';
import { bootstrapCi, kendallTauB, spearman } from '../eval/correlation';
import { LABEL_FREE_KEYS } from '../eval/labelfree';
import { meanCi, pairCells, pairedBootstrapTest, summarizeOverSeeds } from '../eval/stats';
import { type FigureSpec, heatmap } from './figures';
import { percent, signed } from './labels';
import { epochRecords, type LogRecord, type RunLog } from './runs';
import { atNaturalProportion } from './table1';
import { toMarkdown, wideTable } from './tables';
import { tableOf, whereEquals } from './tidy';

const { op } = aq;

// Run selection lives in lib/experiments/selection.ts; re-exported for lib/experiments/cli.ts, which requires
// this module for it (that require can become an import of ./selection).
export { SEED_PLANS, fashionMnistGridOptions } from '../experiments/selection';

// ---------------------------------------------------------------------------------------------------------
// The scores and their directions.

export type Direction = { kind: 'higher' } | { kind: 'lower' } | { kind: 'closeTo'; target: number };

export interface ScoreInfo {
  /** Key in the epoch records, e.g. `lf_rankme`. */
  key: string;
  /** The score without its prefix, e.g. `rankme`. */
  base: string;
  source: 'backbone' | 'embedding' | 'training batches';
  /** Short display label: "(bb)" backbone, "(emb)" projector embedding, "(paper)" the per-batch training RankMe. */
  label: string;
  direction: Direction;
}

const BASE_LABELS: Record<string, string> = {
  rankme: 'RankMe',
  rankme_batch: 'RankMe/batch',
  alpha_req: 'α-ReQ',
  nesum: 'NESum',
  alignment: 'alignment',
  uniformity: 'uniformity',
  invariance: 'invariance',
  lidar: 'LiDAR-style',
  feature_std: 'feature std',
  feature_mean: 'feature mean',
};

/**
 * Which way is "better" for each score (the notebook's markdown gives the reasons):
 * effective ranks and spread (RankMe, NESum, LiDAR, std) higher; alignment (distance between views) and
 * uniformity (log pair potential) lower; invariance (cosine between views) higher; α-ReQ closest to 1;
 * the mean of the normalised features closest to 0.
 */
export const SCORE_DIRECTIONS: Record<string, Direction> = {
  rankme: { kind: 'higher' },
  rankme_batch: { kind: 'higher' },
  alpha_req: { kind: 'closeTo', target: 1 },
  nesum: { kind: 'higher' },
  alignment: { kind: 'lower' },
  uniformity: { kind: 'lower' },
  invariance: { kind: 'higher' },
  lidar: { kind: 'higher' },
  feature_std: { kind: 'higher' },
  feature_mean: { kind: 'closeTo', target: 0 },
};

/** Every score the runs log: backbone (`lf_`), embedding (`lfe_`), and the paper's per-batch `rankme`. */
export const SCORES: ScoreInfo[] = [
  ...LABEL_FREE_KEYS.map((base) => ({
    key: `lf_${base}`,
    base,
    source: 'backbone' as const,
    label: `${BASE_LABELS[base]} (bb)`,
    direction: SCORE_DIRECTIONS[base],
  })),
  ...LABEL_FREE_KEYS.map((base) => ({
    key: `lfe_${base}`,
    base,
    source: 'embedding' as const,
    label: `${BASE_LABELS[base]} (emb)`,
    direction: SCORE_DIRECTIONS[base],
  })),
  {
    key: 'rankme',
    base: 'rankme',
    source: 'training batches',
    label: 'RankMe (paper)',
    direction: SCORE_DIRECTIONS.rankme,
  },
];

export function scoreInfo(key: string): ScoreInfo {
  const info = SCORES.find((s) => s.key === key);
  if (!info) throw new Error(`unknown label-free score "${key}" (known: ${SCORES.map((s) => s.key).join(', ')})`);
  return info;
}

/** "higher", "lower", "closest to 1". */
export function describeDirection(direction: Direction): string {
  return direction.kind === 'closeTo' ? `closest to ${direction.target}` : direction.kind;
}

/** The value that is larger when the score predicts a better representation. NaN stays NaN. */
export function orient(value: number, direction: Direction): number {
  if (!Number.isFinite(value)) return NaN;
  switch (direction.kind) {
    case 'higher':
      return value;
    case 'lower':
      return -value;
    case 'closeTo':
      return -Math.abs(value - direction.target);
  }
}

function numberOr(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : NaN;
}

// ---------------------------------------------------------------------------------------------------------
// Per-run records.

export interface ScoreRecord {
  runId: string;
  method: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  /** Final validation metrics at the natural proportion (the full evaluation, rows.json). */
  f1: number;
  f2Ciw: number;
  /** Final-epoch raw scores by key (NaN when not logged). */
  scores: Record<string, number>;
}

/**
 * One record per run that has both final validation rows at the natural proportion and a final epoch record:
 * that epoch's scores (the last epoch the run logged) against the final F1 and F2_CIW.
 */
export function finalScoreRecords(
  runs: RunLog[],
  rows: ResultRow[],
  scoreKeys: readonly string[] = SCORES.map((s) => s.key),
): ScoreRecord[] {
  const metrics = new Map<string, { f1?: number; f2Ciw?: number }>();
  for (const r of rows) {
    if (!atNaturalProportion(r) || (r.metric !== 'f1' && r.metric !== 'f2Ciw')) continue;
    const entry = metrics.get(r.runId) ?? {};
    entry[r.metric] = r.value;
    metrics.set(r.runId, entry);
  }
  const out: ScoreRecord[] = [];
  for (const { summary, log } of runs) {
    const epochs = epochRecords(log);
    const last = epochs[epochs.length - 1];
    const m = metrics.get(summary.runId);
    if (!last || !m || m.f1 === undefined) continue;
    out.push({
      runId: summary.runId,
      method: summary.method,
      backbone: summary.backbone,
      trainProportion: summary.trainProportion,
      seed: summary.seed,
      f1: m.f1,
      f2Ciw: m.f2Ciw ?? NaN,
      scores: Object.fromEntries(scoreKeys.map((k) => [k, numberOr(last[k])])),
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Correlations.

export interface ScoreCorrelation {
  score: string;
  label: string;
  source: string;
  direction: string;
  target: string;
  /** 'all', or `<field>: <value>` (e.g. "method: simclr"). */
  group: string;
  n: number;
  spearman: number;
  spearmanLow: number;
  spearmanHigh: number;
  kendall: number;
  kendallLow: number;
  kendallHigh: number;
}

export interface CorrelationOptions {
  targets?: ReadonlyArray<'f1' | 'f2Ciw'>;
  /** Fields to group by in addition to the pooled 'all' group. */
  groupBy?: ReadonlyArray<'method' | 'backbone'>;
  scores?: readonly string[];
  resamples?: number;
  seed?: number;
  /** Groups smaller than this get NaN (default 3). */
  minRuns?: number;
}

/**
 * Spearman ρ and Kendall τ-b of each oriented score with each target, with 95 % percentile-bootstrap intervals
 * (resampling runs; seeded, so the table replays). A group with fewer than `minRuns` runs carrying the score,
 * or a constant score, gives NaN.
 */
export function scoreCorrelations(records: ScoreRecord[], options: CorrelationOptions = {}): ScoreCorrelation[] {
  const targets = options.targets ?? ['f1', 'f2Ciw'];
  const keys = options.scores ?? SCORES.map((s) => s.key);
  const minRuns = options.minRuns ?? 3;
  const boot = { resamples: options.resamples ?? 1000, confidence: 0.95, seed: options.seed ?? 42 };
  const groups: Array<[string, ScoreRecord[]]> = [['all', records]];
  for (const field of options.groupBy ?? []) {
    for (const value of [...new Set(records.map((r) => String(r[field])))])
      groups.push([`${field}: ${value}`, records.filter((r) => String(r[field]) === value)]);
  }
  const out: ScoreCorrelation[] = [];
  for (const key of keys) {
    const info = scoreInfo(key);
    for (const target of targets) {
      for (const [group, members] of groups) {
        const pairs = members
          .map((r) => [orient(r.scores[key] ?? NaN, info.direction), r[target]] as const)
          .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
        const base = {
          score: key,
          label: info.label,
          source: info.source,
          direction: describeDirection(info.direction),
          target,
          group,
          n: pairs.length,
        };
        const xs = pairs.map((p) => p[0]);
        const ys = pairs.map((p) => p[1]);
        const constant = (v: number[]) => v.every((x) => x === v[0]);
        if (pairs.length < minRuns || constant(xs) || constant(ys)) {
          out.push({
            ...base,
            spearman: NaN,
            spearmanLow: NaN,
            spearmanHigh: NaN,
            kendall: NaN,
            kendallLow: NaN,
            kendallHigh: NaN,
          });
          continue;
        }
        const s = bootstrapCi(xs, ys, spearman, boot);
        const k = bootstrapCi(xs, ys, kendallTauB, boot);
        out.push({
          ...base,
          spearman: s.estimate,
          spearmanLow: s.low,
          spearmanHigh: s.high,
          kendall: k.estimate,
          kendallLow: k.low,
          kendallHigh: k.high,
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Selection experiments.

export interface CheckpointChoice {
  runId: string;
  method: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  score: string;
  /** 0-based epochs. */
  chosenEpoch: number;
  oracleEpoch: number;
  chosenF1: number;
  oracleF1: number;
  /** oracleF1 − chosenF1 (≥ 0). */
  regret: number;
  /** Epochs both the score and val_f1 were logged at. */
  candidates: number;
}

/** Index of the largest value; ties go to the later position (the more trained checkpoint). */
function argmaxLate(values: number[]): number {
  let best = -1;
  for (let i = 0; i < values.length; i++)
    if (Number.isFinite(values[i]) && (best < 0 || values[i] >= values[best])) best = i;
  return best;
}

/**
 * For every run and score: the epoch the score picks (its oriented value's argmax) against the epoch with the
 * best periodic validation F1 (the oracle), over the epochs where both were logged. Two baselines come as
 * pseudo-scores: `last epoch` (what the paper does) and `random epoch` (expected regret of a uniform pick).
 * The runs keep only their final weights, so this measures what the choice would have cost, from the log.
 */
export function checkpointSelection(
  runs: RunLog[],
  scoreKeys: readonly string[] = SCORES.map((s) => s.key),
): CheckpointChoice[] {
  const out: CheckpointChoice[] = [];
  for (const { summary, log } of runs) {
    const epochs = epochRecords(log).filter((e) => Number.isFinite(numberOr(e.val_f1)));
    if (epochs.length === 0) continue;
    const f1 = epochs.map((e) => numberOr(e.val_f1));
    const oracle = argmaxLate(f1);
    const base = {
      runId: summary.runId,
      method: summary.method,
      backbone: summary.backbone,
      trainProportion: summary.trainProportion,
      seed: summary.seed,
    };
    const push = (
      score: string,
      chosenF1: number,
      chosenEpoch: number,
      oracleF1: number,
      oracleEpoch: number,
      candidates: number,
    ) =>
      out.push({
        ...base,
        score,
        chosenEpoch,
        oracleEpoch,
        chosenF1,
        oracleF1,
        regret: oracleF1 - chosenF1,
        candidates,
      });
    push(
      'last epoch',
      f1[f1.length - 1],
      Number(epochs[epochs.length - 1].epoch),
      f1[oracle],
      Number(epochs[oracle].epoch),
      epochs.length,
    );
    push(
      'random epoch',
      f1.reduce((a, b) => a + b, 0) / f1.length,
      NaN,
      f1[oracle],
      Number(epochs[oracle].epoch),
      epochs.length,
    );
    for (const key of scoreKeys) {
      const info = scoreInfo(key);
      const usable = epochs.filter((e) => Number.isFinite(numberOr(e[key])));
      if (usable.length === 0) continue;
      const usableF1 = usable.map((e) => numberOr(e.val_f1));
      const best = argmaxLate(usableF1);
      const chosen = argmaxLate(usable.map((e) => orient(numberOr(e[key]), info.direction)));
      push(
        key,
        usableF1[chosen],
        Number(usable[chosen].epoch),
        usableF1[best],
        Number(usable[best].epoch),
        usable.length,
      );
    }
  }
  return out;
}

export interface MethodChoice {
  backbone: string;
  trainProportion: number;
  seed: number;
  score: string;
  chosenMethod: string;
  oracleMethod: string;
  chosenF1: number;
  oracleF1: number;
  regret: number;
  /** Methods in the cell; the score could rank only those carrying it. */
  candidates: number;
  scored: number;
}

/**
 * For every (backbone, train proportion, seed) cell with at least two methods: the method each score picks
 * (largest oriented final-epoch value among the methods that log it) against the method with the best final
 * validation F1 (the oracle, over all methods of the cell), and the `random method` baseline (oracle − mean).
 */
export function methodSelection(
  records: ScoreRecord[],
  scoreKeys: readonly string[] = SCORES.map((s) => s.key),
  target: 'f1' | 'f2Ciw' = 'f1',
): MethodChoice[] {
  const cells = new Map<string, ScoreRecord[]>();
  for (const r of records) {
    const id = JSON.stringify([r.backbone, r.trainProportion, r.seed]);
    cells.set(id, [...(cells.get(id) ?? []), r]);
  }
  const out: MethodChoice[] = [];
  for (const members of cells.values()) {
    const valid = members.filter((m) => Number.isFinite(m[target]));
    if (valid.length < 2) continue;
    const oracle = valid.reduce((a, b) => (b[target] > a[target] ? b : a));
    const base = {
      backbone: valid[0].backbone,
      trainProportion: valid[0].trainProportion,
      seed: valid[0].seed,
      oracleMethod: oracle.method,
      oracleF1: oracle[target],
      candidates: valid.length,
    };
    const mean = valid.reduce((a, b) => a + b[target], 0) / valid.length;
    out.push({
      ...base,
      score: 'random method',
      chosenMethod: '(any)',
      chosenF1: mean,
      regret: oracle[target] - mean,
      scored: valid.length,
    });
    for (const key of scoreKeys) {
      const info = scoreInfo(key);
      const scored = valid.filter((m) => Number.isFinite(orient(m.scores[key] ?? NaN, info.direction)));
      if (scored.length === 0) continue;
      const chosen = scored.reduce((a, b) =>
        orient(b.scores[key], info.direction) > orient(a.scores[key], info.direction) ? b : a,
      );
      out.push({
        ...base,
        score: key,
        chosenMethod: chosen.method,
        chosenF1: chosen[target],
        regret: oracle[target] - chosen[target],
        scored: scored.length,
      });
    }
  }
  return out;
}

export interface RegretSummary {
  score: string;
  label: string;
  /** Mean F1 lost over the runs (or cells), with a 95 % t-interval (NaN with one). */
  regret: number;
  low: number;
  high: number;
  /** Share of runs (cells) where the choice matched the oracle's F1. */
  hitRate: number;
  n: number;
}

function labelOf(score: string): string {
  return SCORES.some((s) => s.key === score) ? scoreInfo(score).label : score;
}

/** Mean regret per score, best (lowest) first, baselines included. */
export function regretSummary(choices: Array<{ score: string; regret: number }>): RegretSummary[] {
  const byScore = tableOf(choices, ['score', 'regret'])
    .filter(aq.escape((d: { regret: number }) => Number.isFinite(d.regret)))
    .groupby('score')
    .rollup({ values: op.array_agg('regret') })
    .objects() as Array<{ score: string; values: number[] }>;
  const out: RegretSummary[] = [];
  for (const { score, values } of byScore) {
    const ci = meanCi(values);
    out.push({
      score,
      label: labelOf(score),
      regret: ci.mean,
      low: ci.low,
      high: ci.high,
      hitRate: values.filter((v) => v <= 1e-12).length / values.length,
      n: values.length,
    });
  }
  return out.sort((a, b) => a.regret - b.regret || a.score.localeCompare(b.score));
}

// ---------------------------------------------------------------------------------------------------------
// Seeds: mean ± CI and paired tests.

/**
 * Validation metric at the natural proportion per method × backbone × train proportion: mean ± 95 % t-interval
 * over seeds, ordered by metric, backbone, method and proportion.
 */
export function seedTable(rows: ResultRow[], metrics: readonly string[] = ['f1', 'f2Ciw']): aq.ColumnTable {
  const selected = rows.filter((r) => atNaturalProportion(r) && metrics.includes(r.metric));
  const summary = summarizeOverSeeds(selected, {
    by: ['metric', 'backbone', 'method', 'trainProportion'],
    value: 'value',
  });
  const cell = (s: { mean: number; halfWidth: number }) =>
    Number.isFinite(s.halfWidth) ? `${s.mean.toFixed(3)} ± ${s.halfWidth.toFixed(3)}` : s.mean.toFixed(3);
  const columns = ['metric', 'backbone', 'method', 'trainProportion', 'mean', 'low', 'high', 'n', 'cell'];
  return tableOf(
    summary.map((s) => ({ ...s, cell: cell(s) })),
    columns,
  )
    .orderby('metric', 'backbone', 'method', 'trainProportion')
    .reify();
}

export interface MethodTest {
  backbone: string;
  metric: string;
  methodA: string;
  methodB: string;
  /** mean(A − B) over matched (seed, train proportion) cells. */
  meanDifference: number;
  low: number;
  high: number;
  pValue: number;
  cells: number;
}

/**
 * Paired bootstrap tests between every pair of methods on each backbone, matching cells on (seed, train
 * proportion) — the same data, seed and imbalance, only the method differs. Pairs with fewer than 2 matched
 * cells are left out.
 */
export function pairedMethodTests(
  rows: ResultRow[],
  metric = 'f1',
  options: { resamples?: number; seed?: number } = {},
): MethodTest[] {
  const selected = rows.filter((r) => atNaturalProportion(r) && r.metric === metric);
  const out: MethodTest[] = [];
  for (const backbone of [...new Set(selected.map((r) => r.backbone))]) {
    const onBackbone = selected.filter((r) => r.backbone === backbone);
    const methods = [...new Set(onBackbone.map((r) => r.method))];
    for (let i = 0; i < methods.length; i++) {
      for (let j = i + 1; j < methods.length; j++) {
        const a = onBackbone.filter((r) => r.method === methods[i]);
        const b = onBackbone.filter((r) => r.method === methods[j]);
        const paired = pairCells(a, b, ['seed', 'trainProportion'], 'value');
        if (paired.a.length < 2) continue;
        const test = pairedBootstrapTest(paired.a, paired.b, {
          resamples: options.resamples ?? 2000,
          seed: options.seed ?? 42,
        });
        out.push({
          backbone,
          metric,
          methodA: methods[i],
          methodB: methods[j],
          meanDifference: test.meanDifference,
          low: test.low,
          high: test.high,
          pValue: test.pValue,
          cells: paired.a.length,
        });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Prose and files.

/** "RankMe (backbone)'s Spearman ρ with F1 over all 12 runs is 0.31 [−0.20, 0.70]: …". */
export function describeScoreCorrelation(row: ScoreCorrelation): string {
  const target = row.target === 'f1' ? 'F1' : 'F2_CIW';
  const scope = row.group === 'all' ? `over all ${row.n} runs` : `over the ${row.n} runs with ${row.group}`;
  if (!Number.isFinite(row.spearman))
    return `${row.label} against ${target} ${scope}: too few runs (or a constant value) for a correlation.`;
  const excludesZero = row.spearmanLow > 0 || row.spearmanHigh < 0;
  const reading = !excludesZero
    ? 'the interval contains zero, so no evidence that it ranks runs by downstream performance'
    : row.spearman > 0
      ? `it ranks runs as its direction (${row.direction} is better) predicts`
      : `it ranks runs against its direction (${row.direction} is better): the opposite reading would predict them`;
  const rho = `${signed(row.spearman)} [${signed(row.spearmanLow)}, ${signed(row.spearmanHigh)}]`;
  const tau = `${signed(row.kendall)} [${signed(row.kendallLow)}, ${signed(row.kendallHigh)}]`;
  return `${row.label}: Spearman ρ with ${target} ${scope} is ${rho}, Kendall τ-b ${tau}; ${reading}.`;
}

/** "ρ = 0.64 [0.50, 0.74]": a Spearman estimate with its interval. */
function rhoWithInterval(c: ScoreCorrelation): string {
  return `ρ = ${signed(c.spearman)} [${signed(c.spearmanLow)}, ${signed(c.spearmanHigh)}]`;
}

/**
 * The verdict on one dataset, from the pooled correlations with F1 and the two regret summaries: how many
 * scores have an interval above zero, the best one, RankMe's reading, and what selection by score costs.
 */
export function labelFreeVerdict(
  correlations: ScoreCorrelation[],
  checkpoint: RegretSummary[],
  method: RegretSummary[],
  dataset: string,
): string {
  const pooled = correlations.filter((c) => c.group === 'all' && c.target === 'f1' && Number.isFinite(c.spearman));
  if (pooled.length === 0)
    return (
      `**${dataset}:** too few runs for a correlation across runs (at least 3 with the score are needed); ` +
      'run a larger scale.'
    );
  const positive = pooled.filter((c) => c.spearmanLow > 0);
  const negative = pooled.filter((c) => c.spearmanHigh < 0);
  const best = [...pooled].sort((a, b) => b.spearman - a.spearman)[0];
  const rankme = pooled.find((c) => c.score === 'lf_rankme');
  const positiveNames = positive.length ? ` (${positive.map((c) => c.label).join(', ')})` : '';
  const parts = [
    `Of the ${pooled.length} scores with a correlation, ${positive.length} have a 95 % interval for Spearman ρ ` +
      `with F1 entirely above zero${positiveNames} and ${negative.length} entirely below`,
    `the highest is ${best.label}, ${rhoWithInterval(best)} over ${best.n} runs`,
  ];
  if (rankme) parts.push(`RankMe (large sample, backbone features) has ${rhoWithInterval(rankme)}`);
  const sentence = (name: string, summary: RegretSummary[], baseline: string) => {
    const scored = summary.filter((s) => !SELECTION_BASELINES.includes(s.score));
    const base = summary.find((s) => s.score === baseline);
    if (!scored.length || !base) return null;
    const bestScore = scored[0];
    const beats = scored.filter((s) => s.regret < base.regret - 1e-12).length;
    return (
      `choosing the ${name} by a score loses ${signed(bestScore.regret, 3)} F1 at best (${bestScore.label}) ` +
      `against ${signed(base.regret, 3)} for the ${baseline} baseline, ` +
      `and ${beats} of ${scored.length} scores do better than that baseline`
    );
  };
  const c = sentence('checkpoint', checkpoint, 'last epoch');
  const m = sentence('method', method, 'random method');
  if (c) parts.push(c);
  if (m) parts.push(m);
  return `**${dataset}:** ${parts.join('; ')}.`;
}

/** The pseudo-scores of the selection experiments: what a score has to beat. */
const SELECTION_BASELINES = ['last epoch', 'random epoch', 'random method'];

// ---------------------------------------------------------------------------------------------------------
// Notebook 08's tables, figures and sentences.

/** The columns of a correlation table written to file (every group). */
export const CORRELATION_COLUMNS = [
  'group',
  'score',
  'label',
  'direction',
  'target',
  'n',
  'spearman',
  'spearmanLow',
  'spearmanHigh',
  'kendall',
  'kendallLow',
  'kendallHigh',
];
/** The columns of a correlation table shown for the pooled group. */
export const POOLED_CORRELATION_COLUMNS = CORRELATION_COLUMNS.filter(
  (c) => !['group', 'score', 'direction'].includes(c),
);
export const REGRET_COLUMNS = ['label', 'regret', 'low', 'high', 'hitRate', 'n'];
export const PAIRED_TEST_COLUMNS = [
  'backbone',
  'metric',
  'methodA',
  'methodB',
  'meanDifference',
  'low',
  'high',
  'pValue',
  'cells',
];

/** What notebook 08 computes on one dataset: per-run records, correlations and the two regret summaries. */
export interface LabelFreeStudy {
  records: ScoreRecord[];
  correlations: ScoreCorrelation[];
  checkpoint: RegretSummary[];
  method: RegretSummary[];
}

/** Records, correlations (pooled and within `groupBy`) and selection regrets of finished runs. */
export function labelFreeStudy(
  runs: RunLog[],
  rows: ResultRow[],
  groupBy: CorrelationOptions['groupBy'],
): LabelFreeStudy {
  const records = finalScoreRecords(runs, rows);
  const correlations = scoreCorrelations(records, { targets: ['f1', 'f2Ciw'], groupBy });
  const checkpoint = regretSummary(checkpointSelection(runs));
  return { records, correlations, checkpoint, method: regretSummary(methodSelection(records)) };
}

/** The scores with their source and the direction read as better. */
export function scoresTable(): aq.ColumnTable {
  const described = SCORES.map((s) => ({ ...s, score: s.label, better: describeDirection(s.direction) }));
  return tableOf(described, ['key', 'score', 'source', 'better']);
}

/** The pooled ('all') correlations, for display. */
export function pooledCorrelationTable(correlations: ScoreCorrelation[]): aq.ColumnTable {
  return tableOf(
    correlations.filter((c) => c.group === 'all'),
    POOLED_CORRELATION_COLUMNS,
  );
}

const TARGET_LABELS: Record<string, string> = { f1: 'F1', f2Ciw: 'F2_CIW' };

/** The heatmap of every finite Spearman ρ (score × target, one panel per group), or null when there is none. */
export function correlationHeatmap(correlations: ScoreCorrelation[]): FigureSpec | null {
  const finite = correlations.filter((c) => Number.isFinite(c.spearman));
  if (!finite.length) return null;
  const cells = aq.from(finite.map((c) => ({ ...c, targetLabel: TARGET_LABELS[c.target] })));
  return heatmap(cells, {
    x: 'targetLabel',
    y: 'label',
    color: 'spearman',
    column: 'group',
    format: '.2f',
    colorDomain: [-1, 1],
    title: 'Spearman ρ of each label-free score (oriented) with validation performance',
    xTitle: 'target',
    yTitle: 'score',
    colorTitle: 'ρ',
    cellSize: 44,
  });
}

/** Why there is no correlation figure. */
export function noCorrelationNote(scale: string, runs: number): string {
  return (
    `*No group has 3 or more SSL runs with a score at the ${scale} scale (${runs} SSL runs): ` +
    'correlations need more runs; run the default scale.*'
  );
}

/** One bullet per correlation of RankMe (large sample and the paper's per-batch) with F1. */
export function rankMeBullets(correlations: ScoreCorrelation[]): string {
  const rankme = correlations.filter((c) => (c.score === 'lf_rankme' || c.score === 'rankme') && c.target === 'f1');
  return rankme.map((r) => '- ' + describeScoreCorrelation(r)).join('\n');
}

/** Checkpoint and method regrets in one table, with the experiment they come from. */
export function regretTable(checkpoint: RegretSummary[], method: RegretSummary[]): aq.ColumnTable {
  const tagged = [
    ...checkpoint.map((r) => ({ ...r, experiment: 'checkpoint' })),
    ...method.map((r) => ({ ...r, experiment: 'method' })),
  ];
  return tableOf(tagged, ['experiment', ...REGRET_COLUMNS]);
}

/** The heatmap of mean regret per score and experiment. */
export function regretHeatmap(table: aq.ColumnTable): FigureSpec {
  return heatmap(table, {
    x: 'experiment',
    y: 'label',
    color: 'regret',
    format: '.3f',
    scheme: 'oranges',
    title: 'F1 lost by choosing with a label-free score instead of validation labels',
    xTitle: 'what is chosen',
    yTitle: 'chosen by',
    colorTitle: 'mean regret',
    cellSize: 60,
  });
}

/** The captions of notebook 08's tables. */
export const CAPTIONS = {
  pooled: 'All SSL runs: Spearman ρ and Kendall τ-b with 95 % bootstrap intervals',
  checkpointRegret:
    'Checkpoint selection: F1 lost against the best validation epoch ' +
    '(mean, 95 % t-interval over runs; hit rate = share of runs where the choice was the best)',
  methodRegret: 'Method selection: F1 lost against the best method of each (backbone, proportion, seed) cell',
  seedTable: 'Validation metrics: mean and 95 % t-interval over seeds',
  pairedTests: 'Paired bootstrap tests of validation F1, A − B over matched (seed, proportion) cells',
  fashionPooled: 'Fashion-MNIST, all runs: Spearman ρ and Kendall τ-b with 95 % bootstrap intervals',
  fashionCheckpoint: 'Fashion-MNIST: checkpoint-selection regret',
};

/** Why there is no method-selection table. */
export function noMethodChoiceNote(scale: string): string {
  return (
    `*No (backbone, proportion, seed) cell has two SSL methods at the ${scale} scale, so there is no method ` +
    `to choose.*`
  );
}

/** Why a one-seed scale has no intervals over seeds. */
export function oneSeedNote(scale: string, seeds: number[]): string {
  return (
    `*This scale runs one seed (${seeds.join(', ')}; \`SEED_PLANS.${scale}\` in lib/experiments/selection.ts), ` +
    "so there are no intervals over seeds and no paired tests: every number above is one run's. " +
    'Set more seeds there to get them.*'
  );
}

/** Mean ± CI over seeds of one metric, methods as rows and training proportions as columns. */
export function seedWideTable(seedCells: aq.ColumnTable, metric: string): aq.ColumnTable {
  return wideTable(whereEquals(seedCells, { metric }), {
    rows: ['backbone', 'method'],
    columns: 'trainProportion',
    value: 'cell',
    columnLabel: (p) => percent(Number(p)),
  });
}

/** "Validation F1 at 45 %: mean ± 95 % CI over seeds 42, 43, 44". */
export function seedCaption(metric: string, seeds: number[]): string {
  return `Validation ${TARGET_LABELS[metric]} at 45 %: mean ± 95 % CI over seeds ${seeds.join(', ')}`;
}

/** How many method pairs differ with an interval excluding zero, and which. */
export function pairedTestsSentence(tests: MethodTest[]): string {
  const significant = tests.filter((t) => t.low > 0 || t.high < 0);
  const describe = (t: MethodTest) =>
    `${t.methodA} − ${t.methodB} on ${t.backbone} = ${t.meanDifference.toFixed(3)} ` +
    `[${t.low.toFixed(3)}, ${t.high.toFixed(3)}]`;
  const which = significant.length ? ': ' + significant.map(describe).join('; ') : '';
  return (
    `${significant.length} of ${tests.length} method pairs differ in F1 with a 95 % interval excluding ` +
    `zero${which}.`
  );
}

/** The paper's finding that RankMe does not predict F1, read on our pooled synthetic runs ('' without them). */
export function rankMeAgainstPaper(correlations: ScoreCorrelation[]): string {
  const rankme = correlations.find((c) => c.score === 'lf_rankme' && c.target === 'f1' && c.group === 'all');
  if (!rankme || !Number.isFinite(rankme.spearman)) return '';
  const agrees = !(rankme.spearmanLow > 0);
  const interval = `[${rankme.spearmanLow.toFixed(2)}, ${rankme.spearmanHigh.toFixed(2)}]`;
  const reading = agrees
    ? ', an interval that does not exclude zero or lies below it'
    : ', an interval above zero, unlike the paper';
  return (
    `The paper found that RankMe does not predict F1; on our synthetic runs ${agrees ? 'this holds' : 'it does'}: ` +
    `ρ = ${rankme.spearman.toFixed(2)} ${interval} over ${rankme.n} runs${reading}.`
  );
}

/** Notebook 08's conclusion: the verdict on each dataset and RankMe against the paper, as markdown. */
export function labelFreeConclusions(sewer: LabelFreeStudy, fashion: LabelFreeStudy | null, scale: string): string {
  const verdicts = [
    labelFreeVerdict(
      sewer.correlations,
      sewer.checkpoint,
      sewer.method,
      `Synthetic sewer data, ${scale} scale, SSL runs`,
    ),
    fashion
      ? labelFreeVerdict(
          fashion.correlations,
          fashion.checkpoint,
          fashion.method,
          `Fashion-MNIST, ${scale} scale, all ${fashion.records.length} runs pooled`,
        )
      : '**Fashion-MNIST:** not analysed at the smoke scale (one run).',
    rankMeAgainstPaper(sewer.correlations),
  ];
  return verdicts.filter((v) => v !== '').join('\n\n');
}

/** Write `<dir>/<name>.md` (markdown) and `<dir>/<name>.csv`, so tables land beside the figures. */
export function writeTableFiles(
  table: aq.ColumnTable,
  dir: string,
  name: string,
  options: { digits?: number; caption?: string } = {},
): { markdown: string; csv: string } {
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new Error(`writeTableFiles: table name "${name}" may only contain letters, digits, '.', '_' and '-'`);
  fs.mkdirSync(dir, { recursive: true });
  const markdown = path.join(dir, `${name}.md`);
  const csv = path.join(dir, `${name}.csv`);
  fs.writeFileSync(
    markdown,
    `${options.caption ? `**${options.caption}**\n\n` : ''}${toMarkdown(table, { digits: options.digits ?? 3 })}\n`,
  );
  fs.writeFileSync(csv, table.toCSV());
  return { markdown, csv };
}
