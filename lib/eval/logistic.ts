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
 */
import { cholesky, gramOfColumns, solveLower } from './linalg';

export interface LogisticOptions {
  /** Penalty on the coefficients of the standardised features. */
  l2: number;
  /** Weight of a positive (defect) row; 1 for a negative. */
  positiveWeight?: number;
  maxIterations?: number;
  /** Stop when the Newton decrement ½·gᵀH⁻¹g falls below this. */
  tolerance?: number;
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

/** Solve Lᵀ·x = b for lower-triangular L (m×m, row-major). */
function solveLowerTransposed(l: Float64Array, b: Float64Array, m: number): Float64Array {
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= l[k * m + i] * x[k];
    x[i] = s / l[i * m + i];
  }
  return x;
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
    const step = solveLowerTransposed(factor, solveLower(factor, gradient, m), m);
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
