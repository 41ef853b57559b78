import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { BatchNorm, LayerNorm, gelu } from '../../lib/nn/layers';

describe('nn layers', () => {
  it('BatchNorm: batch stats with biased variance, running stats with unbiased variance and momentum 0.1', () => {
    const bn = new BatchNorm(2);
    const x = tf.tensor2d([
      [1, 10],
      [2, 20],
      [3, 30],
      [6, 0],
    ]);
    const y = tf.tidy(() => bn.forward(x));
    // channel 0: mean 3, biased var 3.5, unbiased 14/3
    assert.ok(Math.abs(y.dataSync()[0] - (1 - 3) / Math.sqrt(3.5 + 1e-5)) < 1e-5);
    const rm = bn.runningMean.dataSync();
    const rv = bn.runningVar.dataSync();
    assert.ok(Math.abs(rm[0] - 0.3) < 1e-6 && Math.abs(rm[1] - 1.5) < 1e-6);
    assert.ok(Math.abs(rv[0] - (0.9 + (0.1 * 14) / 3)) < 1e-6 && Math.abs(rv[1] - (0.9 + (0.1 * 500) / 3)) < 1e-4);
    assert.equal(bn.numBatchesTracked.dataSync()[0], 1);
    bn.eval();
    const z = tf.tidy(() => bn.forward(x));
    assert.ok(Math.abs(z.dataSync()[0] - (1 - 0.3) / Math.sqrt(rv[0] + 1e-5)) < 1e-5);
    tf.dispose([x, y, z]);
    bn.dispose();
  });

  it('BatchNorm updates running stats inside tf.variableGrads without leaking tensors', () => {
    const bn = new BatchNorm(3);
    const x = tf.randomNormal([4, 2, 2, 3], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(bn.forward(x))) as tf.Scalar);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(bn.numBatchesTracked.dataSync()[0], 1);
    assert.ok(tf.tidy(() => tf.sum(tf.abs(bn.runningMean)).dataSync()[0]) > 0);
    x.dispose();
    bn.dispose();
  });

  it('GELU is the exact erf form; LayerNorm uses its eps', () => {
    const g = tf.tidy(() => gelu(tf.tensor1d([-1, 0.5, 2])).dataSync());
    [-0.15865525393145707, 0.34573123063700656, 1.9544997361036416].forEach((v, i) =>
      assert.ok(Math.abs(g[i] - v) < 1e-6),
    );
    const ln = new LayerNorm(2, 1e-6);
    const y = tf.tidy(() => ln.forward(tf.tensor2d([[1, 3]])).dataSync());
    assert.ok(Math.abs(y[0] + 1 / Math.sqrt(1 + 1e-6)) < 1e-6);
    ln.dispose();
  });
});
