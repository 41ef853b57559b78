/**
 * Linear evaluation on frozen features: a finished run's backbone (or the same backbone at its random
 * initialisation) encodes the training subset and the validation sets, and a weighted L2 logistic regression
 * (lib/eval/logistic.ts, pos_weight = n_neg/n_pos as the online probe) is fitted to the training features to
 * convergence. It separates "the representation is poor" from "the online probe had too few steps", and the
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
import type { RunConfig } from '../experiments/config';
import { projectPaths } from '../experiments/paths';
import { openRun, writeFileAtomic } from '../experiments/store';
import { fitLogisticRegression, logisticLogits } from '../eval/logistic';
import type { BinaryMetrics } from '../eval';
import { createMethod } from '../methods';
import { loadTorchStateDict } from '../models/safetensors';
import { evalSetRecords, prepareRunData } from './data';
import { BackboneDrift } from './monitor';
import { BACKBONE_FILE, forwardRecords, metricsFor } from './run';

/** Penalty on the standardised coefficients; chosen once on the default-scale runs, not per run. */
export const FROZEN_PROBE_L2 = 0.01;

export interface FrozenProbeResult {
  runId: string;
  backbone: 'trained' | 'random-init';
  l2: number;
  iterations: number;
  converged: boolean;
  featureDim: number;
  /** ‖W − W₀‖/‖W₀‖ of the backbone's weight matrices from the seed's initialisation (0 for the random-init probe; absent in files written before it existed). */
  backboneDrift?: number;
  train: BinaryMetrics;
  val: Array<{ proportion: number; metrics: BinaryMetrics }>;
}

export function frozenProbeFile(randomInit: boolean): string {
  return randomInit ? 'frozen_probe_random_init.json' : 'frozen_probe.json';
}

/** Fit and score the frozen-feature probe of one run; writes the result into the run folder and returns it. */
export async function frozenLinearProbe(config: RunConfig, options: { resultsDir?: string; randomInit?: boolean; l2?: number } = {}): Promise<FrozenProbeResult> {
  await initBackend({ quiet: true });
  const run = openRun(options.resultsDir ?? projectPaths().results, config);
  const weights = path.join(run.dir, BACKBONE_FILE);
  if (!options.randomInit && !fs.existsSync(weights)) {
    throw new Error(`${run.dir} has no ${BACKBONE_FILE}: the run has not finished (status ${run.status().state}); pass randomInit for the untrained baseline`);
  }
  const l2 = options.l2 ?? FROZEN_PROBE_L2;
  const data = await prepareRunData(config);
  const method = createMethod(config, { posWeight: data.posWeight });
  try {
    const drift = BackboneDrift.fromInitial(method.backbone);
    if (!options.randomInit) loadTorchStateDict(method.backbone, weights);
    const backboneDrift = drift.measure(method.backbone);
    drift.dispose();
    const identity = (f: tf.Tensor2D) => f;
    const train = await forwardRecords(method, data.trainCache, data.train.records, config.batchSize, identity);
    const valRecords = evalSetRecords(data);
    const val = await forwardRecords(method, data.valCache, valRecords, config.batchSize, identity);
    const byIndex = new Map(data.train.records.map((r) => [r.index, r]));
    const labels = Array.from(train.indices, (i) => byIndex.get(i)!.defect);
    const fit = fitLogisticRegression(train.values, train.indices.length, train.width, labels, { l2, positiveWeight: data.posWeight });
    const result: FrozenProbeResult = {
      runId: run.id,
      backbone: options.randomInit ? 'random-init' : 'trained',
      l2,
      iterations: fit.iterations,
      converged: fit.converged,
      featureDim: train.width,
      backboneDrift,
      train: metricsFor(data.train.records, { indices: train.indices, logits: logisticLogits(fit, train.values, train.indices.length) }),
      val: [],
    };
    const valLogits = { indices: val.indices, logits: logisticLogits(fit, val.values, val.indices.length) };
    for (const set of data.evalSets) result.val.push({ proportion: set.proportion, metrics: metricsFor(set.records, valLogits) });
    writeFileAtomic(path.join(run.dir, frozenProbeFile(Boolean(options.randomInit))), JSON.stringify(result, null, 1));
    return result;
  } finally {
    method.dispose();
  }
}

/** A run's stored frozen-probe result, or null when it has not been computed. */
export function readFrozenProbe(runDir: string, randomInit = false): FrozenProbeResult | null {
  const file = path.join(runDir, frozenProbeFile(randomInit));
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as FrozenProbeResult) : null;
}
