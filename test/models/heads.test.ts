import { strict as assert } from 'assert';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { weightedBce } from '../../lib/losses';
import {
  BarlowProjector,
  ByolMlp,
  DinoHead,
  LinearProbe,
  PROBE_CURVATURE_DAMPING,
  PROBE_CURVATURE_DECAY,
  SimclrProjector,
  byolPredictor,
  byolProjector,
} from '../../lib/models/heads';
import { Linear } from '../../lib/nn/layers';
import { SeedStream } from '../../lib/nn/init';
import { loadTorchStateDict } from '../../lib/models/safetensors';
import { Module } from '../../lib/nn/module';
import { FIXTURES, assertClose, asTensor, fixture, stored } from './helpers';

type Head = Module & { forward(x: tf.Tensor2D): tf.Tensor2D };

describe('SSL heads equal their PyTorch definitions (weights read from a torch-written safetensors file)', () => {
  const io = fixture('heads_io.safetensors');
  const weights = path.join(FIXTURES, 'heads_weights.safetensors');
  const dims = { inDim: 16, hiddenDim: 32, outDim: 8, seed: 1 };
  const cases: Array<[string, () => Head, string]> = [
    ['simclr', () => new SimclrProjector(dims), 'input'],
    ['byol_projector', () => byolProjector(dims), 'input'],
    ['byol_predictor', () => byolPredictor({ ...dims, inDim: 8 }), 'input_predictor'],
    ['barlow', () => new BarlowProjector(dims), 'input'],
    ['dino', () => new DinoHead({ ...dims, bottleneckDim: 8, numPrototypes: 64 }), 'input'],
  ];
  for (const [name, build, inputName] of cases) {
    it(`${name}: train-mode output and running statistics, then eval-mode output`, () => {
      const head = build();
      const report = loadTorchStateDict(head, weights, { prefix: `${name}.`, strict: false });
      assert.equal(report.loaded.length, head.stateDict().length);
      const x = asTensor(io, inputName) as tf.Tensor2D;
      const before = tf.memory().numTensors;
      head.train();
      const yTrain = tf.tidy(() => head.forward(x));
      assertClose(yTrain, stored(io, `${name}.train`).values, `${name} train output`);
      yTrain.dispose();
      const buffers = new Map(head.namedBuffers().map((b) => [b.name, b.variable]));
      for (const [key, t] of io.tensors) {
        if (!key.startsWith(`${name}.after_train.`)) continue;
        const buffer = key.slice(`${name}.after_train.`.length);
        assertClose(buffers.get(buffer)!, t.values, `${name} ${buffer}`);
      }
      if (io.tensors.has(`${name}.eval`)) {
        head.eval();
        const yEval = tf.tidy(() => head.forward(x));
        assertClose(yEval, stored(io, `${name}.eval`).values, `${name} eval output`);
        yEval.dispose();
      }
      assert.equal(tf.memory().numTensors, before);
      x.dispose();
      head.dispose();
    });
  }

  it('BYOL predictor is 256→2048→256 and the paper-size heads have the expected widths', () => {
    const predictor = byolPredictor({ seed: 0 });
    assert.deepEqual(
      predictor
        .stateDict()
        .map((p) => [p.name, p.variable.shape])
        .slice(0, 2),
      [
        ['0.weight', [256, 2048]],
        ['0.bias', [2048]],
      ],
    );
    const dino = new DinoHead({ inDim: 192, seed: 0 });
    assert.deepEqual(dino.lastLayer.weightV.shape, [256, 8192]);
    assert.deepEqual(Array.from(new Set(dino.lastLayer.weightG.dataSync())), [1], 'weight_g starts at 1');
    assert.ok(
      dino.namedParameters().some((p) => p.name === 'last_layer.weight_g'),
      'weight_g is trainable',
    );
    predictor.dispose();
    dino.dispose();
  });

  it('every head runs forward+backward at smoke size without leaking', () => {
    const heads: Head[] = [
      new SimclrProjector({ inDim: 12, hiddenDim: 16, outDim: 8, seed: 1 }),
      new ByolMlp({ inDim: 12, hiddenDim: 16, outDim: 8, seed: 2 }),
      new BarlowProjector({ inDim: 12, hiddenDim: 16, outDim: 8, seed: 3 }),
      new DinoHead({ inDim: 12, hiddenDim: 16, bottleneckDim: 8, numPrototypes: 32, seed: 4 }),
    ];
    const x = tf.randomNormal([5, 12], 0, 1, 'float32', 1) as tf.Tensor2D;
    for (const head of heads) {
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(head.forward(x))) as tf.Scalar);
      assert.equal(Object.keys(grads).length, head.parameters().length);
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before);
      head.dispose();
    }
    x.dispose();
  });
});

