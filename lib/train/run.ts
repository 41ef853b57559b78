/**
 * One training run, top to bottom: data, method, probe, optimiser, the epoch loop, checkpoints, evaluation.
 *
 * Resumable: a run folder with a checkpoint continues from it, on the batch after the last one saved, with
 * the same data order, augmentations and masks, so an interrupted run ends with the same weights as an
 * uninterrupted one. A NaN or Inf loss stops the run as `diverged`, keeping everything logged before it.
 *
 * @example
 *   const status = await runExperiment(makeRunConfig({ method: 'simclr', backbone: 'resnet18' }, 'smoke'));
 *   status.state; // 'done'
 */
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import type { RunConfig } from '../runs/config';
import { scaledLearningRates } from '../runs/config';
import { projectPaths } from '../runs/paths';
import { openRun, writeFileAtomic, type ResultRow, type RunRecord, type RunStatus } from '../runs/store';
import { DataLoader, disposeBatch, type ImageCache } from '../data/loader';
import type { SewerRecord } from '../data/types';
import { Rng, mixSeed } from '../data/rng';
import { binaryMetrics, featureStats, rankMe, type BinaryMetrics } from '../eval';
import { stopGradient, weightedBce } from '../losses';
import {
  applyWarmupCosine,
  clipGradNormPerParam,
  createOptimizer,
  probeGroupOverrides,
  type GradMap,
  type GroupOptimizer,
  type ParamGroupInput,
} from '../optim';
import { backboneKindFor, createMethod, type Method, type StepState } from '../methods';
import { prefixed } from '../methods/method';
import { LinearProbe } from '../models/heads';
import { loadTorchStateDict, saveTorchStateDict, writeSafetensorsFile } from '../models/safetensors';
import { architectureMetadata, describeBackbone } from '../models/describe';
import { DEFAULT_AUGMENT } from '../data/augment';
import { evalSetRecords, prepareRunData, type RunData } from './data';
import {
  CheckpointUnreadable,
  discardCheckpoint,
  hasCheckpoint,
  loadCheckpoint,
  removeCheckpoint,
  saveCheckpoint,
  type TrainingPosition,
} from './checkpoint';
import { createProgress } from './progress';
import { BackboneDrift, labelFreeMonitor } from './monitor';

export interface RunOptions {
  /** Results store root; default projectPaths().results. */
  resultsDir?: string;
  /** Silence progress output. */
  quiet?: boolean;
  /** Seconds between mid-epoch checkpoints (epoch ends always checkpoint). */
  checkpointEverySeconds?: number;
  /**
   * Stop abruptly after this many optimiser steps in this invocation, writing nothing more — as a killed
   * process would. For tests of resumption.
   */
  haltAfterSteps?: number;
  /** Retrain even if the run is already done. */
  force?: boolean;
  /** Fault injection for tests: the loss of this global step becomes NaN. */
  nanAtStep?: number;
}

/** The metrics that go into the tidy table for every evaluation. */
export const TABLE_METRICS = [
  'precision',
  'recall',
  'f1',
  'f1Normal',
  'f2Ciw',
  'f2CiwPresent',
  'f2CiwMultiLabel',
  'auroc',
  'auprc',
] as const;

class Halted extends Error {}

/** The classifier an evaluation reads: the method's own (supervised) or the online linear probe. */
interface Classifier {
  logits(features: tf.Tensor2D): tf.Tensor1D;
  /** Train/eval mode of the classifier's own layers (the probe's feature standardisation). */
  setTraining(training: boolean): void;
}

function makeProbe(method: Method, config: RunConfig): LinearProbe | null {
  if (method.classify) return null;
  return new LinearProbe({
    inDim: method.backbone.featureDim,
    seed: config.seed + 101,
    standardize: config.probe.standardize,
  });
}

function classifierOf(method: Method, probe: LinearProbe | null): Classifier {
  if (method.classify) return { logits: (f) => method.classify!(f), setTraining: () => undefined };
  return {
    logits: (f) => tf.tidy(() => (probe!.forward(f) as tf.Tensor2D).reshape([-1]) as tf.Tensor1D),
    setTraining: (training) => probe!.train(training),
  };
}

/**
 * `head` applied to the backbone features of `records` (eval mode, resize-only transform), batch by batch:
 * [records × width] row-major values, with the record index of each row.
 */
