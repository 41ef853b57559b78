/**
 * RankMe (Garrido et al. 2023) and the paper's feature monitors, in float64 JS.
 *
 * RankMe: σ = singular values of the N×K embedding matrix, p_k = σ_k/‖σ‖₁ + ε (ε = 1e-6, as the
 * paper's code), RankMe = exp(−Σ p_k log p_k) over the min(N, K) values. The singular values come from
 * the eigenvalues of the smaller Gram matrix (ZᵀZ or ZZᵀ), from `symmetricEigenvalues` in linalg.ts
 * (Householder tridiagonalisation + implicit QL): O(m³) with m = min(N, K). Squaring
 * loses relative accuracy only in singular values below ~1e-8·σ_max, whose p_k is dominated by ε anyway;
 * eigenvalues within rounding of zero are taken as exact zeros.
 * An all-zero matrix gives NaN (0/0, as torch does); so does a matrix holding NaN or ±Inf.
 *
 * Feature monitors (P `compute_and_log_ssl_metrics`): rows are L2-normalised, then std over the batch
 * (unbiased) per dimension, averaged over dimensions and multiplied by √D (1 = the ideal 1/√D spread);
 * and the mean of the normalised features.
 *
 * @example
 *   const score = rankMe(features, n, k);            // features: Float32Array of n·k, row-major
 *   const { std, mean } = featureStats(features, n, k);
 */

import { gramOfColumns, gramOfRows, symmetricEigenvalues } from './linalg';

export type Matrix = Float32Array | Float64Array | number[] | number[][];

function flatten(features: Matrix, n: number, k: number, fn: string): ArrayLike<number> {
  if (!Number.isInteger(n) || !Number.isInteger(k) || n < 1 || k < 1) {
    throw new Error(`${fn}: n and k must be positive integers, got n=${n}, k=${k}`);
  }
  if (Array.isArray(features) && features.length > 0 && Array.isArray(features[0])) {
    const rows = features as number[][];
    if (rows.length !== n) throw new Error(`${fn}: expected ${n} rows, got ${rows.length}`);
    const out = new Float64Array(n * k);
    rows.forEach((r, i) => {
      if (r.length !== k) throw new Error(`${fn}: row ${i} has ${r.length} values, expected ${k}`);
      out.set(r, i * k);
    });
    return out;
  }
  const flat = features as ArrayLike<number>;
  if (flat.length !== n * k) throw new Error(`${fn}: expected ${n}×${k} = ${n * k} values, got ${flat.length}`);
  return flat;
}

/** Singular values of an N×K matrix (row-major), descending, min(N, K) of them. */
export function singularValues(features: Matrix, n: number, k: number): Float64Array {
  const z = flatten(features, n, k, 'singularValues');
  // A diverged run's features (NaN/Inf) give NaN singular values, so a monitor logs NaN instead of throwing.
  for (let i = 0; i < z.length; i++) if (!Number.isFinite(z[i])) return new Float64Array(Math.min(n, k)).fill(NaN);
  // Eigenvalues of the smaller Gram matrix (ZᵀZ or ZZᵀ) are the squared singular values.
  const m = Math.min(n, k);
  const eig = symmetricEigenvalues(k <= n ? gramOfColumns(z, n, k) : gramOfRows(z, n, k), m);
  // Eigenvalues within rounding of zero (≤ m·ε·λ_max) are zero singular values: without this a
  // rank-deficient (collapsed) matrix would report σ ≈ 1e-8·σ_max noise where an SVD gives ~1e-16·σ_max.
  let lambdaMax = 0;
  for (const x of eig) lambdaMax = Math.max(lambdaMax, x);
  const floor = m * Number.EPSILON * lambdaMax;
  const sigma = Float64Array.from(eig, (x) => (x <= floor ? 0 : Math.sqrt(x)));
  return sigma.sort().reverse();
}

export function rankMe(features: Matrix, n: number, k: number, eps = 1e-6): number {
  const sigma = singularValues(features, n, k);
  let l1 = 0;
  for (const s of sigma) l1 += s;
  let entropy = 0;
  for (const s of sigma) {
    const p = s / l1 + eps;
    entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

export interface FeatureStats {
  /** Mean over dimensions of the batch std of L2-normalised rows, × √D. */
  std: number;
  /** Mean of the L2-normalised features. */
  mean: number;
}

export function featureStats(features: Matrix, n: number, d: number): FeatureStats {
  const z = flatten(features, n, d, 'featureStats');
  if (n < 2) throw new Error(`featureStats: the batch std needs at least 2 rows, got ${n}`);
  const normed = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += z[i * d + c] * z[i * d + c];
    const norm = Math.max(Math.sqrt(s), 1e-12);
    for (let c = 0; c < d; c++) normed[i * d + c] = z[i * d + c] / norm;
  }
  let stdSum = 0;
  let meanSum = 0;
  for (let c = 0; c < d; c++) {
    let mu = 0;
    for (let i = 0; i < n; i++) mu += normed[i * d + c];
    mu /= n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (normed[i * d + c] - mu) ** 2;
    stdSum += Math.sqrt(ss / (n - 1));
    meanSum += mu;
  }
  return { std: (stdSum / d) * Math.sqrt(d), mean: meanSum / d };
}

/** featureStats averaged over views (the paper stacks the two views and averages). */
export function featureStatsOverViews(views: Matrix[], n: number, d: number): FeatureStats {
  if (views.length === 0) throw new Error('featureStatsOverViews: no views');
  const all = views.map((v) => featureStats(v, n, d));
  return {
    std: all.reduce((s, x) => s + x.std, 0) / all.length,
    mean: all.reduce((s, x) => s + x.mean, 0) / all.length,
  };
}
