/**
 * Decision thresholds for imbalanced deployment, beside the paper's fixed "logit > 0".
 *
 * (a) Prior-shift correction of the logit. A classifier whose logit s(x) is the log posterior odds under
 * a training defect prior π_t, log[p_t(1|x)/p_t(0|x)] = log[p(x|1)/p(x|0)] + logit(π_t), becomes the log
 * odds under a deployment prior π_d by s'(x) = s(x) − logit(π_t) + logit(π_d) (the likelihood ratio does
 * not change; logit(π) = log(π/(1−π))).
 *
 * The effective training prior. The paper trains with BCEWithLogits(pos_weight = w). Pointwise, the
 * expected loss at x is −w·p_t(1|x)·log σ(s) − p_t(0|x)·log(1 − σ(s)); setting its derivative in s to zero
 * gives σ(s) = w·p_t(1|x) / (w·p_t(1|x) + p_t(0|x)), i.e. s = log[p(x|1)/p(x|0)] + logit(π_t) + log w.
 * So the weighted model is calibrated for the prior π_eff with logit(π_eff) = logit(π_t) + log w,
 * π_eff = w·π_t / (w·π_t + 1 − π_t). With w = n_neg/n_pos and π_t = n_pos/(n_pos + n_neg),
 * logit(π_t) = log(n_pos/n_neg) = −log w, so π_eff = 0.5 exactly: the correction must start from 0.5, not
 * from the training split's defect rate, i.e. s' = s + logit(π_d) (for pos_weight = n_neg/n_pos).
 * `priorShiftOffset` returns logit(π_d) − logit(π_eff); "s' > 0" is "s > −offset".
 *
 * (b) A threshold chosen on the training split: every cut between two distinct training logits is tried
 * (prediction = logit > threshold, as in metrics.ts; the threshold is the midpoint between the last
 * logit predicted positive and the next lower distinct one, −∞ when every image is predicted positive);
 * the one maximising F_β of the defect class (β = 1 for F1, β = 2 for F2) wins, ties going to the higher
 * threshold. `transferThreshold` then reports the metrics that threshold gives on another split.
 *
 * (c) Threshold-free AUROC and AUPRC: `auroc` / `averagePrecision` from metrics.ts (re-exported).
 *
 * @example
 *   const offset = priorShiftOffset({ trainPrior: 0.5, deployPrior: 0.05 });   // balanced BCE → π_eff = 0.5
 *   const shifted = binaryMetrics(valLabels, valLogits, { threshold: -offset });
 *   const f1Cut = transferThreshold(
 *     { labels: trLabels, logits: trLogits },
 *     { labels: valLabels, logits: valLogits },
 *     { beta: 1 },
 *   );
 *   f1Cut.threshold; f1Cut.evaluation.f1;
 */
import { auroc, averagePrecision, binaryMetrics, type BinaryMetrics, type Numbers } from './metrics';

export { auroc, averagePrecision };

/** log(p / (1 − p)) for p in (0, 1). */
export function logit(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`logit: probability ${p} is outside (0, 1)`);
  return Math.log(p / (1 - p));
}

/** n_neg / n_pos, the pos_weight the paper uses. */
export function balancedPosWeight(positives: number, negatives: number): number {
  if (!(positives > 0) || !(negatives > 0))
    throw new Error(`balancedPosWeight: needs positives and negatives, got ${positives} and ${negatives}`);
  return negatives / positives;
}

/** The prior a BCE with pos_weight w trained at defect rate π_t is calibrated for: wπ_t / (wπ_t + 1 − π_t). */
export function effectiveTrainingPrior(trainPrior: number, posWeight = 1): number {
  if (!(trainPrior > 0 && trainPrior < 1))
    throw new Error(`effectiveTrainingPrior: trainPrior ${trainPrior} is outside (0, 1)`);
  if (!(posWeight > 0)) throw new Error(`effectiveTrainingPrior: posWeight must be positive, got ${posWeight}`);
  return (posWeight * trainPrior) / (posWeight * trainPrior + 1 - trainPrior);
}

export interface PriorShiftOptions {
  /** Defect rate of the training split. */
  trainPrior: number;
  /** Defect rate expected where the model is deployed (e.g. the validation proportion). */
  deployPrior: number;
  /** pos_weight of the training BCE (default 1, unweighted; the paper uses n_neg/n_pos). */
  posWeight?: number;
}

/** logit(π_deploy) − logit(π_eff): add it to a logit to move it from the training to the deployment prior. */
export function priorShiftOffset(options: PriorShiftOptions): number {
  return logit(options.deployPrior) - logit(effectiveTrainingPrior(options.trainPrior, options.posWeight ?? 1));
}

