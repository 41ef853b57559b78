/**
 * Label-free representation scores: numbers computed from features alone (no labels) that might predict
 * downstream F1. All take plain row-major n×d arrays and compute in float64; none touches tensors.
 *
 * - `rankMe` (Garrido et al. 2023, ε = 1e-6) on all n rows — the large-sample estimate its authors
 *   recommend — and `rankMeBatched`: the mean of RankMe over consecutive batches of `batchSize` rows (the
 *   paper's per-batch monitor; a trailing partial batch is dropped, n < batchSize gives one batch of n).
 * - `alphaReq` (Agrawal et al. 2022): λ_k = eigenvalues of the sample covariance (centred, divisor n − 1),
 *   descending, k = 1..K with K = min(d, n − 1) (the covariance has no more non-zero ones); each λ_k is
 *   floored at 1e-12·λ_1 so a collapsed spectrum reads as a steep decay rather than an undefined log;
 *   α = −slope of the ordinary least-squares line of log λ_k on log k. NaN when λ_1 = 0 or K < 2.
 * - `nesum` (He & Ozay 2022): Σ_k λ_k / λ_1 over all d covariance eigenvalues (negatives from rounding → 0).
 * - `alignment` (Wang & Isola 2020, α = 2): E‖u − u⁺‖² over matched rows of two views, u = f/‖f‖.
 * - `uniformity` (Wang & Isola, t = 2): log of the mean over the n(n−1)/2 distinct pairs of
 *   exp(−2‖u_i − u_j‖²), on the L2-normalised clean features (computed with a log-sum-exp).
 * - `invariance`: mean cosine similarity between matched rows of two views.
 * - `lidar` (in the spirit of Thilak et al. 2023): surrogate classes = images, samples = their
 *   augmentations (rows image-major: row i·q + j is augmentation j of image i). Σ_b = covariance of the
 *   class means (divisor C − 1), Σ_w = pooled within-class covariance (divisor C(q − 1)) + δ·I with
 *   δ = 1e-4·tr(Σ_w)/d (relative, so the score does not change with the feature scale; tr(Σ_b)/d replaces
 *   tr(Σ_w)/d when the views are exactly invariant). The eigenvalues of Σ_w^{-1/2} Σ_b Σ_w^{-1/2} equal
 *   those of L⁻¹ Σ_b L⁻ᵀ with Σ_w = L·Lᵀ (similar matrices), which is how they are computed; all d of them
 *   enter a RankMe-style effective rank exp(−Σ p_k log p_k), p_k = λ_k/Σλ + ε, ε = 1e-6.
 * - `feature_std`, `feature_mean`: `featureStats` of rankme.ts on the clean features.
 *
 * Non-finite features (a diverged run) give NaN scores rather than an exception; wrong shapes throw.
 *
 * @example
 *   const scores = labelFreeScores({
 *     clean,
 *     views: [viewA, viewB],
 *     surrogate: { features, images: 128, augmentations: 4 },
 *     n: 1024,
 *     d: 512,
 *   });
 *   scores.rankme; scores.alpha_req; scores.lidar;
 */
import {
  cholesky,
  columnMeans,
  covariance,
  gramOfColumns,
  gramOfRows,
  solveLower,
  symmetricEigenvalues,
} from './linalg';
import { featureStats, rankMe } from './rankme';

export type Features = ArrayLike<number>;

/** RankMe's ε, also used by `lidar`. */
export const RANKME_EPS = 1e-6;
/** Relative floor of the α-ReQ eigenvalues (× λ_1). */
export const ALPHA_REQ_FLOOR = 1e-12;
/** LiDAR's δ relative to the mean within-class variance tr(Σ_w)/d. */
export const LIDAR_RELATIVE_DELTA = 1e-4;
/** Default batch size of `rankme_batch` (the paper's training batch). */
export const DEFAULT_RANKME_BATCH = 256;

function checkShape(x: Features, n: number, d: number, what: string): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1) {
    throw new Error(`${what}: n and d must be positive integers, got n=${n}, d=${d}`);
  }
  if (x.length !== n * d) throw new Error(`${what}: expected ${n}×${d} = ${n * d} values, got ${x.length}`);
}

function allFinite(x: Features): boolean {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) return false;
  return true;
}

