/**
 * Small dense float64 linear algebra for the evaluation scores: symmetric eigen-decomposition (values,
 * optionally vectors), Cholesky, triangular solves, Gram and covariance matrices. Plain typed arrays,
 * row-major; no tensors, so results do not depend on the TF.js backend.
 *
 * Eigen-decomposition: Householder reduction to tridiagonal form, then implicit QL with Wilkinson shifts,
 * O(m³). With `vectors` the Householder reflections and the QL rotations are accumulated as well (about
 * three times the work), so ask for vectors only when they are used.
 *
 * @example
 *   const { values, vectors } = symmetricEigen(a, m, { vectors: true });
 *   values[0];                      // the largest eigenvalue
 *   vectors!.subarray(0, m);        // its unit eigenvector (row k of `vectors` belongs to values[k])
 *   const l = cholesky(spd, m);     // lower triangle, spd = l·lᵀ
 */

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** m×m, row-major; row k is the unit eigenvector of values[k]. Present only when asked for. */
  vectors?: Float64Array;
}

function checkSquare(a: ArrayLike<number>, m: number, fn: string): void {
  if (!Number.isInteger(m) || m < 1) throw new Error(`${fn}: m must be a positive integer, got ${m}`);
  if (a.length !== m * m) throw new Error(`${fn}: expected an ${m}×${m} matrix (${m * m} values), got ${a.length}`);
}

/**
 * Householder reduction of a symmetric m×m matrix (overwritten) to tridiagonal T = Qᵀ A Q. Returns the
 * diagonal d, the off-diagonal e (e[i] couples d[i] and d[i+1], e[m−1] = 0) and, when asked, Qᵀ
 * (row-major), which the QL step turns into the eigenvectors.
 */
function tridiagonalise(
  a: Float64Array,
  m: number,
  accumulate: boolean,
): { d: Float64Array; e: Float64Array; qt?: Float64Array } {
  const v = new Float64Array(m);
  const p = new Float64Array(m);
  let qt: Float64Array | undefined;
  let w: Float64Array | undefined;
  if (accumulate) {
    qt = new Float64Array(m * m);
    for (let i = 0; i < m; i++) qt[i * m + i] = 1;
    w = new Float64Array(m);
  }
  for (let k = 0; k < m - 2; k++) {
    let norm2 = 0;
    for (let i = k + 1; i < m; i++) norm2 += a[i * m + k] * a[i * m + k];
    if (norm2 === 0) continue;
    const x0 = a[(k + 1) * m + k];
    const alpha = x0 >= 0 ? -Math.sqrt(norm2) : Math.sqrt(norm2);
    v.fill(0);
    for (let i = k + 1; i < m; i++) v[i] = a[i * m + k];
    v[k + 1] -= alpha;
    let vv = 0;
    for (let i = k + 1; i < m; i++) vv += v[i] * v[i];
    if (vv === 0) continue;
    const beta = 2 / vv;
    // H = I − β v vᵀ. p = β·A·v on the trailing block; q = p − (β/2)(vᵀp)·v; H A H = A − v qᵀ − q vᵀ.
    // Only the lower triangle is read and updated (A stays symmetric), halving the memory traffic.
    for (let i = k + 1; i < m; i++) p[i] = 0;
    // Rows i and i+1 together, so each p[j] is loaded once per pair of rows.
    let i = k + 1;
    for (; i + 1 < m; i += 2) {
      const base0 = i * m;
      const base1 = base0 + m;
      const v0 = v[i];
      const v1 = v[i + 1];
      let s0 = 0;
      let s1 = 0;
      for (let j = k + 1; j < i; j++) {
        const a0 = a[base0 + j];
        const a1 = a[base1 + j];
        const vj = v[j];
        s0 += a0 * vj;
        s1 += a1 * vj;
        p[j] += a0 * v0 + a1 * v1;
      }
      const aii = a[base0 + i];
      const a10 = a[base1 + i];
      const a11 = a[base1 + i + 1];
      p[i] += s0 + aii * v0 + a10 * v1;
      p[i + 1] += s1 + a10 * v0 + a11 * v1;
    }
    if (i < m) {
      const base = i * m;
      const vi = v[i];
      let s0 = a[base + i] * vi;
      for (let j = k + 1; j < i; j++) {
        const aij = a[base + j];
        s0 += aij * v[j];
        p[j] += aij * vi;
      }
      p[i] += s0;
    }
    let vp = 0;
    for (let r = k + 1; r < m; r++) {
      p[r] *= beta;
      vp += v[r] * p[r];
    }
    const half = (beta * vp) / 2;
    for (let r = k + 1; r < m; r++) p[r] -= half * v[r];
    for (let r = k + 1; r < m; r++) {
      const base = r * m;
      const vr = v[r];
      const qr = p[r];
      for (let j = k + 1; j <= r; j++) a[base + j] -= vr * p[j] + qr * v[j];
    }
    a[(k + 1) * m + k] = alpha;
    for (let i = k + 2; i < m; i++) a[i * m + k] = 0;
    if (qt && w) {
      // Qᵀ ← H Qᵀ (Qᵀ = H_last ⋯ H_0): only rows k+1.. change.
      w.fill(0);
      for (let i = k + 1; i < m; i++) {
        const vi = v[i];
        const base = i * m;
        for (let j = 0; j < m; j++) w[j] += vi * qt[base + j];
      }
      for (let i = k + 1; i < m; i++) {
        const f = beta * v[i];
        const base = i * m;
        for (let j = 0; j < m; j++) qt[base + j] -= f * w[j];
      }
    }
  }
  const d = new Float64Array(m);
  const e = new Float64Array(m);
  for (let i = 0; i < m; i++) d[i] = a[i * m + i];
  for (let i = 0; i < m - 1; i++) e[i] = a[(i + 1) * m + i];
  return { d, e, qt };
}

