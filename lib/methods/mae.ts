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
