/**
 * RankMe (Garrido et al. 2023) and the paper's feature monitors, in float64 JS.
 *
 * RankMe: σ = singular values of the N×K embedding matrix, p_k = σ_k/‖σ‖₁ + ε (ε = 1e-6, as the
 * paper's code), RankMe = exp(−Σ p_k log p_k) over the min(N, K) values. The singular values come from
 * the eigenvalues of the smaller Gram matrix (ZᵀZ or ZZᵀ), reduced to tridiagonal form by Householder
 * reflections and diagonalised by implicit QL with Wilkinson shifts: O(m³) with m = min(N, K). Squaring
 * loses relative accuracy only in singular values below ~1e-8·σ_max, whose p_k is dominated by ε anyway;
 * eigenvalues within rounding of zero are taken as exact zeros.
 * An all-zero matrix gives NaN (0/0, as torch does).
 *
 * Feature monitors (P `compute_and_log_ssl_metrics`): rows are L2-normalised, then std over the batch
 * (unbiased) per dimension, averaged over dimensions and multiplied by √D (1 = the ideal 1/√D spread);
 * and the mean of the normalised features.
 *
 * @example
 *   const score = rankMe(features, n, k);            // features: Float32Array of n·k, row-major
 *   const { std, mean } = featureStats(features, n, k);
 */

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

/** Gram matrix of the smaller side, m×m row-major in float64. */
function smallGram(z: ArrayLike<number>, n: number, k: number): { g: Float64Array; m: number } {
  if (k <= n) {
    const g = new Float64Array(k * k);
    const row = new Float64Array(k);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < k; c++) row[c] = z[r * k + c];
      for (let a = 0; a < k; a++) {
        const va = row[a];
        if (va === 0) continue;
        const base = a * k;
        for (let b = a; b < k; b++) g[base + b] += va * row[b];
      }
    }
    for (let a = 0; a < k; a++) for (let b = 0; b < a; b++) g[a * k + b] = g[b * k + a];
    return { g, m: k };
  }
  const g = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += z[a * k + c] * z[b * k + c];
      g[a * n + b] = s;
      g[b * n + a] = s;
    }
  }
  return { g, m: n };
}

/**
 * Householder reduction of a symmetric m×m matrix (overwritten) to tridiagonal form:
 * returns the diagonal d and the off-diagonal e (e[i] couples d[i] and d[i+1], e[m−1] = 0).
 */
function tridiagonalise(a: Float64Array, m: number): { d: Float64Array; e: Float64Array } {
  const v = new Float64Array(m);
  const p = new Float64Array(m);
  for (let k = 0; k < m - 2; k++) {
    let norm2 = 0;
    for (let i = k + 1; i < m; i++) norm2 += a[i * m + k] * a[i * m + k];
    if (norm2 === 0) continue;
    const x0 = a[(k + 1) * m + k];
    const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    for (let i = k + 1; i < m; i++) v[i] = a[i * m + k];
    v[k + 1] -= alpha;
    let vv = 0;
    for (let i = k + 1; i < m; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    const beta = 2 / vv;
    // p = β·A·v on the trailing block; q = p − (β/2)(vᵀp)·v; A ← A − v qᵀ − q vᵀ.
    let vp = 0;
    for (let i = k + 1; i < m; i++) {
      let s = 0;
      const base = i * m;
      for (let j = k + 1; j < m; j++) s += a[base + j] * v[j];
      p[i] = beta * s;
      vp += v[i] * p[i];
    }
    const half = (beta * vp) / 2;
    for (let i = k + 1; i < m; i++) p[i] -= half * v[i];
    for (let i = k + 1; i < m; i++) {
      const base = i * m;
      const vi = v[i];
      const qi = p[i];
      for (let j = k + 1; j < m; j++) a[base + j] -= vi * p[j] + qi * v[j];
    }
    a[(k + 1) * m + k] = alpha;
    a[k * m + k + 1] = alpha;
    for (let i = k + 2; i < m; i++) {
      a[i * m + k] = 0;
      a[k * m + i] = 0;
    }
  }
  const d = new Float64Array(m);
  const e = new Float64Array(m);
  for (let i = 0; i < m; i++) d[i] = a[i * m + i];
  for (let i = 0; i < m - 1; i++) e[i] = a[(i + 1) * m + i];
  return { d, e };
}

/** Eigenvalues of a symmetric tridiagonal matrix by implicit QL with Wilkinson shifts (d overwritten). */
function tridiagonalEigenvalues(d: Float64Array, e: Float64Array): Float64Array {
  const m = d.length;
  for (let l = 0; l < m; l++) {
    let iterations = 0;
    for (;;) {
      let j = l;
      for (; j < m - 1; j++) {
        const dd = Math.abs(d[j]) + Math.abs(d[j + 1]);
        if (Math.abs(e[j]) <= Number.EPSILON * dd) break;
      }
      if (j === l) break;
      if (++iterations > 100) throw new Error('rankMe: eigenvalue iteration did not converge');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[j] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = j - 1;
      let underflow = false;
      for (; i >= l; i--) {
        const f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[j] = 0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[j] = 0;
    }
  }
  return d;
}

/** Singular values of an N×K matrix (row-major), descending, min(N, K) of them. */
export function singularValues(features: Matrix, n: number, k: number): Float64Array {
  const z = flatten(features, n, k, 'singularValues');
  const { g, m } = smallGram(z, n, k);
  const { d, e } = tridiagonalise(g, m);
  const eig = tridiagonalEigenvalues(d, e);
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
