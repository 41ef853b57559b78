/** SimCLR: projector Linear(d,2048) → ReLU → Linear(2048,256); NT-Xent over the two views at T = 0.2. */
import * as tf from '@tensorflow/tfjs';
import { SimclrProjector } from '../models/heads';
import { ntXentLoss } from '../losses';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import type { LossOutput, MethodContext } from './method';
import { defineMethod, TEMPERATURE, WIDTH } from './spec';

export class SimclrMethod extends BaseMethod {
  readonly name = 'simclr';
  private readonly projector: SimclrProjector;

  constructor(context: MethodContext, backbone: Backbone) {
    super(context, backbone);
    const s = context.config.settings;
    this.projector = this.addHead(
      'projector',
      new SimclrProjector({
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
    const loss = ntXentLoss(z[0], z[1], this.config.settings.temperature);
    return { loss, features, embeddings: z, terms: { nt_xent: loss } };
  }

  embed(features: tf.Tensor2D): tf.Tensor2D {
    return this.projector.forward(features);
  }
}

export const simclr = defineMethod({
  name: 'simclr',
  label: 'SimCLR',
  settings: { projHiddenDim: 2048, projOutputDim: 256, temperature: 0.2 },
  rules: { projHiddenDim: WIDTH, projOutputDim: WIDTH, temperature: TEMPERATURE },
  widths: { smoke: { projHiddenDim: 64, projOutputDim: 32 } },
  appendixB: {
    optimizer: { kind: 'lars', lr: 0.3, warmupStartLr: 0.15, weightDecay: 1e-6, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  backbones: ['resnet18', 'vit_tiny'],
  probe: true,
  build: (context, backbone) => new SimclrMethod(context, backbone),
});
