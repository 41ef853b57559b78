import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { AdamW, Lars, createOptimizer, probeGroupOverrides } from '../../lib/optim';

describe('LARS group without adaptation', () => {
  it('is plain momentum SGD for a 2-D weight, while the adaptive group is trust-ratio scaled', () => {
    const init = [
      [0.5, -0.2],
      [0.1, 0.3],
    ];
    const grad = [
      [0.2, 0.1],
      [-0.3, 0.4],
    ];
    const plain = tf.variable(tf.tensor2d(init));
    const scaled = tf.variable(tf.tensor2d(init));
    const opt = new Lars(
      [
        {
          name: 'probe',
          params: [{ name: 'probe.weight', variable: plain }],
          lr: 0.1,
          momentum: 0.9,
          weightDecay: 0,
          adaptive: false,
        },
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
    got.forEach((row, i) =>
      row.forEach((w, j) =>
        assert.ok(Math.abs(w - expected[i][j]) < 1e-6, `plain [${i},${j}] ${w} vs ${expected[i][j]}`),
      ),
    );
    // with the trust ratio the same two steps move the weight by only ~lr·η·‖w‖ each
    const moved = (scaled.arraySync() as number[][]).flat().map((w, k) => Math.abs(w - init.flat()[k]));
    assert.ok(Math.max(...moved) < 1e-3, `adaptive group moved by ${Math.max(...moved)}`);
    opt.dispose();
    tf.dispose([plain, scaled]);
  });
});

describe('AdamW group without adaptation (the online probe of DINO and MAE)', () => {
  it('is plain momentum SGD: the same two steps as torch.optim.SGD, unlike Adam on the other group', () => {
    const init = [
      [0.5, -0.2],
      [0.1, 0.3],
    ];
    const grads = [
      [
        [0.2, 0.1],
        [-0.3, 0.4],
      ],
      [
        [0.02, 0.1],
        [-0.3, 1e-6],
      ],
    ];
    const plain = tf.variable(tf.tensor2d(init));
    const adam = tf.variable(tf.tensor2d(init));
    const opt = new AdamW(
      [
        {
          name: 'probe',
          params: [{ name: 'probe.weight', variable: plain }],
          lr: 0.1,
          momentum: 0.9,
          weightDecay: 0,
          adaptive: false,
        },
        { name: 'model', params: [{ name: 'model.weight', variable: adam }], lr: 0.1, weightDecay: 0 },
      ],
      {},
    );
    for (const grad of grads) {
      const g = tf.tensor2d(grad);
      const g2 = tf.tensor2d(grad);
      opt.step({ [plain.name]: g, [adam.name]: g2 });
      tf.dispose([g, g2]);
    }
    // buf1 = g1, buf2 = 0.9·g1 + g2; w2 = w0 − 0.1·(g1 + 0.9·g1 + g2)
    const expected = init.map((row, i) => row.map((w, j) => w - 0.1 * (1.9 * grads[0][i][j] + grads[1][i][j])));
    const got = plain.arraySync() as number[][];
    got.forEach((row, i) =>
      row.forEach((w, j) =>
        assert.ok(Math.abs(w - expected[i][j]) < 1e-6, `plain [${i},${j}] ${w} vs ${expected[i][j]}`),
      ),
    );
    // Adam moves every coordinate by about lr per step whatever its gradient, so it differs from SGD here
    const adamGot = (adam.arraySync() as number[][]).flat();
    assert.ok(
      adamGot.some((w, k) => Math.abs(w - expected.flat()[k]) > 1e-2),
      'the adaptive group should not follow SGD',
    );
    // the state names the SGD buffer, so a resumed run restores it
    assert.ok(JSON.stringify(opt.getState()).includes('momentum_buffer'));
    opt.dispose();
    tf.dispose([plain, adam]);
  });

  it("the trainer's probe overrides turn adaptation off in every optimiser", () => {
    for (const kind of ['lars', 'adamw', 'sgd'] as const) {
      const w = tf.variable(tf.zeros([1, 2]));
      const opt = createOptimizer({ kind, lr: 1, weightDecay: 0, momentum: 0.9 }, [
        { name: 'probe', params: [{ name: 'probe.weight', variable: w }], ...probeGroupOverrides(256, 1e-3) },
      ]);
      const g = tf.tensor2d([[1, -2]]);
      opt.step({ [w.name]: g });
      assert.deepEqual(
        Array.from(w.dataSync()).map((v) => Number(v.toFixed(6))),
        [-0.001, 0.002],
        kind,
      );
      opt.dispose();
      tf.dispose([w, g]);
    }
  });
});
