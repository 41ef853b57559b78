import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { vitTiny, patchify, unpatchify } from '../../lib/models/vit';
import { MaeDecoder, maeEncoder } from '../../lib/models/mae';
import { loadTorchStateDict, torchShape } from '../../lib/models/safetensors';
import { createMethod } from '../../lib/methods';
import { makeRunConfig } from '../../lib/methods/config';
import { VisionTransformer } from '../../lib/models/vit';
import { createBackbone } from '../../lib/models';
import { formulaStateDictBytes } from './formula_weights';
import { FIXTURES, assertClose, asTensor, fixture, imagesNHWC, stored } from './helpers';

const names = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'names.json'), 'utf8')).names as Record<
  string,
  Array<[string, number[]]>
>;

function torchNamesAndShapes(
  modules: Array<{ stateDict(): Array<{ name: string; variable: tf.Variable }> }>,
): Map<string, number[]> {
  return new Map(
    modules.flatMap((m) =>
      m.stateDict().map(({ name, variable }) => [name, torchShape(variable.shape)] as [string, number[]]),
    ),
  );
}

describe('ViT-Tiny (timm vit_tiny_patch16_224)', () => {
  it('has 5,524,416 parameters at 224/16 and timm’s state-dict names and shapes', () => {
    const vit = vitTiny({ seed: 0 });
    try {
      assert.equal(vit.numParameters(), 5524416);
      assert.deepEqual(torchNamesAndShapes([vit]), new Map(names.vit_tiny_patch16_224));
    } finally {
      vit.dispose();
    }
  });

  it('the position embedding scales with image and patch size', () => {
    const vit = vitTiny({ seed: 0, imageSize: 64, patchSize: 8, depth: 1 });
    assert.deepEqual(vit.posEmbed.shape, [1, 1 + 64, 192]);
    vit.dispose();
  });

  it('matches the PyTorch reference (32×32, patch 8, depth 2): CLS feature and gradients', () => {
    const ref = fixture('vit.safetensors');
    const vit = vitTiny({ seed: 0, imageSize: 32, patchSize: 8, depth: 2 });
    loadTorchStateDict(vit, formulaStateDictBytes(vit));
    const x = imagesNHWC(ref);
    const probe = asTensor(ref, 'probe');
    const before = tf.memory().numTensors;
    let features: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const f = vit.forward(x);
      features = tf.keep(f);
      return tf.sum(tf.mul(f, probe)) as tf.Scalar;
    });
    assertClose(features!, stored(ref, 'features').values, 'CLS features');
    const params = new Map(vit.namedParameters().map((p) => [p.name, p.variable.name]));
    for (const [key, t] of ref.tensors) {
      if (!key.startsWith('grad.')) continue;
      const g = grads[params.get(key.slice(5))!];
      const ours = tf.tidy(() =>
        g.rank === 4 ? tf.transpose(g, [3, 2, 0, 1]) : g.rank === 2 ? tf.transpose(g) : g.clone(),
      );
      assertClose(ours, t.values, `gradient of ${key.slice(5)}`, 1e-3);
      ours.dispose();
    }
    tf.dispose([value, features!, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, probe]);
    vit.dispose();
  });
});

