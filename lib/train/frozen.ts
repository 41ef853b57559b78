/**
 * Linear evaluation on frozen features: a finished run's backbone (or the same backbone at its random
 * initialisation) encodes the training subset and the validation sets, and a weighted L2 logistic regression
 * (lib/eval/logistic.ts, pos_weight = n_neg/n_pos as the online probe) is fitted to the training features to
 * convergence, its penalty chosen from L2_GRID by 5-fold cross-validation on those features (or fixed by the
 * caller). It separates "the representation is poor" from "the online probe had too few steps", and the
 * random-initialisation baseline says how much of a score the architecture alone gives.
 *
 * @example
 *   const result = await frozenLinearProbe(config, { resultsDir });            // writes <run>/frozen_probe.json
 *   result.val.find((v) => v.proportion === 0.45)!.metrics.auroc;
 *   await frozenLinearProbe(config, { resultsDir, randomInit: true });         // frozen_probe_random_init.json
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import type { RunConfig } from '../runs/config';
import { projectPaths } from '../runs/paths';
import { openRun, writeFileAtomic } from '../runs/store';
import { crossValidateL2, fitLogisticRegression, L2_GRID, logisticLogits, type L2Selection } from '../eval/logistic';
import type { BinaryMetrics } from '../eval';
import { createMethod, type Method } from '../methods';
import { loadTorchStateDict, readSafetensorsFile, writeSafetensorsFile } from '../models/safetensors';
import { evalSetRecords, prepareRunData, type RunData } from './data';
import { BackboneDrift } from './monitor';
import { BACKBONE_FILE, forwardRecords, metricsFor } from './evaluate';

/**
 * The fixed penalty on the standardised coefficients that the probe used before it chose one by cross-validation
 * (chosen once on ResNet-18 runs); the few-label probes of notebook 10 still use it.
 */
export const FROZEN_PROBE_L2 = 0.01;

export interface FrozenProbeResult {
  runId: string;
  backbone: 'trained' | 'random-init';
  l2: number;
  /** How `l2` was chosen: absent when the caller fixed it (and in files written before the probe chose it). */
  l2Selection?: L2Selection;
  iterations: number;
  converged: boolean;
  featureDim: number;
  /**
   * ‖W − W₀‖/‖W₀‖ of the backbone's weight matrices from the seed's initialisation (0 for the random-init probe;
   * absent in files written before it existed).
   */
  backboneDrift?: number;
  train: BinaryMetrics;
  val: Array<{ proportion: number; metrics: BinaryMetrics }>;
}

export function frozenProbeFile(randomInit: boolean): string {
  return randomInit ? 'frozen_probe_random_init.json' : 'frozen_probe.json';
}

/** Backbone features of the run's training subset and of every validation record its evaluation sets use. */
async function encodeRunImages(
  method: Method,
  data: RunData,
  config: RunConfig,
): Promise<{ train: EncodedRecords; val: EncodedRecords }> {
  const identity = (f: tf.Tensor2D) => f;
  const train = await forwardRecords(method, data.trainCache, data.train.records, config.batchSize, identity);
  const val = await forwardRecords(method, data.valCache, evalSetRecords(data), config.batchSize, identity);
  return { train, val };
}

type EncodedRecords = { indices: Int32Array; values: Float32Array; width: number };

/**
 * The probe's penalty by cross-validation on the training features; with fewer than two training images of a
 * class (a tiny smoke run) there is nothing to cross-validate, and the fixed FROZEN_PROBE_L2 is used (folds 0).
 */
function choosePenalty(train: EncodedRecords, labels: number[], data: RunData, config: RunConfig): L2Selection {
  const positives = labels.filter((y) => y === 1).length;
  if (Math.min(positives, labels.length - positives) < 2) return { l2: FROZEN_PROBE_L2, folds: 0, scores: [] };
  return crossValidateL2(train.values, labels.length, train.width, labels, {
    positiveWeight: data.posWeight,
    seed: config.seed,
  });
}