/** Rows scaled to unit L2 norm (a zero row stays zero, as `featureStats` does). */
export function l2NormalizeRows(x: Features, n: number, d: number): Float64Array {
  checkShape(x, n, d, 'l2NormalizeRows');
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const base = i * d;
    let s = 0;
    for (let c = 0; c < d; c++) s += x[base + c] * x[base + c];
    const norm = Math.max(Math.sqrt(s), 1e-12);
    for (let c = 0; c < d; c++) out[base + c] = x[base + c] / norm;
  }
  return out;
}

/** Mean RankMe over consecutive batches of `batchSize` rows (partial trailing batch dropped). */
export function rankMeBatched(x: Features, n: number, d: number, batchSize: number = DEFAULT_RANKME_BATCH): number {
  checkShape(x, n, d, 'rankMeBatched');
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`rankMeBatched: batchSize must be a positive integer, got ${batchSize}`);
  const size = Math.min(batchSize, n);
  const batches = Math.floor(n / size);
  const flat = x instanceof Float32Array || x instanceof Float64Array ? x : Float64Array.from(x);
  let sum = 0;
  for (let b = 0; b < batches; b++) sum += rankMe(flat.subarray(b * size * d, (b + 1) * size * d), size, d);
  return sum / batches;
}

/**
 * Eigenvalues of the sample covariance (divisor n − 1), descending, negatives from rounding set to 0.
 * All-NaN when the features are not finite.
 */
export function covarianceEigenvalues(x: Features, n: number, d: number): Float64Array {
  checkShape(x, n, d, 'covarianceEigenvalues');
  if (n < 2) throw new Error(`covarianceEigenvalues: needs at least 2 rows, got ${n}`);
  if (!allFinite(x)) return new Float64Array(d).fill(NaN);
  const values = symmetricEigenvalues(covariance(x, n, d), d);
  for (let i = 0; i < d; i++) if (values[i] < 0) values[i] = 0;
  return values;
}

/**
 * α of λ_k ∝ k^−α by least squares on (log k, log λ_k), k = 1..count (default all), λ descending.
 * Each λ_k is floored at 1e-12·λ_1. NaN when λ_1 ≤ 0 or fewer than 2 points.
 */
export function alphaReqFromEigenvalues(eigenvalues: ArrayLike<number>, count: number = eigenvalues.length): number {
  const k = Math.min(count, eigenvalues.length);
  const top = eigenvalues[0];
  if (k < 2 || !(top > 0)) return NaN;
  const floor = ALPHA_REQ_FLOOR * top;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < k; i++) {
    sx += Math.log(i + 1);
    sy += Math.log(Math.max(eigenvalues[i], floor));
  }
  const mx = sx / k;
  const my = sy / k;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < k; i++) {
    const dx = Math.log(i + 1) - mx;
    sxy += dx * (Math.log(Math.max(eigenvalues[i], floor)) - my);
    sxx += dx * dx;
  }
  return -sxy / sxx;
}

/** α-ReQ of the features: the fit above on the K = min(d, n − 1) leading covariance eigenvalues. */
export function alphaReq(x: Features, n: number, d: number): number {
  return alphaReqFromEigenvalues(covarianceEigenvalues(x, n, d), Math.min(d, n - 1));
}

/** NESum from descending eigenvalues: Σ λ_k / λ_1 (NaN when λ_1 ≤ 0). */
export function nesumFromEigenvalues(eigenvalues: ArrayLike<number>): number {
  const top = eigenvalues[0];
  if (!(top > 0)) return NaN;
  let sum = 0;
  for (let i = 0; i < eigenvalues.length; i++) sum += Math.max(eigenvalues[i], 0);
  return sum / top;
}

export function nesum(x: Features, n: number, d: number): number {
  return nesumFromEigenvalues(covarianceEigenvalues(x, n, d));
}

function checkViews(a: Features, b: Features, n: number, d: number, what: string): void {
  checkShape(a, n, d, `${what} (view 1)`);
  checkShape(b, n, d, `${what} (view 2)`);
}

/** Wang & Isola alignment (α = 2): mean over rows of ‖u_i − u⁺_i‖² on L2-normalised rows. */
export function alignment(viewA: Features, viewB: Features, n: number, d: number): number {
  checkViews(viewA, viewB, n, d, 'alignment');
  const ua = l2NormalizeRows(viewA, n, d);
  const ub = l2NormalizeRows(viewB, n, d);
  let sum = 0;
  for (let i = 0; i < n * d; i++) sum += (ua[i] - ub[i]) ** 2;
  return sum / n;
}

