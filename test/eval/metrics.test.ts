import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { SEWER_CIW } from '../../lib/data/sewerml';
import {
  binaryMetrics,
  featureStats,
  featureStatsOverViews,
  rankMe,
  singularValues,
  type BinaryMetrics,
} from '../../lib/eval';

interface MetricCase {
  threshold: number;
  labels: number[];
  logits: number[];
  codes: number[][];
  expected: Record<string, number | null>;
}
interface Fixture {
  ciw: number[];
  cases: Record<string, MetricCase>;
  rankme: Record<string, { n: number; k: number; data: number[]; rankme: number; singular: number[] }>;
  featureStats: Record<string, { n: number; d: number; data: number[]; std: number; mean: number }>;
}
const fx = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'eval', 'metrics.json'), 'utf8'),
) as Fixture;

function close(actual: number, expected: number | null, what: string, tol = 1e-12): void {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: undefined in scikit-learn, expected NaN, got ${actual}`);
    return;
  }
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

describe('binary metrics against scikit-learn (tools/fixtures/make_metric_fixtures.py)', () => {
  it('uses the Sewer-ML class-importance weights', () => {
    assert.deepEqual([...SEWER_CIW], fx.ciw);
  });

  for (const [name, c] of Object.entries(fx.cases)) {
    it(`case '${name}'`, () => {
      const m = binaryMetrics(c.labels, Float32Array.from(c.logits), { codes: c.codes, threshold: c.threshold });
      for (const [key, want] of Object.entries(c.expected)) {
        let expected = want;
        // scikit-learn returns 0 (with a warning) for average precision without positives; it is undefined.
        if (key === 'auprc' && c.labels.every((y) => y === 0)) expected = null;
        close(m[key as keyof BinaryMetrics], expected, `${name}.${key}`);
      }
    });
  }

  it('accepts codes as one flat N×17 array', () => {
    const c = fx.cases.random;
    const flat = Uint8Array.from(c.codes.flat());
    const m = binaryMetrics(c.labels, c.logits, { codes: flat });
    close(m.f2Ciw, c.expected.f2Ciw, 'f2Ciw');
    close(m.f2CiwMultiLabel, c.expected.f2CiwMultiLabel, 'f2CiwMultiLabel');
  });

  it('without codes, F2_CIW is NaN and the rest is defined', () => {
    const m = binaryMetrics([0, 1, 1], [-1, 2, -3]);
    assert.ok(Number.isNaN(m.f2Ciw) && Number.isNaN(m.f2CiwMultiLabel));
    assert.equal(m.tp, 1);
    assert.equal(m.fn, 1);
    close(m.auroc, 0.5, 'auroc');
  });

  it('f2CiwPresent averages only over the codes the set carries; f2Ciw counts absent codes as 0', () => {
    // Two defects carrying RB (weight 1) and OB (weight 0.5518), one found each way; every other code absent.
    const codes = [new Array(17).fill(0), new Array(17).fill(0), new Array(17).fill(0)];
    codes[0][0] = 1;
    codes[1][1] = 1;
    const m = binaryMetrics([1, 1, 0], [2, -1, -3], { codes });
    // RB found (R = 1, F2 = 1), OB missed (F2 = 0).
    assert.ok(Math.abs(m.f2CiwPresent - SEWER_CIW[0] / (SEWER_CIW[0] + SEWER_CIW[1])) < 1e-12);
    const total = SEWER_CIW.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(m.f2Ciw - SEWER_CIW[0] / total) < 1e-12);
    assert.ok(
      Number.isNaN(
        binaryMetrics([0, 0], [1, -1], { codes: [new Array(17).fill(0), new Array(17).fill(0)] }).f2CiwPresent,
      ),
    );
  });

  it('a logit exactly at the threshold is predicted normal', () => {
    const m = binaryMetrics([1, 0], [0, 0]);
    assert.deepEqual([m.tp, m.fp, m.tn, m.fn], [0, 0, 1, 1]);
  });

  it('rejects bad input with the row', () => {
    assert.throws(() => binaryMetrics([0, 2], [0, 1]), /labels\[1\] = 2/);
    assert.throws(() => binaryMetrics([0, 1], [0]), /labels has 2 entries but scores\/logits has 1/);
    assert.throws(() => binaryMetrics([0, 1], [0, 1], { codes: [[1], [0]] }), /codes\[0\] has 1 entries, expected 17/);
  });
});

describe('RankMe and feature monitors against numpy/torch', () => {
  for (const [name, c] of Object.entries(fx.rankme)) {
    it(`RankMe '${name}' (${c.n}×${c.k})`, () => {
      // 1e-6: the Gram route loses the float32-noise singular values (~1e-7·σ_max) of near-rank-deficient input.
      close(rankMe(Float32Array.from(c.data), c.n, c.k), c.rankme, `${name} rankme`, 1e-6);
      const sigma = singularValues(c.data, c.n, c.k);
      assert.equal(sigma.length, Math.min(c.n, c.k));
      // Accurate to ~1e-7·σ_max absolutely (tiny singular values of near-rank-deficient input are not resolved).
      sigma.forEach((s, i) => assert.ok(Math.abs(s - c.singular[i]) <= 1e-6 * c.singular[0], `${name} σ${i}`));
    });
  }

  it('RankMe accepts rows (number[][]) and gives the same value', () => {
    const c = fx.rankme.tall;
    const rows = Array.from({ length: c.n }, (_, i) => c.data.slice(i * c.k, (i + 1) * c.k));
    close(rankMe(rows, c.n, c.k), c.rankme, 'rows', 1e-6);
  });

  it('RankMe of a rank-1 matrix is ~1 and of an orthogonal one is K', () => {
    const rank1 = Array.from({ length: 8 }, (_, i) => [1, 2, 3].map((x) => x * (i + 1)));
    close(rankMe(rank1, 8, 3), Math.exp(-(1 + 1e-6) * Math.log(1 + 1e-6) - 2 * 1e-6 * Math.log(1e-6)), 'rank 1', 1e-9);
    const eye = Array.from({ length: 4 }, (_, i) => [0, 1, 2, 3].map((j) => (i === j ? 5 : 0)));
    close(rankMe(eye, 4, 4), Math.exp(-4 * (0.25 + 1e-6) * Math.log(0.25 + 1e-6)), 'identity', 1e-12);
    assert.throws(() => rankMe([1, 2, 3], 2, 2), /expected 2×2 = 4 values, got 3/);
  });

  for (const [name, c] of Object.entries(fx.featureStats)) {
    it(`feature std/mean monitors '${name}'`, () => {
      const s = featureStats(c.data, c.n, c.d);
      close(s.std, c.std, 'std', 1e-10);
      close(s.mean, c.mean, 'mean', 1e-10);
      const twice = featureStatsOverViews([c.data, c.data], c.n, c.d);
      close(twice.std, c.std, 'views std', 1e-10);
    });
  }
});
