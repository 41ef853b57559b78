import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../lib/data/rng';
import { auroc } from '../../lib/eval/metrics';
import { logisticLogits } from '../../lib/eval/logistic';
import {
  contaminationThreshold,
  fewLabelProbe,
  fitMahalanobis,
  knnScores,
  knnSearch,
  ledoitWolf,
  mahalanobisScores,
} from '../../lib/eval/oneclass';

interface Case {
  name: string;
  n: number;
  d: number;
  nQuery: number;
  k: number;
  bank: number[];
  query: number[];
  ledoit_wolf: { shrinkage: number; location: number[]; covariance: number[]; mahalanobis: number[] };
  knn_cosine: number[];
  knn_euclidean: number[];
}

const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'oneclass', 'oneclass.json'), 'utf8'),
) as { cases: Case[] };

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    assert.ok(Math.abs(actual[i] - expected[i]) <= tolerance * scale, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Every query against every bank row, sorted: the reference the blocked search must reproduce. */
function bruteForce(
  bank: Float64Array,
  nBank: number,
  query: Float64Array,
  nQuery: number,
  d: number,
  k: number,
  metric: 'cosine' | 'euclidean',
  exclude?: number[],
): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < nQuery; i++) {
    const all: number[] = [];
    for (let j = 0; j < nBank; j++) {
      if (exclude && exclude[i] === j) continue;
      let dot = 0;
      let qq = 0;
      let bb = 0;
      let sq = 0;
      for (let c = 0; c < d; c++) {
        const q = query[i * d + c];
        const b = bank[j * d + c];
        dot += q * b;
        qq += q * q;
        bb += b * b;
        sq += (q - b) ** 2;
      }
      all.push(metric === 'cosine' ? 1 - dot / Math.sqrt(qq * bb) : Math.sqrt(sq));
    }
    out.push(all.sort((a, b) => a - b).slice(0, k));
  }
  return out;
}

function gaussianRows(rng: Rng, n: number, d: number, mean: number[] = [], std = 1): Float64Array {
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) x[i * d + c] = (mean[c] ?? 0) + std * rng.normal();
  return x;
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: far below the sampling error tested). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Hanley–McNeil standard error of an AUROC estimated from nPos and nNeg samples. */
function aurocStandardError(a: number, nPos: number, nNeg: number): number {
  const q1 = a / (2 - a);
  const q2 = (2 * a * a) / (1 + a);
  return Math.sqrt((a * (1 - a) + (nPos - 1) * (q1 - a * a) + (nNeg - 1) * (q2 - a * a)) / (nPos * nNeg));
}

