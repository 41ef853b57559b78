/** Barlow Twins: 3-layer projector with BN; cross-correlation loss with λ = 0.0051 and scale_loss = 0.024. */
import * as tf from '@tensorflow/tfjs';
import { BarlowProjector } from '../models/heads';
import { barlowTwinsLoss } from '../losses';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import type { LossOutput, MethodContext } from './method';
import { defineMethod, WIDTH } from './spec';

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

export const barlow = defineMethod({
  name: 'barlow',
  label: 'Barlow Twins',
  settings: { projHiddenDim: 2048, projOutputDim: 256, lambda: 0.0051, scaleLoss: 0.024 },
  rules: {
    projHiddenDim: WIDTH,
    projOutputDim: WIDTH,
    lambda: { min: 0, max: 10 },
    scaleLoss: { min: 1e-8, max: 1e3 },
  },
  widths: { smoke: { projHiddenDim: 64, projOutputDim: 32 } },
  appendixB: {
    optimizer: { kind: 'lars', lr: 0.2, warmupStartLr: 0.1, weightDecay: 1.5e-6, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  backbones: ['resnet18', 'vit_tiny'],
  probe: true,
  build: (context, backbone) => new BarlowMethod(context, backbone),
});
