/**
 * Notebook 09's analysis: how much of the F1 drop on imbalanced validation sets is a threshold artefact?
 *
 * For each run and each validation proportion, the decision rules of eval/calibration.ts side by side:
 * - `fixed`: the paper's logit > 0;
 * - `priorShift`: logit + logit(π_deploy) − logit(π_eff) > 0, with π_eff from the training defect rate and the
 *   BCE's pos_weight (0.5 for the paper's pos_weight = n_neg/n_pos) and π_deploy the validation set's nominal
 *   defect proportion (what a deployment would assume);
 * - `trainF1`, `trainF2`: the threshold maximising F1 (F2) on the run's own training subset;
 * - `evalOracle`: the threshold maximising F1 on the validation set itself. It uses the labels it is scored on,
 *   so it is not a deployable rule: it bounds what any threshold could recover.
 * plus the threshold-free AUROC and AUPRC of the validation set.
 *
 * `loadRunCalibrationInput` (the only loader) reads a run's predictions.json and the labels and codes of its
 * records; everything else is pure.
 *
 * @example
 *   const inputs = await loadCalibrationInputs(resultsDir, configs);
 *   const rows = inputs.flatMap(calibrationRows);           // one row per run × eval proportion × rule
 *   const gains = recoveredTable(rows);                     // F1(rule) − F1(fixed) per cell
 *   thresholdArtefactSummary(rows).sentence;
 */
