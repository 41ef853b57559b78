/**
 * The run configuration as typed data: what one training run is (method, backbone, data, sizes, optimiser, probe,
 * method settings, augmentation), read by train, experiments and report alike. The method facts (appendix B, labels,
 * validation of a whole config) live with the methods, in lib/methods/config.ts.
 */
import type { ScaleName } from './scale';

/** A registered method's name (lib/methods/index.ts lists them; `methodNames()`). */
export type MethodName = string;
export const BACKBONES = ['resnet18', 'vit_tiny'] as const;
export type BackboneName = (typeof BACKBONES)[number];
/** The defect proportions of the study (0.45 ≈ Sewer-ML's natural share). */
export const PROPORTIONS = [0.01, 0.02, 0.05, 0.15, 0.45] as const;
export const DATASET_KINDS = ['synthetic', 'sewerml', 'fashion-mnist'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

export const BACKBONE_LABELS: Record<BackboneName, string> = { resnet18: 'ResNet-18', vit_tiny: 'ViT-Tiny' };

export interface OptimizerConfig {
  kind: 'lars' | 'adamw';
  /** Learning rate at batch 256; scaled by batch/256 at run time. */
  lr: number;
  warmupStartLr: number;
  minLr: number;
  weightDecay: number;
  momentum: number;
  warmupEpochs: number;
  /** Per-parameter gradient clipping norm (DINO), or null. */
  clipGrad: number | null;
  /** LARS trust coefficient η (the paper's 0.001); AdamW ignores it. */
  eta: number;
}

export interface ProbeConfig {
  /**
   * Learning rate at batch 256 (scaled by batch/256); the probe is momentum SGD without weight decay in every
   * optimiser.
   */
  lr: number;
  momentum: number;
  weightDecay: number;
  /**
   * BatchNorm1d without affine in front of the Linear (MAE's linear-probing head); false is the paper's plain
   * Linear.
   */
  standardize: boolean;
  /**
   * Precondition the probe's step by its running Gauss–Newton curvature (`LinearProbe` option `gaussNewton`); false
   * is plain momentum SGD, as the paper's probe.
   */
  gaussNewton: boolean;
}

/**
 * The settings of a run's method. Every run config carries the settings of all six of the paper's methods (as run
 * ids have always hashed them), named here; a method registered beyond them adds its own fields, typed in its spec.
 * Each method's spec (lib/methods/<name>.ts) owns its settings' defaults, per-scale widths and rules.
 */
export interface MethodSettings {
  [setting: string]: number | boolean;
  projHiddenDim: number;
  projOutputDim: number;
  predHiddenDim: number;
  temperature: number;
  lambda: number;
  scaleLoss: number;
  numPrototypes: number;
  studentTemperature: number;
  warmupTeacherTemperature: number;
  teacherTemperature: number;
  warmupTeacherTemperatureEpochs: number;
  freezePrototypesEpochs: number;
  maskRatio: number;
  normPixLoss: boolean;
  decoderEmbedDim: number;
  decoderDepth: number;
  decoderHeads: number;
  emaBase: number;
  emaFinal: number;
}

export interface AugmentConfig {
  /** false = resize only (the resolution ablation). */
  enabled: boolean;
  minScale: number;
  /** ColorJitter strength t: brightness = contrast = saturation = t, hue = t/2. */
  jitter: number;
  hflip: boolean;
}

export interface DatasetConfig {
  kind: DatasetKind;
  /** Folder with SewerML_Train.csv / SewerML_Val.csv and the images (sewerml), or the synthetic preset folder. */
  dir: string | null;
  /** Synthetic preset to generate when kind = synthetic. */
  preset: 'smoke' | 'default';
  /** Fraction of the training split kept by the stratified sample before resampling (paper: 0.5). */
  trainFraction: number;
  /** Fashion-MNIST class treated as the defect. */
  defectClass: number;
}

export interface RunConfig {
  method: MethodName;
  backbone: BackboneName;
  dataset: DatasetConfig;
  /** Defect proportion of the training subset. */
  trainProportion: number;
  /** Proportions the Val split is resampled to for the validation tests. */
  evalProportions: number[];
  imageSize: number;
  /** ViT patch size (ignored by ResNet-18). */
  patchSize: number;
  /**
   * ViT depth: 12 is ViT-Tiny (the paper scale); the default CPU scale uses 6 and smoke 2, width and heads
   * unchanged.
   */
  vitDepth: number;
  epochs: number;
  batchSize: number;
  /** Validate the probe every k epochs (and always after the last). */
  valEvery: number;
  optimizer: OptimizerConfig;
  /** The online linear probe (SSL methods; supervised trains its own classifier). */
  probe: ProbeConfig;
  settings: MethodSettings;
  augment: AugmentConfig;
  /** Images of the training split used for the label-free scores each epoch (0 = off). */
  monitorSamples: number;
  /**
   * Images of the natural-proportion Val set scored at each periodic validation (0 = all); the final evaluation
   * always uses all.
   */
  valSamples: number;
  seed: number;
  scale: ScaleName;
}

/** Deep-partial overrides a user may pass. */
export type RunOverrides = {
  [K in keyof RunConfig]?: RunConfig[K] extends object
    ? RunConfig[K] extends unknown[]
      ? RunConfig[K]
      : Partial<RunConfig[K]>
    : RunConfig[K];
};

/**
 * The LARS trust coefficient of the paper's code (P `src/utils/lars.py`), kept at the `paper` scale. A LARS step
 * moves a weight matrix by lr·η of its norm, which the paper's tens of thousands of steps integrate into real
 * learning and a CPU run's few hundred do not: with η = 0.001 the old default scale's 116 steps moved the backbones
 * by 0.4–0.8 %. The CPU scales use `larsEta` of their preset instead (README "Departures at the CPU scales").
 */
export const PAPER_LARS_ETA = 0.001;

/** Fill, in place, the fields a config file written by an earlier version lacks, with the values it meant. */
export function upgradeRunConfig(config: RunConfig): RunConfig {
  // Before `probe.standardize` existed every probe was the plain Linear.
  if (config.probe && config.probe.standardize === undefined) config.probe = { ...config.probe, standardize: false };
  // Before `probe.gaussNewton` existed every probe stepped along its plain gradient.
  if (config.probe && config.probe.gaussNewton === undefined) config.probe = { ...config.probe, gaussNewton: false };
  // Before `optimizer.eta` existed LARS used the paper's trust coefficient.
  if (config.optimizer && config.optimizer.eta === undefined)
    config.optimizer = { ...config.optimizer, eta: PAPER_LARS_ETA };
  return config;
}

/** Learning rates actually used: lr and warmup_start_lr scale by batch/256, the minimum does not. */
export function scaledLearningRates(config: RunConfig): {
  lr: number;
  warmupStartLr: number;
  minLr: number;
  probeLr: number;
} {
  const factor = config.batchSize / 256;
  return {
    lr: config.optimizer.lr * factor,
    warmupStartLr: config.optimizer.warmupStartLr * factor,
    minLr: config.optimizer.minLr,
    probeLr: config.probe.lr * factor,
  };
}