describe('one-class scores', () => {
  describe('kNN distance', () => {
    it('equals a brute-force search, for both metrics, any tile size, and with self-exclusion', () => {
      const rng = new Rng(7);
      const nBank = 53;
      const nQuery = 37;
      const d = 9;
      const bank = gaussianRows(rng, nBank, d, Array(d).fill(0.3));
      const query = gaussianRows(rng, nQuery, d, Array(d).fill(0.3), 1.4);
      for (const metric of ['cosine', 'euclidean'] as const) {
        for (const k of [1, 4]) {
          const expected = bruteForce(bank, nBank, query, nQuery, d, k, metric);
          for (const blockRows of [1, 5, 16, 1000]) {
            const { distances } = knnSearch(bank, nBank, query, nQuery, d, { k, metric, blockRows });
            assertClose(distances, expected.flat(), 1e-12, `${metric} k=${k} block=${blockRows}`);
          }
          const scores = knnScores(bank, nBank, query, nQuery, d, { k, metric });
          assertClose(
            scores,
            expected.map((row) => row.reduce((a, b) => a + b, 0) / k),
            1e-12,
            `${metric} k=${k} scores`,
          );
        }
      }
      // The bank scoring itself: without exclusion every row's nearest neighbour is itself, at distance 0.
      const own = knnSearch(bank, nBank, bank, nBank, d, { k: 1 });
      for (let i = 0; i < nBank; i++) assert.ok(Math.abs(own.distances[i]) < 1e-12 && own.neighbours[i] === i);
      const exclude = Array.from({ length: nBank }, (_, i) => i);
      const loo = knnSearch(bank, nBank, bank, nBank, d, { k: 3, exclude, blockRows: 8 });
      assertClose(
        loo.distances,
        bruteForce(bank, nBank, bank, nBank, d, 3, 'cosine', exclude).flat(),
        1e-12,
        'leave-one-out',
      );
      for (let i = 0; i < nBank; i++) for (let j = 0; j < 3; j++) assert.notEqual(loo.neighbours[i * 3 + j], i);
    });

    it('equals scikit-learn’s NearestNeighbors distances', () => {
      for (const c of fixture.cases) {
        assertClose(
          knnSearch(c.bank, c.n, c.query, c.nQuery, c.d, { k: c.k, metric: 'cosine', blockRows: 4 }).distances,
          c.knn_cosine,
          1e-9,
          `${c.name} cosine`,
        );
        assertClose(
          knnSearch(c.bank, c.n, c.query, c.nQuery, c.d, { k: c.k, metric: 'euclidean', blockRows: 4 }).distances,
          c.knn_euclidean,
          1e-9,
          `${c.name} euclidean`,
        );
      }
    });

    it('rejects a bad k, metric, shape or a NaN, naming the problem', () => {
      const bank = new Float64Array(12);
      bank.fill(1);
      assert.throws(() => knnSearch(bank, 4, bank, 4, 3, { k: 5 }), /k must be an integer in 1\.\.4/);
      assert.throws(
        () => knnSearch(bank, 4, bank, 4, 3, { k: 4, exclude: [0, 1, 2, 3] }),
        /1\.\.3 \(the bank has 4 rows, one excluded per query\)/,
      );
      assert.throws(
        () => knnSearch(bank, 4, bank, 4, 3, { metric: 'manhattan' as never, k: 1 }),
        /metric must be 'cosine' or 'euclidean'/,
      );
      assert.throws(
        () => knnSearch(bank, 4, bank.subarray(1), 4, 3, { k: 1 }),
        /query\): expected 4×3 = 12 values, got 11/,
      );
      const bad = Float64Array.from(bank);
      bad[7] = NaN;
      assert.throws(() => knnSearch(bad, 4, bank, 4, 3, { k: 1 }), /bank\): row 2, column 1 is NaN/);
    });
  });

  describe('Ledoit–Wolf and Mahalanobis', () => {
    it('equal scikit-learn’s LedoitWolf shrinkage, covariance and mahalanobis to 1e-6', () => {
      for (const c of fixture.cases) {
        const fit = ledoitWolf(c.bank, c.n, c.d);
        assert.ok(
          Math.abs(fit.shrinkage - c.ledoit_wolf.shrinkage) < 1e-9,
          `${c.name}: shrinkage ${fit.shrinkage} vs ${c.ledoit_wolf.shrinkage}`,
        );
        assertClose(fit.location, c.ledoit_wolf.location, 1e-9, `${c.name} location`);
        assertClose(fit.covariance, c.ledoit_wolf.covariance, 1e-9, `${c.name} covariance`);
        const model = fitMahalanobis(c.bank, c.n, c.d);
        assertClose(
          mahalanobisScores(model, c.query, c.nQuery),
          c.ledoit_wolf.mahalanobis,
          1e-6,
          `${c.name} mahalanobis`,
        );
      }
    });

    it('with a fixed shrinkage of 0 is the plain 1/n covariance, and refuses a singular one', () => {
      const c = fixture.cases.find((x) => x.n > x.d)!;
      const model = fitMahalanobis(c.bank, c.n, c.d, { shrinkage: 0 });
      const lw = ledoitWolf(c.bank, c.n, c.d);
      // S = (Σ_LW − s·μ·I) / (1 − s) recovers the empirical covariance from scikit-learn's shrunk one.
      const mu = lw.covariance.reduce((acc, v, i) => (i % (c.d + 1) === 0 ? acc + v : acc), 0) / c.d;
      for (let i = 0; i < c.d; i++) {
        for (let j = 0; j < c.d; j++) {
          const empirical = (lw.covariance[i * c.d + j] - (i === j ? lw.shrinkage * mu : 0)) / (1 - lw.shrinkage);
          assert.ok(Math.abs(model.covariance[i * c.d + j] - empirical) < 1e-9);
        }
      }
      const wide = fixture.cases.find((x) => x.n < x.d)!;
      assert.throws(() => fitMahalanobis(wide.bank, wide.n, wide.d, { shrinkage: 0 }), /singular/);
      assert.throws(
        () => fitMahalanobis(wide.bank, wide.n, wide.d, { shrinkage: 1.5 }),
        /shrinkage must be in \[0, 1\]/,
      );
    });
  });

  describe('on two Gaussians with a known answer', () => {
    const rng = new Rng(2020);
    const nNormal = 3000;
    const nDefect = 3000;

    it(
      'Mahalanobis and kNN recover the AUROC of a scale anomaly: ' + 'N(0, I) vs N(0, s²I) in 2-D gives s²/(1 + s²)',
      () => {
        // ‖y‖²/‖x‖² ~ s²·F(2, 2) and the F(2, 2) CDF is t/(1 + t), so P(‖y‖ > ‖x‖) = s²/(1 + s²).
        const s2 = 4;
        const expected = s2 / (1 + s2);
        const bank = gaussianRows(rng, 4000, 2);
        const query = new Float64Array([
          ...gaussianRows(rng, nNormal, 2),
          ...gaussianRows(rng, nDefect, 2, [], Math.sqrt(s2)),
        ]);
        const labels = Array.from({ length: nNormal + nDefect }, (_, i) => (i < nNormal ? 0 : 1));
        const tolerance = 3 * aurocStandardError(expected, nDefect, nNormal);
        const maha = auroc(labels, mahalanobisScores(fitMahalanobis(bank, 4000, 2), query, nNormal + nDefect));
        assert.ok(Math.abs(maha - expected) < tolerance, `Mahalanobis AUROC ${maha} vs ${expected} ± ${tolerance}`);
        const knn = auroc(labels, knnScores(bank, 4000, query, nNormal + nDefect, 2, { k: 20, metric: 'euclidean' }));
        assert.ok(Math.abs(knn - expected) < tolerance, `kNN AUROC ${knn} vs ${expected} ± ${tolerance}`);
        // Cosine distance only sees directions, which the two classes share: it cannot tell them apart.
        const cosine = auroc(labels, knnScores(bank, 4000, query, nNormal + nDefect, 2, { k: 20 }));
        assert.ok(Math.abs(cosine - 0.5) < tolerance, `cosine kNN AUROC ${cosine} should be chance`);
      },
    );

    it('the few-label probe recovers the equal-covariance shift: N(0, I) vs N(δ, I) gives Φ(‖δ‖/√2)', () => {
      const delta = [1.2, -0.9];
      const norm = Math.hypot(...delta);
      const expected = normalCdf(norm / Math.SQRT2);
      // A pool of 2 000 with 20 % defects, 200 of them labelled; the rest count as normal.
      const nPool = 2000;
      const share = 0.2;
      const poolDefects = nPool * share;
      const pool = new Float64Array([
        ...gaussianRows(rng, nPool - poolDefects, 2),
        ...gaussianRows(rng, poolDefects, 2, delta),
      ]);
      const labelled = Array.from({ length: 200 }, (_, i) => nPool - poolDefects + i);
      const fit = fewLabelProbe(pool, nPool, 2, labelled, { knownShare: share });
      assert.ok(fit.converged);
      const query = new Float64Array([...gaussianRows(rng, nNormal, 2), ...gaussianRows(rng, nDefect, 2, delta)]);
      const labels = Array.from({ length: nNormal + nDefect }, (_, i) => (i < nNormal ? 0 : 1));
      const measured = auroc(labels, logisticLogits(fit, query, nNormal + nDefect));
      const tolerance = 3 * aurocStandardError(expected, nDefect, nNormal);
      assert.ok(
        Math.abs(measured - expected) < tolerance,
        `probe AUROC ${measured} vs Φ(Δ/√2) = ${expected} ± ${tolerance}`,
      );
      // The one-class Mahalanobis score on the same data ranks by distance from the normal mean, not along δ,
      // so it falls short of the linear optimum: the gap the label-efficiency curve measures.
      const maha = auroc(
        labels,
        mahalanobisScores(
          fitMahalanobis(pool.subarray(0, 2 * (nPool - poolDefects)), nPool - poolDefects, 2),
          query,
          nNormal + nDefect,
        ),
      );
      assert.ok(maha < measured - 0.02, `one-class ${maha} should trail the probe ${measured}`);
    });
  });

  describe('thresholds and the few-label probe', () => {
    it(
      'the contamination threshold flags the requested share of the reference scores ' + '(numpy’s linear quantile)',
      () => {
        const scores = Array.from({ length: 101 }, (_, i) => i);
        assert.equal(contaminationThreshold(scores, 0.1), 90);
        assert.equal(contaminationThreshold([4, 1, 3, 2], 0.5), 2.5);
        const rng = new Rng(3);
        const many = Array.from({ length: 5000 }, () => rng.normal());
        const cut = contaminationThreshold(many, 0.15);
        const flagged = many.filter((v) => v > cut).length / many.length;
        assert.ok(Math.abs(flagged - 0.15) < 1e-3, `flagged ${flagged}`);
        assert.throws(() => contaminationThreshold(many, 0), /rate must be in \(0, 1\)/);
        assert.throws(() => contaminationThreshold([], 0.1), /no reference scores/);
      },
    );

    it('weights the labelled defects as the pool’s known share and rejects bad labels', () => {
      const rng = new Rng(11);
      const pool = gaussianRows(rng, 100, 3);
      assert.throws(() => fewLabelProbe(pool, 100, 3, [], { knownShare: 0.1 }), /at least one labelled defect/);
      assert.throws(() => fewLabelProbe(pool, 100, 3, [3, 3], { knownShare: 0.1 }), /row 3 is listed twice/);
      assert.throws(
        () => fewLabelProbe(pool, 100, 3, [100], { knownShare: 0.1 }),
        /row 100 is not a row of the 100-row pool/,
      );
      assert.throws(() => fewLabelProbe(pool, 100, 3, [1], { knownShare: 1 }), /knownShare must be in \(0, 1\)/);
      // More weight on the labelled rows moves the fitted intercept up: the class balance follows the share.
      const low = fewLabelProbe(pool, 100, 3, [1, 2], { knownShare: 0.05 });
      const high = fewLabelProbe(pool, 100, 3, [1, 2], { knownShare: 0.4 });
      assert.ok(high.intercept > low.intercept + 0.5, `intercepts ${low.intercept} → ${high.intercept}`);
    });
  });
});
