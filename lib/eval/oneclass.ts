/**
 * One-class (label-free) anomaly scores on frozen feature matrices, and the few-label probe they are measured
 * against. Plain row-major typed arrays in, one score per query row out (higher = more anomalous); no tensors.
 *
 * - `knnScores`: mean distance to the k nearest rows of a bank of "normal" features (Bergman et al., "Deep
 *   Nearest Neighbor Anomaly Detection", 2020; PatchCore's memory bank scores an image by its nearest
 *   neighbour). Cosine distance (1 − cos) on L2-normalised rows by default, Euclidean optionally. The search is
 *   exact and blocked: queries and bank are walked in tiles of `blockRows` rows, so memory is O(blockRows² + n·k)
 *   whatever the bank's size, and `exclude` skips a query's own row when the bank scores its own members
 *   (leave-one-out), which is what a threshold set on the bank needs.
 *   Cost is n_query·n_bank·d multiply-adds: a 2 000-image bank of 512-d features scores 4 000 queries in a few
 *   seconds of plain JS. Exact search stays practical up to a bank of roughly 10⁵ rows (10⁵ × 10⁴ queries ×
 *   512 = 5·10¹¹ operations, minutes on one core); beyond that — the real Sewer-ML training split is 1.04 M
 *   images — an approximate index is needed: an HNSW graph (hnswlib, or FAISS's IndexHNSWFlat) on the normalised
 *   features, or FAISS IVF-PQ when the bank does not fit in memory (PatchCore instead shrinks the bank by
 *   greedy coreset subsampling first).
 * - `ledoitWolf`: the Ledoit–Wolf shrunk covariance (1/n empirical covariance pulled towards μ·I with the
 *   analytic optimal shrinkage), exactly as scikit-learn's `LedoitWolf` computes it.
 * - `fitMahalanobis` / `mahalanobisScores`: a Gaussian fitted to the bank (PaDiM-style, on whole-image
 *   features) and the squared Mahalanobis distance of each query, as scikit-learn's `LedoitWolf().mahalanobis`.
 * - `contaminationThreshold`: the score above which a share `rate` of reference scores lies (the (1 − rate)
 *   quantile, linear interpolation as numpy), scikit-learn's `contamination` rule for outlier detectors.
 * - `fewLabelProbe`: k labelled defects against the rest of the pool taken as normal (a biased PU classifier):
 *   the weighted logistic regression of ./logistic.ts, with the labelled defects weighted to stand for the
 *   share of defects the pool is known to hold.
 *
 * @example
 *   const scores = knnScores(bank, nBank, query, nQuery, d, { k: 5 });                 // cosine kNN
 *   const gauss = fitMahalanobis(bank, nBank, d);  mahalanobisScores(gauss, query, nQuery);
 *   const cut = contaminationThreshold(bankScores, 0.15);                               // flag the top 15 %
 *   const probe = fewLabelProbe(pool, n, d, labelledRows, { knownShare: 0.15 });  logisticLogits(probe, query, nQuery);
 */
import { cholesky, columnMeans, gramOfColumns, solveLower } from './linalg';
import { fitLogisticRegression, type LogisticFit } from './logistic';

export type Features = ArrayLike<number>;
export type KnnMetric = 'cosine' | 'euclidean';

export interface KnnOptions {
  /** Neighbours averaged (default 5). */
  k?: number;
  /** 'cosine' (default): 1 − cos on L2-normalised rows; 'euclidean': the L2 distance of the raw rows. */
  metric?: KnnMetric;
  /** Rows per tile of the blocked search (default 256). */
  blockRows?: number;
  /** Per query row, the bank row it must not match (itself, for leave-one-out scoring of the bank); −1 for none. */
  exclude?: ArrayLike<number>;
}

export interface KnnResult {
  /** nQuery×k distances to the nearest bank rows, ascending per row. */
  distances: Float64Array;
  /** nQuery×k bank row of each distance. */
  neighbours: Int32Array;
  k: number;
}

function checkMatrix(x: Features, n: number, d: number, what: string): void {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(d) || d < 1)
    throw new Error(`${what}: needs a positive number of rows and columns, got ${n}×${d}`);
  if (x.length !== n * d) throw new Error(`${what}: expected ${n}×${d} = ${n * d} values, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${what}: row ${Math.floor(i / d)}, column ${i % d} is ${x[i]}`);
  }
}

