import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { Lars } from '../../lib/optim';

describe('LARS group without adaptation', () => {
  it('is plain momentum SGD for a 2-D weight, while the adaptive group is trust-ratio scaled', () => {
    const init = [[0.5, -0.2], [0.1, 0.3]];
    const grad = [[0.2, 0.1], [-0.3, 0.4]];
    const plain = tf.variable(tf.tensor2d(init));
    const scaled = tf.variable(tf.tensor2d(init));
    const opt = new Lars(
      [
        { name: 'probe', params: [{ name: 'probe.weight', variable: plain }], lr: 0.1, momentum: 0.9, weightDecay: 0, adaptive: false },
        { name: 'model', params: [{ name: 'model.weight', variable: scaled }], lr: 0.1, momentum: 0.9, weightDecay: 0 },
      ],
      { eta: 0.001 },
    );
    for (let step = 0; step < 2; step++) {
      const g = tf.tensor2d(grad);
      const g2 = tf.tensor2d(grad);
      opt.step({ [plain.name]: g, [scaled.name]: g2 });
      tf.dispose([g, g2]);
    }
    // momentum SGD: μ1 = g, μ2 = 1.9 g, so w2 = w0 − 0.1·(g + 1.9g) = w0 − 0.29 g
    const expected = init.map((row, i) => row.map((w, j) => w - 0.29 * grad[i][j]));
    const got = plain.arraySync() as number[][];
    got.forEach((row, i) => row.forEach((w, j) => assert.ok(Math.abs(w - expected[i][j]) < 1e-6, `plain [${i},${j}] ${w} vs ${expected[i][j]}`)));
    // with the trust ratio the same two steps move the weight by only ~lr·η·‖w‖ each
    const moved = (scaled.arraySync() as number[][]).flat().map((w, k) => Math.abs(w - init.flat()[k]));
    assert.ok(Math.max(...moved) < 1e-3, `adaptive group moved by ${Math.max(...moved)}`);
    opt.dispose();
    tf.dispose([plain, scaled]);
  });
});