export async function forwardRecords(
  method: Method,
  cache: ImageCache,
  records: SewerRecord[],
  batchSize: number,
  head: (features: tf.Tensor2D) => tf.Tensor,
  setHeadTraining: (training: boolean) => void = () => undefined,
): Promise<{ indices: Int32Array; values: Float32Array; width: number }> {
  method.setTraining(false);
  setHeadTraining(false);
  const loader = new DataLoader({ cache, records, batchSize, seed: 0, mode: 'eval' });
  const indices = new Int32Array(loader.size);
  let values = new Float32Array(0);
  let width = 0;
  let at = 0;
  try {
    for await (const batch of loader.epoch(0)) {
      const out = tf.tidy(() => head(method.backbone.forward(batch.views[0])));
      const rows = batch.indices.length;
      if (at === 0) {
        width = out.size / rows;
        values = new Float32Array(loader.size * width);
      }
      indices.set(batch.indices, at);
      values.set((await out.data()) as Float32Array, at * width);
      at += rows;
      out.dispose();
      disposeBatch(batch);
    }
  } finally {
    method.setTraining(true);
    setHeadTraining(true);
  }
  return { indices, values, width };
}

/** Classifier logits of `records` (eval mode, resize-only transform), with their record indices. */
export async function predict(
  method: Method,
  classifier: Classifier,
  cache: ImageCache,
  records: SewerRecord[],
  batchSize: number,
): Promise<{ indices: Int32Array; logits: ArrayLike<number> }> {
  const { indices, values } = await forwardRecords(
    method,
    cache,
    records,
    batchSize,
    (f) => classifier.logits(f),
    (t) => classifier.setTraining(t),
  );
  return { indices, logits: values };
}

/** Metrics of a subset of predicted records (records must all have been predicted). */
export function metricsFor(
  records: SewerRecord[],
  predicted: { indices: Int32Array; logits: ArrayLike<number> },
): BinaryMetrics {
  const position = new Map<number, number>();
  predicted.indices.forEach((index, i) => position.set(index, i));
  const labels = new Float32Array(records.length);
  const logits = new Float32Array(records.length);
  const codes: Uint8Array[] = [];
  records.forEach((r, i) => {
    const at = position.get(r.index);
    if (at === undefined) throw new Error(`record ${r.filename} (index ${r.index}) was not predicted`);
    labels[i] = r.defect;
    logits[i] = predicted.logits[at];
    codes.push(r.codes);
  });
  return binaryMetrics(labels, logits, { codes });
}

function rowsOf(
  config: RunConfig,
  id: string,
  dataset: string,
  split: 'train' | 'val',
  evalProportion: number,
  metrics: BinaryMetrics,
  epoch: number,
): ResultRow[] {
  return TABLE_METRICS.map((metric) => ({
    runId: id,
    method: config.method,
    backbone: config.backbone,
    trainProportion: config.trainProportion,
    evalProportion,
    split,
    metric,
    value: metrics[metric],
    seed: config.seed,
    threshold: metrics.threshold,
    epoch,
    dataset,
    scale: config.scale,
    imageSize: config.imageSize,
  }));
}

export const BACKBONE_FILE = 'backbone.safetensors';
export const CLASSIFIER_FILE = 'classifier.safetensors';
/** A few validation images as the backbone sees them, with its features and the classifier's logits. */
export const REFERENCE_BATCH_FILE = 'reference_batch.safetensors';
const REFERENCE_BATCH_SIZE = 4;

/**
 * The metadata of both weight files: the run, and the backbone's full architecture and input normalisation read
 * from the built model, so that tools/load_in_torch.py rebuilds it from the file alone.
 */
export function weightsMetadata(config: RunConfig, runIdValue: string, method: Method): Record<string, string> {
  const architecture = describeBackbone(method.backbone, backboneKindFor(config), config.imageSize);
  const normalisation = {
    mean: DEFAULT_AUGMENT.mean ?? [0, 0, 0],
    std: DEFAULT_AUGMENT.std ?? [1, 1, 1],
    interpolation: DEFAULT_AUGMENT.interpolation,
  };
  return { runId: runIdValue, method: config.method, ...architectureMetadata(architecture, normalisation) };
}

/**
 * What the classifier file holds beyond a Linear(featureDim, 1): the probe's feature standardisation, a
 * BatchNorm1d without affine parameters applied before it (tensors `norm.*`), when it has one.
 */
