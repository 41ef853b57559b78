import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { makeRunConfig } from '../../lib/methods/config';
import { createMethod } from '../../lib/methods';
import { BackboneDrift } from '../../lib/train/monitor';

describe('BackboneDrift', () => {
  it('is 0 at the seed’s initialisation and ‖ΔW‖/‖W₀‖ after a known change to one weight matrix', () => {
    const config = makeRunConfig({ method: 'simclr', backbone: 'vit_tiny' }, 'smoke');
    const method = createMethod(config, { posWeight: 1 });
    const drift = BackboneDrift.fromInitial(method.backbone);
    try {
      assert.equal(drift.measure(method.backbone), 0);
      const matrices = method.backbone.namedParameters().filter((p) => p.variable.rank > 1);
      const total = Math.sqrt(
        matrices.reduce((sum, p) => sum + tf.tidy(() => tf.sum(tf.square(p.variable)).dataSync()[0]), 0),
      );
      const target = matrices[0].variable;
      const step = tf.tidy(() => tf.mul(tf.onesLike(target), 0.01));
      target.assign(tf.tidy(() => tf.add(target, step)));
      const expected = (0.01 * Math.sqrt(target.size)) / total;
      assert.ok(
        Math.abs(drift.measure(method.backbone) - expected) < 1e-5 * expected + 1e-7,
        `${drift.measure(method.backbone)} vs ${expected}`,
      );
      // Biases and norm scales are not counted.
      const bias = method.backbone.namedParameters().find((p) => p.variable.rank === 1)!;
      bias.variable.assign(tf.tidy(() => tf.add(bias.variable, 1)));
      assert.ok(Math.abs(drift.measure(method.backbone) - expected) < 1e-5 * expected + 1e-7);
      step.dispose();
    } finally {
      drift.dispose();
      method.dispose();
    }
  });

  it('measures 0 between two builds of one config, for every method (what a resumed run relies on)', () => {
    for (const [method, backbone] of [
      ['supervised', 'resnet18'],
      ['byol', 'resnet18'],
      ['dino', 'vit_tiny'],
      ['mae', 'vit_tiny'],
    ] as const) {
      const config = makeRunConfig({ method, backbone }, 'smoke');
      const first = createMethod(config, { posWeight: 2 });
      const drift = BackboneDrift.fromInitial(first.backbone);
      first.dispose();
      const built = createMethod(config, { posWeight: 2 });
      try {
        assert.equal(drift.measure(built.backbone), 0, `${method}/${backbone}`);
      } finally {
        drift.dispose();
        built.dispose();
      }
    }
  });

  it('differs for another seed (the reference is the run’s own initialisation)', () => {
    const config = makeRunConfig({ method: 'simclr', backbone: 'vit_tiny' }, 'smoke');
    const own = createMethod(config, { posWeight: 1 });
    const drift = BackboneDrift.fromInitial(own.backbone);
    own.dispose();
    const other = createMethod({ ...config, seed: 7 }, { posWeight: 1 });
    try {
      assert.ok(drift.measure(other.backbone) > 0.5);
    } finally {
      drift.dispose();
      other.dispose();
    }
  });
});
