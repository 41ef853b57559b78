import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../lib/data/rng';
import {
  LABEL_FREE_KEYS,
  alignment,
  alphaReq,
  alphaReqFromEigenvalues,
  covarianceEigenvalues,
  effectiveRank,
  invariance,
  labelFreeScores,
  lidar,
  nesum,
  rankMeBatched,
  uniformity,
} from '../../lib/eval/labelfree';
import { cholesky, covariance, solveLower, symmetricEigen, symmetricEigenvalues } from '../../lib/eval/linalg';
import { featureStats, rankMe } from '../../lib/eval/rankme';

interface LabelFreeCase {
  n: number;
  d: number;
  images: number;
  augmentations: number;
  batch_size: number;
  clean: number[];
  view_a: number[];
  view_b: number[];
  surrogate: number[];
  expected: Record<string, number>;
}
const fx = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'labelfree', 'labelfree.json'), 'utf8'),
) as {
  cases: Record<string, LabelFreeCase>;
  eigen: { m: number; matrix: number[]; values: number[] };
};

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

/** RankMe-style effective rank of k equal values and `zeros` zeros, in closed form. */
function equalRank(k: number, zeros: number, eps = 1e-6): number {
  const p = 1 / k + eps;
  return Math.exp(-(k * p * Math.log(p) + zeros * eps * Math.log(eps)));
}

/** n = 2d rows ±c_k e_k: zero mean, covariance exactly diag(2c_k²/(n − 1)). */
function signedAxes(c: number[]): Float32Array {
  const d = c.length;
  const x = new Float32Array(2 * d * d);
  c.forEach((ck, k) => {
    x[2 * k * d + k] = ck;
    x[(2 * k + 1) * d + k] = -ck;
  });
  return x;
}

describe('linalg: symmetric eigen-decomposition and Cholesky', () => {
  it('eigenvalues match numpy.linalg.eigh', () => {
    const { m, matrix, values } = fx.eigen;
    const got = symmetricEigenvalues(matrix, m);
    values.forEach((v, i) => close(got[i], v, `λ${i}`, 1e-12));
    assert.deepEqual(Array.from(matrix.slice(0, 3)), fx.eigen.matrix.slice(0, 3), 'the input is not modified');
  });

  it('eigenvectors are orthonormal and satisfy A·v = λ·v (random and repeated eigenvalues)', () => {
    const rng = new Rng(5);
    const m = 12;
    const random = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) random[i * m + j] = random[j * m + i] = rng.normal();
    // diag(3, 3, 3, 1, …) rotated by nothing: a repeated eigenvalue must still give an orthonormal basis.
    const repeated = new Float64Array(m * m);
    for (let i = 0; i < m; i++) repeated[i * m + i] = i < 3 ? 3 : 1;
    for (const [name, a] of [
      ['random', random],
      ['repeated', repeated],
    ] as const) {
      const { values, vectors } = symmetricEigen(a, m, { vectors: true });
      assert.ok(vectors, name);
      for (let k = 0; k < m; k++) {
        for (let l = 0; l < m; l++) {
          let dot = 0;
          for (let i = 0; i < m; i++) dot += vectors[k * m + i] * vectors[l * m + i];
          close(dot, k === l ? 1 : 0, `${name} v${k}·v${l}`, 1e-12);
        }
        for (let i = 0; i < m; i++) {
          let av = 0;
          for (let j = 0; j < m; j++) av += a[i * m + j] * vectors[k * m + j];
          close(av, values[k] * vectors[k * m + i], `${name} (Av − λv)[${i}] for λ${k}`, 1e-11);
        }
        if (k > 0) assert.ok(values[k] <= values[k - 1], `${name}: values descend`);
      }
    }
  });

  it('cholesky gives L·Lᵀ = A, solves triangular systems, and names a non-positive pivot', () => {
    const a = [4, 2, 0.4, 2, 5, 1, 0.4, 1, 3];
    const l = cholesky(a, 3);
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        let s = 0;
        for (let k = 0; k < 3; k++) s += l[i * 3 + k] * l[j * 3 + k];
        close(s, a[i * 3 + j], `(LLᵀ)${i}${j}`);
      }
    }
    const x = solveLower(l, [1, 2, 3], 3);
    for (let i = 0; i < 3; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += l[i * 3 + k] * x[k];
      close(s, [1, 2, 3][i], `(Lx)${i}`);
    }
    assert.throws(() => cholesky([1, 2, 2, 1], 2), /not positive definite \(pivot 1/);
    assert.throws(() => symmetricEigen([1, 2, 3], 2), /expected an 2×2 matrix \(4 values\), got 3/);
  });
});

