import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  barlowTwinsLoss,
  byolLoss,
  dinoLoss,
  dinoTeacherTemp,
  maePixelLoss,
  ntXentLoss,
  weightedBce,
} from '../../lib/losses';

interface Stored {
  shape: number[];
  data: number[];
}
type Case = Record<string, unknown>;
const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'losses', 'losses.json'), 'utf8'),
) as { cases: Record<string, Case> };

function tensor(c: Case, key: string): tf.Tensor {
  const s = c[key] as Stored;
  return tf.tensor(s.data, s.shape, 'float32');
}

function assertRel(actual: number, expected: number, rel = 1e-5, what = 'value'): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-12);
  assert.ok(err <= rel, `${what}: got ${actual}, expected ${expected} (relative error ${err.toExponential(2)})`);
}

function scalar(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

describe('losses against the PyTorch reference (tools/fixtures/make_loss_fixtures.py)', () => {
  let before = 0;
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    assert.equal(tf.memory().numTensors, before, 'a test leaked tensors');
  });

  for (const name of ['ntxent', 'ntxent_normalised']) {
    it(`NT-Xent (${name})`, () => {
      const c = fixture.cases[name];
      const z1 = tensor(c, 'z1') as tf.Tensor2D;
      const z2 = tensor(c, 'z2') as tf.Tensor2D;
      assertRel(scalar(ntXentLoss(z1, z2, c.temperature as number)), c.loss as number);
      tf.dispose([z1, z2]);
    });
  }

  it('BYOL symmetric, averaged', () => {
    const c = fixture.cases.byol;
    const [p1, p2, z1m, z2m] = ['p1', 'p2', 'z1m', 'z2m'].map((k) => tensor(c, k) as tf.Tensor2D);
    assertRel(scalar(byolLoss(p1, p2, z1m, z2m)), c.loss as number);
    tf.dispose([p1, p2, z1m, z2m]);
  });

  it('BYOL sends no gradient to the momentum projections', () => {
    const c = fixture.cases.byol;
    const [p1, p2, z1m, z2m] = ['p1', 'p2', 'z1m', 'z2m'].map((k) => tensor(c, k) as tf.Tensor2D);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => byolLoss(p1, p2, a as tf.Tensor2D, b as tf.Tensor2D));
    const [ga, gb] = grads([z1m, z2m]);
    assert.equal(
      tf.tidy(() => tf.abs(ga).max().dataSync()[0]),
      0,
    );
    assert.equal(
      tf.tidy(() => tf.abs(gb).max().dataSync()[0]),
      0,
    );
    tf.dispose([p1, p2, z1m, z2m, ga, gb]);
  });

  it('Barlow Twins with lambda and scale_loss', () => {
    const c = fixture.cases.barlow;
    const z1 = tensor(c, 'z1') as tf.Tensor2D;
    const z2 = tensor(c, 'z2') as tf.Tensor2D;
    assertRel(scalar(barlowTwinsLoss(z1, z2, c.lambda as number, c.scaleLoss as number)), c.loss as number);
    tf.dispose([z1, z2]);
  });

  it('DINO loss with centring and temperatures, and the new centre', () => {
    const c = fixture.cases.dino;
    const [s1, s2, t1, t2] = ['s1', 's2', 't1', 't2'].map((k) => tensor(c, k) as tf.Tensor2D);
    const center = tensor(c, 'center');
    const out = dinoLoss([s1, s2], [t1, t2], center, c.studentTemp as number, c.teacherTemp as number);
    const loss = scalar(out.loss);
    const entropy = scalar(out.teacherEntropy);
    assertRel(loss, c.loss as number);
    assert.deepEqual(out.center.shape, [1, 32]);
    const got = out.center.dataSync();
    (c.newCenter as number[]).forEach((v, i) =>
      assert.ok(Math.abs(got[i] - v) <= 1e-6 + 1e-5 * Math.abs(v), `center[${i}]`),
    );
    tf.dispose([s1, s2, t1, t2, center, out.center]);
    // the KL part (loss − teacher entropy) is never negative, and the entropy lies in [0, log K]
    assert.ok(loss - entropy >= -1e-5, `KL ${loss - entropy}`);
    assert.ok(entropy >= 0 && entropy <= Math.log(32) + 1e-5, `entropy ${entropy}`);
  });

  it('DINO teacher entropy equals the loss when the student reproduces the teacher (zero KL)', () => {
    const t = tf.randomNormal([6, 16], 0, 1, 'float32', 5) as tf.Tensor2D;
    const center = tf.randomNormal([1, 16], 0, 0.1, 'float32', 6);
    // p = softmax(s/τs) = softmax((t − c)/τt) = q when s = (t − c)·τs/τt
    const s = tf.tidy(() => tf.mul(tf.sub(t, center), 0.1 / 0.04) as tf.Tensor2D);
    const out = dinoLoss([s, s], [t, t], center, 0.1, 0.04);
    assertRel(scalar(out.teacherEntropy), scalar(out.loss), 1e-5);
    const zeros = tf.zeros([6, 16]) as tf.Tensor2D;
    const other = dinoLoss([zeros, zeros], [t, t], center, 0.1, 0.04);
    assert.ok(scalar(other.loss) - scalar(other.teacherEntropy) > 0.1, 'a uniform student is far from a sharp teacher');
    tf.dispose([t, center, s, zeros, out.center, other.center]);
  });

  it('DINO teacher temperature warm-up per epoch (numpy.linspace)', () => {
    const c = fixture.cases.dino_teacher_temp;
    (c.values as number[]).forEach((v, epoch) =>
      assertRel(
        dinoTeacherTemp(epoch, c.warmupEpochs as number, c.epochs as number, 0.04, 0.07),
        v,
        1e-12,
        `epoch ${epoch}`,
      ),
    );
  });

  for (const name of ['mae_norm', 'mae_raw']) {
    it(`MAE pixel loss over masked patches (${name})`, () => {
      const c = fixture.cases[name];
      const pred = tensor(c, 'pred') as tf.Tensor3D;
      const target = tensor(c, 'target') as tf.Tensor3D;
      const mask = tensor(c, 'mask') as tf.Tensor2D;
      assertRel(scalar(maePixelLoss(pred, target, mask, c.normPixLoss as boolean)), c.loss as number);
      tf.dispose([pred, target, mask]);
    });
  }

  for (const name of ['weighted_bce', 'weighted_bce_extreme']) {
    it(`weighted BCE = BCEWithLogits(pos_weight) (${name})`, () => {
      const c = fixture.cases[name];
      const logits = tensor(c, 'logits');
      const labels = tensor(c, 'labels');
      assertRel(scalar(weightedBce(logits, labels, c.posWeight as number)), c.loss as number);
      tf.dispose([logits, labels]);
    });
  }

  it('rejects mismatched shapes with the tensor names', () => {
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const b = tf.zeros([4, 5]) as tf.Tensor2D;
    assert.throws(() => ntXentLoss(a, b), /'z1' \[4, 3\] and 'z2' \[4, 5\]/);
    assert.throws(() => weightedBce(a, b, 2), /weightedBce: 'logits'/);
    tf.dispose([a, b]);
  });
});
