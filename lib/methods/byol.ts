/**
 * BYOL: projector and predictor (Linear → BN → ReLU → Linear), momentum copies of backbone and projector
 * updated by EMA with τ rising 0.996 → 0.999 on a cosine over all steps. Loss 2 − 2·cos, symmetrised, averaged.
 */
import * as tf from '@tensorflow/tfjs';
import { ByolMlp, byolPredictor, byolProjector } from '../models/heads';
import { byolLoss } from '../losses';
import { emaTau } from '../optim';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import { type LossOutput, type MethodContext, type StepState } from './method';
import { defineMethod, TAU, WIDTH } from './spec';

export class ByolMethod extends BaseMethod {
  readonly name = 'byol';
  private readonly projector: ByolMlp;
  private readonly predictor: ByolMlp;
  private readonly momentumBackbone: Backbone;
  private readonly momentumProjector: ByolMlp;

  constructor(context: MethodContext, backbone: Backbone, makeBackbone: () => Backbone) {
    super(context, backbone);
    const s = context.config.settings;
    const head = {
      inDim: backbone.featureDim,
      hiddenDim: s.projHiddenDim,
      outDim: s.projOutputDim,
      seed: context.seed + 11,
    };
    this.projector = this.addHead('projector', byolProjector(head));
    this.predictor = this.addHead(
      'predictor',
      byolPredictor({ hiddenDim: s.predHiddenDim, outDim: s.projOutputDim, seed: context.seed + 13 }),
    );
    this.momentumBackbone = this.addTeacher('momentum_backbone', makeBackbone(), 'backbone');
    this.momentumProjector = this.addTeacher('momentum_projector', byolProjector(head), 'projector');
  }

  loss(views: tf.Tensor4D[]): LossOutput {
    const features = views.map((v) => this.backbone.forward(v));
    const z = features.map((f) => this.projector.forward(f));
    const p = z.map((zi) => this.predictor.forward(zi));
    const zMomentum = views.map((v) => this.momentumProjector.forward(this.momentumBackbone.forward(v)));
    const loss = byolLoss(p[0], p[1], zMomentum[0], zMomentum[1]);
    return { loss, features, embeddings: z, terms: { byol: loss } };
  }

  /** τ rises 0.996 → 0.999 on a cosine over all steps, for the step just taken (the paper's MomentumUpdater). */
  protected teacherTau(state: StepState): number {
    const s = this.config.settings;
    return emaTau(state.step, state.totalSteps, s.emaBase, s.emaFinal);
  }

  embed(features: tf.Tensor2D): tf.Tensor2D {
    return this.projector.forward(features);
  }
}

export const byol = defineMethod({
  name: 'byol',
  label: 'BYOL',
  settings: { projHiddenDim: 2048, projOutputDim: 256, predHiddenDim: 2048, emaBase: 0.996, emaFinal: 0.999 },
  rules: { projHiddenDim: WIDTH, projOutputDim: WIDTH, predHiddenDim: WIDTH, emaBase: TAU, emaFinal: TAU },
  widths: {
    smoke: { projHiddenDim: 64, projOutputDim: 32, predHiddenDim: 64 },
  },
  appendixB: {
    optimizer: { kind: 'lars', lr: 0.2, warmupStartLr: 0.1, weightDecay: 1.5e-6, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  backbones: ['resnet18', 'vit_tiny'],
  probe: true,
  teachers: [
    { student: 'backbone', teacher: 'momentum_backbone' },
    { student: 'projector', teacher: 'momentum_projector' },
  ],
  build: (context, backbone, makeBackbone) => new ByolMethod(context, backbone, makeBackbone),
});