/**
 * Eigenvalues of a symmetric tridiagonal matrix by implicit QL with Wilkinson shifts (d, e overwritten).
 * With zt (rows = the current basis, e.g. Qᵀ), the plane rotations are applied to its rows, which leaves
 * row j = the eigenvector of d[j].
 */
function tridiagonalQl(d: Float64Array, e: Float64Array, zt?: Float64Array): void {
  const m = d.length;
  // Off-diagonals below ε·‖T‖ are at the rounding noise of the Householder reduction already: treat them as
  // zero. Without this floor, a cluster of noise-level eigenvalues (rank-deficient input: few surrogate
  // classes, collapsed features) can keep the relative test failing for ever.
  let norm = 0;
  for (let i = 0; i < m; i++) norm = Math.max(norm, Math.abs(d[i]) + (i < m - 1 ? Math.abs(e[i]) : 0));
  const absoluteFloor = Number.EPSILON * norm;
  for (let l = 0; l < m; l++) {
    let iterations = 0;
    for (;;) {
      let j = l;
      for (; j < m - 1; j++) {
        const dd = Math.abs(d[j]) + Math.abs(d[j + 1]);
        if (Math.abs(e[j]) <= Number.EPSILON * dd || Math.abs(e[j]) <= absoluteFloor) break;
      }
      if (j === l) break;
      if (++iterations > 100) throw new Error('symmetricEigen: the QL iteration did not converge in 100 sweeps');
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[j] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let underflow = false;
      for (let i = j - 1; i >= l; i--) {
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
        if (zt) {
          const rowI = i * m;
          const rowNext = rowI + m;
          for (let k = 0; k < m; k++) {
            const zNext = zt[rowNext + k];
            const zi = zt[rowI + k];
            zt[rowNext + k] = s * zi + c * zNext;
            zt[rowI + k] = c * zi - s * zNext;
          }
        }
      }
      if (underflow) continue;
      d[l] -= p;
      e[l] = g;
      e[j] = 0;
    }
  }
}

/**
 * Eigen-decomposition of a symmetric m×m matrix (row-major; only symmetry is assumed, not checked; the
 * input is copied, never modified). Eigenvalues descending; with `{ vectors: true }` also unit eigenvectors.
 */
export function symmetricEigen(a: ArrayLike<number>, m: number, options: { vectors?: boolean } = {}): SymmetricEigen {
  checkSquare(a, m, 'symmetricEigen');
  const work = Float64Array.from(a);
  for (let i = 0; i < work.length; i++) {
    if (!Number.isFinite(work[i]))
      throw new Error(`symmetricEigen: entry (${Math.floor(i / m)}, ${i % m}) is ${work[i]}`);
  }
  const wantVectors = options.vectors === true;
  const { d, e, qt } = tridiagonalise(work, m, wantVectors);
  tridiagonalQl(d, e, qt);
  const order = Array.from({ length: m }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = Float64Array.from(order, (i) => d[i]);
  if (!qt) return { values };
  const vectors = new Float64Array(m * m);
  order.forEach((src, dst) => vectors.set(qt.subarray(src * m, src * m + m), dst * m));
  return { values, vectors };
}

/** Eigenvalues only, descending. */
export function symmetricEigenvalues(a: ArrayLike<number>, m: number): Float64Array {
  return symmetricEigen(a, m).values;
}

/**
 * Cholesky factor of a symmetric positive-definite m×m matrix: lower-triangular L (row-major, zeros
 * above the diagonal) with A = L·Lᵀ. Throws naming the pivot when A is not positive definite.
 */
export function cholesky(a: ArrayLike<number>, m: number): Float64Array {
  checkSquare(a, m, 'cholesky');
  const l = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * m + j];
      const ri = i * m;
      const rj = j * m;
      for (let k = 0; k < j; k++) s -= l[ri + k] * l[rj + k];
      if (i === j) {
        if (!(s > 0)) throw new Error(`cholesky: the matrix is not positive definite (pivot ${i} = ${s})`);
        l[ri + i] = Math.sqrt(s);
      } else {
        l[ri + j] = s / l[rj + j];
      }
    }
  }
  return l;
}