import * as fs from 'fs';
import * as path from 'path';
import * as aq from 'arquero';
import { type RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import { readJson } from '../runs/store';
import { bestThreshold, compareCalibrations, type Split } from '../eval/calibration';
import { binaryMetrics } from '../eval/metrics';
import { loadSplits } from '../train/data';
import type { DatasetSplit, SewerRecord } from '../data/types';
import { methodLabel, percent, sameProportion } from './labels';
import { NATURAL_PROPORTION } from './table1';
import { tableOf } from './tidy';

export const RULES = ['fixed', 'priorShift', 'trainF1', 'trainF2', 'evalOracle'] as const;
export type RuleName = (typeof RULES)[number];
export const RULE_LABELS: Record<RuleName, string> = {
  fixed: 'logit > 0 (paper)',
  priorShift: 'prior-shift corrected',
  trainF1: 'train-split F1 threshold',
  trainF2: 'train-split F2 threshold',
  evalOracle: 'best threshold on the val set (bound)',
};

export interface RunIdentity {
  runId: string;
  method: string;
  backbone: string;
  trainProportion: number;
  seed: number;
}

export interface CalibrationInput extends RunIdentity {
  train: Split;
  evalSets: Array<{ proportion: number; split: Split }>;
  /** Defect rate of the training subset. */
  trainPrior: number;
  /** pos_weight of the training BCE (n_neg / n_pos). */
  posWeight: number;
}

export interface CalibrationRow extends RunIdentity {
  evalProportion: number;
  rule: RuleName;
  threshold: number;
  f1: number;
  f2Ciw: number;
  precision: number;
  recall: number;
  auroc: number;
  auprc: number;
}

/** One row per eval set × rule for one run. */
export function calibrationRows(input: CalibrationInput): CalibrationRow[] {
  const identity: RunIdentity = {
    runId: input.runId,
    method: input.method,
    backbone: input.backbone,
    trainProportion: input.trainProportion,
    seed: input.seed,
  };
  const out: CalibrationRow[] = [];
  for (const { proportion, split } of input.evalSets) {
    const c = compareCalibrations(input.train, split, {
      trainPrior: input.trainPrior,
      deployPrior: proportion,
      posWeight: input.posWeight,
    });
    const common = { ...identity, evalProportion: proportion, auroc: c.auroc, auprc: c.auprc };
    const row = (
      rule: RuleName,
      threshold: number,
      m: { f1: number; f2Ciw: number; precision: number; recall: number },
    ) => out.push({ ...common, rule, threshold, f1: m.f1, f2Ciw: m.f2Ciw, precision: m.precision, recall: m.recall });
    row('fixed', 0, c.fixed);
    row('priorShift', c.priorShiftThreshold, c.priorShift);
    row('trainF1', c.trainF1.threshold, c.trainF1.evaluation);
    row('trainF2', c.trainF2.threshold, c.trainF2.evaluation);
    const positives = Array.from(split.labels as ArrayLike<number>).reduce((a, b) => a + b, 0);
    if (positives > 0) {
      const best = bestThreshold(split.labels, split.logits, { beta: 1 });
      row(
        'evalOracle',
        best.threshold,
        binaryMetrics(split.labels, split.logits, { threshold: best.threshold, codes: split.codes }),
      );
    }
  }
  return out;
}

/** F1 (or another metric) of every rule minus the fixed rule's, per run × eval proportion. */
export function recoveredRows(
  rows: CalibrationRow[],
  metric: 'f1' | 'f2Ciw' = 'f1',
): Array<RunIdentity & { evalProportion: number; rule: RuleName; gain: number; value: number; fixed: number }> {
  const fixed = new Map<string, number>();
  for (const r of rows) if (r.rule === 'fixed') fixed.set(`${r.runId}|${r.evalProportion}`, r[metric]);
  const out: Array<
    RunIdentity & { evalProportion: number; rule: RuleName; gain: number; value: number; fixed: number }
  > = [];
  for (const r of rows) {
    if (r.rule === 'fixed') continue;
    const base = fixed.get(`${r.runId}|${r.evalProportion}`);
    if (base === undefined) continue;
    out.push({
      runId: r.runId,
      method: r.method,
      backbone: r.backbone,
      trainProportion: r.trainProportion,
      seed: r.seed,
      evalProportion: r.evalProportion,
      rule: r.rule,
      gain: r[metric] - base,
      value: r[metric],
      fixed: base,
    });
  }
  return out;
}

function meanOf(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}

/**
 * Heatmap table for one backbone: rows "<method> <train %>", columns the validation proportion, panels the
 * rules; `value` is the mean over seeds of `field` (a metric, or `gain` from `recoveredRows`).
 */
export function calibrationHeatmapTable(
  rows: ReadonlyArray<RunIdentity & { evalProportion: number; rule: string }>,
  options: { backbone: string; field: string; rules?: readonly string[] },
): aq.ColumnTable {
  const groups = new Map<
    string,
    { method: string; trainProportion: number; evalProportion: number; rule: string; values: number[] }
  >();
  for (const r of rows) {
    if (r.backbone !== options.backbone || (options.rules && !options.rules.includes(r.rule))) continue;
    const key = JSON.stringify([r.rule, r.method, r.trainProportion, r.evalProportion]);
    const g = groups.get(key) ?? {
      method: r.method,
      trainProportion: r.trainProportion,
      evalProportion: r.evalProportion,
      rule: r.rule,
      values: [],
    };
    g.values.push(Number((r as unknown as Record<string, unknown>)[options.field]));
    groups.set(key, g);
  }
  const ruleOrder = (rule: string) => (RULES as readonly string[]).indexOf(rule);
  const records = [...groups.values()]
    .map((g) => ({
      rule: g.rule,
      ruleLabel: RULE_LABELS[g.rule as RuleName] ?? g.rule,
      method: g.method,
      trainProportion: g.trainProportion,
      evalProportion: g.evalProportion,
      row: `${methodLabel(g.method)} ${percent(g.trainProportion)}`,
      value: meanOf(g.values),
      n: g.values.filter(Number.isFinite).length,
    }))
    .sort(
      (a, b) =>
        ruleOrder(a.rule) - ruleOrder(b.rule) ||
        a.method.localeCompare(b.method) ||
        a.trainProportion - b.trainProportion ||
        a.evalProportion - b.evalProportion,
    );
  const columns = ['rule', 'ruleLabel', 'method', 'trainProportion', 'evalProportion', 'row', 'value', 'n'];
  return aq.table(Object.fromEntries(columns.map((c) => [c, records.map((r) => (r as Record<string, unknown>)[c])])));
}

export interface ArtefactSummary {
  /** The most imbalanced validation proportion present. */
  lowProportion: number;
  /** Mean F1 (fixed rule) at the natural and at the lowest proportion, over the runs that have both. */
  naturalF1: number;
  lowF1: number;
  /** Mean F1 at the lowest proportion under each rule. */
  lowF1ByRule: Record<string, number>;
  /** (rule − fixed) / (natural − low): share of the drop recovered, per rule (NaN when there is no drop). */
  recoveredShare: Record<string, number>;
  /** AUROC and AUPRC at the natural and lowest proportions (threshold-free). */
  auroc: { natural: number; low: number };
  auprc: { natural: number; low: number };
  runs: number;
  sentence: string;
}

/** 0.4 → "40 %", −0.05 → "−5 %". */
function fmtShare(share: number): string {
  return `${Math.round(share * 100)} %`.replace(/^-/, '−');
}

function fmt(value: number, digits = 3): string {
  return Number.isFinite(value) ? value.toFixed(digits).replace(/^-/, '−') : 'undefined';
}

/**
 * The answer to "how much of the F1 drop is a threshold artefact", from the runs that were validated at the
 * natural proportion and at a lower one: the drop is mean F1(fixed, natural) − mean F1(fixed, lowest); each
 * rule's recovered share is its mean gain at the lowest proportion over that drop. `evalOracle`'s share bounds
 * the part any threshold can recover; the rest is the classifier's ranking (AUPRC) at that prevalence.
 */
export function thresholdArtefactSummary(
  rows: CalibrationRow[],
  options: { methods?: readonly string[]; backbone?: string } = {},
): ArtefactSummary {
  const selected = rows.filter(
    (r) =>
      (!options.methods || options.methods.includes(r.method)) &&
      (!options.backbone || r.backbone === options.backbone),
  );
  const proportions = [...new Set(selected.map((r) => r.evalProportion))].sort((a, b) => a - b);
  const low = proportions[0];
  const natural = proportions.find((p) => sameProportion(p, NATURAL_PROPORTION));
  const empty: ArtefactSummary = {
    lowProportion: low ?? NaN,
    naturalF1: NaN,
    lowF1: NaN,
    lowF1ByRule: {},
    recoveredShare: {},
    auroc: { natural: NaN, low: NaN },
    auprc: { natural: NaN, low: NaN },
    runs: 0,
    sentence: 'No runs validated both at the natural proportion and at a lower one: nothing to compare.',
  };
  if (natural === undefined || low === undefined || low >= natural) return empty;
  const runIds = [...new Set(selected.map((r) => r.runId))].filter(
    (id) =>
      selected.some((r) => r.runId === id && r.rule === 'fixed' && r.evalProportion === natural) &&
      selected.some((r) => r.runId === id && r.rule === 'fixed' && r.evalProportion === low),
  );
  if (runIds.length === 0) return empty;
  const ids = new Set(runIds);
  const at = (proportion: number, rule: string, field: 'f1' | 'auroc' | 'auprc') =>
    meanOf(
      selected
        .filter((r) => ids.has(r.runId) && r.evalProportion === proportion && r.rule === rule)
        .map((r) => r[field]),
    );
  const naturalF1 = at(natural, 'fixed', 'f1');
  const lowF1 = at(low, 'fixed', 'f1');
  const drop = naturalF1 - lowF1;
  const lowF1ByRule: Record<string, number> = {};
  const recoveredShare: Record<string, number> = {};
  for (const rule of RULES) {
    lowF1ByRule[rule] = at(low, rule, 'f1');
    recoveredShare[rule] = drop > 1e-9 ? (lowF1ByRule[rule] - lowF1) / drop : NaN;
  }
  const summary = {
    lowProportion: low,
    naturalF1,
    lowF1,
    lowF1ByRule,
    recoveredShare,
    auroc: { natural: at(natural, 'fixed', 'auroc'), low: at(low, 'fixed', 'auroc') },
    auprc: { natural: at(natural, 'fixed', 'auprc'), low: at(low, 'fixed', 'auprc') },
    runs: runIds.length,
  };
  const share = (rule: RuleName) => {
    const ofDrop = Number.isFinite(recoveredShare[rule]) ? ` (${fmtShare(recoveredShare[rule])} of the drop)` : '';
    return `${fmt(lowF1ByRule[rule])}${ofDrop}`;
  };
  let sentence: string;
  if (!(drop > 1e-9)) {
    sentence =
      `Over ${runIds.length} runs, F1 with the fixed threshold does not drop from the natural ` +
      `${percent(natural)} (${fmt(naturalF1)}) to ${percent(low)} (${fmt(lowF1)}), so there is no drop to ` +
      `attribute.`;
  } else {
    const bound = recoveredShare.evalOracle;
    sentence = [
      `Over ${runIds.length} runs, F1 with the paper's fixed threshold falls from ${fmt(naturalF1)} at ` +
        `${percent(natural)} defects to ${fmt(lowF1)} at ${percent(low)} (a drop of ${fmt(drop)}).`,
      `At ${percent(low)}, the prior-shift correction gives ${share('priorShift')}, the train-split F1 threshold ` +
        `${share('trainF1')}, the train-split F2 threshold ${share('trainF2')}.`,
      `Even the best threshold chosen on the validation set itself reaches only ${share('evalOracle')}: at most ` +
        `${Number.isFinite(bound) ? fmtShare(bound) : 'an undefined share'} of the drop is a threshold ` +
        `artefact; the rest is what the classifier's ranking allows at that prevalence (AUROC ` +
        `${fmt(summary.auroc.natural)} → ${fmt(summary.auroc.low)}, which the prevalence does not change in ` +
        `expectation; AUPRC ${fmt(summary.auprc.natural)} → ${fmt(summary.auprc.low)}, which it does).`,
    ].join(' ');
  }
  return { ...summary, sentence };
}

// ---------------------------------------------------------------------------------------------------------
// Loading a run's predictions.

interface PredictionsFile {
  train: { indices: number[]; logits: number[] };
  val: { indices: number[]; logits: number[] };
  evalSets: Array<{ proportion: number; indices: number[] }>;
}

function splitOf(records: SewerRecord[], logitsByIndex: Map<number, number>, file: string, part: string): Split {
  const labels = new Float64Array(records.length);
  const logits = new Float64Array(records.length);
  const codes: Uint8Array[] = [];
  records.forEach((r, i) => {
    const logit = logitsByIndex.get(r.index);
    if (logit === undefined || !Number.isFinite(logit))
      throw new Error(`${file}: ${part} has no finite logit for record index ${r.index}`);
    labels[i] = r.defect;
    logits[i] = logit;
    codes.push(r.codes);
  });
  return { labels, logits, codes };
}

function recordsAt(split: DatasetSplit, indices: number[], file: string, part: string): SewerRecord[] {
  const byIndex = new Map(split.records.map((r) => [r.index, r]));
  return indices.map((index, i) => {
    const record = byIndex.get(index);
    if (!record) throw new Error(`${file}: ${part}.indices[${i}] = ${index} is not a record of the split`);
    return record;
  });
}

/** Pure: a run's predictions file plus its dataset's splits → the calibration input. */
export function calibrationInputFrom(
  config: RunConfig,
  predictions: PredictionsFile,
  splits: { train: DatasetSplit; val: DatasetSplit },
  file = 'predictions.json',
): CalibrationInput {
  for (const part of ['train', 'val'] as const) {
    const p = predictions[part];
    if (!p || !Array.isArray(p.indices) || !Array.isArray(p.logits) || p.indices.length !== p.logits.length) {
      throw new Error(`${file}: field "${part}" must hold indices and logits of equal length`);
    }
  }
  if (!Array.isArray(predictions.evalSets)) throw new Error(`${file}: field "evalSets" is missing`);
  const trainLogits = new Map(predictions.train.indices.map((index, i) => [index, predictions.train.logits[i]]));
  const valLogits = new Map(predictions.val.indices.map((index, i) => [index, predictions.val.logits[i]]));
  const trainRecords = recordsAt(splits.train, predictions.train.indices, file, 'train');
  const train = splitOf(trainRecords, trainLogits, file, 'train');
  const positives = trainRecords.filter((r) => r.defect === 1).length;
  const negatives = trainRecords.length - positives;
  if (positives === 0 || negatives === 0)
    throw new Error(
      `${file}: the training predictions hold ${positives} defects and ${negatives} normal images; both are needed`,
    );
  const evalSets = predictions.evalSets.map((set, k) => ({
    proportion: set.proportion,
    split: splitOf(
      recordsAt(splits.val, set.indices, file, `evalSets[${k}]`),
      valLogits,
      file,
      `evalSets[${k}] (proportion ${set.proportion})`,
    ),
  }));
  return {
    runId: runId(config),
    method: config.method,
    backbone: config.backbone,
    trainProportion: config.trainProportion,
    seed: config.seed,
    train,
    evalSets,
    trainPrior: positives / trainRecords.length,
    posWeight: negatives / positives,
  };
}

/**
 * The calibration inputs of every finished run of `configs` in `resultsDir` that wrote predictions.json
 * (runs without it are skipped and listed in `missing`). Dataset splits are read once per dataset.
 */
export async function loadCalibrationInputs(
  resultsDir: string,
  configs: RunConfig[],
): Promise<{ inputs: CalibrationInput[]; missing: string[] }> {
  const splitCache = new Map<string, { train: DatasetSplit; val: DatasetSplit }>();
  const inputs: CalibrationInput[] = [];
  const missing: string[] = [];
  for (const config of configs) {
    const id = runId(config);
    const dir = path.join(resultsDir, id);
    const file = path.join(dir, 'predictions.json');
    const statusFile = path.join(dir, 'status.json');
    const done = fs.existsSync(statusFile) && readJson<{ state: string }>(statusFile).state === 'done';
    if (!done || !fs.existsSync(file)) {
      missing.push(id);
      continue;
    }
    const key = JSON.stringify(config.dataset);
    let splits = splitCache.get(key);
    if (!splits) {
      const loaded = await loadSplits(config);
      splits = { train: loaded.train, val: loaded.val };
      splitCache.set(key, splits);
    }
    inputs.push(calibrationInputFrom(config, readJson<PredictionsFile>(file), splits, file));
  }
  return { inputs, missing };
}

/** The columns of `artefactSummaryTable`. */
export const ARTEFACT_SUMMARY_COLUMNS = [
  'scope',
  'runs',
  'lowProportion',
  'naturalF1',
  'lowF1',
  'priorShift',
  'trainF1',
  'trainF2',
  'evalOracle',
  'aurocNatural',
  'aurocLow',
  'auprcNatural',
  'auprcLow',
];

/** One row per scope with runs: F1 at both ends, the share each rule recovers, AUROC/AUPRC at both ends. */
export function artefactSummaryTable(summaries: Array<ArtefactSummary & { scope: string }>): aq.ColumnTable {
  const records = summaries
    .filter((s) => s.runs > 0)
    .map((s) => ({
      ...s,
      ...s.recoveredShare,
      aurocNatural: s.auroc.natural,
      aurocLow: s.auroc.low,
      auprcNatural: s.auprc.natural,
      auprcLow: s.auprc.low,
    }));
  return tableOf(records, ARTEFACT_SUMMARY_COLUMNS);
}
