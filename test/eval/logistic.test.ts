import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Rng } from '../../lib/data/rng';
import { crossValidateL2, fitLogisticRegression, logisticLogits } from '../../lib/eval/logistic';

interface LogisticCase {
  name: string;
  n: number;
  d: number;
  l2: number;
  positiveWeight: number;
  features: number[];
  labels: number[];
  evalFeatures: number[];
  nEval: number;
  coefficients: number[];
  intercept: number;
  evalLogits: number[];
}

const cases = (
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'eval', 'logistic.json'), 'utf8')) as {
    cases: LogisticCase[];
  }
).cases;

describe('offline logistic-regression probe', () => {
  for (const c of cases) {
    it(`matches scikit-learn's weighted L2 fit: ${c.name}`, () => {
      const fit = fitLogisticRegression(c.features, c.n, c.d, c.labels, { l2: c.l2, positiveWeight: c.positiveWeight });
      assert.ok(fit.converged, `not converged after ${fit.iterations} iterations`);
      fit.coefficients.forEach((v, j) =>
        assert.ok(
          Math.abs(v - c.coefficients[j]) < 1e-5 * Math.max(1, Math.abs(c.coefficients[j])),
          `coefficient ${j}: ${v} vs ${c.coefficients[j]}`,
        ),
      );
      assert.ok(
        Math.abs(fit.intercept - c.intercept) < 1e-5 * Math.max(1, Math.abs(c.intercept)),
        `intercept ${fit.intercept} vs ${c.intercept}`,
      );
      const logits = logisticLogits(fit, c.evalFeatures, c.nEval);
      logits.forEach((v, i) =>
        assert.ok(
          Math.abs(v - c.evalLogits[i]) < 1e-5 * Math.max(1, Math.abs(c.evalLogits[i])),
          `eval logit ${i}: ${v} vs ${c.evalLogits[i]}`,
        ),
      );
    });
  }

  it('stays finite on separable data and ignores a constant feature', () => {
    const features = [0, 5, 1, 5, 2, 5, 3, 5];
    const fit = fitLogisticRegression(features, 4, 2, [0, 0, 1, 1], { l2: 1e-3 });
    assert.ok(fit.converged);
    assert.equal(fit.coefficients[1], 0);
    const logits = logisticLogits(fit, features, 4);
    assert.ok(logits[0] < 0 && logits[1] < 0 && logits[2] > 0 && logits[3] > 0);
    assert.ok(Array.from(logits).every(Number.isFinite));
  });

  it('reaches the same optimum from a warm start, in fewer iterations', () => {
    const c = cases[cases.length - 1];
    const options = { l2: c.l2, positiveWeight: c.positiveWeight };
    const cold = fitLogisticRegression(c.features, c.n, c.d, c.labels, options);
    const nearby = fitLogisticRegression(c.features, c.n, c.d, c.labels, { ...options, l2: c.l2 * 2 });
    const warm = fitLogisticRegression(c.features, c.n, c.d, c.labels, { ...options, start: nearby });
    assert.ok(warm.iterations < cold.iterations, `${warm.iterations} vs ${cold.iterations} iterations`);
    warm.coefficients.forEach((v, j) => assert.ok(Math.abs(v - cold.coefficients[j]) < 1e-6, `coefficient ${j}`));
    assert.throws(
      () =>
        fitLogisticRegression(c.features, c.n, c.d, c.labels, {
          ...options,
          start: { coefficients: new Float64Array(1), intercept: 0 },
        }),
      /start has 1 coefficients for/,
    );
  });

  it('names what is wrong with its input', () => {
    assert.throws(
      () => fitLogisticRegression([1, 2, 3], 2, 2, [0, 1], { l2: 0.1 }),
      /expected 2×2 = 4 feature values, got 3/,
    );
    assert.throws(
      () => fitLogisticRegression([1, 2], 2, 1, [1, 1], { l2: 0.1 }),
      /only one class \(2 positives of 2\)/,
    );
    assert.throws(() => fitLogisticRegression([1, 2], 2, 1, [0, 2], { l2: 0.1 }), /label 1 is 2, expected 0 or 1/);
    assert.throws(() => fitLogisticRegression([1, 2], 2, 1, [0, 1], { l2: 0 }), /l2 must be > 0/);
  });
});

/** n rows: the label is the sign of a small difference between two nearly equal coordinates, plus `noise` columns. */
function hiddenSignal(n: number, noise: number, seed: number): { features: number[]; labels: number[]; d: number } {
  const rng = new Rng(seed);
  const d = 2 + noise;
  const features: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const shared = rng.uniform(-1, 1);
    const signal = rng.uniform(-1, 1);
    labels.push(signal + 0.3 * rng.uniform(-1, 1) > 0 ? 1 : 0);
    features.push(shared + 0.02 * signal, shared - 0.02 * signal);
    for (let j = 0; j < noise; j++) features.push(rng.uniform(-1, 1));
  }
  return { features, labels, d };
}

describe('cross-validated probe penalty', () => {
  it('chooses a weak penalty when the signal lies in a low-variance direction', () => {
    const { features, labels, d } = hiddenSignal(600, 4, 7);
    const selection = crossValidateL2(features, 600, d, labels, { seed: 1 });
    assert.equal(selection.folds, 5);
    assert.deepEqual(
      selection.scores.map((s) => s.l2),
      [1e-2, 1e-3, 1e-4, 1e-5],
    );
    assert.ok(selection.l2 <= 1e-4, JSON.stringify(selection.scores));
    assert.ok(selection.scores[2].auroc > selection.scores[0].auroc + 0.05, JSON.stringify(selection.scores));
  });

  it('chooses the strong penalty when many noise columns meet few rows', () => {
    const rng = new Rng(3);
    const n = 60;
    const d = 40;
    const features: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 2;
      labels.push(label);
      features.push(label + rng.uniform(-1.5, 1.5));
      for (let j = 1; j < d; j++) features.push(rng.uniform(-1, 1));
    }
    const selection = crossValidateL2(features, n, d, labels, { seed: 1, grid: [1, 1e-4] });
    assert.equal(selection.l2, 1, JSON.stringify(selection.scores));
  });

  it('is deterministic in its seed, and the chosen penalty is the best scored', () => {
    const { features, labels, d } = hiddenSignal(200, 3, 11);
    const a = crossValidateL2(features, 200, d, labels, { seed: 5, grid: [1, 1e-2] });
    assert.deepEqual(crossValidateL2(features, 200, d, labels, { seed: 5, grid: [1, 1e-2] }), a);
    const best = a.scores.reduce((x, y) => (y.auroc > x.auroc ? y : x));
    assert.equal(a.l2, best.l2);
  });

  it('uses fewer folds than asked when a class is rare, and refuses fewer than two of a class', () => {
    const features = Array.from({ length: 20 }, (_, i) => i);
    const labels = features.map((i) => (i >= 17 ? 1 : 0));
    assert.equal(crossValidateL2(features, 20, 1, labels).folds, 3);
    const one = features.map((i) => (i === 19 ? 1 : 0));
    assert.throws(() => crossValidateL2(features, 20, 1, one), /1 positives and 19 negatives of 20 rows/);
  });
});