describe('label-free scores on constructed inputs with known answers', () => {
  it('identity-like spectrum: α-ReQ = 0, NESum = d, RankMe = d (up to ε)', () => {
    const d = 6;
    const x = signedAxes(new Array(d).fill(1.5));
    const n = 2 * d;
    const eig = covarianceEigenvalues(x, n, d);
    eig.forEach((v) => close(v, (2 * 1.5 ** 2) / (n - 1), 'eigenvalue', 1e-12));
    close(alphaReq(x, n, d), 0, 'alpha', 1e-10);
    close(nesum(x, n, d), d, 'nesum', 1e-12);
    close(rankMe(x, n, d), equalRank(d, 0), 'rankme', 1e-10);
  });

  it('power-law spectrum λ_k ∝ k^−α: α-ReQ recovers α; NESum = Σ k^−α', () => {
    const d = 10;
    const alpha = 1.7;
    const x = signedAxes(Array.from({ length: d }, (_, k) => Math.sqrt((k + 1) ** -alpha)));
    close(alphaReq(x, 2 * d, d), alpha, 'alpha', 1e-5); // float32 storage of c_k
    let sum = 0;
    for (let k = 1; k <= d; k++) sum += k ** -alpha;
    close(nesum(x, 2 * d, d), sum, 'nesum', 1e-6);
    close(alphaReqFromEigenvalues([8, 4, 2, 1]), alphaSlope([8, 4, 2, 1]), 'direct fit');
  });

  it('rank-1 matrix: NESum = 1, RankMe = one value, uniformity from the two antipodal clusters', () => {
    const d = 5;
    const v = [1, -2, 0.5, 3, 1];
    const u = [1, 2, -1, 0.5, -3, 2, 4];
    const n = u.length;
    const x = Float32Array.from(u.flatMap((ui) => v.map((vj) => ui * vj)));
    close(nesum(x, n, d), 1, 'nesum', 1e-9);
    close(rankMe(x, n, d), equalRank(1, d - 1), 'rankme', 1e-9);
    // Normalised rows are ±v̂: same-sign pairs at distance 0, opposite-sign pairs at ‖2v̂‖² = 4.
    const positive = u.filter((ui) => ui > 0).length;
    const negative = n - positive;
    const same = (positive * (positive - 1)) / 2 + (negative * (negative - 1)) / 2;
    const pairs = (n * (n - 1)) / 2;
    close(uniformity(x, n, d), Math.log((same + (pairs - same) * Math.exp(-8)) / pairs), 'uniformity', 1e-9);
    assert.ok(alphaReq(x, n, d) > 10, 'a rank-1 spectrum decays steeply');
  });

  it('collapsed features (every row identical): RankMe ≈ 1, NESum and α-ReQ undefined, uniformity 0, std 0', () => {
    const n = 8;
    const d = 4;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) x.set([0.5, -1, 2, 0.25], i * d);
    close(rankMe(x, n, d), equalRank(1, d - 1), 'rankme', 1e-9);
    assert.ok(Number.isNaN(nesum(x, n, d)));
    assert.ok(Number.isNaN(alphaReq(x, n, d)));
    close(uniformity(x, n, d), 0, 'uniformity', 1e-12);
    close(featureStats(x, n, d).std, 0, 'feature std', 1e-12);
    const scores = labelFreeScores({
      clean: x,
      views: [x, x],
      surrogate: { features: x, images: 4, augmentations: 2 },
      n,
      d,
    });
    close(scores.alignment, 0, 'alignment');
    close(scores.invariance, 1, 'invariance', 1e-12);
    assert.ok(Number.isNaN(scores.lidar), 'nothing to separate');
  });

  it('views rotated by θ: alignment = 2 − 2cos θ, invariance = cos θ', () => {
    const theta = 0.7;
    const rng = new Rng(3);
    const n = 9;
    const d = 4;
    const a = new Float32Array(n * d);
    const b = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      // Row i of view 1 along e_0 scaled, view 2 rotated by θ in the (e_0, e_1) plane; lengths differ.
      const r1 = 0.5 + rng.next();
      const r2 = 0.5 + rng.next();
      a.set([r1, 0, 0, 0], i * d);
      b.set([r2 * Math.cos(theta), r2 * Math.sin(theta), 0, 0], i * d);
    }
    close(alignment(a, b, n, d), 2 - 2 * Math.cos(theta), 'alignment', 1e-6);
    close(invariance(a, b, n, d), Math.cos(theta), 'invariance', 1e-6);
  });

  it('isotropic Gaussian on S²: uniformity → −4 + log(sinh 4 / 4)', () => {
    const rng = new Rng(11);
    const n = 1500;
    const d = 3;
    const x = Float32Array.from({ length: n * d }, () => rng.normal());
    // For u, v uniform on S², t = u·v is uniform on [−1, 1] and ‖u − v‖² = 2 − 2t.
    const expected = -4 + Math.log(Math.sinh(4) / 4);
    assert.ok(Math.abs(uniformity(x, n, d) - expected) < 0.03, `uniformity ${uniformity(x, n, d)} vs ${expected}`);
    // Its covariance is near the identity: NESum near d, α-ReQ near 0.
    assert.ok(nesum(x, n, d) > 2.7 && nesum(x, n, d) <= 3, `nesum ${nesum(x, n, d)}`);
    assert.ok(Math.abs(alphaReq(x, n, d)) < 0.1, `alpha ${alphaReq(x, n, d)}`);
  });

  it('LiDAR: isotropic within-class noise and k equal class-mean directions give an effective rank of k', () => {
    const d = 6;
    const k = 3;
    const q = 2 * d; // augmentations ±s·e_j: within-class covariance exactly ∝ I
    const images = 2 * k; // class means ±m·e_i, i < k
    const x = new Float32Array(images * q * d);
    for (let c = 0; c < images; c++) {
      const axis = Math.floor(c / 2);
      const sign = c % 2 === 0 ? 1 : -1;
      for (let a = 0; a < q; a++) {
        const row = (c * q + a) * d;
        x[row + axis] += sign * 2;
        x[row + Math.floor(a / 2)] += a % 2 === 0 ? 0.5 : -0.5;
      }
    }
    close(lidar(x, images, q, d), equalRank(k, d - k), 'lidar', 1e-9);
    // Scaling all features leaves it unchanged (δ is relative).
    const scaled = x.map((v) => v * 1000);
    close(lidar(scaled, images, q, d), equalRank(k, d - k), 'lidar ×1000', 1e-9);
    assert.throws(() => lidar(x, images, q, d + 1), /lidar: expected 72×7 = 504 values, got 432/);
    assert.throws(() => lidar(x, 1, q, d), /at least 2 images/);
  });

  it('rankMeBatched averages RankMe over whole batches and drops the remainder', () => {
    const rng = new Rng(8);
    const n = 10;
    const d = 3;
    const x = Float32Array.from({ length: n * d }, () => rng.normal());
    const expected = (rankMe(x.subarray(0, 12), 4, d) + rankMe(x.subarray(12, 24), 4, d)) / 2;
    close(rankMeBatched(x, n, d, 4), expected, 'batched');
    close(rankMeBatched(x, n, d, 64), rankMe(x, n, d), 'one batch when n < batchSize');
  });

  it('effectiveRank of equal values is their count (up to ε)', () => {
    close(effectiveRank([2, 2, 2, 2]), equalRank(4, 0), 'four equal values');
  });
});