function classifierMetadata(probe: LinearProbe | null): Record<string, string> {
  if (!probe?.norm) return { classifierStandardize: 'false' };
  return { classifierStandardize: 'true', classifierNormEps: String(probe.norm.eps) };
}

/**
 * Write the first validation images (eval transform, torch layout NCHW) with the backbone's features and the
 * classifier's logits on them (eval mode), for checking the exported weights in another framework.
 */
async function writeReferenceBatch(
  file: string,
  method: Method,
  classifier: Classifier,
  cache: ImageCache,
  records: SewerRecord[],
  metadata: Record<string, string>,
): Promise<void> {
  method.setTraining(false);
  classifier.setTraining(false);
  const loader = new DataLoader({
    cache,
    records: records.slice(0, REFERENCE_BATCH_SIZE),
    batchSize: REFERENCE_BATCH_SIZE,
    seed: 0,
    mode: 'eval',
  });
  for await (const batch of loader.epoch(0)) {
    try {
      const images = batch.views[0];
      const [features, logits, nchw] = tf.tidy(() => {
        const f = method.backbone.forward(images);
        return [f, classifier.logits(f), tf.transpose(images, [0, 3, 1, 2])];
      });
      writeSafetensorsFile(
        file,
        [
          { name: 'images', shape: nchw.shape, values: nchw.dataSync() as Float32Array },
          { name: 'features', shape: features.shape, values: features.dataSync() as Float32Array },
          { name: 'logits', shape: logits.shape, values: logits.dataSync() as Float32Array },
        ],
        { ...metadata, indices: JSON.stringify(Array.from(batch.indices)) },
      );
      tf.dispose([features, logits, nchw]);
    } finally {
      disposeBatch(batch);
    }
    break;
  }
}

/**
 * Evaluate on the training subset and on the Val split at every evaluation proportion; writes the
 * per-image logits (predictions.json) and returns the tidy rows.
 */
async function finalEvaluation(
  config: RunConfig,
  run: RunRecord,
  data: RunData,
  method: Method,
  classifier: Classifier,
): Promise<ResultRow[]> {
  const lastEpoch = config.epochs - 1;
  const trainPred = await predict(method, classifier, data.trainCache, data.train.records, config.batchSize);
  const valRecords = evalSetRecords(data);
  const valPred = await predict(method, classifier, data.valCache, valRecords, config.batchSize);
  const rows: ResultRow[] = rowsOf(
    config,
    run.id,
    data.datasetName,
    'train',
    data.train.report.proportion,
    metricsFor(data.train.records, trainPred),
    lastEpoch,
  );
  for (const set of data.evalSets)
    rows.push(
      ...rowsOf(config, run.id, data.datasetName, 'val', set.proportion, metricsFor(set.records, valPred), lastEpoch),
    );
  writeFileAtomic(
    path.join(run.dir, 'predictions.json'),
    JSON.stringify({
      train: { indices: Array.from(trainPred.indices), logits: Array.from(trainPred.logits) },
      val: { indices: Array.from(valPred.indices), logits: Array.from(valPred.logits) },
      evalSets: data.evalSets.map((s) => ({ proportion: s.proportion, indices: s.records.map((r) => r.index) })),
    }),
  );
  return rows;
}

/**
 * Re-evaluate a finished run from its saved backbone and classifier (e.g. after adding evaluation
 * proportions to its config): rewrites rows.json and predictions.json, and returns the rows.
 */
export async function evaluateRun(config: RunConfig, options: { resultsDir?: string } = {}): Promise<ResultRow[]> {
  await initBackend({ quiet: true });
  const run = openRun(options.resultsDir ?? projectPaths().results, config);
  for (const file of [BACKBONE_FILE, CLASSIFIER_FILE]) {
    if (!require('fs').existsSync(path.join(run.dir, file)))
      throw new Error(`${run.dir} has no ${file}: the run has not finished (status ${run.status().state})`);
  }
  const data = await prepareRunData(config);
  const method = createMethod(config, { posWeight: data.posWeight });
  const probe = makeProbe(method, config);
  try {
    loadTorchStateDict(method.backbone, path.join(run.dir, BACKBONE_FILE));
    loadTorchStateDict((method.classifier ?? probe)!, path.join(run.dir, CLASSIFIER_FILE));
    const rows = await finalEvaluation(config, run, data, method, classifierOf(method, probe));
    run.writeRows(rows);
    return rows;
  } finally {
    method.dispose();
    probe?.dispose();
  }
}

