/**
 * Run configurations of the registered methods: a method's spec (its appendix-B row, settings and widths, allowed
 * backbones) at a scale, then the user's overrides, validated with messages that name the field and what is allowed.
 *
 * @example
 *   const config = makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke');
 *   config.optimizer.kind; // 'lars'
 *   makeRunConfig({ method: 'mae', backbone: 'resnet18' }); // throws: MAE needs a ViT backbone
 */
import {
  BACKBONES,
  DATASET_KINDS,
  PAPER_LARS_ETA,
  PROPORTIONS,
  upgradeRunConfig,
  type BackboneName,
  type MethodName,
  type RunConfig,
  type RunOverrides,
} from '../runs/config';
import { SCALE_PRESETS, scaleAugment, scaleEpochs } from '../runs/presets';
import { SCALES, type ScaleName } from '../runs/scale';
import { methodNames, methodSpec, PAPER_METHODS, settingRules, settingsFor } from './index';

/** The paper's methods' labels, by name (methodLabel in ./index also knows registered ones). */
export const METHOD_LABELS: Record<MethodName, string> = Object.fromEntries(
  PAPER_METHODS.map((m) => [m.name, m.label]),
);

/** The config of one run before overrides: appendix B at the given scale. */
export function baseRunConfig(method: MethodName, backbone: BackboneName, scale: ScaleName): RunConfig {
  const preset = SCALE_PRESETS[scale];
  const lrScale = preset.lrScale[method] ?? 1;
  const spec = methodSpec(method);
  const paper = spec.appendixB;
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
    epochs: scaleEpochs(scale, backbone),
    batchSize: preset.batchSize ?? paper.batchSize,
    valEvery: preset.valEvery,
    // η only acts on LARS; the AdamW methods keep the paper's value so their run ids do not move with it.
    optimizer: {
      ...paper.optimizer,
      lr: paper.optimizer.lr * lrScale,
      warmupStartLr: paper.optimizer.warmupStartLr * lrScale,
      warmupEpochs: preset.warmupEpochs,
      minLr: 1e-6,
      eta: paper.optimizer.kind === 'lars' ? preset.larsEta : PAPER_LARS_ETA,
    },
    probe: {
      lr: paper.probeLr,
      momentum: 0.9,
      weightDecay: 0,
      standardize: false,
      gaussNewton: false,
      ...(spec.probe ? { ...preset.probe, ...preset.backboneProbe[backbone] } : {}),
    },
    settings: settingsFor(method, scale),
    augment: scaleAugment(scale, backbone),
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
  // The method first: which settings a config holds depends on it.
  checkOneOf('method', config.method, methodNames());
  const spec = methodSpec(config.method);
  // Sections of a config file (train --config) hold exactly the known fields; a misspelt one would be ignored.
  const reference = baseRunConfig(config.method, spec.backbones[0], 'smoke') as unknown as Record<string, unknown>;
  for (const section of ['dataset', 'optimizer', 'probe', 'settings', 'augment'] as const) {
    const value = (config as unknown as Record<string, unknown>)[section];
    if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(section, value, 'expected an object');
    const known = Object.keys(reference[section] as object);
    for (const key of Object.keys(value as object))
      if (!known.includes(key))
        fail(`${section}.${key}`, (value as Record<string, unknown>)[key], `unknown field; known: ${known.join(', ')}`);
  }
  checkOneOf('backbone', config.backbone, BACKBONES);
  if (!spec.backbones.includes(config.backbone)) {
    const needs = spec.backbones.every((b) => b.startsWith('vit')) ? 'a ViT backbone' : 'another backbone';
    const allowed = spec.backbones.map((b) => JSON.stringify(b)).join(', ');
    fail('backbone', config.backbone, `${spec.label} needs ${needs}: allowed ${allowed}`);
  }
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
  checkOneOf('probe.gaussNewton', config.probe.gaussNewton, [true, false]);
  // Every setting the config carries, by the rule of the method that owns it (lib/methods/<name>.ts).
  for (const [key, rule] of Object.entries(settingRules(config.method))) {
    const value = config.settings[key];
    if (rule === 'boolean') checkOneOf(`settings.${key}`, value, [true, false]);
    else checkNumber(`settings.${key}`, value, rule.min, rule.max, rule.integer);
  }
  const problem = spec.checkConfig?.(config, config.settings);
  if (problem) fail(problem.field, problem.value, problem.problem);
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
  checkOneOf('method', overrides.method, methodNames());
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
