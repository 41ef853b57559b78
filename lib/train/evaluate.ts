/**
 * Evaluating a trained model: classifier logits of a set of records, their metrics as tidy-table rows, the final
 * evaluation of a run (rows and per-image predictions), the periodic validation, and the exported weights'
 * metadata and reference batch.
 *
 * @example
 *   const predicted = await predict(method, classifierOf(method, probe), data.valCache, records, 64);
 *   metricsFor(records, predicted).f1;
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../runs/config';
import { writeFileAtomic, type ResultRow, type RunRecord } from '../runs/store';
import { DataLoader, disposeBatch, type ImageCache } from '../data/loader';
import type { SewerRecord } from '../data/types';
import { Rng, mixSeed } from '../data/rng';
import { binaryMetrics, type BinaryMetrics } from '../eval';
import { backboneKindFor, type Method } from '../methods';
import { LinearProbe } from '../models/heads';
import { writeSafetensorsFile } from '../models/safetensors';
import { architectureMetadata, describeBackbone } from '../models/describe';
import { DEFAULT_AUGMENT } from '../data/augment';
import { evalSetRecords, type RunData } from './data';

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

/** The classifier an evaluation reads: the method's own (supervised) or the online linear probe. */
export interface Classifier {
  logits(features: tf.Tensor2D): tf.Tensor1D;
  /** Train/eval mode of the classifier's own layers (the probe's feature standardisation). */
  setTraining(training: boolean): void;
}

/** The online linear probe of an SSL method (null for a method that trains its own classifier). */
export function makeProbe(method: Method, config: RunConfig): LinearProbe | null {
  if (method.classify) return null;
  return new LinearProbe({
    inDim: method.backbone.featureDim,
    seed: config.seed + 101,
    standardize: config.probe.standardize,
    gaussNewton: config.probe.gaussNewton,
  });
}

/** The classifier of a run: the method's own, else the probe. */
export function classifierOf(method: Method, probe: LinearProbe | null): Classifier {
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
export function classifierMetadata(probe: LinearProbe | null): Record<string, string> {
  if (!probe?.norm) return { classifierStandardize: 'false' };
  return { classifierStandardize: 'true', classifierNormEps: String(probe.norm.eps) };
}

/**
 * Write the first validation images (eval transform, torch layout NCHW) with the backbone's features and the
 * classifier's logits on them (eval mode), for checking the exported weights in another framework.
 */
export async function writeReferenceBatch(
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
export async function finalEvaluation(
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

/** The fixed, seeded subset of the validation set scored every valEvery epochs (all of it when valSamples = 0). */
function periodicValidationRecords(records: SewerRecord[], config: RunConfig): SewerRecord[] {
  if (config.valSamples === 0 || config.valSamples >= records.length) return records;
  const order = new Rng(mixSeed(config.seed, 'periodic-validation')).permutation(records.length);
  return order
    .slice(0, config.valSamples)
    .sort((a, b) => a - b)
    .map((i) => records[i]);
}

/**
 * The epoch log's validation fields: the classifier on a fixed sample of the evaluation set closest to the natural
 * proportion (45 %).
 */
export async function periodicValidation(
  config: RunConfig,
  data: RunData,
  method: Method,
  classifier: Classifier,
): Promise<Record<string, number>> {
  const valSet = data.evalSets.reduce((a, b) =>
    Math.abs(b.proportion - 0.45) < Math.abs(a.proportion - 0.45) ? b : a,
  );
  const valRecords = periodicValidationRecords(valSet.records, config);
  const predicted = await predict(method, classifier, data.valCache, valRecords, config.batchSize);
  const m = metricsFor(valRecords, predicted);
  return {
    val_proportion: valSet.proportion,
    val_f1: m.f1,
    val_f2Ciw: m.f2Ciw,
    val_f1Normal: m.f1Normal,
    val_precision: m.precision,
    val_recall: m.recall,
    val_auroc: m.auroc,
  };
}