/** Fit and score the frozen-feature probe of one run; writes the result into the run folder and returns it. */
export async function frozenLinearProbe(
  config: RunConfig,
  options: { resultsDir?: string; randomInit?: boolean; l2?: number | 'cv' } = {},
): Promise<FrozenProbeResult> {
  await initBackend({ quiet: true });
  const run = openRun(options.resultsDir ?? projectPaths().results, config);
  const weights = path.join(run.dir, BACKBONE_FILE);
  if (!options.randomInit && !fs.existsSync(weights)) {
    throw new Error(
      `${run.dir} has no ${BACKBONE_FILE}: the run has not finished (status ${run.status().state}); ` +
        'pass randomInit for the untrained baseline',
    );
  }
  const data = await prepareRunData(config);
  const method = createMethod(config, { posWeight: data.posWeight });
  try {
    const drift = BackboneDrift.fromInitial(method.backbone);
    if (!options.randomInit) loadTorchStateDict(method.backbone, weights);
    const backboneDrift = drift.measure(method.backbone);
    drift.dispose();
    const { train, val } = await encodeRunImages(method, data, config);
    const byIndex = new Map(data.train.records.map((r) => [r.index, r]));
    const labels = Array.from(train.indices, (i) => byIndex.get(i)!.defect);
    const rows = train.indices.length;
    const l2Selection = typeof options.l2 === 'number' ? undefined : choosePenalty(train, labels, data, config);
    const l2 = typeof options.l2 === 'number' ? options.l2 : l2Selection!.l2;
    const fit = fitLogisticRegression(train.values, rows, train.width, labels, { l2, positiveWeight: data.posWeight });
    const result: FrozenProbeResult = {
      runId: run.id,
      backbone: options.randomInit ? 'random-init' : 'trained',
      l2,
      ...(l2Selection ? { l2Selection } : {}),
      iterations: fit.iterations,
      converged: fit.converged,
      featureDim: train.width,
      backboneDrift,
      train: metricsFor(data.train.records, {
        indices: train.indices,
        logits: logisticLogits(fit, train.values, train.indices.length),
      }),
      val: [],
    };
    const valLogits = { indices: val.indices, logits: logisticLogits(fit, val.values, val.indices.length) };
    for (const set of data.evalSets)
      result.val.push({ proportion: set.proportion, metrics: metricsFor(set.records, valLogits) });
    writeFileAtomic(path.join(run.dir, frozenProbeFile(Boolean(options.randomInit))), JSON.stringify(result, null, 1));
    return result;
  } finally {
    method.dispose();
  }
}

/**
 * A run's stored frozen-probe result, or null when it has not been computed, or (with `crossValidated`) when the
 * stored one has a fixed penalty or chose it from another grid than today's L2_GRID.
 */
export function readFrozenProbe(
  runDir: string,
  randomInit = false,
  options: { crossValidated?: boolean } = {},
): FrozenProbeResult | null {
  const file = path.join(runDir, frozenProbeFile(randomInit));
  if (!fs.existsSync(file)) return null;
  const result = JSON.parse(fs.readFileSync(file, 'utf8')) as FrozenProbeResult;
  if (!options.crossValidated) return result;
  const selection = result.l2Selection;
  const grid = selection?.scores.map((score) => score.l2) ?? [];
  const current = selection && (selection.folds === 0 || grid.join() === L2_GRID.join());
  return current ? result : null;
}

/**
 * A finished run's frozen probe under today's protocol: the stored result when it has a penalty chosen from
 * L2_GRID, otherwise fitted now (and stored); `fitted` says which.
 */
export async function currentFrozenProbe(
  config: RunConfig,
  options: { resultsDir: string; randomInit?: boolean },
): Promise<{ result: FrozenProbeResult; fitted: boolean }> {
  const stored = readFrozenProbe(openRun(options.resultsDir, config).dir, Boolean(options.randomInit), {
    crossValidated: true,
  });
  if (stored) return { result: stored, fitted: false };
  return { result: await frozenLinearProbe(config, options), fitted: true };
}

/** One split's frozen features: row r is record `indices[r]`, with its defect label. */
export interface FrozenFeatureRows {
  indices: Int32Array;
  defect: Int32Array;
  /** rows×width, row-major. */
  values: Float32Array;
  rows: number;
}

/** A run's backbone features of its training subset and validation records, as cached in the run folder. */
export interface FrozenFeatures {
  runId: string;
  backbone: 'trained' | 'random-init';
  width: number;
  train: FrozenFeatureRows;
  val: FrozenFeatureRows;
  /** Per evaluation proportion, the rows of `val` that validation set holds. */
  evalSets: Array<{ proportion: number; rows: Int32Array }>;
}

export function frozenFeaturesFile(randomInit: boolean): string {
  return randomInit ? 'frozen_features_random_init.safetensors' : 'frozen_features.safetensors';
}