/** Logits corrected for the prior shift (float64 copy). */
export function priorShiftLogits(logits: Numbers, options: PriorShiftOptions): Float64Array {
  const offset = priorShiftOffset(options);
  return Float64Array.from(logits as ArrayLike<number>, (s) => s + offset);
}

export interface ThresholdChoice {
  threshold: number;
  beta: number;
  /** F_β of the defect class on the split the threshold was chosen on. */
  fBeta: number;
  precision: number;
  recall: number;
  /** Images predicted defective there. */
  predictedPositive: number;
}

function fBeta(precision: number, recall: number, beta: number): number {
  const b2 = beta * beta;
  const den = b2 * precision + recall;
  return den === 0 ? 0 : ((1 + b2) * precision * recall) / den;
}

/** The threshold maximising F_β of the defect class on (labels, logits); see the module doc. */
export function bestThreshold(labels: Numbers, logits: Numbers, options: { beta?: number } = {}): ThresholdChoice {
  const beta = options.beta ?? 1;
  if (!(beta > 0)) throw new Error(`bestThreshold: beta must be positive, got ${beta}`);
  if (labels.length !== logits.length)
    throw new Error(`bestThreshold: labels has ${labels.length} entries but logits has ${logits.length}`);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`bestThreshold: labels[${i}] = ${labels[i]} is not 0 or 1`);
    if (!Number.isFinite(logits[i]))
      throw new Error(`bestThreshold: logits[${i}] = ${logits[i]} is not a finite number`);
    positives += labels[i];
  }
  if (positives === 0)
    throw new Error('bestThreshold: the split has no defects, so no F-score threshold can be chosen');
  const order = Array.from({ length: labels.length }, (_, i) => i).sort((a, b) => logits[b] - logits[a]);
  let best: ThresholdChoice | null = null;
  let tp = 0;
  let predicted = 0;
  for (let j = 0; j < order.length; j++) {
    const score = logits[order[j]];
    tp += labels[order[j]];
    predicted++;
    const next = j + 1 < order.length ? logits[order[j + 1]] : -Infinity;
    if (next === score) continue; // cut only between distinct logits
    const precision = tp / predicted;
    const recall = tp / positives;
    const f = fBeta(precision, recall, beta);
    if (best === null || f > best.fBeta) {
      let threshold = next === -Infinity ? -Infinity : (score + next) / 2;
      if (threshold >= score) threshold = next; // adjacent doubles: the midpoint rounded up
      best = { threshold, beta, fBeta: f, precision, recall, predictedPositive: predicted };
    }
  }
  return best as ThresholdChoice;
}

export interface Split {
  labels: Numbers;
  logits: Numbers;
  /** Per-image code flags for F2_CIW (see binaryMetrics). */
  codes?: ArrayLike<number>[] | Numbers;
}

export interface TransferredThreshold extends ThresholdChoice {
  /** binaryMetrics at the chosen threshold on the split it was chosen on. */
  train: BinaryMetrics;
  /** binaryMetrics at the chosen threshold on the evaluation split. */
  evaluation: BinaryMetrics;
}

/** Choose the F_β-optimal threshold on `train` and evaluate it on `evaluation`. */
export function transferThreshold(
  train: Split,
  evaluation: Split,
  options: { beta?: number } = {},
): TransferredThreshold {
  const choice = bestThreshold(train.labels, train.logits, options);
  return {
    ...choice,
    train: binaryMetrics(train.labels, train.logits, { threshold: choice.threshold, codes: train.codes }),
    evaluation: binaryMetrics(evaluation.labels, evaluation.logits, {
      threshold: choice.threshold,
      codes: evaluation.codes,
    }),
  };
}

export interface CalibrationComparison {
  /** The paper's rule, logit > 0. */
  fixed: BinaryMetrics;
  /** logit + priorShiftOffset > 0. */
  priorShift: BinaryMetrics;
  priorShiftThreshold: number;
  /** Threshold maximising F1 on the training split. */
  trainF1: TransferredThreshold;
  /** Threshold maximising F2 on the training split. */
  trainF2: TransferredThreshold;
  auroc: number;
  auprc: number;
}

/** All the rules side by side on one evaluation split (the calibration notebook's one call per cell). */
export function compareCalibrations(train: Split, evaluation: Split, prior: PriorShiftOptions): CalibrationComparison {
  const offset = priorShiftOffset(prior);
  const fixed = binaryMetrics(evaluation.labels, evaluation.logits, { codes: evaluation.codes });
  return {
    fixed,
    priorShift: binaryMetrics(evaluation.labels, evaluation.logits, { threshold: -offset, codes: evaluation.codes }),
    priorShiftThreshold: -offset,
    trainF1: transferThreshold(train, evaluation, { beta: 1 }),
    trainF2: transferThreshold(train, evaluation, { beta: 2 }),
    auroc: fixed.auroc,
    auprc: fixed.auprc,
  };
}
