/**
 * Binary anomaly-detection metrics with defect = positive class (docs/reference.md §8), on plain arrays.
 *
 * - prediction = logit > threshold (default 0, i.e. probability > 0.5);
 * - precision, recall, F1 of the defect class and F1_Normal (F1 of the normal class); a ratio with a
 *   zero denominator is 0 (scikit-learn's zero_division=0, torchmetrics' behaviour);
 * - F2_CIW as the paper's code computes it (binary): a predicted defect "predicts" every code its image
 *   carries, so per code F2_k = 5R_k/(4 + R_k) (0 when no image carries k), weighted by the CIW over all
 *   17 codes;
 * - `f2CiwPresent`: the same, but averaged only over the codes some image of the set carries. On the real
 *   Sewer-ML every code occurs in every evaluation set, so it equals F2_CIW there; on small sets (the
 *   synthetic CPU scale, rare proportions, Fashion-MNIST with one code) absent codes would otherwise count
 *   as F2 = 0 and drag F2_CIW down for reasons unrelated to the classifier;
 * - F2_CIW, official multi-label definition (Sewer-ML metrics.py): per-code precision and recall,
 *   F2_k = 5P_kR_k/(4P_k + R_k), NaN → 0, same weights. A binary classifier cannot say which code it saw,
 *   so for it a predicted defect flags all 17 codes; `f2CiwMultiLabel` also takes real per-code predictions;
 * - AUROC (trapezoidal ROC area, tied scores handled as scikit-learn: one ROC point per distinct score)
 *   and AUPRC (scikit-learn's average_precision_score: Σ (R_n − R_{n−1})·P_n over distinct scores);
 *   both are NaN when undefined (only one class present; scikit-learn raises for AUROC and returns 0
 *   with a warning for AUPRC without positives).
 *
 * @example
 *   const m = binaryMetrics(labels, logits, { codes: records.map((r) => r.codes) });
 *   m.f1; m.f2Ciw; m.auroc; m.tp;
 */
import { SEWER_CIW, SEWER_CODES } from '../data/sewerml';

export type Numbers = ArrayLike<number>;

export interface BinaryMetricOptions {
  /**
   * Per-image code flags for F2_CIW, in SEWER_CODES order: one 17-length array per image (e.g. each
   * record's `codes`) or one flat N×17 array. Without it both F2_CIW values are NaN.
   */
  codes?: ArrayLike<number>[] | Numbers;
  /** Decision threshold on the logit; prediction = logit > threshold. Default 0. */
  threshold?: number;
  /** Class-importance weights (default SEWER_CIW). */
  weights?: readonly number[];
}

export interface ConfusionCounts {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

export interface BinaryMetrics extends ConfusionCounts {
  precision: number;
  recall: number;
  f1: number;
  f1Normal: number;
  f2Ciw: number;
  f2CiwMultiLabel: number;
  /** F2_CIW over the codes present in the evaluated set only. */
  f2CiwPresent: number;
  auroc: number;
  auprc: number;
  n: number;
  threshold: number;
}

function ratio(num: number, den: number): number {
  return den === 0 ? 0 : num / den;
}

function fBeta(precision: number, recall: number, beta: number): number {
  const b2 = beta * beta;
  const den = b2 * precision + recall;
  return den === 0 ? 0 : ((1 + b2) * precision * recall) / den;
}

function checkLabels(labels: Numbers, scores: Numbers, fn: string): void {
  if (labels.length !== scores.length) {
    throw new Error(`${fn}: labels has ${labels.length} entries but scores/logits has ${scores.length}`);
  }
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`${fn}: labels[${i}] = ${labels[i]} is not 0 or 1`);
    if (Number.isNaN(scores[i])) throw new Error(`${fn}: score at row ${i} is NaN`);
  }
}

export function confusionCounts(labels: Numbers, logits: Numbers, threshold = 0): ConfusionCounts {
  checkLabels(labels, logits, 'confusionCounts');
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const predicted = logits[i] > threshold;
    if (labels[i] === 1) predicted ? tp++ : fn++;
    else predicted ? fp++ : tn++;
  }
  return { tp, fp, tn, fn };
}

/** Distinct-score groups in descending score order: cumulative (tps, fps) after each group. */
function cumulativeByScore(labels: Numbers, scores: Numbers): { tps: number[]; fps: number[] } {
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const tps: number[] = [];
  const fps: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let j = 0; j < order.length; j++) {
    const i = order[j];
    if (labels[i] === 1) tp++;
    else fp++;
    const last = j === order.length - 1 || scores[order[j + 1]] !== scores[i];
    if (last) {
      tps.push(tp);
      fps.push(fp);
    }
  }
  return { tps, fps };
}

/** Area under the ROC curve; NaN unless both classes are present. */
export function auroc(labels: Numbers, scores: Numbers): number {
  checkLabels(labels, scores, 'auroc');
  const { tps, fps } = cumulativeByScore(labels, scores);
  const pos = tps.length ? tps[tps.length - 1] : 0;
  const neg = fps.length ? fps[fps.length - 1] : 0;
  if (pos === 0 || neg === 0) return NaN;
  let area = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let j = 0; j < tps.length; j++) {
    area += ((fps[j] - prevFp) * (tps[j] + prevTp)) / 2;
    prevTp = tps[j];
    prevFp = fps[j];
  }
  return area / (pos * neg);
}

