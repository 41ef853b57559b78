/**
 * The supervised baseline: backbone + Linear(d, 1) trained end to end with BCE(pos_weight = n_neg/n_pos).
 * One view per image; prediction = logit > 0.
 */
import * as tf from '@tensorflow/tfjs';
import { Linear } from '../nn/layers';
import { SeedStream } from '../nn/init';
import { weightedBce } from '../losses';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import type { LossOutput, MethodContext } from './method';
import { defineMethod } from './spec';

export class SupervisedMethod extends BaseMethod {
  readonly name = 'supervised';
  readonly numViews = 1 as const;
  readonly classifier: Linear;

  constructor(context: MethodContext, backbone: Backbone) {
    super(context, backbone);
    this.classifier = this.addHead(
      'classifier',
      new Linear(backbone.featureDim, 1, { seeds: new SeedStream(context.seed + 7) }),
    );
  }

  loss(views: tf.Tensor4D[], labels: tf.Tensor1D): LossOutput {
    const features = this.backbone.forward(views[0]);
    const logits = this.classify(features);
    const loss = weightedBce(logits, labels, this.context.posWeight);
    return { loss, features: [features], embeddings: [], terms: { bce: loss } };
  }

  classify(features: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => (this.classifier.forward(features) as tf.Tensor2D).reshape([-1]) as tf.Tensor1D);
  }
}

/** The supervised baseline: trains its own classifier, so no online probe. */
export const supervised = defineMethod({
  name: 'supervised',
  label: 'Supervised',
  settings: {},
  rules: {},
  widths: {},
  appendixB: {
    optimizer: { kind: 'adamw', lr: 5e-4, warmupStartLr: 3e-5, weightDecay: 1e-4, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  backbones: ['resnet18', 'vit_tiny'],
  probe: false,
  build: (context, backbone) => new SupervisedMethod(context, backbone),
});