function rowsOf(encoded: EncodedRecords, records: Array<{ index: number; defect: number }>): FrozenFeatureRows {
  const byIndex = new Map(records.map((r) => [r.index, r]));
  return {
    indices: encoded.indices,
    defect: Int32Array.from(encoded.indices, (i) => byIndex.get(i)!.defect),
    values: encoded.values,
    rows: encoded.indices.length,
  };
}

function readFrozenFeatures(file: string): FrozenFeatures {
  const { tensors, metadata } = readSafetensorsFile(file);
  const tensor = (name: string) => {
    const t = tensors.get(name);
    if (!t)
      throw new Error(`${file}: no tensor '${name}' (a feature cache from another version? delete it to recompute)`);
    return t;
  };
  const split = (name: 'train' | 'val'): FrozenFeatureRows => {
    const values = tensor(`${name}_features`);
    return {
      indices: tensor(`${name}_index`).values as Int32Array,
      defect: tensor(`${name}_defect`).values as Int32Array,
      values: values.values as Float32Array,
      rows: values.shape[0],
    };
  };
  const proportions = JSON.parse(metadata.evalProportions ?? '[]') as number[];
  return {
    runId: metadata.runId,
    backbone: metadata.backbone as FrozenFeatures['backbone'],
    width: Number(metadata.width),
    train: split('train'),
    val: split('val'),
    evalSets: proportions.map((proportion, i) => ({ proportion, rows: tensor(`eval_${i}_rows`).values as Int32Array })),
  };
}

/**
 * The frozen backbone features of a finished run (or of the same backbone at its random initialisation), the
 * same extraction as the frozen probe's; computed once and cached as `frozen_features[_random_init].safetensors`
 * in the run folder (recomputed when the run's backbone is newer than the cache), so that every scorer of a run
 * reads the same features.
 */
export async function frozenFeatures(
  config: RunConfig,
  options: { resultsDir?: string; randomInit?: boolean } = {},
): Promise<FrozenFeatures> {
  const run = openRun(options.resultsDir ?? projectPaths().results, config);
  const randomInit = Boolean(options.randomInit);
  const weights = path.join(run.dir, BACKBONE_FILE);
  if (!randomInit && !fs.existsSync(weights)) {
    throw new Error(
      `${run.dir} has no ${BACKBONE_FILE}: the run has not finished (status ${run.status().state}); ` +
        'pass randomInit for the untrained baseline',
    );
  }
  const file = path.join(run.dir, frozenFeaturesFile(randomInit));
  if (fs.existsSync(file) && (randomInit || fs.statSync(file).mtimeMs >= fs.statSync(weights).mtimeMs))
    return readFrozenFeatures(file);
  await initBackend({ quiet: true });
  const data = await prepareRunData(config);
  const method = createMethod(config, { posWeight: data.posWeight });
  try {
    if (!randomInit) loadTorchStateDict(method.backbone, weights);
    const encoded = await encodeRunImages(method, data, config);
    const train = rowsOf(encoded.train, data.train.records);
    const val = rowsOf(encoded.val, evalSetRecords(data));
    const rowOf = new Map(Array.from(val.indices, (index, row) => [index, row]));
    const evalSets = data.evalSets.map((set) => ({
      proportion: set.proportion,
      rows: Int32Array.from(set.records, (r) => rowOf.get(r.index)!),
    }));
    const width = encoded.train.width;
    writeSafetensorsFile(
      file,
      [
        { name: 'train_features', shape: [train.rows, width], values: train.values },
        { name: 'train_index', shape: [train.rows], values: train.indices },
        { name: 'train_defect', shape: [train.rows], values: train.defect },
        { name: 'val_features', shape: [val.rows, width], values: val.values },
        { name: 'val_index', shape: [val.rows], values: val.indices },
        { name: 'val_defect', shape: [val.rows], values: val.defect },
        ...evalSets.map((set, i) => ({ name: `eval_${i}_rows`, shape: [set.rows.length], values: set.rows })),
      ],
      {
        runId: run.id,
        backbone: randomInit ? 'random-init' : 'trained',
        width: String(width),
        evalProportions: JSON.stringify(evalSets.map((s) => s.proportion)),
      },
    );
    return { runId: run.id, backbone: randomInit ? 'random-init' : 'trained', width, train, val, evalSets };
  } finally {
    method.dispose();
  }
}