/** The fixed, seeded subset of the validation set scored every valEvery epochs (all of it when valSamples = 0). */
function periodicValidationRecords(records: SewerRecord[], config: RunConfig): SewerRecord[] {
  if (config.valSamples === 0 || config.valSamples >= records.length) return records;
  const order = new Rng(mixSeed(config.seed, 'periodic-validation')).permutation(records.length);
  return order
    .slice(0, config.valSamples)
    .sort((a, b) => a - b)
    .map((i) => records[i]);
}

/** Mean of per-batch values of a record key, for epoch summaries. */
function addTo(sums: Record<string, number>, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) if (Number.isFinite(v)) sums[k] = (sums[k] ?? 0) + v;
}

/** Loss terms as `{loss: NaN, probe_loss: 0.69}`: JSON.stringify would print a non-finite value as null. */
export function formatTerms(terms: Record<string, number>): string {
  return `{${Object.entries(terms)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ')}}`;
}

function readScalar(t: tf.Tensor): number {
  return t.dataSync()[0];
}

/**
 * The failure reason recorded for a run. Emscripten reports a failed allocation in the wasm heap (4 GiB at most)
 * only as `Aborted()`, which names neither the cause nor a remedy.
 */
export function failureMessage(err: unknown, config: RunConfig): string {
  const message = err instanceof Error ? err.message : String(err);
  if (!/^Aborted\(/.test(message)) return message;
  const tokens =
    config.backbone === 'vit_tiny' ? `, ${(config.imageSize / config.patchSize) ** 2} patches per image` : '';
  return (
    `${message.split('.')[0]}: the WebAssembly backend aborted, most likely out of memory (its heap holds at most 4 GiB; ` +
    `this run: batch ${config.batchSize}, ${config.imageSize}×${config.imageSize} px${tokens}). ` +
    `Lower batchSize or imageSize${config.backbone === 'vit_tiny' ? ', or raise patchSize' : ''}, or train with tfjs-node.`
  );
}

/** Run (or resume, or skip if done) one experiment; returns its final status. */
export async function runExperiment(config: RunConfig, options: RunOptions = {}): Promise<RunStatus> {
  await initBackend({ quiet: options.quiet });
  const run = openRun(options.resultsDir ?? projectPaths().results, config);
  const previous = run.status();
  if (previous.state === 'done' && !options.force) return previous;
  run.setStatus({ ...previous, state: 'running', reason: undefined });
  try {
    const status = await train(config, run, options);
    return status;
  } catch (err) {
    if (err instanceof Halted) return run.status();
    const reason = (err as Error).stack ?? String(err);
    const message = failureMessage(err, config);
    run.setStatus({ ...run.status(), state: 'failed', reason: message });
    run.appendLog({ kind: 'error', message, stack: reason });
    return run.status();
  }
}

async function train(config: RunConfig, run: RunRecord, options: RunOptions): Promise<RunStatus> {
  const data: RunData = await prepareRunData(config);
  run.writeDataset(data.identity);
  const method = createMethod(config, { posWeight: data.posWeight });
  const probe = makeProbe(method, config);
  try {
    return await trainModel(config, run, options, data, method, probe);
  } finally {
    method.dispose();
    probe?.dispose();
  }
}

/** The run's optimiser: the method's trainable parameters in group `model`, the online probe (if any) in group `probe`. */
export function runOptimizer(config: RunConfig, method: Method, probe: LinearProbe | null): GroupOptimizer {
  const lrs = scaledLearningRates(config);
  const groups: ParamGroupInput[] = [{ name: 'model', params: method.trainable(), lr: lrs.lr }];
  // The probe is momentum SGD in every optimiser (why: probeGroupOverrides).
  if (probe)
    groups.push({
      name: 'probe',
      params: prefixed('classifier', probe.namedParameters()),
      ...probeGroupOverrides(config.batchSize, config.probe.lr, config.probe.momentum),
    });
  return createOptimizer(
    {
      kind: config.optimizer.kind,
      weightDecay: config.optimizer.weightDecay,
      momentum: config.optimizer.momentum,
      eta: config.optimizer.eta,
      excludeBiasAndNorm: true,
    },
    groups,
  );
}

async function trainModel(
  config: RunConfig,
  run: RunRecord,
  options: RunOptions,
  data: RunData,
  method: Method,
  probe: LinearProbe | null,
): Promise<RunStatus> {
  const optimizer = runOptimizer(config, method, probe);
  // Still the seed's initialisation here: trainWith loads a checkpoint, if any, after this.
  const drift = BackboneDrift.fromInitial(method.backbone);
  try {
    return await trainWith(config, run, options, data, method, probe, optimizer, drift);
  } finally {
    optimizer.dispose();
    drift.dispose();
  }
}

async function trainWith(
  config: RunConfig,
  run: RunRecord,
  options: RunOptions,
  data: RunData,
  method: Method,
  probe: LinearProbe | null,
  optimizer: GroupOptimizer,
  drift: BackboneDrift,
): Promise<RunStatus> {
  const lrs = scaledLearningRates(config);
  const classifier = classifierOf(method, probe);
  const checkpointTensors = [...method.state(), ...(probe ? prefixed('classifier', probe.stateDict()) : [])];
  const backboneVariables = new Set(method.backbone.parameters().map((v) => v.name));
  const trainVariables = optimizer.variables();
  const trainableByName = new Map(method.trainable().map((p) => [p.name, p.variable]));

  const loader = new DataLoader({
    cache: data.trainCache,
    records: data.train.records,
    batchSize: config.batchSize,
    seed: config.seed,
    // Without augmentation (the resolution ablation) training batches are resized only, still shuffled.
    mode: !config.augment.enabled ? 'eval' : method.numViews === 2 ? 'ssl' : 'supervised',
    shuffle: true,
    dropLast: true,
    augment: {
      minScale: config.augment.minScale,
      jitterStrength: config.augment.jitter,
      flipProbability: config.augment.hflip ? 0.5 : 0,
    },
  });
  const stepsPerEpoch = loader.batchesPerEpoch();
  if (stepsPerEpoch === 0)
    throw new Error(
      `batchSize ${config.batchSize} exceeds the ${loader.size} training images of ${data.datasetName} at proportion ${config.trainProportion}`,
    );
  const totalSteps = stepsPerEpoch * config.epochs;
  const schedule = {
    totalSteps,
    warmupSteps: stepsPerEpoch * config.optimizer.warmupEpochs,
    warmupStartLr: lrs.warmupStartLr,
    minLr: lrs.minLr,
  };

  let position: TrainingPosition = { epoch: 0, batch: 0, step: 0, seconds: 0, epochSums: {}, epochCount: 0 };
  let resumed = false;
  let discarded = false;
  if (hasCheckpoint(run.checkpointDir)) {
    try {
      position = loadCheckpoint(run.checkpointDir, { tensors: checkpointTensors, optimizer });
      resumed = true;
    } catch (err) {
      if (!(err instanceof CheckpointUnreadable)) throw err;
      // A checkpoint torn by a full disk (before writes were checked) or damaged since: restart rather than fail forever.
      const aside = discardCheckpoint(run.checkpointDir);
      const message = `${err.message}; treated as absent, the run restarts from step 0 (the file was moved to ${aside})`;
      if (!options.quiet) console.error(`[train] ${run.id}: ${message}`);
      run.truncateLogAfterStep(-1);
      run.appendLog({ kind: 'checkpoint-discarded', step: 0, reason: message });
      discarded = true;
    }
  }
  if (resumed) {
    run.truncateLogAfterStep(position.step - 1);
    run.appendLog({ kind: 'resume', step: position.step, epoch: position.epoch, batch: position.batch });
  } else {
    if (!discarded) run.truncateLogAfterStep(-1);
    run.appendLog({
      kind: 'start',
      step: 0,
      runId: run.id,
      dataset: data.datasetName,
      datasetIdentity: data.identity.digest,
      trainReport: data.train.report,
      evalReports: data.evalSets.map((s) => s.report),
      posWeight: data.posWeight,
      stepsPerEpoch,
      totalSteps,
      parameters: method.trainable().reduce((n, p) => n + p.variable.size, 0),
      backend: tf.getBackend(),
      host: os.hostname(),
    });
  }

  // A fixed, unlabelled sample of the training subset for the label-free monitors (same for every epoch).
  const monitorRecords = data.train.records.slice(0, Math.min(config.monitorSamples, data.train.records.length));
  const imagesPerStep = config.batchSize;
  const progress = createProgress({
    label: `${config.method}/${config.backbone} p=${config.trainProportion}`,
    total: totalSteps * imagesPerStep,
    start: position.step * imagesPerStep,
    enabled: !options.quiet,
  });
  let stepsThisInvocation = 0;
  let lastCheckpoint = Date.now();
  let clock = Date.now();
  const elapsed = (): number => position.seconds + (Date.now() - clock) / 1000;

  const checkpoint = (next: { epoch: number; batch: number }): void => {
    position = { ...position, ...next, seconds: elapsed() };
    clock = Date.now();
    saveCheckpoint(run.checkpointDir, { tensors: checkpointTensors, optimizer, position });
    run.setStatus({ state: 'running', epoch: next.epoch, step: position.step, seconds: position.seconds });
    lastCheckpoint = Date.now();
  };

  for (let epoch = position.epoch; epoch < config.epochs; epoch++) {
    const epochStarted = Date.now();
    for await (const batch of loader.epoch(epoch, epoch === position.epoch ? position.batch : 0)) {
      const state: StepState = { step: position.step, epoch, totalSteps, stepsPerEpoch };
      applyWarmupCosine(optimizer, state.step, schedule);
      const kept: Record<string, tf.Tensor> = {};
      let features: tf.Tensor2D[] = [];
      let embeddings: tf.Tensor2D[] = [];
      let grads: GradMap;
      let value: tf.Scalar;
      try {
        ({ value, grads } = tf.variableGrads(() => {
          const out = method.loss(batch.views, batch.labels, state);
          let total = options.nanAtStep === state.step ? (tf.mul(out.loss, NaN) as tf.Scalar) : out.loss;
          for (const [name, term] of Object.entries(out.terms)) kept[name] = tf.keep(term);
          if (probe) {
            const probeLosses = out.features.map((f) =>
              weightedBce((probe.forward(stopGradient(f)) as tf.Tensor2D).reshape([-1]), batch.labels, data.posWeight),
            );
            const probeLoss = tf.div(tf.addN(probeLosses), probeLosses.length) as tf.Scalar;
            kept.probe_loss = tf.keep(probeLoss);
            total = tf.add(total, probeLoss) as tf.Scalar;
          }
          features = out.features.map((f) => tf.keep(f));
          embeddings = out.embeddings.map((e) => tf.keep(e));
          return total;
        }, trainVariables));
      } finally {
        disposeBatch(batch);
      }
      const terms: Record<string, number> = { loss: readScalar(value) };
      for (const [name, t] of Object.entries(kept)) terms[name] = readScalar(t);
      tf.dispose([value, ...Object.values(kept)]);

      if (!Object.values(terms).every(Number.isFinite)) {
        tf.dispose([...Object.values(grads), ...features, ...embeddings]);
        const reason = `non-finite loss at step ${position.step} (epoch ${epoch}): ${formatTerms(terms)}`;
        run.appendLog({
          kind: 'diverged',
          step: position.step,
          epoch,
          terms: Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, String(v)])),
        });
        run.setStatus({ state: 'diverged', reason, epoch, step: position.step, seconds: elapsed() });
        progress.done('diverged');
        return run.status();
      }

      for (const name of method.frozen(state)) {
        const variable = trainableByName.get(name);
        if (variable && grads[variable.name]) {
          grads[variable.name].dispose();
          delete grads[variable.name];
        }
      }
      if (method.clipGrad !== null) {
        const clipped = clipGradNormPerParam(grads, method.clipGrad, backboneVariables);
        tf.dispose(Object.values(grads));
        grads = clipped;
      }
      optimizer.step(grads);
      tf.dispose(Object.values(grads));
      method.afterStep(state);

      // The paper's per-batch monitors: RankMe of backbone features and feature/embedding statistics.
      const monitors: Record<string, number> = {};
      if (features.length) {
        const f0 = features[0];
        const [n, d] = f0.shape;
        const values = f0.dataSync() as Float32Array;
        monitors.rankme = rankMe(values, n, d);
        const stats = featureStats(values, n, d);
        monitors.feature_std = stats.std;
        monitors.feature_mean = stats.mean;
      }
      if (embeddings.length) {
        const e0 = embeddings[0];
        const stats = featureStats(e0.dataSync() as Float32Array, e0.shape[0], e0.shape[1]);
        monitors.embedding_std = stats.std;
        monitors.embedding_mean = stats.mean;
      }
      tf.dispose([...features, ...embeddings]);

      const lr = optimizer.groups[0].lr;
      const tau = (method as { lastTau?: number }).lastTau;
      run.appendLog({
        kind: 'step',
        step: position.step,
        epoch,
        batch: batch.batchIndex,
        lr,
        ...(tau !== undefined ? { tau } : {}),
        ...terms,
        ...monitors,
        tensors: tf.memory().numTensors,
      });
      addTo(position.epochSums, { ...terms, ...monitors });
      position.epochCount += 1;
      position.step += 1;
      stepsThisInvocation += 1;
      progress.update(imagesPerStep, `epoch ${epoch + 1}/${config.epochs} loss ${terms.loss.toFixed(4)}`);

      if (options.haltAfterSteps !== undefined && stepsThisInvocation >= options.haltAfterSteps) {
        throw new Halted('halted for a resumption test');
      }
      // Give the event loop a turn each step: a prefetched batch resolves as a microtask, and without this the
      // loop would starve timers and signal handlers (a sweep's SIGTERM, the run lock's heartbeat).
      await new Promise<void>((resolve) => setImmediate(resolve));
      const nextBatch = batch.batchIndex + 1;
      if (
        nextBatch < stepsPerEpoch &&
        options.checkpointEverySeconds !== undefined &&
        Date.now() - lastCheckpoint > options.checkpointEverySeconds * 1000
      ) {
        checkpoint({ epoch, batch: nextBatch });
      }
    }

    // Epoch summary, label-free monitors on the fixed sample, and validation every valEvery epochs.
    const summary: Record<string, unknown> = {
      kind: 'epoch',
      step: position.step - 1,
      epoch,
      seconds: (Date.now() - epochStarted) / 1000,
    };
    for (const [k, v] of Object.entries(position.epochSums)) summary[k] = v / Math.max(1, position.epochCount);
    summary.backbone_drift = drift.measure(method.backbone);
    if (monitorRecords.length >= 4) {
      const scores = await labelFreeMonitor(method, data.trainCache, monitorRecords, {
        batchSize: config.batchSize,
        seed: config.seed,
      });
      Object.assign(summary, scores);
      // The names the paper's monitoring figures read: the large-sample RankMe and feature statistics.
      summary.rankme_sample = scores.lf_rankme;
      summary.sample_feature_std = scores.lf_feature_std;
      summary.sample_feature_mean = scores.lf_feature_mean;
    }
    const isLast = epoch === config.epochs - 1;
    if (isLast || (epoch + 1) % config.valEvery === 0) {
      const valSet = data.evalSets.reduce((a, b) =>
        Math.abs(b.proportion - 0.45) < Math.abs(a.proportion - 0.45) ? b : a,
      );
      const valRecords = periodicValidationRecords(valSet.records, config);
      const predicted = await predict(method, classifier, data.valCache, valRecords, config.batchSize);
      const m = metricsFor(valRecords, predicted);
      Object.assign(summary, {
        val_proportion: valSet.proportion,
        val_f1: m.f1,
        val_f2Ciw: m.f2Ciw,
        val_f1Normal: m.f1Normal,
        val_precision: m.precision,
        val_recall: m.recall,
        val_auroc: m.auroc,
      });
    }
    run.appendLog(summary);
    position.epochSums = {};
    position.epochCount = 0;
    checkpoint({ epoch: epoch + 1, batch: 0 });
  }

  const rows = await finalEvaluation(config, run, data, method, classifier);
  const metadata = weightsMetadata(config, run.id, method);
  saveTorchStateDict(method.backbone, path.join(run.dir, BACKBONE_FILE), { metadata });
  saveTorchStateDict((method.classifier ?? probe)!, path.join(run.dir, CLASSIFIER_FILE), {
    metadata: { ...metadata, ...classifierMetadata(probe) },
  });
  await writeReferenceBatch(
    path.join(run.dir, REFERENCE_BATCH_FILE),
    method,
    classifier,
    data.valCache,
    evalSetRecords(data),
    metadata,
  );
  run.writeRows(rows);
  const secondsPerEpoch = position.seconds / config.epochs;
  run.setStatus({
    state: 'done',
    epoch: config.epochs,
    step: position.step,
    seconds: position.seconds,
    secondsPerEpoch,
  });
  removeCheckpoint(run.checkpointDir);
  const val = rows.find((r) => r.split === 'val' && r.metric === 'f1' && Math.abs(r.evalProportion - 0.45) < 1e-9);
  progress.done(val ? `val F1 ${val.value.toFixed(3)}` : 'done');
  return run.status();
}