/** Least-squares slope of log λ on log k, negated, written out by hand for a 4-point check. */
function alphaSlope(values: number[]): number {
  const xs = values.map((_, i) => Math.log(i + 1));
  const ys = values.map((v) => Math.log(v));
  const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
  const my = ys.reduce((s, v) => s + v, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  xs.forEach((x, i) => {
    sxy += (x - mx) * (ys[i] - my);
    sxx += (x - mx) ** 2;
  });
  return -sxy / sxx;
}

describe('labelFreeScores against numpy (tools/fixtures/make_labelfree_fixtures.py)', () => {
  for (const [name, c] of Object.entries(fx.cases)) {
    it(`case '${name}' (n=${c.n}, d=${c.d})`, () => {
      const scores = labelFreeScores({
        clean: Float32Array.from(c.clean),
        views: [Float32Array.from(c.view_a), Float32Array.from(c.view_b)],
        surrogate: { features: Float32Array.from(c.surrogate), images: c.images, augmentations: c.augmentations },
        n: c.n,
        d: c.d,
        batchSize: c.batch_size,
      });
      assert.deepEqual(Object.keys(scores), [...LABEL_FREE_KEYS]);
      for (const [key, want] of Object.entries(c.expected)) close(scores[key], want, `${name}.${key}`, 1e-6);
    });
  }

  it('returns only what the input allows, and NaN for non-finite features', () => {
    const c = fx.cases.anisotropic;
    const clean = Float32Array.from(c.clean);
    const only = labelFreeScores({ clean, n: c.n, d: c.d });
    assert.deepEqual(Object.keys(only), [
      'rankme',
      'rankme_batch',
      'alpha_req',
      'nesum',
      'uniformity',
      'feature_std',
      'feature_mean',
    ]);
    const broken = clean.slice();
    broken[5] = NaN;
    const nan = labelFreeScores({ clean: broken, views: [broken, broken], n: c.n, d: c.d });
    for (const [key, value] of Object.entries(nan))
      assert.ok(Number.isNaN(value), `${key} should be NaN, got ${value}`);
    assert.throws(
      () => labelFreeScores({ clean, n: c.n, d: c.d + 1 }),
      /labelFreeScores: clean: expected 48×13 = 624 values, got 576/,
    );
    assert.throws(
      () => labelFreeScores({ clean, views: [clean, clean.subarray(1)], n: c.n, d: c.d }),
      /view 2\): expected 48×12/,
    );
  });

  it('covariance is the unbiased sample covariance', () => {
    const cov = covariance([1, 2, 3, 4, 5, 9], 3, 2);
    close(cov[0], 4, 'var x');
    close(cov[3], 13, 'var y');
    close(cov[1], 7, 'cov xy');
  });
});
