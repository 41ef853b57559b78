import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  auroc,
  averagePrecision,
  balancedPosWeight,
  bestThreshold,
  compareCalibrations,
  effectiveTrainingPrior,
  logit,
  priorShiftLogits,
  priorShiftOffset,
  transferThreshold,
} from '../../lib/eval/calibration';
import { binaryMetrics } from '../../lib/eval/metrics';

const fx = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'labelfree', 'calibration.json'), 'utf8'),
) as {
  cases: Array<{ labels: number[]; logits: number[]; f1: Best; f2: Best }>;
};
interface Best {
  f: number;
  predicted_positive: number;
  lowest_positive_score: number;
}

function close(actual: number, expected: number, what: string, tol = 1e-12): void {
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, expected ${expected}`,
  );
}

describe('calibration: prior-shift correction of the logit', () => {
  it('pos_weight = n_neg/n_pos makes the effective training prior exactly 0.5', () => {
    for (const [pos, neg] of [
      [10, 90],
      [1, 999],
      [300, 700],
      [50, 50],
    ]) {
      const w = balancedPosWeight(pos, neg);
      close(effectiveTrainingPrior(pos / (pos + neg), w), 0.5, `${pos}/${neg}`);
      close(
        priorShiftOffset({ trainPrior: pos / (pos + neg), deployPrior: 0.05, posWeight: w }),
        logit(0.05),
        `offset ${pos}/${neg}`,
      );
    }
    close(effectiveTrainingPrior(0.2), 0.2, 'unweighted keeps the training prior');
  });

  it('turns the weighted-BCE optimum into the exact deployment posterior (Gaussian classes)', () => {
    // x | defect ~ N(μ1, 1), x | normal ~ N(μ0, 1): log-likelihood ratio (μ1 − μ0)x − (μ1² − μ0²)/2.
    const mu1 = 1.3;
    const mu0 = -0.4;
    const trainPrior = 0.1;
    const deployPrior = 0.02;
    const w = 9; // n_neg/n_pos at a 10 % defect rate
    const llr = (x: number) => (mu1 - mu0) * x - (mu1 * mu1 - mu0 * mu0) / 2;
    const xs = [-2, -0.5, 0, 0.7, 1.9, 3];
    // The minimiser of the weighted BCE: σ(s) = w·p(1|x) / (w·p(1|x) + p(0|x)).
    const trained = xs.map((x) => {
      const p1 = trainPrior * Math.exp(-((x - mu1) ** 2) / 2);
      const p0 = (1 - trainPrior) * Math.exp(-((x - mu0) ** 2) / 2);
      const q = (w * p1) / (w * p1 + p0);
      return Math.log(q / (1 - q));
    });
    const corrected = priorShiftLogits(trained, { trainPrior, deployPrior, posWeight: w });
    xs.forEach((x, i) => close(corrected[i], llr(x) + logit(deployPrior), `x = ${x}`, 1e-12));
  });

  it('rejects priors outside (0, 1)', () => {
    assert.throws(() => logit(0), /probability 0 is outside/);
    assert.throws(() => priorShiftOffset({ trainPrior: 1, deployPrior: 0.1 }), /trainPrior 1 is outside/);
    assert.throws(() => balancedPosWeight(0, 10), /needs positives and negatives/);
  });
});

describe('calibration: thresholds chosen on the training split', () => {
  // Sorted: 5P 4P 3.5N 3P 2N 1N 0.5P 0N. F1 is best (0.75) predicting the top 4; F2 (20/23) the top 7.
  const labels = [1, 1, 0, 1, 0, 0, 1, 0];
  const logits = [5, 4, 3.5, 3, 2, 1, 0.5, 0];

  it('maximises F1 and F2 on a constructed split with known optima', () => {
    const f1 = bestThreshold(labels, logits, { beta: 1 });
    assert.deepEqual([f1.threshold, f1.predictedPositive, f1.precision, f1.recall], [2.5, 4, 0.75, 0.75]);
    close(f1.fBeta, 0.75, 'F1');
    const f2 = bestThreshold(labels, logits, { beta: 2 });
    assert.deepEqual([f2.threshold, f2.predictedPositive, f2.recall], [0.25, 7, 1]);
    close(f2.fBeta, 20 / 23, 'F2');
  });

  it('the chosen threshold reproduces its score through binaryMetrics and transfers to another split', () => {
    const evaluation = { labels: [0, 1, 0, 0, 1, 0], logits: [3, 2.6, 2.4, -1, 0.3, 0.2] };
    const t = transferThreshold({ labels, logits }, evaluation, { beta: 1 });
    close(t.train.f1, t.fBeta, 'train F1');
    assert.equal(t.threshold, 2.5);
    // At 2.5 on the evaluation split: predicted {3 (N), 2.6 (P)}.
    assert.deepEqual([t.evaluation.tp, t.evaluation.fp, t.evaluation.fn, t.evaluation.tn], [1, 1, 1, 3]);
    close(t.evaluation.f1, 0.5, 'evaluation F1');
  });

  it('cuts only between distinct logits; ties go to the higher threshold; everything positive is −∞', () => {
    const tied = bestThreshold([1, 0], [1, 1]);
    assert.equal(tied.threshold, -Infinity);
    close(tied.fBeta, 2 / 3, 'tied F1');
    // Predicting only the top image (P 1, R 1/2) or all four (P 1/2, R 1) both give F1 = 2/3: take the higher cut.
    const even = bestThreshold([1, 0, 0, 1], [4, 3, 2, 1]);
    assert.equal(even.threshold, 3.5);
    close(even.fBeta, 2 / 3, 'even F1');
  });

  it('adjacent doubles: the threshold still separates them', () => {
    const below = 1 - 2 ** -53;
    const t = bestThreshold([1, 0], [1, below]);
    const m = binaryMetrics([1, 0], [1, below], { threshold: t.threshold });
    assert.deepEqual([m.tp, m.fp], [1, 0]);
  });

  it('matches scikit-learn precision_recall_curve optima (random scores with ties)', () => {
    fx.cases.forEach((c, i) => {
      for (const [beta, want] of [
        [1, c.f1],
        [2, c.f2],
      ] as const) {
        const got = bestThreshold(c.labels, c.logits, { beta });
        close(got.fBeta, want.f, `case ${i} F${beta}`);
        assert.equal(got.predictedPositive, want.predicted_positive, `case ${i} F${beta} count`);
        assert.ok(got.threshold < want.lowest_positive_score, `case ${i} F${beta}: threshold below the last positive`);
        assert.ok(
          c.logits.every((s) => s >= want.lowest_positive_score || s <= got.threshold),
          `case ${i} F${beta}: no logit between`,
        );
      }
    });
  });

  it('needs defects in the training split', () => {
    assert.throws(() => bestThreshold([0, 0], [1, 2]), /no defects/);
    assert.throws(() => bestThreshold([0, 2], [1, 2]), /labels\[1\] = 2/);
    assert.throws(() => bestThreshold([0, 1], [1, NaN]), /logits\[1\] = NaN/);
  });
});

describe('calibration: every rule side by side', () => {
  it('compareCalibrations combines the fixed, prior-shift, train-threshold and threshold-free results', () => {
    const train = { labels: [1, 1, 0, 1, 0, 0, 1, 0], logits: [5, 4, 3.5, 3, 2, 1, 0.5, 0] };
    const evaluation = { labels: [0, 1, 0, 0, 1, 0, 0, 0], logits: [3, 2.6, 2.4, -1, 0.3, 0.2, 0.1, -2] };
    const prior = { trainPrior: 0.5, deployPrior: 0.25, posWeight: 1 };
    const r = compareCalibrations(train, evaluation, prior);
    assert.equal(r.fixed.threshold, 0);
    assert.deepEqual([r.fixed.tp, r.fixed.fp], [2, 4]);
    close(r.priorShiftThreshold, -logit(0.25), 'threshold = log 3');
    // logit > log 3 ≈ 1.0986: predicted {3, 2.6, 2.4} → tp 1, fp 2.
    assert.deepEqual([r.priorShift.tp, r.priorShift.fp], [1, 2]);
    assert.equal(r.trainF1.threshold, 2.5);
    assert.equal(r.trainF2.threshold, 0.25);
    close(r.auroc, auroc(evaluation.labels, evaluation.logits), 'auroc');
    close(r.auprc, averagePrecision(evaluation.labels, evaluation.logits), 'auprc');
  });
});