/** Average precision as scikit-learn computes it; NaN without positives. */
export function averagePrecision(labels: Numbers, scores: Numbers): number {
  checkLabels(labels, scores, 'averagePrecision');
  const { tps, fps } = cumulativeByScore(labels, scores);
  const pos = tps.length ? tps[tps.length - 1] : 0;
  if (pos === 0) return NaN;
  let ap = 0;
  let prevRecall = 0;
  for (let j = 0; j < tps.length; j++) {
    const recall = tps[j] / pos;
    const precision = tps[j] / (tps[j] + fps[j]);
    ap += (recall - prevRecall) * precision;
    prevRecall = recall;
  }
  return ap;
}

/** Read code flags as rows of 17 from either layout. */
function codeRows(codes: ArrayLike<number>[] | Numbers, n: number, k: number): (i: number, c: number) => number {
  if (codes.length === n && n > 0 && typeof (codes as ArrayLike<number>[])[0] === 'object') {
    const rows = codes as ArrayLike<number>[];
    rows.forEach((r, i) => {
      if (r.length !== k) throw new Error(`binaryMetrics: codes[${i}] has ${r.length} entries, expected ${k}`);
    });
    return (i, c) => rows[i][c];
  }
  const flat = codes as Numbers;
  if (flat.length !== n * k) {
    throw new Error(
      `binaryMetrics: codes must be ${n} rows of ${k} flags (or a flat array of ${n * k}), got length ${flat.length}`,
    );
  }
  return (i, c) => flat[i * k + c];
}

function weightedMean(values: number[], weights: readonly number[]): number {
  let num = 0;
  let den = 0;
  values.forEach((v, i) => {
    num += v * weights[i];
    den += weights[i];
  });
  return num / den;
}

/**
 * Official Sewer-ML F2_CIW from per-code labels and per-code 0/1 predictions (both N×K, as accessors or
 * flat arrays of N·K): per-code precision (0 without predictions) and recall, F2 NaN → 0, CIW-weighted.
 */
export function f2CiwMultiLabel(
  n: number,
  codeLabel: (i: number, k: number) => number,
  codePredicted: (i: number, k: number) => number,
  weights: readonly number[] = SEWER_CIW,
): number {
  const f2: number[] = [];
  for (let k = 0; k < weights.length; k++) {
    let nc = 0;
    let np = 0;
    let ng = 0;
    for (let i = 0; i < n; i++) {
      const y = codeLabel(i, k) > 0 ? 1 : 0;
      const p = codePredicted(i, k) > 0 ? 1 : 0;
      ng += y;
      np += p;
      nc += y & p;
    }
    f2.push(fBeta(ratio(nc, np), ratio(nc, ng), 2));
  }
  return weightedMean(f2, weights);
}

/**
 * F2_CIW as the paper's code computes it in the binary setting: the binary prediction is expanded to the
 * image's own codes, so there are no false positives and F2_k = 5R_k/(4 + R_k).
 */
export function f2CiwBinary(
  n: number,
  codeLabel: (i: number, k: number) => number,
  predictedDefect: (i: number) => boolean,
  weights: readonly number[] = SEWER_CIW,
  absentCodes: 'zero' | 'skip' = 'zero',
): number {
  const f2: number[] = [];
  const used: number[] = [];
  for (let k = 0; k < weights.length; k++) {
    let carrying = 0;
    let found = 0;
    for (let i = 0; i < n; i++) {
      if (codeLabel(i, k) > 0) {
        carrying++;
        if (predictedDefect(i)) found++;
      }
    }
    const recall = ratio(found, carrying);
    if (carrying === 0 && absentCodes === 'skip') continue;
    f2.push(carrying === 0 ? 0 : fBeta(found > 0 ? 1 : 0, recall, 2));
    used.push(weights[k]);
  }
  return used.length === 0 ? NaN : weightedMean(f2, used);
}

export function binaryMetrics(labels: Numbers, logits: Numbers, options: BinaryMetricOptions = {}): BinaryMetrics {
  const threshold = options.threshold ?? 0;
  const weights = options.weights ?? SEWER_CIW;
  const counts = confusionCounts(labels, logits, threshold);
  const { tp, fp, tn, fn } = counts;
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  const precisionNormal = ratio(tn, tn + fn);
  const recallNormal = ratio(tn, tn + fp);
  const n = labels.length;
  let f2Ciw = NaN;
  let f2CiwMl = NaN;
  let f2CiwPresent = NaN;
  if (options.codes) {
    if (weights.length !== SEWER_CODES.length && options.weights === undefined) {
      throw new Error('binaryMetrics: SEWER_CIW must hold one weight per code');
    }
    const label = codeRows(options.codes, n, weights.length);
    const predicted = (i: number) => logits[i] > threshold;
    f2Ciw = f2CiwBinary(n, label, predicted, weights);
    f2CiwMl = f2CiwMultiLabel(n, label, (i) => (predicted(i) ? 1 : 0), weights);
    f2CiwPresent = f2CiwBinary(n, label, predicted, weights, 'skip');
  }
  return {
    ...counts,
    precision,
    recall,
    f1: fBeta(precision, recall, 1),
    f1Normal: fBeta(precisionNormal, recallNormal, 1),
    f2Ciw,
    f2CiwMultiLabel: f2CiwMl,
    f2CiwPresent,
    auroc: auroc(labels, logits),
    auprc: averagePrecision(labels, logits),
    n,
    threshold,
  };
}
