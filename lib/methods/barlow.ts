/** Barlow Twins: 3-layer projector with BN; cross-correlation loss with λ = 0.0051 and scale_loss = 0.024. */
import * as tf from '@tensorflow/tfjs';
import { BarlowProjector } from '../models/heads';
import { barlowTwinsLoss } from '../losses';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import type { LossOutput, MethodContext } from './method';

export class BarlowMethod extends BaseMethod {
  readonly name = 'barlow';
  private readonly projector: BarlowProjector;

  constructor(context: MethodContext, backbone: Backbone) {
    super(context, backbone);
    const s = context.config.settings;
    this.projector = this.addHead(
      'projector',
      new BarlowProjector({
        inDim: backbone.featureDim,
        hiddenDim: s.projHiddenDim,
        outDim: s.projOutputDim,
        seed: context.seed + 11,
      }),
    );
  }

  loss(views: tf.Tensor4D[]): LossOutput {
    const features = views.map((v) => this.backbone.forward(v));
    const z = features.map((f) => this.projector.forward(f));
    const s = this.config.settings;
    const loss = barlowTwinsLoss(z[0], z[1], s.lambda, s.scaleLoss);
    return { loss, features, embeddings: z, terms: { barlow: loss } };
  }

  embed(features: tf.Tensor2D): tf.Tensor2D {
    return this.projector.forward(features);
  }
}
