import { strict as assert } from 'assert';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BarlowProjector, ByolMlp, DinoHead, SimclrProjector, byolPredictor, byolProjector } from '../../lib/models/heads';
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
    assert.deepEqual(predictor.stateDict().map((p) => [p.name, p.variable.shape]).slice(0, 2), [['0.weight', [256, 2048]], ['0.bias', [2048]]]);
    const dino = new DinoHead({ inDim: 192, seed: 0 });
    assert.deepEqual(dino.lastLayer.weightV.shape, [256, 8192]);
    assert.deepEqual(Array.from(new Set(dino.lastLayer.weightG.dataSync())), [1], 'weight_g starts at 1');
    assert.ok(dino.namedParameters().some((p) => p.name === 'last_layer.weight_g'), 'weight_g is trainable');
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