/** Rows as float64, L2-normalised when asked (a zero row stays zero), with their squared norms. */
function prepareRows(
  x: Features,
  n: number,
  d: number,
  normalise: boolean,
): { rows: Float64Array; norms2: Float64Array } {
  const rows = Float64Array.from(x);
  const norms2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += rows[i * d + c] * rows[i * d + c];
    if (normalise) {
      const scale = 1 / Math.max(Math.sqrt(s), 1e-12);
      for (let c = 0; c < d; c++) rows[i * d + c] *= scale;
      s = s > 0 ? 1 : 0;
    }
    norms2[i] = s;
  }
  return { rows, norms2 };
}

/**
 * tile[(i − q0)·(b1 − b0) + (j − b0)] = q_i · b_j for query rows q0..q1 and bank rows b0..b1. Two query rows
 * against two bank rows per pass, so each loaded value feeds two products (as linalg's row Gram does).
 */
function dotTile(
  q: Float64Array,
  q0: number,
  q1: number,
  b: Float64Array,
  b0: number,
  b1: number,
  d: number,
  tile: Float64Array,
): void {
  const width = b1 - b0;
  let i = q0;
  for (; i + 1 < q1; i += 2) {
    const qa = i * d;
    const qb = qa + d;
    const outA = (i - q0) * width - b0;
    const outB = outA + width;
    let j = b0;
    for (; j + 1 < b1; j += 2) {
      const ba = j * d;
      const bb = ba + d;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let c = 0; c < d; c++) {
        const x0 = q[qa + c];
        const x1 = q[qb + c];
        const y0 = b[ba + c];
        const y1 = b[bb + c];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      tile[outA + j] = s00;
      tile[outA + j + 1] = s01;
      tile[outB + j] = s10;
      tile[outB + j + 1] = s11;
    }
    if (j < b1) {
      const ba = j * d;
      let s0 = 0;
      let s1 = 0;
      for (let c = 0; c < d; c++) {
        s0 += q[qa + c] * b[ba + c];
        s1 += q[qb + c] * b[ba + c];
      }
      tile[outA + j] = s0;
      tile[outB + j] = s1;
    }
  }
  if (i < q1) {
    const qa = i * d;
    const out = (i - q0) * width - b0;
    for (let j = b0; j < b1; j++) {
      const ba = j * d;
      let s = 0;
      for (let c = 0; c < d; c++) s += q[qa + c] * b[ba + c];
      tile[out + j] = s;
    }
  }
}

/** The k nearest bank rows of every query row, by exact blocked search. */
export function knnSearch(
  bank: Features,
  nBank: number,
  query: Features,
  nQuery: number,
  d: number,
  options: KnnOptions = {},
): KnnResult {
  const k = options.k ?? 5;
  const metric = options.metric ?? 'cosine';
  const block = options.blockRows ?? 256;
  if (metric !== 'cosine' && metric !== 'euclidean')
    throw new Error(`knnSearch: metric must be 'cosine' or 'euclidean', got '${String(metric)}'`);
  if (!Number.isInteger(block) || block < 1)
    throw new Error(`knnSearch: blockRows must be a positive integer, got ${block}`);
  checkMatrix(bank, nBank, d, 'knnSearch (bank)');
  checkMatrix(query, nQuery, d, 'knnSearch (query)');
  const exclude = options.exclude;
  if (exclude && exclude.length !== nQuery)
    throw new Error(`knnSearch: exclude has ${exclude.length} entries for ${nQuery} query rows`);
  const usable = exclude ? nBank - 1 : nBank;
  if (!Number.isInteger(k) || k < 1 || k > usable)
    throw new Error(
      `knnSearch: k must be an integer in 1..${usable} ` +
        `(the bank has ${nBank} rows${exclude ? ', one excluded per query' : ''}), got ${k}`,
    );
  const cosine = metric === 'cosine';
  const b = prepareRows(bank, nBank, d, cosine);
  const q = prepareRows(query, nQuery, d, cosine);
  const distances = new Float64Array(nQuery * k).fill(Infinity);
  const neighbours = new Int32Array(nQuery * k).fill(-1);
  const tile = new Float64Array(block * block);
  for (let q0 = 0; q0 < nQuery; q0 += block) {
    const q1 = Math.min(nQuery, q0 + block);
    for (let b0 = 0; b0 < nBank; b0 += block) {
      const b1 = Math.min(nBank, b0 + block);
      const width = b1 - b0;
      // Dot products of the tile first (the hot loop), then the distances and the top-k update.
      dotTile(q.rows, q0, q1, b.rows, b0, b1, d, tile);
      for (let i = q0; i < q1; i++) {
        const skip = exclude ? exclude[i] : -1;
        const base = i * k;
        for (let j = b0; j < b1; j++) {
          if (j === skip) continue;
          const dot = tile[(i - q0) * width + j - b0];
          const distance = cosine ? 1 - dot : Math.sqrt(Math.max(q.norms2[i] + b.norms2[j] - 2 * dot, 0));
          if (distance >= distances[base + k - 1]) continue;
          // Insertion into the sorted k-list; ties keep the earlier bank row first.
          let at = k - 1;
          while (at > 0 && distances[base + at - 1] > distance) {
            distances[base + at] = distances[base + at - 1];
            neighbours[base + at] = neighbours[base + at - 1];
            at--;
          }
          distances[base + at] = distance;
          neighbours[base + at] = j;
        }
      }
    }
  }
  return { distances, neighbours, k };
}

