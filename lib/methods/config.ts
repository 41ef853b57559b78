/**
 * Run configurations as typed data: the paper's appendix B for every method, three scales, and validation of
 * user overrides with messages that name the field and the allowed values.
 *
 * @example
 *   const config = makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke');
 *   config.optimizer.kind; // 'lars'
 *   makeRunConfig({ method: 'mae', backbone: 'resnet18' }); // throws: MAE needs a ViT backbone
 */
import {
  BACKBONES,
  DATASET_KINDS,
  METHODS,
  PAPER_LARS_ETA,
  PROPORTIONS,
  upgradeRunConfig,
  type BackboneName,
  type MethodName,
  type MethodSettings,
  type OptimizerConfig,
  type RunConfig,
  type RunOverrides,
} from '../runs/config';
import { SCALE_PRESETS } from '../runs/presets';
import { SCALES, type ScaleName } from '../runs/scale';

export const METHOD_LABELS: Record<MethodName, string> = {
  supervised: 'Supervised',
  simclr: 'SimCLR',
  byol: 'BYOL',
  barlow: 'Barlow Twins',
  dino: 'DINO',
  mae: 'MAE',
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
