import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ResNet18 } from '../../lib/models/resnet';
import { loadTorchStateDict, torchShape } from '../../lib/models/safetensors';
import { formulaStateDictBytes, formulaTensor } from './formula_weights';
import { FIXTURES, assertClose, asTensor, fixture, imagesNHWC, stored } from './helpers';

const names = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'names.json'), 'utf8')) as {
  names: Record<string, Array<[string, number[]]>>;
  formula_checks: Record<string, number[]>;
};

function hasConvFilterGradient(): boolean {
  return tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
}

describe('ResNet-18 (torchvision)', () => {
  it('has 11,176,512 parameters and exactly torchvision’s state-dict names and shapes', () => {
    const net = new ResNet18({ seed: 0 });
    try {
      assert.equal(net.numParameters(), 11176512);
      const ours = new Map(net.stateDict().map(({ name, variable }) => [name, torchShape(variable.shape)]));
      const theirs = new Map(names.names.resnet18);
      assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort());
      for (const [name, shape] of theirs) assert.deepEqual(ours.get(name), shape, name);
    } finally {
      net.dispose();
    }
  });

  it('formula weights agree bit-for-bit with the python generator', () => {
    for (const [name, expected] of Object.entries(names.formula_checks)) {
      const shape = {
        'conv1.weight': [64, 3, 7, 7],
        'bn1.running_var': [64],
        'blocks.0.norm1.weight': [192],
        cls_token: [1, 1, 192],
        'layer4.1.conv2.weight': [512, 512, 3, 3],
      }[name]!;
      assert.deepEqual(Array.from(formulaTensor(name, shape).slice(0, 4)), expected, name);
    }
  });

  describe('equals torchvision on the fixture batch (64×64, batch 3)', () => {
    const ref = fixture('resnet18.safetensors');
    let net: ResNet18;
    let x: tf.Tensor4D;
    before(() => {
      net = new ResNet18({ seed: 0 });
      loadTorchStateDict(net, formulaStateDictBytes(net));
      x = imagesNHWC(ref);
    });
    after(() => {
      net.dispose();
      x.dispose();
    });

    it('train mode: features, gradients and updated running statistics', function () {
      if (!hasConvFilterGradient()) this.skip(); // wasm gains Conv2DBackpropFilter from lib/backend/kernels
      net.train();
      const before = tf.memory().numTensors;
      const probe = asTensor(ref, 'probe');
      let features: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const f = net.forward(x);
        features = tf.keep(f);
        return tf.sum(tf.mul(f, probe)) as tf.Scalar;
      });
      assertClose(features!, stored(ref, 'features_train').values, 'train features');
      // Every BN weight/bias gradient plus conv1 and layer3.0.downsample.0 kernels, at 1e-4 of each tensor's max:
      // float32 rounding alone puts us 1e-5 from torch's float64 gradients (torch's own float32 is 9e-6 away).
      // That only holds because the fixture input keeps every ReLU input and max-pool runner-up gap ≥ 3.47× the
      // float32 noise away from its kink (see kink_margin in tools/fixtures/make_model_fixtures.py); the previous
      // input had a layer1.1 pre-activation at −7e-7 whose sign float32 rounding flipped, and that one ReLU
      // branch moved the stem and layer1.0 gradients by 1–4 %.
      const params = new Map(net.namedParameters().map((p) => [p.name, p.variable]));
      let checked = 0;
      for (const [key, t] of ref.tensors) {
        if (!key.startsWith('grad.')) continue;
        const name = key.slice(5);
        const ours = tf.tidy(() => {
          const g = grads[params.get(name)!.name];
          return g.rank === 4 ? tf.transpose(g, [3, 2, 0, 1]) : g.clone();
        });
        assertClose(ours, t.values, `gradient of ${name}`);
        ours.dispose();
        checked++;
      }
      assert.equal(checked, 42, 'gradients in the fixture: 20 BatchNorms × (weight, bias) + 2 conv kernels');
      tf.dispose([value, features!, probe, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before, 'no tensor leaked by the training forward/backward');
      checkRunningStats();
    });

    function checkRunningStats(): void {
      const buffers = new Map(net.namedBuffers().map((b) => [b.name, b.variable]));
      let checked = 0;
      for (const [key, t] of ref.tensors) {
        if (!key.startsWith('after_train.')) continue;
        const name = key.slice('after_train.'.length);
        assertClose(buffers.get(name)!, t.values, `running statistic ${name}`);
        checked++;
      }
      assert.equal(checked, 60);
    }

    it('train-mode forward alone matches and updates running statistics like torch', function () {
      if (hasConvFilterGradient()) this.skip(); // covered by the gradient test above
      net.train();
      const before = tf.memory().numTensors;
      const f = tf.tidy(() => net.forward(x));
      assertClose(f, stored(ref, 'features_train').values, 'train features');
      f.dispose();
      assert.equal(tf.memory().numTensors, before);
      checkRunningStats();
    });

    it('eval mode uses the updated running statistics', () => {
      net.eval();
      const f = tf.tidy(() => net.forward(x));
      assertClose(f, stored(ref, 'features_eval').values, 'eval features');
      f.dispose();
    });
  });
});
