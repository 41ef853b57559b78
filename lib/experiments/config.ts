/**
 * Run configurations as typed data: the paper's appendix B for every method, three scales, and validation of
 * user overrides with messages that name the field and the allowed values.
 *
 * @example
 *   const config = makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke');
 *   config.optimizer.kind; // 'lars'
 *   makeRunConfig({ method: 'mae', backbone: 'resnet18' }); // throws: MAE needs a ViT backbone
 */
import { ScaleName, SCALES } from './scale';
import { SYNTHETIC_GENERATOR_VERSION } from '../data/generator_version';

export const METHODS = ['supervised', 'simclr', 'byol', 'barlow', 'dino', 'mae'] as const;
export type MethodName = (typeof METHODS)[number];
export const BACKBONES = ['resnet18', 'vit_tiny'] as const;
export type BackboneName = (typeof BACKBONES)[number];
/** The defect proportions of the study (0.45 ≈ Sewer-ML's natural share). */
export const PROPORTIONS = [0.01, 0.02, 0.05, 0.15, 0.45] as const;
export const DATASET_KINDS = ['synthetic', 'sewerml', 'fashion-mnist'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

export const METHOD_LABELS: Record<MethodName, string> = {
  supervised: 'Supervised',
  simclr: 'SimCLR',
  byol: 'BYOL',
  barlow: 'Barlow Twins',
  dino: 'DINO',
  mae: 'MAE',
};
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
  /** Learning rate at batch 256 (scaled by batch/256); the probe is momentum SGD without weight decay in every optimiser. */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** BatchNorm1d without affine in front of the Linear (MAE's linear-probing head); false is the paper's plain Linear. */
  standardize: boolean;
}

export interface MethodSettings {
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
  /** ViT depth: 12 is ViT-Tiny (the paper scale); the default CPU scale uses 6 and smoke 2, width and heads unchanged. */
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
  /** Images of the natural-proportion Val set scored at each periodic validation (0 = all); the final evaluation always uses all. */
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

const BASE_SETTINGS: MethodSettings = {
  projHiddenDim: 2048,
  projOutputDim: 256,
  predHiddenDim: 2048,
  temperature: 0.2,
  lambda: 0.0051,
  scaleLoss: 0.024,
  numPrototypes: 8192,
  studentTemperature: 0.1,
  warmupTeacherTemperature: 0.04,
  teacherTemperature: 0.07,
  warmupTeacherTemperatureEpochs: 15,
  freezePrototypesEpochs: 1,
  maskRatio: 0.75,
  normPixLoss: true,
  decoderEmbedDim: 192,
  decoderDepth: 12,
  decoderHeads: 12,
  emaBase: 0.996,
  emaFinal: 0.999,
};

/**
 * The LARS trust coefficient of the paper's code (P `src/utils/lars.py`), kept at the `paper` scale. A LARS step
 * moves a weight matrix by lr·η of its norm, which the paper's tens of thousands of steps integrate into real
 * learning and a CPU run's few hundred do not: with η = 0.001 the old default scale's 116 steps moved the backbones
 * by 0.4–0.8 %. The CPU scales use `larsEta` of their preset instead (README "Departures at the CPU scales").
 */
export const PAPER_LARS_ETA = 0.001;

/** Appendix B: optimiser and batch per method (lr and warmup_start_lr at batch 256 unless noted). */
export const APPENDIX_B: Record<
  MethodName,
  { optimizer: Omit<OptimizerConfig, 'warmupEpochs' | 'minLr' | 'eta'>; batchSize: number; probeLr: number }
> = {
  supervised: {
    optimizer: { kind: 'adamw', lr: 5e-4, warmupStartLr: 3e-5, weightDecay: 1e-4, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  simclr: {
    optimizer: { kind: 'lars', lr: 0.3, warmupStartLr: 0.15, weightDecay: 1e-6, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  byol: {
    optimizer: { kind: 'lars', lr: 0.2, warmupStartLr: 0.1, weightDecay: 1.5e-6, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  barlow: {
    optimizer: { kind: 'lars', lr: 0.2, warmupStartLr: 0.1, weightDecay: 1.5e-6, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  dino: {
    optimizer: { kind: 'adamw', lr: 5e-4, warmupStartLr: 3e-5, weightDecay: 1e-4, momentum: 0.9, clipGrad: 1.0 },
    batchSize: 128,
    probeLr: 1e-3,
  },
  mae: {
    optimizer: { kind: 'adamw', lr: 1e-3, warmupStartLr: 5e-4, weightDecay: 0.05, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-4,
  },
};

interface ScalePreset {
  imageSize: number;
  patchSize: number;
  vitDepth: number;
  epochs: number;
  warmupEpochs: number;
  /** Batch at this scale; null = the paper's per-method batch. */
  batchSize: number | null;
  valEvery: number;
  dataset: Pick<DatasetConfig, 'kind' | 'preset'>;
  /** Fraction of the training split kept by the stratified sample (the paper halves Sewer-ML's). */
  trainFraction: number;
  /** LARS trust coefficient of the LARS methods at this scale (the paper's code: 0.001; solo-learn: 0.02). */
  larsEta: number;
  monitorSamples: number;
  valSamples: number;
  /** Head widths where the paper's would dominate a CPU step. */
  settings: Partial<MethodSettings>;
  /** Online-probe settings of the SSL methods at this scale (supervised has no probe, so its config keeps the paper's). */
  probe: Partial<ProbeConfig>;
}

/**
 * The online probe at the CPU scales. The paper's probe (plain Linear, lr 1e-3·batch/256, MAE 1e-4) gets 45 epochs
 * of thousands of steps; the default scale gives it 116. Measured by refitting probes on the frozen final features
 * of the finished default-scale runs (balanced validation AUROC; scratch simulation of the online probe's SGD, batch
 * 64, 4 epochs): with the paper's rule SimCLR ResNet-18 at 45 % reaches 0.72 and MAE ViT-Tiny 0.52, while a
 * logistic regression fitted to the same features reaches 0.84 and 0.80 — the probe, not the representation, was the
 * bottleneck, and on the ViT's unevenly scaled CLS coordinates plain SGD barely moves. Standardised features and
 * 0.03 per step at batch 64 give 0.83 and 0.73 in the same 116 steps. The step is a compromise with the imbalanced
 * shares: at 1 % (pos_weight ≈ 99, about one positive per batch) 0.1 per step made the online probe loss climb to
 * 40–58; at 0.03 it peaks at 10–17. Over the default SSL grid the rule raised the mean val AUROC (45 % validation)
 * at every training share: 0.54 → 0.56 at 1 %, 0.59 → 0.65 at 5 %, 0.59 → 0.71 at 45 %.
 */
const DEFAULT_SCALE_PROBE: Partial<ProbeConfig> = { lr: 0.12, standardize: true };

/**
 * The scales. `default` is sized so the 55-run SSL grid fits in two hours on a 2-core machine with the native
 * kernels and two workers: 4 epochs over every synthetic training image (4 000; 236 steps at 45 %), LARS at
 * solo-learn's η, and a depth-6 ViT-Tiny (a depth-12 step costs 2.5× a ResNet-18 step at 32 px). README
 * "Departures at the CPU scales" lists each change from the paper and what it was measured to do. `paper` is
 * appendix B verbatim.
 */
export const SCALE_PRESETS: Record<ScaleName, ScalePreset> = {
  smoke: {
    imageSize: 32,
    patchSize: 8,
    vitDepth: 2,
    epochs: 2,
    warmupEpochs: 1,
    batchSize: 16,
    valEvery: 1,
    dataset: { kind: 'synthetic', preset: 'smoke' },
    trainFraction: 0.5,
    larsEta: PAPER_LARS_ETA,
    monitorSamples: 64,
    valSamples: 64,
    settings: {
      projHiddenDim: 64,
      projOutputDim: 32,
      predHiddenDim: 64,
      numPrototypes: 128,
      decoderDepth: 1,
      decoderEmbedDim: 64,
      decoderHeads: 4,
      warmupTeacherTemperatureEpochs: 1,
    },
    probe: DEFAULT_SCALE_PROBE,
  },
  default: {
    imageSize: 32,
    patchSize: 8,
    vitDepth: 6,
    epochs: 4,
    warmupEpochs: 1,
    batchSize: 64,
    valEvery: 1,
    dataset: { kind: 'synthetic', preset: 'default' },
    trainFraction: 1,
    larsEta: 0.02,
    monitorSamples: 512,
    valSamples: 512,
    settings: {
      projHiddenDim: 512,
      projOutputDim: 128,
      predHiddenDim: 512,
      numPrototypes: 1024,
      decoderDepth: 4,
      warmupTeacherTemperatureEpochs: 2,
    },
    probe: DEFAULT_SCALE_PROBE,
  },
  paper: {
    imageSize: 224,
    patchSize: 16,
    vitDepth: 12,
    epochs: 45,
    warmupEpochs: 10,
    batchSize: null,
    valEvery: 5,
    dataset: { kind: 'sewerml', preset: 'default' },
    trainFraction: 0.5,
    larsEta: PAPER_LARS_ETA,
    monitorSamples: 25000,
    valSamples: 0,
    settings: {},
    probe: {},
  },
};

/** The config of one run before overrides: appendix B at the given scale. */
export function baseRunConfig(method: MethodName, backbone: BackboneName, scale: ScaleName): RunConfig {
  const preset = SCALE_PRESETS[scale];
  const paper = APPENDIX_B[method];
  return {
    method,
    backbone,
    dataset: {
      kind: preset.dataset.kind,
      dir: null,
      preset: preset.dataset.preset,
      trainFraction: preset.trainFraction,
      defectClass: 0,
    },
    trainProportion: 0.45,
    evalProportions: [...PROPORTIONS],
    imageSize: preset.imageSize,
    patchSize: preset.patchSize,
    vitDepth: preset.vitDepth,
    epochs: preset.epochs,
    batchSize: preset.batchSize ?? paper.batchSize,
    valEvery: preset.valEvery,
    // η only acts on LARS; the AdamW methods keep the paper's value so their run ids do not move with it.
    optimizer: {
      ...paper.optimizer,
      warmupEpochs: preset.warmupEpochs,
      minLr: 1e-6,
      eta: paper.optimizer.kind === 'lars' ? preset.larsEta : PAPER_LARS_ETA,
    },
    probe: {
      lr: paper.probeLr,
      momentum: 0.9,
      weightDecay: 0,
      standardize: false,
      ...(method === 'supervised' ? {} : preset.probe),
    },
    settings: { ...BASE_SETTINGS, ...preset.settings },
    augment: { enabled: true, minScale: 0.395, jitter: 0.275, hflip: true },
    monitorSamples: preset.monitorSamples,
    valSamples: preset.valSamples,
    seed: 42,
    scale,
  };
}

function fail(field: string, value: unknown, allowed: string): never {
  throw new Error(`invalid config: ${field} = ${JSON.stringify(value)}; ${allowed}`);
}

function checkNumber(field: string, value: unknown, min: number, max: number, integer = false): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    fail(field, value, `expected ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  }
}

function checkOneOf(field: string, value: unknown, allowed: readonly unknown[]): void {
  if (!allowed.includes(value)) fail(field, value, `allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
}

const KNOWN_TOP_LEVEL = new Set<string>(Object.keys(baseRunConfig('supervised', 'resnet18', 'smoke')));

/** Fill, in place, the fields a config file written by an earlier version lacks, with the values it meant. */
export function upgradeRunConfig(config: RunConfig): RunConfig {
  // Before `probe.standardize` existed every probe was the plain Linear.
  if (config.probe && config.probe.standardize === undefined) config.probe = { ...config.probe, standardize: false };
  // Before `optimizer.eta` existed LARS used the paper's trust coefficient.
  if (config.optimizer && config.optimizer.eta === undefined)
    config.optimizer = { ...config.optimizer, eta: PAPER_LARS_ETA };
  return config;
}

/** Check every field of a full config; throws naming the first bad field and what is allowed. */
export function validateRunConfig(config: RunConfig): RunConfig {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    fail('(config)', config, 'expected a JSON object');
  for (const key of Object.keys(config))
    if (!KNOWN_TOP_LEVEL.has(key))
      fail(
        key,
        (config as unknown as Record<string, unknown>)[key],
        `unknown field; known fields: ${[...KNOWN_TOP_LEVEL].join(', ')}`,
      );
  // Sections of a config file (train --config) hold exactly the known fields; a misspelt one would be ignored.
  const reference = baseRunConfig('supervised', 'resnet18', 'smoke') as unknown as Record<string, unknown>;
  for (const section of ['dataset', 'optimizer', 'probe', 'settings', 'augment'] as const) {
    const value = (config as unknown as Record<string, unknown>)[section];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(section, value, 'expected an object');
    const known = Object.keys(reference[section] as object);
    for (const key of Object.keys(value as object))
      if (!known.includes(key))
        fail(`${section}.${key}`, (value as Record<string, unknown>)[key], `unknown field; known: ${known.join(', ')}`);
  }
  checkOneOf('method', config.method, METHODS);
  checkOneOf('backbone', config.backbone, BACKBONES);
  if (config.method === 'mae' && config.backbone !== 'vit_tiny')
    fail('backbone', config.backbone, 'MAE needs a ViT backbone: allowed "vit_tiny"');
  checkOneOf('scale', config.scale, SCALES);
  checkOneOf('dataset.kind', config.dataset.kind, DATASET_KINDS);
  if (config.dataset.kind === 'sewerml' && !config.dataset.dir && !process.env.SSLAD_SEWERML_DIR) {
    fail('dataset.dir', config.dataset.dir, 'Sewer-ML needs a folder: set dataset.dir or SSLAD_SEWERML_DIR');
  }
  if (config.dataset.dir !== null && (typeof config.dataset.dir !== 'string' || config.dataset.dir.trim() === ''))
    fail('dataset.dir', config.dataset.dir, 'expected a folder path or null');
  checkOneOf('dataset.preset', config.dataset.preset, ['smoke', 'default']);
  checkNumber('dataset.trainFraction', config.dataset.trainFraction, 0.01, 1);
  checkNumber('dataset.defectClass', config.dataset.defectClass, 0, 9, true);
  checkNumber('trainProportion', config.trainProportion, 0.001, 0.999);
  if (!Array.isArray(config.evalProportions) || config.evalProportions.length === 0)
    fail('evalProportions', config.evalProportions, 'expected a non-empty list of proportions in (0, 1)');
  config.evalProportions.forEach((p, i) => checkNumber(`evalProportions[${i}]`, p, 0.001, 0.999));
  checkNumber('imageSize', config.imageSize, 16, 1024, true);
  checkNumber('patchSize', config.patchSize, 2, 64, true);
  if (config.backbone === 'vit_tiny' && config.imageSize % config.patchSize !== 0) {
    fail('patchSize', config.patchSize, `must divide imageSize ${config.imageSize}`);
  }
  checkNumber('vitDepth', config.vitDepth, 1, 24, true);
  checkNumber('epochs', config.epochs, 1, 1000, true);
  checkNumber('batchSize', config.batchSize, 2, 4096, true);
  checkNumber('valEvery', config.valEvery, 1, 1000, true);
  checkOneOf('optimizer.kind', config.optimizer.kind, ['lars', 'adamw']);
  checkNumber('optimizer.lr', config.optimizer.lr, 0, 10);
  checkNumber('optimizer.warmupStartLr', config.optimizer.warmupStartLr, 0, 10);
  checkNumber('optimizer.minLr', config.optimizer.minLr, 0, 10);
  checkNumber('optimizer.weightDecay', config.optimizer.weightDecay, 0, 1);
  checkNumber('optimizer.momentum', config.optimizer.momentum, 0, 1);
  checkNumber('optimizer.warmupEpochs', config.optimizer.warmupEpochs, 0, config.epochs, true);
  if (config.optimizer.clipGrad !== null) checkNumber('optimizer.clipGrad', config.optimizer.clipGrad, 0, 1e6);
  checkNumber('probe.lr', config.probe.lr, 0, 10);
  checkNumber('probe.momentum', config.probe.momentum, 0, 1);
  checkNumber('probe.weightDecay', config.probe.weightDecay, 0, 1);
  upgradeRunConfig(config);
  checkNumber('optimizer.eta', config.optimizer.eta, 0, 10);
  checkOneOf('probe.standardize', config.probe.standardize, [true, false]);
  const s = config.settings;
  for (const key of [
    'projHiddenDim',
    'projOutputDim',
    'predHiddenDim',
    'numPrototypes',
    'decoderEmbedDim',
    'decoderDepth',
    'decoderHeads',
  ] as const) {
    checkNumber(`settings.${key}`, s[key], 1, 65536, true);
  }
  // Temperatures divide logits: 0 gives Infinity/NaN at the first step.
  for (const key of ['temperature', 'studentTemperature', 'warmupTeacherTemperature', 'teacherTemperature'] as const) {
    checkNumber(`settings.${key}`, s[key], 1e-4, 10);
  }
  checkNumber('settings.lambda', s.lambda, 0, 10);
  checkNumber('settings.scaleLoss', s.scaleLoss, 1e-8, 1e3);
  checkNumber('settings.warmupTeacherTemperatureEpochs', s.warmupTeacherTemperatureEpochs, 0, 1000, true);
  checkNumber('settings.freezePrototypesEpochs', s.freezePrototypesEpochs, 0, 1000, true);
  checkNumber('settings.maskRatio', s.maskRatio, 0, 0.99);
  checkOneOf('settings.normPixLoss', s.normPixLoss, [true, false]);
  if (config.method === 'mae') {
    const patches = (config.imageSize / config.patchSize) ** 2;
    // MAE keeps int(L·(1 − maskRatio)) patches: none kept means an empty encoder input.
    if (Math.floor(patches * (1 - s.maskRatio)) < 1)
      fail(
        'settings.maskRatio',
        s.maskRatio,
        `keeps no patch of the ${patches} at imageSize ${config.imageSize}, patchSize ${config.patchSize}`,
      );
    if (s.decoderEmbedDim % s.decoderHeads !== 0)
      fail('settings.decoderHeads', s.decoderHeads, `must divide decoderEmbedDim ${s.decoderEmbedDim}`);
  }
  checkNumber('settings.emaBase', s.emaBase, 0, 1);
  checkNumber('settings.emaFinal', s.emaFinal, 0, 1);
  checkOneOf('augment.enabled', config.augment.enabled, [true, false]);
  checkNumber('augment.minScale', config.augment.minScale, 0.01, 1);
  checkNumber('augment.jitter', config.augment.jitter, 0, 1);
  checkOneOf('augment.hflip', config.augment.hflip, [true, false]);
  checkNumber('monitorSamples', config.monitorSamples, 0, 1e6, true);
  checkNumber('valSamples', config.valSamples, 0, 1e7, true);
  checkNumber('seed', config.seed, 0, 2 ** 31 - 1, true);
  return config;
}

function mergeSection<T extends object>(field: string, base: T, patch: Partial<T> | undefined): T {
  if (patch === undefined) return base;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) fail(field, patch, 'expected an object');
  for (const key of Object.keys(patch)) {
    if (!(key in base))
      fail(
        `${field}.${key}`,
        (patch as Record<string, unknown>)[key],
        `unknown field; known: ${Object.keys(base).join(', ')}`,
      );
  }
  return { ...base, ...patch };
}

/**
 * A validated config: appendix B for `method` at `scale`, then the overrides. Nested sections merge
 * field by field, so `{ optimizer: { lr: 0.1 } }` changes only the lr.
 */
export function makeRunConfig(
  overrides: RunOverrides & { method: MethodName; backbone: BackboneName },
  scale?: ScaleName,
): RunConfig {
  const chosenScale = overrides.scale ?? scale ?? 'default';
  checkOneOf('method', overrides.method, METHODS);
  checkOneOf('backbone', overrides.backbone, BACKBONES);
  checkOneOf('scale', chosenScale, SCALES);
  const base = baseRunConfig(overrides.method, overrides.backbone, chosenScale);
  const merged: RunConfig = { ...base };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof RunConfig, unknown]>) {
    if (!KNOWN_TOP_LEVEL.has(key)) fail(key, value, `unknown field; known fields: ${[...KNOWN_TOP_LEVEL].join(', ')}`);
    if (value === undefined) continue;
    const current = base[key];
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      (merged as unknown as Record<string, unknown>)[key] = mergeSection(key, current as object, value as object);
    } else {
      (merged as unknown as Record<string, unknown>)[key] = value;
    }
  }
  merged.scale = chosenScale;
  return validateRunConfig(merged);
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

/** A stable JSON form (sorted keys) for hashing run ids. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Revision of what a run computes beyond its config (trainer semantics). It enters the run id, so a change of
 * semantics never silently reuses results computed the old way. 2: the online probe is exempt from LARS's
 * trust ratio.
 */
export const TRAINER_REVISION = 2;
/**
 * Revision of the MAE encoder (2: the paper's 12 attention heads; 1 was built with the ViT fallback of 3 because an
 * undefined `numHeads` overrode the default). Head count changes no tensor shape, so only the run id tells them apart.
 */
export const MAE_ENCODER_REVISION = 2;
/** Revision of the online probe's rule inside AdamW (2: momentum SGD; 1: Adam with betas (0.9, 0)). */
export const ADAMW_PROBE_RULE = 2;

/**
 * Run id: a short hash of the canonical config, the trainer revision, (for the synthetic data) the generator
 * version and the dataset's identity (lib/experiments/dataset.ts), so reruns find finished work and never reuse work
 * computed the old way or on other data. Throws, naming the folder, for a Sewer-ML folder that does not exist.
 */
export function runId(config: RunConfig): string {
  const { createHash } = require('crypto') as typeof import('crypto');
  const { datasetDigestForRunId } = require('./dataset') as typeof import('./dataset');
  const versions: Record<string, number | string> = { trainerRevision: TRAINER_REVISION };
  if (config.dataset.kind === 'synthetic') versions.syntheticGenerator = SYNTHETIC_GENERATOR_VERSION;
  // Hashed only where it is not implied by the config (as the synthetic data is by the generator version and the
  // preset, and the published Fashion-MNIST by its name), so finished runs on those keep their ids.
  const datasetDigest = datasetDigestForRunId(config);
  if (datasetDigest !== null) versions.datasetIdentity = datasetDigest;
  // Only runs whose probe sits in AdamW changed when its probe became momentum SGD; keyed on them alone so that
  // finished runs the change did not touch (supervised, the LARS methods) keep their ids and are reused.
  if (config.optimizer.kind === 'adamw' && config.method !== 'supervised') versions.adamwProbeRule = ADAMW_PROBE_RULE;
  if (config.method === 'mae') versions.maeEncoder = MAE_ENCODER_REVISION;
  // A plain probe hashes as before the field existed, so finished runs of the paper's probe keep their ids.
  // Likewise the paper's LARS trust coefficient.
  const { standardize, ...plainProbe } = config.probe;
  const { eta, ...paperEtaOptimizer } = config.optimizer;
  const hashed = {
    ...config,
    probe: standardize ? config.probe : plainProbe,
    optimizer: eta === PAPER_LARS_ETA ? paperEtaOptimizer : config.optimizer,
  };
  const hash = createHash('sha256')
    .update(canonicalJson({ config: hashed, ...versions }))
    .digest('hex')
    .slice(0, 12);
  const p = String(Math.round(config.trainProportion * 100)).padStart(2, '0');
  return `${config.method}-${config.backbone}-p${p}-s${config.seed}-${hash}`;
}