describe('online linear probe', () => {
  it(
    'without standardisation it is nn.Linear(d, 1): ' + 'same weights for the same seed, state dict weight and bias',
    () => {
      const probe = new LinearProbe({ inDim: 6, seed: 143 });
      const linear = new Linear(6, 1, { seeds: new SeedStream(143) });
      assert.deepEqual(
        probe.stateDict().map((p) => p.name),
        ['weight', 'bias'],
      );
      const x = tf.randomNormal([5, 6], 0, 1, 'float32', 3);
      assert.deepEqual(Array.from(probe.forward(x).dataSync()), Array.from(linear.forward(x).dataSync()));
      tf.dispose([x]);
      probe.dispose();
      linear.dispose();
    },
  );

  it(
    'standardised: batch statistics in train mode, running statistics in eval mode, ' +
      'and a buffer-carrying state dict',
    () => {
      const probe = new LinearProbe({ inDim: 3, seed: 7, standardize: true });
      assert.deepEqual(
        probe.stateDict().map((p) => p.name),
        ['weight', 'bias', 'norm.running_mean', 'norm.running_var', 'norm.num_batches_tracked'],
      );
      // Columns on wildly different scales, as ViT CLS coordinates are.
      const rows = [
        [1000, 0.001, 5],
        [1010, 0.003, 7],
        [990, 0.002, 3],
        [1020, 0.006, 9],
      ];
      const x = tf.tensor2d(rows);
      const w = probe.weight.dataSync();
      const b = probe.bias!.dataSync()[0];
      const expected = rows.map((row) =>
        row.reduce((sum, v, j) => {
          const col = rows.map((r) => r[j]);
          const mean = col.reduce((a, c) => a + c, 0) / col.length;
          const variance = col.reduce((a, c) => a + (c - mean) ** 2, 0) / col.length;
          return sum + ((v - mean) / Math.sqrt(variance + 1e-6)) * w[j];
        }, b),
      );
      const trained = Array.from(probe.forward(x).dataSync());
      trained.forEach((v, i) =>
        assert.ok(
          Math.abs(v - expected[i]) < 1e-4 * Math.max(1, Math.abs(expected[i])),
          `row ${i}: ${v} vs ${expected[i]}`,
        ),
      );
      // One update with momentum 0.1 from (0, 1): eval output is the Linear on
      // (x − 0.1·mean)/sqrt(0.9 + 0.1·unbiased var).
      probe.eval();
      const running = probe.norm!.runningMean.dataSync();
      assert.ok(Math.abs(running[0] - 0.1 * 1005) < 1e-3);
      const evalOut = Array.from(probe.forward(x).dataSync());
      assert.ok(Math.abs(evalOut[0] - trained[0]) > 1, 'eval mode does not reuse the batch statistics');
      assert.equal(probe.norm!.numBatchesTracked.dataSync()[0], 1, 'eval mode leaves the running statistics alone');
      x.dispose();
      probe.dispose();
    },
  );
});