/** Solve L·x = b for lower-triangular L (m×m, row-major); returns x. */
export function solveLower(l: ArrayLike<number>, b: ArrayLike<number>, m: number): Float64Array {
  if (b.length !== m) throw new Error(`solveLower: right-hand side has ${b.length} values, expected ${m}`);
  const x = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i];
    const ri = i * m;
    for (let k = 0; k < i; k++) s -= l[ri + k] * x[k];
    x[i] = s / l[ri + i];
  }
  return x;
}

/** Solve Lᵀ·x = b for lower-triangular L (m×m, row-major); returns x. */
export function solveLowerTransposed(l: ArrayLike<number>, b: ArrayLike<number>, m: number): Float64Array {
  if (b.length !== m) throw new Error(`solveLowerTransposed: right-hand side has ${b.length} values, expected ${m}`);
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = b[i];
    for (let k = i + 1; k < m; k++) s -= l[k * m + i] * x[k];
    x[i] = s / l[i * m + i];
  }
  return x;
}

/** Solve A·x = b given A's Cholesky factor L (A = L·Lᵀ, m×m, row-major): forward, then back substitution. */
export function solveCholesky(l: ArrayLike<number>, b: ArrayLike<number>, m: number): Float64Array {
  return solveLowerTransposed(l, solveLower(l, b, m), m);
}

/**
 * Row Gram matrix G = R Rᵀ of `rows` rows of length `len`, contiguous in `r` (float64). Two-by-two
 * blocking: each pass over a pair of rows feeds four dot products, which is what keeps d = 512, n = 1024
 * around a tenth of a second in plain JS.
 */
function rowGram(r: Float64Array, rows: number, len: number): Float64Array {
  const g = new Float64Array(rows * rows);
  let a = 0;
  for (; a + 1 < rows; a += 2) {
    const ra = a * len;
    const ra1 = ra + len;
    let b = a;
    for (; b + 1 < rows; b += 2) {
      const rb = b * len;
      const rb1 = rb + len;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let c = 0; c < len; c++) {
        const x0 = r[ra + c];
        const x1 = r[ra1 + c];
        const y0 = r[rb + c];
        const y1 = r[rb1 + c];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      g[a * rows + b] = s00;
      g[a * rows + b + 1] = s01;
      g[(a + 1) * rows + b] = s10;
      g[(a + 1) * rows + b + 1] = s11;
    }
    if (b < rows) {
      const rb = b * len;
      let s0 = 0;
      let s1 = 0;
      for (let c = 0; c < len; c++) {
        s0 += r[ra + c] * r[rb + c];
        s1 += r[ra1 + c] * r[rb + c];
      }
      g[a * rows + b] = s0;
      g[(a + 1) * rows + b] = s1;
    }
  }
  if (a < rows) {
    const ra = a * len;
    let s = 0;
    for (let c = 0; c < len; c++) s += r[ra + c] * r[ra + c];
    g[a * rows + a] = s;
  }
  for (let i = 0; i < rows; i++) for (let j = i + 1; j < rows; j++) g[j * rows + i] = g[i * rows + j];
  return g;
}

/** XᵀX (d×d, float64) of a row-major n×d matrix, optionally after subtracting a per-column `center`. */
export function gramOfColumns(x: ArrayLike<number>, n: number, d: number, center?: ArrayLike<number>): Float64Array {
  if (x.length !== n * d) throw new Error(`gramOfColumns: expected ${n}×${d} = ${n * d} values, got ${x.length}`);
  const columns = new Float64Array(d * n);
  for (let r = 0; r < n; r++) {
    const base = r * d;
    for (let c = 0; c < d; c++) columns[c * n + r] = center ? x[base + c] - center[c] : x[base + c];
  }
  return rowGram(columns, d, n);
}

/** XXᵀ (n×n, float64) of a row-major n×d matrix. */
export function gramOfRows(x: ArrayLike<number>, n: number, d: number): Float64Array {
  if (x.length !== n * d) throw new Error(`gramOfRows: expected ${n}×${d} = ${n * d} values, got ${x.length}`);
  return rowGram(x instanceof Float64Array ? x : Float64Array.from(x), n, d);
}

/** Column means of a row-major n×d matrix. */
export function columnMeans(x: ArrayLike<number>, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let c = 0; c < d; c++) mean[c] += x[r * d + c];
  for (let c = 0; c < d; c++) mean[c] /= n;
  return mean;
}

/** Sample covariance (divisor n − 1) of the columns of a row-major n×d matrix, d×d. */
export function covariance(x: ArrayLike<number>, n: number, d: number): Float64Array {
  if (n < 2) throw new Error(`covariance: needs at least 2 rows, got ${n}`);
  const g = gramOfColumns(x, n, d, columnMeans(x, n, d));
  for (let i = 0; i < g.length; i++) g[i] /= n - 1;
  return g;
}
