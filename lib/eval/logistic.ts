/**
 * L2-regularised, class-weighted logistic regression fitted by Newton's method: the offline linear probe on
 * frozen features. Features are standardised with the training set's statistics first, so one penalty suits
 * ResNet and ViT features alike; the intercept is not penalised.
 *
 * Objective (mean over the n training rows, w_i = positiveWeight for defects and 1 otherwise, as the online
 * probe's weighted BCE):  (1/n) Σ w_i [log(1 + e^{z_i}) − y_i z_i] + (l2/2)·‖β‖²,  z_i = β·x̃_i + b.
 *
 * @example
 *   const fit = fitLogisticRegression(features, n, d, labels, { l2: 0.01, positiveWeight: nNeg / nPos });
 *   const logits = logisticLogits(fit, valFeatures, nVal);   // threshold 0, like the online probe
 *   const { l2 } = crossValidateL2(features, n, d, labels, { positiveWeight: nNeg / nPos, seed: 42 });
 */
import { Rng } from '../data/rng';
import { cholesky, gramOfColumns, solveCholesky } from './linalg';
import { auroc } from './metrics';

export interface LogisticOptions {
  /** Penalty on the coefficients of the standardised features. */
  l2: number;
  /** Weight of a positive (defect) row; 1 for a negative. */
  positiveWeight?: number;
  maxIterations?: number;
  /** Stop when the Newton decrement ½·gᵀH⁻¹g falls below this. */
  tolerance?: number;
  /**
   * Where Newton's method starts (default zero): a fit of the same rows at a nearby penalty, which cuts the
   * iterations of a path over penalties to a few.
   */
  start?: Pick<LogisticFit, 'coefficients' | 'intercept'>;
}

export interface LogisticFit {
  /** Coefficients on the standardised features. */
  coefficients: Float64Array;
  intercept: number;
  /** Per-feature training mean and standard deviation (1 where a feature is constant). */
  mean: Float64Array;
  scale: Float64Array;
  iterations: number;
  converged: boolean;
  /** Final value of the objective. */
  objective: number;
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Fit on the row-major n×d `features` with 0/1 `labels`. */
export function fitLogisticRegression(
  features: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  options: LogisticOptions,
): LogisticFit {
  if (features.length !== n * d)
    throw new Error(`fitLogisticRegression: expected ${n}×${d} = ${n * d} feature values, got ${features.length}`);
  if (labels.length !== n) throw new Error(`fitLogisticRegression: ${labels.length} labels for ${n} rows`);
  let positives = 0;
  for (let i = 0; i < n; i++) {
    if (labels[i] !== 0 && labels[i] !== 1)
      throw new Error(`fitLogisticRegression: label ${i} is ${labels[i]}, expected 0 or 1`);
    positives += labels[i];
  }
  if (positives === 0 || positives === n)
    throw new Error(`fitLogisticRegression: the labels hold only one class (${positives} positives of ${n})`);
  if (!(options.l2 > 0))
    throw new Error(
      `fitLogisticRegression: l2 must be > 0 (got ${options.l2}); without it separable features have no finite fit`,
    );
  const positiveWeight = options.positiveWeight ?? 1;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-10;

  const mean = new Float64Array(d);
  const scale = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += features[i * d + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) scale[j] += (features[i * d + j] - mean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) scale[j] = scale[j] > 1e-24 ? Math.sqrt(scale[j]) : 1;
  // Design matrix with the intercept as column d.
  const m = d + 1;
  const x = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * m + j] = (features[i * d + j] - mean[j]) / scale[j];
    x[i * m + d] = 1;
  }
  const weight = Float64Array.from({ length: n }, (_, i) => (labels[i] === 1 ? positiveWeight : 1));

  const beta = new Float64Array(m);
  if (options.start) {
    if (options.start.coefficients.length !== d)
      throw new Error(
        `fitLogisticRegression: start has ${options.start.coefficients.length} coefficients for ${d} features`,
      );
    beta.set(options.start.coefficients);
    beta[d] = options.start.intercept;
  }
  const objectiveAt = (b: Float64Array): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < m; j++) z += x[i * m + j] * b[j];
      loss += weight[i] * (softplus(z) - labels[i] * z);
    }
    let penalty = 0;
    for (let j = 0; j < d; j++) penalty += b[j] * b[j];
    return loss / n + (options.l2 / 2) * penalty;
  };
  let objective = objectiveAt(beta);
  let iterations = 0;
  let converged = false;
  const scaled = new Float64Array(n * m);
  while (iterations < maxIterations) {
    iterations++;
    const gradient = new Float64Array(m);
    for (let i = 0; i < n; i++) {
      let z = 0;
      for (let j = 0; j < m; j++) z += x[i * m + j] * beta[j];
      const p = 1 / (1 + Math.exp(-z));
      const residual = (weight[i] * (p - labels[i])) / n;
      const curvature = Math.sqrt((weight[i] * p * (1 - p)) / n);
      for (let j = 0; j < m; j++) {
        gradient[j] += residual * x[i * m + j];
        scaled[i * m + j] = curvature * x[i * m + j];
      }
    }
    for (let j = 0; j < d; j++) gradient[j] += options.l2 * beta[j];
    const hessian = gramOfColumns(scaled, n, m);
    for (let j = 0; j < d; j++) hessian[j * m + j] += options.l2;
    // The intercept is unpenalised; a tiny ridge keeps the factorisation defined if every p saturates.
    hessian[d * m + d] += 1e-12;
    const factor = cholesky(hessian, m);
    const step = solveCholesky(factor, gradient, m);
    let decrement = 0;
    for (let j = 0; j < m; j++) decrement += gradient[j] * step[j];
    // Backtracking line search keeps every iteration a descent step.
    let t = 1;
    let candidate = new Float64Array(m);
    let next = objective;
    for (let tries = 0; tries < 30; tries++) {
      for (let j = 0; j < m; j++) candidate[j] = beta[j] - t * step[j];
      next = objectiveAt(candidate);
      if (next <= objective - 0.25 * t * decrement) break;
      t /= 2;
    }
    if (!(next <= objective)) candidate = beta;
    beta.set(candidate);
    objective = Math.min(objective, next);
    if (decrement / 2 < tolerance) {
      converged = true;
      break;
    }
  }
  return { coefficients: beta.slice(0, d), intercept: beta[d], mean, scale, iterations, converged, objective };
}