describe('Gauss–Newton online probe', () => {
  /** Defect labels carried by a low-variance direction of features dominated by one large shared direction. */
  function illConditioned(n: number, d: number, seed: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
    return tf.tidy(() => {
      const latent = tf.randomNormal([n, d], 0, 1, 'float32', seed);
      const shared = tf.randomNormal([n, 1], 0, 10, 'float32', seed + 1);
      const labels = tf.cast(tf.greater(latent.slice([0, d - 1], [n, 1]).reshape([-1]), 0), 'float32') as tf.Tensor1D;
      return { x: tf.add(latent, shared) as tf.Tensor2D, y: labels };
    });
  }

  it('keeps its running curvature in its state dict and folds a batch in as decay·H + (1 − decay)·batch', () => {
    const probe = new LinearProbe({ inDim: 2, seed: 5, gaussNewton: true });
    assert.deepEqual(
      probe.stateDict().map((p) => p.name),
      ['weight', 'bias', 'curvature'],
    );
    const rows = [
      [1, 2],
      [-1, 0.5],
      [0.3, -2],
    ];
    const logits = [0.2, -1, 3];
    const labels = [1, 0, 1];
    const posWeight = 3;
    probe.observeCurvature([tf.tensor2d(rows)], [tf.tensor1d(logits)], tf.tensor1d(labels), posWeight);
    const expected = new Float64Array(9);
    rows.forEach((row, i) => {
      const p = 1 / (1 + Math.exp(-logits[i]));
      const s = (labels[i] ? posWeight : 1) * p * (1 - p);
      const xt = [...row, 1];
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) expected[a * 3 + b] += (s * xt[a] * xt[b]) / rows.length;
    });
    const h = probe.curvature!.dataSync();
    for (let k = 0; k < 9; k++) {
      const start = k % 4 === 0 ? 0.25 : 0;
      const want = PROBE_CURVATURE_DECAY * start + (1 - PROBE_CURVATURE_DECAY) * expected[k];
      assert.ok(Math.abs(h[k] - want) < 1e-6, `H[${k}] = ${h[k]}, expected ${want}`);
    }
    probe.dispose();
  });

  it('preconditions the weight and bias gradients with the damped curvature: (H + λI)·step = g', () => {
    const probe = new LinearProbe({ inDim: 3, seed: 5, gaussNewton: true });
    const { x, y } = illConditioned(64, 3, 11);
    probe.observeCurvature([x], [tf.zeros([64])], y, 1.5);
    const h = Float64Array.from(probe.curvature!.dataSync());
    const g = [0.3, -0.2, 0.05, 0.1];
    const step = probe.precondition(tf.tensor2d(g.slice(0, 3), [3, 1]), tf.tensor1d([g[3]]));
    assert.deepEqual(step.weight.shape, [3, 1]);
    assert.deepEqual(step.bias.shape, [1]);
    const s = [...step.weight.dataSync(), ...step.bias.dataSync()];
    const damping = (PROBE_CURVATURE_DAMPING * (h[0] + h[5] + h[10] + h[15])) / 4;
    for (let i = 0; i < 4; i++) {
      let lhs = damping * s[i];
      for (let j = 0; j < 4; j++) lhs += h[i * 4 + j] * s[j];
      assert.ok(Math.abs(lhs - g[i]) < 1e-4 * Math.max(1, Math.abs(g[i])), `row ${i}: ${lhs} vs ${g[i]}`);
    }
    tf.dispose([x, y, step.weight, step.bias]);
    probe.dispose();
  });

  it('fits a signal in a low-variance direction that plain SGD at the same step leaves unfitted', () => {
    const { x, y } = illConditioned(512, 8, 21);
    const finalLoss = (gaussNewton: boolean): number => {
      const probe = new LinearProbe({ inDim: 8, seed: 9, standardize: true, gaussNewton });
      const momentum: tf.Tensor[] = [tf.zeros(probe.weight.shape), tf.zeros(probe.bias!.shape)];
      for (let step = 0; step < 100; step++) {
        const batch = tf.tidy(() => {
          const rows = tf.tensor1d(
            Array.from({ length: 64 }, (_, i) => (step * 64 + i) % 512),
            'int32',
          );
          return { x: tf.gather(x, rows) as tf.Tensor2D, y: tf.gather(y, rows) as tf.Tensor1D };
        });
        const { grads } = tf.variableGrads(() => {
          const inputs = probe.inputs(batch.x) as tf.Tensor2D;
          const logits = (probe.logitsOf(inputs) as tf.Tensor2D).reshape([-1]);
          if (gaussNewton) probe.observeCurvature([inputs], [logits], batch.y, 1);
          return weightedBce(logits, batch.y, 1);
        }, [probe.weight, probe.bias!]);
        let gw = grads[probe.weight.name];
        let gb = grads[probe.bias!.name];
        if (gaussNewton) {
          const preconditioned = probe.precondition(gw, gb);
          tf.dispose([gw, gb]);
          gw = preconditioned.weight;
          gb = preconditioned.bias;
        }
        const lr = 0.1;
        tf.tidy(() => {
          [gw, gb].forEach((g, i) => {
            const buffer = tf.add(tf.mul(momentum[i], 0.9), g);
            momentum[i].dispose();
            momentum[i] = tf.keep(buffer);
          });
          probe.weight.assign(tf.sub(probe.weight, tf.mul(momentum[0], lr)));
          probe.bias!.assign(tf.sub(probe.bias!, tf.mul(momentum[1], lr)));
        });
        tf.dispose([gw, gb, batch.x, batch.y]);
      }
      probe.eval();
      const loss = tf.tidy(() => weightedBce((probe.forward(x) as tf.Tensor2D).reshape([-1]), y, 1).dataSync()[0]);
      tf.dispose(momentum);
      probe.dispose();
      return loss;
    };
    const sgd = finalLoss(false);
    const gaussNewton = finalLoss(true);
    assert.ok(gaussNewton < 0.75 * sgd, `Gauss–Newton loss ${gaussNewton} vs SGD ${sgd}`);
    tf.dispose([x, y]);
  });
});