describe('MAE (encoder ViT-Tiny 12 heads, sin-cos positions; decoder 192/12 heads)', () => {
  const ref = fixture('mae.safetensors');

  it('has the MAE reference’s state-dict names and shapes at 224/16, depth 12', () => {
    const encoder = maeEncoder({ seed: 0 });
    const decoder = new MaeDecoder({ seed: 1, numPatches: encoder.numPatches, patchSize: 16 });
    try {
      assert.deepEqual(torchNamesAndShapes([encoder, decoder]), new Map(names.mae_vit_tiny_224));
      assert.equal(encoder.numParameters(), 5524416 - 197 * 192, 'ViT-Tiny minus the (now fixed) position embedding');
    } finally {
      encoder.dispose();
      decoder.dispose();
    }
  });

  it('fixed 2-D sin-cos position embedding equals MAE’s get_2d_sincos_pos_embed', () => {
    const encoder = maeEncoder({ seed: 0, imageSize: 32, patchSize: 8, depth: 1 });
    assertClose(encoder.posEmbed, stored(ref, 'pos_embed').values, 'pos_embed', 1e-6);
    assert.ok(
      encoder.namedBuffers().some((b) => b.name === 'pos_embed'),
      'pos_embed is a buffer, not trained',
    );
    encoder.dispose();
  });

  it('patchify uses MAE’s (row, column, channel) patch-vector order; unpatchify inverts it', () => {
    const x = imagesNHWC(ref);
    const patches = patchify(x, 8);
    assertClose(patches, stored(ref, 'patchified_input').values, 'patchify', 0);
    const back = unpatchify(patches, 8);
    assertClose(back, x.dataSync(), 'unpatchify', 0);
    tf.dispose([x, patches, back]);
  });

  it('encoder with fixed noise and decoder match the reference (latent, mask, ids_restore, prediction)', () => {
    const encoder = maeEncoder({ seed: 0, imageSize: 32, patchSize: 8, depth: 2 });
    const decoder = new MaeDecoder({ seed: 1, numPatches: 16, patchSize: 8, depth: 2 });
    const keep = new Set(['pos_embed', 'decoder_pos_embed']);
    loadTorchStateDict(encoder, formulaStateDictBytes(encoder, keep));
    loadTorchStateDict(decoder, formulaStateDictBytes(decoder, keep));
    const x = imagesNHWC(ref);
    const noise = asTensor(ref, 'noise') as tf.Tensor2D;
    const before = tf.memory().numTensors;
    const { latent, mask, idsRestore } = encoder.forwardMasked(x, { noise });
    assert.deepEqual(latent.shape, [2, 1 + 4, 192], 'keeps int(16·0.25) = 4 patches plus CLS');
    assertClose(latent, stored(ref, 'latent').values, 'latent');
    assert.deepEqual(Array.from(mask.dataSync()), Array.from(stored(ref, 'mask').values));
    assert.deepEqual(Array.from(idsRestore.dataSync()), Array.from(stored(ref, 'ids_restore').values));
    const pred = decoder.forward(latent, idsRestore);
    assertClose(pred, stored(ref, 'pred').values, 'decoder prediction');
    tf.dispose([latent, mask, idsRestore, pred]);
    assert.equal(tf.memory().numTensors, before);
    tf.dispose([x, noise]);
    encoder.dispose();
    decoder.dispose();
  });

  it('a training run builds the encoder with 12 heads (config → createMethod → backbone) and matches the reference', () => {
    // Head count changes no tensor shape, so only the forward can tell 12 heads from the ViT fallback of 3.
    const config = makeRunConfig(
      { method: 'mae', backbone: 'vit_tiny', imageSize: 32, patchSize: 8, vitDepth: 2 },
      'smoke',
    );
    const method = createMethod(config, { posWeight: 1 });
    try {
      const encoder = method.backbone;
      assert.ok(encoder instanceof VisionTransformer);
      assert.equal(encoder.numHeads, 12);
      assert.equal(encoder.depth, 2);
      loadTorchStateDict(encoder, formulaStateDictBytes(encoder, new Set(['pos_embed'])), { strict: false });
      const x = imagesNHWC(ref);
      const noise = asTensor(ref, 'noise') as tf.Tensor2D;
      const { latent, mask, idsRestore } = encoder.forwardMasked(x, { noise });
      assertClose(latent, stored(ref, 'latent').values, 'latent through the training path');
      tf.dispose([x, noise, latent, mask, idsRestore]);
    } finally {
      method.dispose();
    }
  });

  it('an explicit undefined in the factory config keeps each default (MAE 12 heads, ViT-Tiny 3, depth 12)', () => {
    const mae = createBackbone(
      { kind: 'mae_vit_tiny', imageSize: 32, patchSize: 8, depth: undefined, numHeads: undefined },
      0,
    );
    const vit = createBackbone(
      { kind: 'vit_tiny', imageSize: 32, patchSize: 8, depth: undefined, numHeads: undefined },
      0,
    );
    try {
      assert.ok(mae instanceof VisionTransformer && vit instanceof VisionTransformer);
      assert.deepEqual([mae.numHeads, mae.depth, vit.numHeads, vit.depth], [12, 12, 3, 12]);
    } finally {
      mae.dispose();
      vit.dispose();
    }
  });

  it('forward+backward through masked encoder and decoder (smoke size)', () => {
    const encoder = maeEncoder({ seed: 3, imageSize: 16, patchSize: 4, depth: 1 });
    const decoder = new MaeDecoder({ seed: 4, numPatches: 16, patchSize: 4, depth: 1 });
    const x = tf.randomNormal([2, 16, 16, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      const { latent, idsRestore } = encoder.forwardMasked(x, { seed: 5 });
      return tf.mean(tf.square(tf.sub(decoder.forward(latent, idsRestore), patchify(x, 4)))) as tf.Scalar;
    });
    const trainable = encoder.parameters().length + decoder.parameters().length;
    assert.equal(Object.keys(grads).length, trainable);
    const absSum = (g: tf.Tensor) => tf.tidy(() => tf.sum(tf.abs(g)).dataSync()[0]);
    for (const g of Object.values(grads)) assert.ok(Number.isFinite(absSum(g)));
    assert.ok(absSum(grads[encoder.patchEmbed.weight.name]) > 0, 'gradient reaches the encoder');
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    encoder.dispose();
    decoder.dispose();
  });
});