/** Mean cosine similarity between matched rows of two views (a zero row has similarity 0). */
export function invariance(viewA: Features, viewB: Features, n: number, d: number): number {
  checkViews(viewA, viewB, n, d, 'invariance');
  const ua = l2NormalizeRows(viewA, n, d);
  const ub = l2NormalizeRows(viewB, n, d);
  let sum = 0;
  for (let i = 0; i < n * d; i++) sum += ua[i] * ub[i];
  return sum / n;
}

/** Wang & Isola uniformity: log mean_{i<j} exp(−t‖u_i − u_j‖²) on L2-normalised rows (t = 2). */
export function uniformity(x: Features, n: number, d: number, t = 2): number {
  checkShape(x, n, d, 'uniformity');
  if (n < 2) throw new Error(`uniformity: needs at least 2 rows, got ${n}`);
  const u = l2NormalizeRows(x, n, d);
  // ‖u_i − u_j‖² = ‖u_i‖² + ‖u_j‖² − 2u_i·u_j (‖u‖² is 1, or 0 for a zero row).
  const gram = gramOfRows(u, n, d);
  const exponents = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const gi = gram[i * n + i];
    for (let j = i + 1; j < n; j++) {
      const e = -t * Math.max(gi + gram[j * n + j] - 2 * gram[i * n + j], 0);
      exponents[p++] = e;
      if (e > max) max = e;
    }
  }
  let sum = 0;
  for (let k = 0; k < exponents.length; k++) sum += Math.exp(exponents[k] - max);
  return max + Math.log(sum / exponents.length);
}

/** RankMe-style effective rank of non-negative values: exp(−Σ p log p), p = v/Σv + ε. */
export function effectiveRank(values: ArrayLike<number>, eps = RANKME_EPS): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += Math.max(values[i], 0);
  let entropy = 0;
  for (let i = 0; i < values.length; i++) {
    const p = Math.max(values[i], 0) / total + eps;
    entropy -= p * Math.log(p);
  }
  return Math.exp(entropy);
}

export interface LidarOptions {
  /** Absolute δ added to Σ_w; default 1e-4·tr(Σ_w)/d (see the module doc). */
  delta?: number;
  /** ε of the effective rank (default 1e-6). */
  eps?: number;
}

/**
 * LiDAR-style surrogate-class separability of `images`·`augmentations` rows (image-major) of width d:
 * the effective rank of the eigenvalues of Σ_w^{-1/2} Σ_b Σ_w^{-1/2}.
 */
export function lidar(
  x: Features,
  images: number,
  augmentations: number,
  d: number,
  options: LidarOptions = {},
): number {
  if (!Number.isInteger(images) || images < 2)
    throw new Error(`lidar: needs at least 2 images (surrogate classes), got ${images}`);
  if (!Number.isInteger(augmentations) || augmentations < 2)
    throw new Error(`lidar: needs at least 2 augmentations per image, got ${augmentations}`);
  const n = images * augmentations;
  checkShape(x, n, d, 'lidar');
  if (!allFinite(x)) return NaN;
  const classMeans = new Float64Array(images * d);
  for (let i = 0; i < images; i++) {
    const mean = columnMeans(
      x instanceof Float32Array || x instanceof Float64Array
        ? x.subarray(i * augmentations * d, (i + 1) * augmentations * d)
        : Array.prototype.slice.call(x, i * augmentations * d, (i + 1) * augmentations * d),
      augmentations,
      d,
    );
    classMeans.set(mean, i * d);
  }
  const grandMean = columnMeans(classMeans, images, d);
  // Within-class scatter: rows minus their class mean, pooled.
  const centred = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    const cls = Math.floor(r / augmentations) * d;
    for (let c = 0; c < d; c++) centred[r * d + c] = x[r * d + c] - classMeans[cls + c];
  }
  const within = gramOfColumns(centred, n, d);
  const withinDivisor = images * (augmentations - 1);
  let withinTrace = 0;
  for (let i = 0; i < within.length; i++) within[i] /= withinDivisor;
  for (let c = 0; c < d; c++) withinTrace += within[c * d + c];
  // Between-class rows b_i = (μ_i − μ)/√(C − 1), so Σ_b = Σ_i b_i b_iᵀ.
  const between = new Float64Array(images * d);
  const scale = 1 / Math.sqrt(images - 1);
  let betweenTrace = 0;
  for (let i = 0; i < images; i++) {
    for (let c = 0; c < d; c++) {
      const v = (classMeans[i * d + c] - grandMean[c]) * scale;
      between[i * d + c] = v;
      betweenTrace += v * v;
    }
  }
  let delta = options.delta;
  if (delta === undefined) delta = (LIDAR_RELATIVE_DELTA * (withinTrace > 0 ? withinTrace : betweenTrace)) / d;
  if (!(delta > 0)) return NaN; // every row identical: nothing to separate
  for (let c = 0; c < d; c++) within[c * d + c] += delta;
  const l = cholesky(within, d);
  // Rows w_i = L⁻¹ b_i: L⁻¹ Σ_b L⁻ᵀ = Σ_i w_i w_iᵀ, whose non-zero eigenvalues are those of the smaller Gram.
  const whitened = new Float64Array(images * d);
  for (let i = 0; i < images; i++) whitened.set(solveLower(l, between.subarray(i * d, (i + 1) * d), d), i * d);
  const m = Math.min(images, d);
  const gram = images <= d ? gramOfRows(whitened, images, d) : gramOfColumns(whitened, images, d);
  const values = new Float64Array(d);
  values.set(symmetricEigenvalues(gram, m));
  return effectiveRank(values, options.eps ?? RANKME_EPS);
}

