import { strict as assert } from 'assert';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  BarlowProjector,
  ByolMlp,
  DinoHead,
  LinearProbe,
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