/** kNN anomaly score: the mean distance from each query row to its k nearest bank rows. */
export function knnScores(
  bank: Features,
  nBank: number,
  query: Features,
  nQuery: number,
  d: number,
  options: KnnOptions = {},
): Float64Array {
  const { distances, k } = knnSearch(bank, nBank, query, nQuery, d, options);
  const scores = new Float64Array(nQuery);
  for (let i = 0; i < nQuery; i++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += distances[i * k + j];
    scores[i] = s / k;
  }
  return scores;
}

export interface ShrunkCovariance {
  /** Column means of the fitted rows. */
  location: Float64Array;
  /** d×d, row-major: (1 − shrinkage)·S + shrinkage·μ·I, S the 1/n empirical covariance, μ = trace(S)/d. */
  covariance: Float64Array;
  shrinkage: number;
  d: number;
}

/**
 * Ledoit–Wolf shrinkage of the empirical covariance of a row-major n×d matrix, as scikit-learn's
 * `ledoit_wolf_shrinkage` (rows centred on their mean): with S = XcᵀXc/n and μ = tr(S)/d,
 *   δ = ‖S − μI‖²_F / d,  β = min(δ, (Σ_i ‖x_i‖⁴/n − ‖S‖²_F) / (d·n)),  shrinkage = β/δ (0 when β = 0).
 */
export function ledoitWolf(x: Features, n: number, d: number): ShrunkCovariance {
  checkMatrix(x, n, d, 'ledoitWolf');
  if (n < 2) throw new Error(`ledoitWolf: needs at least 2 rows, got ${n}`);
  const location = columnMeans(x, n, d);
  const s = gramOfColumns(x, n, d, location);
  for (let i = 0; i < s.length; i++) s[i] /= n;
  let trace = 0;
  for (let i = 0; i < d; i++) trace += s[i * d + i];
  const mu = trace / d;
  let frobenius2 = 0;
  for (let i = 0; i < s.length; i++) frobenius2 += s[i] * s[i];
  // Σ_{a,b} Σ_i x_ia² x_ib² = Σ_i ‖x_i‖⁴: scikit-learn's sum of X²ᵀX² without the d×d product.
  let fourth = 0;
  for (let r = 0; r < n; r++) {
    let norm2 = 0;
    for (let c = 0; c < d; c++) norm2 += (x[r * d + c] - location[c]) ** 2;
    fourth += norm2 * norm2;
  }
  const delta = (frobenius2 - 2 * mu * trace + d * mu * mu) / d;
  const beta = Math.min(delta, (fourth / n - frobenius2) / (d * n));
  const shrinkage = beta === 0 ? 0 : beta / delta;
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < d * d; i++) covariance[i] = (1 - shrinkage) * s[i];
  for (let i = 0; i < d; i++) covariance[i * d + i] += shrinkage * mu;
  return { location, covariance, shrinkage, d };
}

export interface MahalanobisModel extends ShrunkCovariance {
  /** Cholesky factor L of the covariance (Σ = L·Lᵀ), row-major. */
  factor: Float64Array;
}

/**
 * A Gaussian fitted to the bank rows with a shrunk covariance: Ledoit–Wolf by default, or a fixed shrinkage in
 * [0, 1] towards μ·I. Shrinkage is what keeps Σ invertible when the bank has fewer rows than features.
 */