export interface LabelFreeInput {
  /** n×d features of un-augmented images. */
  clean: Float32Array;
  /** Two augmented views of the same n images, each n×d, row i of both from image i. */
  views?: [Float32Array, Float32Array];
  /** images·augmentations rows of width d, image-major. */
  surrogate?: { features: Float32Array; images: number; augmentations: number };
  n: number;
  d: number;
  /** Batch size of `rankme_batch` (default 256). */
  batchSize?: number;
}

/** Keys `labelFreeScores` can return, in this order. */
export const LABEL_FREE_KEYS = [
  'rankme',
  'rankme_batch',
  'alpha_req',
  'nesum',
  'alignment',
  'uniformity',
  'invariance',
  'lidar',
  'feature_std',
  'feature_mean',
] as const;
export type LabelFreeKey = (typeof LABEL_FREE_KEYS)[number];

/**
 * Every score computable from what is given: always rankme, rankme_batch, alpha_req, nesum, uniformity,
 * feature_std, feature_mean (from `clean`); alignment and invariance with `views`; lidar with `surrogate`.
 */
export function labelFreeScores(input: LabelFreeInput): Record<string, number> {
  const { clean, views, surrogate, n, d } = input;
  checkShape(clean, n, d, 'labelFreeScores: clean');
  if (n < 2) throw new Error(`labelFreeScores: needs at least 2 clean rows, got ${n}`);
  const scores: Record<string, number> = {};
  const cleanFinite = allFinite(clean);
  scores.rankme = rankMe(clean, n, d);
  scores.rankme_batch = rankMeBatched(clean, n, d, input.batchSize ?? DEFAULT_RANKME_BATCH);
  const eigenvalues = covarianceEigenvalues(clean, n, d);
  scores.alpha_req = alphaReqFromEigenvalues(eigenvalues, Math.min(d, n - 1));
  scores.nesum = nesumFromEigenvalues(eigenvalues);
  if (views) {
    checkViews(views[0], views[1], n, d, 'labelFreeScores: views');
    const finite = allFinite(views[0]) && allFinite(views[1]);
    scores.alignment = finite ? alignment(views[0], views[1], n, d) : NaN;
  }
  scores.uniformity = cleanFinite ? uniformity(clean, n, d) : NaN;
  if (views) {
    const finite = allFinite(views[0]) && allFinite(views[1]);
    scores.invariance = finite ? invariance(views[0], views[1], n, d) : NaN;
  }
  if (surrogate) scores.lidar = lidar(surrogate.features, surrogate.images, surrogate.augmentations, d);
  const stats = cleanFinite ? featureStats(clean, n, d) : { std: NaN, mean: NaN };
  scores.feature_std = stats.std;
  scores.feature_mean = stats.mean;
  return scores;
}
