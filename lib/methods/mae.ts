/**
 * MAE (ViT only), with solo-learn's semantics: the paper's released MAE path is broken (its prediction is
 * overwritten by the probe output, so no gradient reaches the encoder; docs/reference.md §5). Random masking keeps
 * 25 % of patches, the decoder predicts every patch, and the loss is the per-patch MSE against the
 * normalised-per-patch target, over masked patches only, averaged over the two views. The probe reads the
 * CLS feature of the full, unmasked image.
 */
import * as tf from '@tensorflow/tfjs';
import { MaeDecoder } from '../models/mae';
import { patchify, VisionTransformer } from '../models/vit';
import { maePixelLoss } from '../losses';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import type { LossOutput, MethodContext, StepState } from './method';
import { defineMethod, WIDTH } from './spec';

export class MaeMethod extends BaseMethod {
  readonly name = 'mae';
  private readonly encoder: VisionTransformer;
  private readonly decoder: MaeDecoder;

  constructor(context: MethodContext, backbone: Backbone) {
    super(context, backbone);
    if (!(backbone instanceof VisionTransformer))
      throw new Error(`MAE needs a ViT backbone, got ${backbone.constructor.name}`);
    this.encoder = backbone;
    const s = context.config.settings;
    this.decoder = this.addHead(
      'decoder',
      new MaeDecoder({
        seed: context.seed + 17,
        numPatches: backbone.numPatches,
        patchSize: backbone.patchSize,
        encoderDim: backbone.featureDim,
        decoderDim: s.decoderEmbedDim,
        depth: s.decoderDepth,
        numHeads: s.decoderHeads,
      }),
    );
  }

  loss(views: tf.Tensor4D[], _labels: tf.Tensor1D, state: StepState): LossOutput {
    const s = this.config.settings;
    const features = views.map((v) => this.encoder.forward(v));
    const losses = views.map((view, i) => {
      // The mask is a pure function of (seed, step, view), so a resumed run draws the same masks.
      const seed = (this.context.seed * 7919 + state.step * 2 + i) % 2147483647;
      const masked = this.encoder.forwardMasked(view, { maskRatio: s.maskRatio, seed });
      const prediction = this.decoder.forward(masked.latent, masked.idsRestore);
      return maePixelLoss(prediction, patchify(view, this.encoder.patchSize), masked.mask, s.normPixLoss);
    });
    const loss = tf.div(tf.addN(losses), losses.length) as tf.Scalar;
    return { loss, features, embeddings: [], terms: { reconstruction: loss } };
  }
}

export const mae = defineMethod({
  name: 'mae',
  label: 'MAE',
  settings: { maskRatio: 0.75, normPixLoss: true, decoderEmbedDim: 192, decoderDepth: 12, decoderHeads: 12 },
  rules: {
    maskRatio: { min: 0, max: 0.99 },
    normPixLoss: 'boolean',
    decoderEmbedDim: WIDTH,
    decoderDepth: WIDTH,
    decoderHeads: WIDTH,
  },
  widths: {
    smoke: { decoderDepth: 1, decoderEmbedDim: 64, decoderHeads: 4 },
    default: { decoderDepth: 4 },
  },
  appendixB: {
    optimizer: { kind: 'adamw', lr: 1e-3, warmupStartLr: 5e-4, weightDecay: 0.05, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-4,
  },
  // The only place that says so: the encoder masks patches, which needs a ViT.
  backbones: ['vit_tiny'],
  encoder: 'mae_vit_tiny',
  probe: true,
  checkConfig(config, s) {
    const patches = (config.imageSize / config.patchSize) ** 2;
    // MAE keeps int(L·(1 − maskRatio)) patches: none kept means an empty encoder input.
    if (Math.floor(patches * (1 - s.maskRatio)) < 1)
      return {
        field: 'settings.maskRatio',
        value: s.maskRatio,
        problem: `keeps no patch of the ${patches} at imageSize ${config.imageSize}, patchSize ${config.patchSize}`,
      };
    if (s.decoderEmbedDim % s.decoderHeads !== 0)
      return {
        field: 'settings.decoderHeads',
        value: s.decoderHeads,
        problem: `must divide decoderEmbedDim ${s.decoderEmbedDim}`,
      };
    return null;
  },
  build: (context, backbone) => new MaeMethod(context, backbone),
});