export function fitMahalanobis(
  bank: Features,
  n: number,
  d: number,
  options: { shrinkage?: 'ledoit-wolf' | number } = {},
): MahalanobisModel {
  let fit = ledoitWolf(bank, n, d);
  const fixed = options.shrinkage;
  if (typeof fixed === 'number') {
    if (!(fixed >= 0 && fixed <= 1))
      throw new Error(`fitMahalanobis: shrinkage must be in [0, 1] or 'ledoit-wolf', got ${fixed}`);
    // The same 1/n empirical covariance S and μ = tr(S)/d, mixed with the requested shrinkage instead.
    const raw = gramOfColumns(bank, n, d, fit.location);
    let trace = 0;
    for (let i = 0; i < d; i++) trace += raw[i * d + i] / n;
    const covariance = new Float64Array(d * d);
    for (let i = 0; i < d * d; i++) covariance[i] = ((1 - fixed) * raw[i]) / n;
    for (let i = 0; i < d; i++) covariance[i * d + i] += (fixed * trace) / d;
    fit = { ...fit, covariance, shrinkage: fixed };
  }
  let factor: Float64Array;
  try {
    factor = cholesky(fit.covariance, d);
  } catch (err) {
    throw new Error(
      `fitMahalanobis: the shrunk covariance of ${n} rows × ${d} features is singular ` +
        `(shrinkage ${fit.shrinkage}); constant features with shrinkage 0? (${(err as Error).message})`,
    );
  }
  return { ...fit, factor };
}

/** Squared Mahalanobis distance (x − μ)ᵀ Σ⁻¹ (x − μ) of each query row: ‖L⁻¹(x − μ)‖². */
export function mahalanobisScores(model: MahalanobisModel, query: Features, nQuery: number): Float64Array {
  const d = model.d;
  checkMatrix(query, nQuery, d, 'mahalanobisScores');
  const scores = new Float64Array(nQuery);
  const centred = new Float64Array(d);
  for (let i = 0; i < nQuery; i++) {
    for (let c = 0; c < d; c++) centred[c] = query[i * d + c] - model.location[c];
    const z = solveLower(model.factor, centred, d);
    let s = 0;
    for (let c = 0; c < d; c++) s += z[c] * z[c];
    scores[i] = s;
  }
  return scores;
}

/**
 * The threshold that flags a share `rate` of the reference scores: their (1 − rate) quantile (linear
 * interpolation between order statistics, numpy's default). A query is flagged when its score is above it.
 */
export function contaminationThreshold(referenceScores: ArrayLike<number>, rate: number): number {
  if (!(rate > 0 && rate < 1)) throw new Error(`contaminationThreshold: rate must be in (0, 1), got ${rate}`);
  if (referenceScores.length === 0) throw new Error('contaminationThreshold: no reference scores');
  const sorted = Float64Array.from(referenceScores).sort();
  if (Number.isNaN(sorted[sorted.length - 1])) throw new Error('contaminationThreshold: a reference score is NaN');
  const position = (1 - rate) * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (position - low) * (sorted[high] - sorted[low]);
}

export interface FewLabelProbeOptions {
  /** Defect share of the whole pool as the run knows it (its training proportion), in (0, 1). */
  knownShare: number;
  /** Penalty on the standardised coefficients (default 0.01, the frozen probe's). */
  l2?: number;
  maxIterations?: number;
}

/**
 * Logistic regression of k labelled defect rows (`labelledRows`, indices into the n pool rows) against every
 * other pool row taken as normal. The pool still holds about knownShare·n − k unlabelled defects; the labelled
 * ones get weight knownShare·n / k, so that together they weigh as much as all the defects the pool is known to
 * hold and the class balance of the fit matches the pool's. Unlabelled rows weigh 1.
 */
export function fewLabelProbe(
  pool: Features,
  n: number,
  d: number,
  labelledRows: ArrayLike<number>,
  options: FewLabelProbeOptions,
): LogisticFit {
  const k = labelledRows.length;
  if (k < 1) throw new Error('fewLabelProbe: needs at least one labelled defect');
  if (!(options.knownShare > 0 && options.knownShare < 1))
    throw new Error(`fewLabelProbe: knownShare must be in (0, 1), got ${options.knownShare}`);
  const labels = new Uint8Array(n);
  for (let i = 0; i < k; i++) {
    const row = labelledRows[i];
    if (!Number.isInteger(row) || row < 0 || row >= n)
      throw new Error(`fewLabelProbe: labelled row ${row} is not a row of the ${n}-row pool`);
    if (labels[row]) throw new Error(`fewLabelProbe: labelled row ${row} is listed twice`);
    labels[row] = 1;
  }
  if (k === n) throw new Error('fewLabelProbe: every pool row is labelled a defect; there is no unlabelled pool');
  const positiveWeight = Math.max((options.knownShare * n) / k, 1);
  return fitLogisticRegression(pool, n, d, labels, {
    l2: options.l2 ?? 0.01,
    positiveWeight,
    maxIterations: options.maxIterations,
  });
}