/** Logits of the row-major rows×d `features` under a fit (standardised with the training statistics). */
export function logisticLogits(fit: LogisticFit, features: ArrayLike<number>, rows: number): Float64Array {
  const d = fit.coefficients.length;
  if (features.length !== rows * d)
    throw new Error(`logisticLogits: expected ${rows}×${d} = ${rows * d} feature values, got ${features.length}`);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = fit.intercept;
    for (let j = 0; j < d; j++) z += ((features[i * d + j] - fit.mean[j]) / fit.scale[j]) * fit.coefficients[j];
    out[i] = z;
  }
  return out;
}

/**
 * The penalties the frozen probe chooses from, strongest first. One fixed penalty does not suit every backbone:
 * standardisation puts every coordinate at unit variance, so on features of low effective rank (ViT-Tiny CLS
 * tokens, RankMe 6–15 of 192 here) the directions that separate the classes are spread over many weak
 * coordinates, and 0.01 shrinks them away, more for trained ViT features than for untrained ones (README, "the
 * frozen probe's penalty"); ResNet-18 features barely move between 0.01 and 1e-4. With 1e-4 as the weakest, every
 * ViT-Tiny run at 45 % chose it, so the grid goes one step further, where their validation AUROC levels off.
 */
export const L2_GRID: readonly number[] = [1e-2, 1e-3, 1e-4, 1e-5];

export interface L2Selection {
  /** The chosen penalty. */
  l2: number;
  /**
   * Folds actually used (fewer than asked when a class has fewer rows than folds; 0 where a caller recorded a fixed
   * penalty because a class had fewer than two rows).
   */
  folds: number;
  /** Mean held-out AUROC over the folds, per penalty of the grid. */
  scores: Array<{ l2: number; auroc: number }>;
}

export interface CrossValidationOptions {
  grid?: readonly number[];
  /** Stratified folds (default 5). */
  folds?: number;
  /** Seed of the fold assignment. */
  seed?: number;
  positiveWeight?: number;
}

/** Stratified fold of each row: each class shuffled with `rng`, then dealt to the folds in turn. */
function stratifiedFolds(labels: ArrayLike<number>, n: number, folds: number, rng: Rng): Int32Array {
  const fold = new Int32Array(n);
  for (const label of [0, 1]) {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === label) rows.push(i);
    for (let i = rows.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    rows.forEach((row, position) => (fold[row] = position % folds));
  }
  return fold;
}

function selectRows(features: ArrayLike<number>, d: number, rows: number[]): Float64Array {
  const out = new Float64Array(rows.length * d);
  rows.forEach((row, r) => {
    for (let j = 0; j < d; j++) out[r * d + j] = features[row * d + j];
  });
  return out;
}

/**
 * The penalty from `grid` with the best mean held-out AUROC over stratified folds of the training rows (ties go
 * to the stronger penalty): the probe's only hyperparameter, chosen without the validation set and by the same
 * rule for every run, trained or untrained.
 */
export function crossValidateL2(
  features: ArrayLike<number>,
  n: number,
  d: number,
  labels: ArrayLike<number>,
  options: CrossValidationOptions = {},
): L2Selection {
  const grid = options.grid ?? L2_GRID;
  if (grid.length === 0) throw new Error('crossValidateL2: the penalty grid is empty');
  let positives = 0;
  for (let i = 0; i < n; i++) positives += labels[i] === 1 ? 1 : 0;
  const folds = Math.min(options.folds ?? 5, positives, n - positives);
  if (folds < 2)
    throw new Error(
      `crossValidateL2: ${positives} positives and ${n - positives} negatives of ${n} rows; ` +
        'cross-validation needs at least 2 of each',
    );
  const fold = stratifiedFolds(labels, n, folds, new Rng(options.seed ?? 0));
  const totals = new Float64Array(grid.length);
  for (let k = 0; k < folds; k++) {
    const train: number[] = [];
    const held: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === k ? held : train).push(i);
    const trainFeatures = selectRows(features, d, train);
    const trainLabels = train.map((i) => labels[i]);
    const heldFeatures = selectRows(features, d, held);
    const heldLabels = held.map((i) => labels[i]);
    // Along the grid each fit starts from the previous penalty's (same rows, same standardisation).
    let previous: LogisticFit | undefined;
    grid.forEach((l2, g) => {
      const fit = fitLogisticRegression(trainFeatures, train.length, d, trainLabels, {
        l2,
        positiveWeight: options.positiveWeight,
        start: previous,
      });
      previous = fit;
      totals[g] += auroc(heldLabels, logisticLogits(fit, heldFeatures, held.length)) / folds;
    });
  }
  const scores = grid.map((l2, g) => ({ l2, auroc: totals[g] }));
  let best = 0;
  for (let g = 1; g < grid.length; g++) if (totals[g] > totals[best] + 1e-12) best = g;
  return { l2: grid[best], folds, scores };
}
