/**
 * DINO: student and EMA-teacher heads (MLP → L2-normalise → weight-normalised prototypes, K = 8192),
 * centred and sharpened teacher targets, teacher temperature warmed 0.04 → 0.07, prototypes frozen during
 * the first epoch, per-parameter gradient clipping at 1.0 (the config's optimizer.clipGrad).
 */
import * as tf from '@tensorflow/tfjs';
import { DinoHead } from '../models/heads';
import { l2Normalize } from '../nn/layers';
import { dinoLoss, dinoTeacherTemp } from '../losses';
import { emaTau } from '../optim';
import type { Backbone } from '../models/backbone';
import { BaseMethod } from './base';
import { prefixed, type LossOutput, type MethodContext, type StepState } from './method';
import { defineMethod, EPOCHS, TAU, TEMPERATURE, WIDTH } from './spec';

export class DinoMethod extends BaseMethod {
  readonly name = 'dino';
  private readonly head: DinoHead;
  private readonly momentumBackbone: Backbone;
  private readonly momentumHead: DinoHead;
  private readonly center: tf.Variable;
  /** The centre computed by the last loss; committed in afterStep, once the step really happened. */
  private pendingCenter: tf.Tensor | null = null;

  constructor(context: MethodContext, backbone: Backbone, makeBackbone: () => Backbone) {
    super(context, backbone);
    const s = context.config.settings;
    const head = {
      inDim: backbone.featureDim,
      hiddenDim: s.projHiddenDim,
      outDim: s.projOutputDim,
      numPrototypes: s.numPrototypes,
      seed: context.seed + 11,
    };
    this.head = this.addHead('head', new DinoHead(head));
    this.momentumBackbone = this.addTeacher('momentum_backbone', makeBackbone(), 'backbone');
    this.momentumHead = this.addTeacher('momentum_head', new DinoHead(head), 'head');
    this.center = this.addState('dino_loss_func.center', tf.zeros([1, s.numPrototypes]));
  }

  teacherTemperature(epoch: number): number {
    const s = this.config.settings;
    return dinoTeacherTemp(
      epoch,
      s.warmupTeacherTemperatureEpochs,
      this.config.epochs,
      s.warmupTeacherTemperature,
      s.teacherTemperature,
    );
  }

  loss(views: tf.Tensor4D[], _labels: tf.Tensor1D, state: StepState): LossOutput {
    const s = this.config.settings;
    const features = views.map((v) => this.backbone.forward(v));
    const student = features.map((f) => this.head.forward(f));
    const teacher = views.map((v) => this.momentumHead.forward(this.momentumBackbone.forward(v)));
    const result = dinoLoss(student, teacher, this.center, s.studentTemperature, this.teacherTemperature(state.epoch));
    this.pendingCenter?.dispose();
    this.pendingCenter = tf.keep(result.center);
    const kl = tf.sub(result.loss, result.teacherEntropy) as tf.Scalar;
    return {
      loss: result.loss,
      features,
      embeddings: student,
      terms: { dino: result.loss, dino_teacher_entropy: result.teacherEntropy, dino_kl: kl },
    };
  }

  frozen(state: StepState): Set<string> {
    if (state.epoch >= this.config.settings.freezePrototypesEpochs) return new Set();
    return new Set(
      prefixed('head', this.head.namedParameters())
        .filter((p) => p.name.startsWith('head.last_layer.'))
        .map((p) => p.name),
    );
  }

  /** Commit the centre of the step's loss, then the teachers' EMA (the base). */
  afterStep(state: StepState): void {
    if (this.pendingCenter) {
      this.center.assign(this.pendingCenter);
      this.pendingCenter.dispose();
      this.pendingCenter = null;
    }
    super.afterStep(state);
  }

  /** τ rises 0.996 → 0.999 on a cosine over all steps, for the step just taken, as in BYOL. */
  protected teacherTau(state: StepState): number {
    const s = this.config.settings;
    return emaTau(state.step, state.totalSteps, s.emaBase, s.emaFinal);
  }

  /** The L2-normalised bottleneck before the prototypes (the K prototype logits are too wide to monitor). */
  embed(features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => l2Normalize(this.head.mlp.forward(features)) as tf.Tensor2D);
  }

  dispose(): void {
    this.pendingCenter?.dispose();
    super.dispose();
  }
}

export const dino = defineMethod({
  name: 'dino',
  label: 'DINO',
  settings: {
    projHiddenDim: 2048,
    projOutputDim: 256,
    numPrototypes: 8192,
    studentTemperature: 0.1,
    warmupTeacherTemperature: 0.04,
    teacherTemperature: 0.07,
    warmupTeacherTemperatureEpochs: 15,
    freezePrototypesEpochs: 1,
    emaBase: 0.996,
    emaFinal: 0.999,
  },
  rules: {
    projHiddenDim: WIDTH,
    projOutputDim: WIDTH,
    numPrototypes: WIDTH,
    studentTemperature: TEMPERATURE,
    warmupTeacherTemperature: TEMPERATURE,
    teacherTemperature: TEMPERATURE,
    warmupTeacherTemperatureEpochs: EPOCHS,
    freezePrototypesEpochs: EPOCHS,
    emaBase: TAU,
    emaFinal: TAU,
  },
  widths: {
    smoke: { projHiddenDim: 64, projOutputDim: 32, numPrototypes: 128, warmupTeacherTemperatureEpochs: 1 },
    default: { warmupTeacherTemperatureEpochs: 2 },
  },
  appendixB: {
    optimizer: { kind: 'adamw', lr: 5e-4, warmupStartLr: 3e-5, weightDecay: 1e-4, momentum: 0.9, clipGrad: 1.0 },
    batchSize: 128,
    probeLr: 1e-3,
  },
  backbones: ['resnet18', 'vit_tiny'],
  probe: true,
  teachers: [
    { student: 'backbone', teacher: 'momentum_backbone' },
    { student: 'head', teacher: 'momentum_head' },
  ],
  build: (context, backbone, makeBackbone) => new DinoMethod(context, backbone, makeBackbone),
});
