import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { fitLogisticRegression, logisticLogits } from '../../lib/eval/logistic';

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
