/**
 * One training run, top to bottom: data, method, probe, optimiser, the step loop, checkpoints, evaluation.
 * `trainLoop` is the whole loop; the pieces it calls live beside it: the step (./step), the monitors
 * (./monitor), start, resume and checkpoints (./resume), fault injection for tests (./faults) and the
 * evaluation (./evaluate).
 *
 * Resumable: a run folder with a checkpoint continues from it, on the batch after the last one saved, with
 * the same data order, augmentations and masks, so an interrupted run ends with the same weights as an
 * uninterrupted one. A NaN or Inf loss stops the run as `diverged`, keeping everything logged before it.
 *
 * @example
 *   const status = await runExperiment(makeRunConfig({ method: 'simclr', backbone: 'resnet18' }, 'smoke'));
 *   status.state; // 'done'
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend';
import type { RunConfig } from '../runs/config';
import { scaledLearningRates } from '../runs/config';
import { projectPaths } from '../runs/paths';
import { openRun, type ResultRow, type RunRecord, type RunStatus } from '../runs/store';
import { DataLoader } from '../data/loader';
import {
  applyWarmupCosine,
  createOptimizer,
  probeGroupOverrides,
  type GroupOptimizer,
  type ParamGroupInput,
  type LrScheduleConfig,
} from '../optim';
import { createMethod, type Method, type StepState } from '../methods';
import { prefixed } from '../methods/method';
import type { LinearProbe } from '../models/heads';
import { loadTorchStateDict, saveTorchStateDict } from '../models/safetensors';
import { prepareRunData, evalSetRecords, type RunData } from './data';
import { removeCheckpoint, type TrainingPosition } from './checkpoint';
import { createProgress, type Progress } from './progress';
import { BackboneDrift, batchMonitors, epochMonitors } from './monitor';
import { Checkpoints, startOrResume, type CheckpointParts } from './resume';
import { Stepper } from './step';
import { Halted, haltIfAsked, type FaultOptions } from './faults';
import {
  BACKBONE_FILE,
  CLASSIFIER_FILE,
  REFERENCE_BATCH_FILE,
  classifierMetadata,
  classifierOf,
  finalEvaluation,
  makeProbe,
  periodicValidation,
  weightsMetadata,
  writeReferenceBatch,
  type Classifier,
} from './evaluate';

export {
  BACKBONE_FILE,
  CLASSIFIER_FILE,
  REFERENCE_BATCH_FILE,
  TABLE_METRICS,
  forwardRecords,
  metricsFor,
  predict,
  weightsMetadata,
} from './evaluate';

export interface RunOptions extends FaultOptions {
  /** Results store root; default projectPaths().results. */
  resultsDir?: string;
  /** Silence progress output. */
  quiet?: boolean;
  /** Seconds between mid-epoch checkpoints (epoch ends always checkpoint). */
  checkpointEverySeconds?: number;
  /** Retrain even if the run is already done. */
  force?: boolean;
}

/** Everything the step loop reads, built once by `setUp`. */
interface Training {
  config: RunConfig;
  run: RunRecord;
  options: RunOptions;
  data: RunData;
  method: Method;
  probe: LinearProbe | null;
  classifier: Classifier;
  optimizer: GroupOptimizer;
  stepper: Stepper;
  drift: BackboneDrift;
  loader: DataLoader;
  checkpointParts: CheckpointParts;
  stepsPerEpoch: number;
  totalSteps: number;
  schedule: LrScheduleConfig;
}

/** The step loop, top to bottom: each batch's step and log line, each epoch's summary and checkpoint, the results. */
async function trainLoop(t: Training): Promise<RunStatus> {
  const { config, run, options, method, optimizer, stepper, stepsPerEpoch, totalSteps } = t;
  const position = startOrResume(run, t.checkpointParts, { quiet: options.quiet, startRecord: () => startRecord(t) });
  const progress = createProgress({
    label: `${config.method}/${config.backbone} p=${config.trainProportion}`,
    total: totalSteps * config.batchSize,
    start: position.step * config.batchSize,
    enabled: !options.quiet,
  });
  const checkpoints = new Checkpoints(run, t.checkpointParts, position);
  let stepsThisInvocation = 0;
  for (let epoch = position.epoch; epoch < config.epochs; epoch++) {
    const epochStarted = Date.now();
    for await (const batch of t.loader.epoch(epoch, epoch === position.epoch ? position.batch : 0)) {
      const state: StepState = { step: position.step, epoch, totalSteps, stepsPerEpoch };
      applyWarmupCosine(optimizer, state.step, t.schedule);
      const { terms, grads, features, embeddings } = stepper.lossAndGradients(batch, state);
      if (!Object.values(terms).every(Number.isFinite)) {
        tf.dispose([...Object.values(grads), ...features, ...embeddings]);
        return diverged(run, progress, state, terms, checkpoints.elapsed());
      }
      stepper.apply(grads, state);
      const monitors = batchMonitors(features, embeddings);
      run.appendLog(stepRecord(t, state, batch.batchIndex, terms, monitors));
      addTo(position.epochSums, { ...terms, ...monitors });
      position.epochCount += 1;
      position.step += 1;
      progress.update(config.batchSize, `epoch ${epoch + 1}/${config.epochs} loss ${terms.loss.toFixed(4)}`);
      haltIfAsked(++stepsThisInvocation, options);
      await yieldToEventLoop();
      const next = { epoch, batch: batch.batchIndex + 1 };
      if (next.batch < stepsPerEpoch && checkpoints.due(options.checkpointEverySeconds)) checkpoints.save(next);
    }
    run.appendLog(await epochSummary(t, position, epoch, (Date.now() - epochStarted) / 1000));
    position.epochSums = {};
    position.epochCount = 0;
    checkpoints.save({ epoch: epoch + 1, batch: 0 });
  }
  return finish(t, position, progress);
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

/** Build the run's data, method, probe and optimiser, train them, and dispose of them however training ends. */
async function train(config: RunConfig, run: RunRecord, options: RunOptions): Promise<RunStatus> {
  return disposingAfter(async (own) => {
    const data: RunData = await prepareRunData(config);
    run.writeDataset(data.identity);
    const method = own(createMethod(config, { posWeight: data.posWeight }));
    const probe = own(makeProbe(method, config));
    const optimizer = own(runOptimizer(config, method, probe));
    // Still the seed's initialisation here: trainLoop loads a checkpoint, if any, after this.
    const drift = own(BackboneDrift.fromInitial(method.backbone));
    return trainLoop(setUp(config, run, options, data, method, probe, optimizer, drift));
  });
}

/**
 * The run's optimiser: the method's trainable parameters in group `model`, the online probe (if any) in group
 * `probe`.
 */
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

/**
 * The step log's record: where the step was, its lr and EMA τ (after it), its loss terms and monitors, and the
 * live tensors (a leak shows as a count that grows).
 */
function stepRecord(
  t: Training,
  state: StepState,
  batch: number,
  terms: Record<string, number>,
  monitors: Record<string, number>,
): Record<string, unknown> {
  const { step, epoch } = state;
  const tau = t.method.lastTau !== undefined ? { tau: t.method.lastTau } : {};
  const lr = t.optimizer.groups[0].lr;
  return { kind: 'step', step, epoch, batch, lr, ...tau, ...terms, ...monitors, tensors: tf.memory().numTensors };
}

/** The shuffled training loader: two augmented views per image for the SSL methods, one for supervised. */
function trainingLoader(config: RunConfig, data: RunData, method: Method): DataLoader {
  return new DataLoader({
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
}

/** The step loop's fixed parts: the training loader, its step counts and the lr schedule, the step, the checkpoint. */
function setUp(
  config: RunConfig,
  run: RunRecord,
  options: RunOptions,
  data: RunData,
  method: Method,
  probe: LinearProbe | null,
  optimizer: GroupOptimizer,
  drift: BackboneDrift,
): Training {
  const lrs = scaledLearningRates(config);
  const classifier = classifierOf(method, probe);
  const checkpointTensors = [...method.state(), ...(probe ? prefixed('classifier', probe.stateDict()) : [])];
  const stepper = new Stepper(method, probe, optimizer, { posWeight: data.posWeight, faults: options });
  const loader = trainingLoader(config, data, method);
  const stepsPerEpoch = loader.batchesPerEpoch();
  if (stepsPerEpoch === 0)
    throw new Error(
      `batchSize ${config.batchSize} exceeds the ${loader.size} training images of ${data.datasetName} ` +
        `at proportion ${config.trainProportion}`,
    );
  const totalSteps = stepsPerEpoch * config.epochs;
  const schedule = {
    totalSteps,
    warmupSteps: stepsPerEpoch * config.optimizer.warmupEpochs,
    warmupStartLr: lrs.warmupStartLr,
    minLr: lrs.minLr,
  };
  const checkpointParts = { tensors: checkpointTensors, optimizer };
  return {
    config,
    run,
    options,
    data,
    method,
    probe,
    classifier,
    optimizer,
    stepper,
    drift,
    loader,
    checkpointParts,
    stepsPerEpoch,
    totalSteps,
    schedule,
  };
}

/** The fields of the log's `start` record: the data, the step counts, the model's size and where it runs. */
function startRecord(t: Training): Record<string, unknown> {
  const { run, data } = t;
  return {
    runId: run.id,
    dataset: data.datasetName,
    datasetIdentity: data.identity.digest,
    trainReport: data.train.report,
    evalReports: data.evalSets.map((s) => s.report),
    posWeight: data.posWeight,
    stepsPerEpoch: t.stepsPerEpoch,
    totalSteps: t.totalSteps,
    parameters: t.method.trainable().reduce((n, p) => n + p.variable.size, 0),
    backend: tf.getBackend(),
    host: os.hostname(),
  };
}

/** Stop on a non-finite loss: log the terms (as strings: JSON has no NaN) and mark the run diverged. */
function diverged(
  run: RunRecord,
  progress: Progress,
  state: StepState,
  terms: Record<string, number>,
  seconds: number,
): RunStatus {
  const { step, epoch } = state;
  const reason = `non-finite loss at step ${step} (epoch ${epoch}): ${formatTerms(terms)}`;
  const asStrings = Object.fromEntries(Object.entries(terms).map(([k, v]) => [k, String(v)]));
  run.appendLog({ kind: 'diverged', step, epoch, terms: asStrings });
  run.setStatus({ state: 'diverged', reason, epoch, step, seconds });
  progress.done('diverged');
  return run.status();
}

/**
 * The epoch's log record: the means of its step records, the epoch monitors on the fixed sample, and the
 * validation every valEvery epochs and at the last.
 */
async function epochSummary(
  t: Training,
  position: TrainingPosition,
  epoch: number,
  seconds: number,
): Promise<Record<string, unknown>> {
  const { config, data, method } = t;
  const summary: Record<string, unknown> = { kind: 'epoch', step: position.step - 1, epoch, seconds };
  for (const [k, v] of Object.entries(position.epochSums)) summary[k] = v / Math.max(1, position.epochCount);
  // A fixed, unlabelled sample of the training subset for the label-free monitors (same for every epoch).
  const sample = data.train.records.slice(0, Math.min(config.monitorSamples, data.train.records.length));
  const options = { batchSize: config.batchSize, seed: config.seed };
  Object.assign(summary, await epochMonitors(method, t.drift, data.trainCache, sample, options));
  if (epoch === config.epochs - 1 || (epoch + 1) % config.valEvery === 0)
    Object.assign(summary, await periodicValidation(config, data, method, t.classifier));
  return summary;
}

/** After the last epoch: evaluation rows, exported weights and reference batch, status done, checkpoint removed. */
async function finish(t: Training, position: TrainingPosition, progress: Progress): Promise<RunStatus> {
  const { config, run, data, method, probe, classifier } = t;
  const rows = await finalEvaluation(config, run, data, method, classifier);
  const metadata = weightsMetadata(config, run.id, method);
  saveTorchStateDict(method.backbone, path.join(run.dir, BACKBONE_FILE), { metadata });
  saveTorchStateDict((method.classifier ?? probe)!, path.join(run.dir, CLASSIFIER_FILE), {
    metadata: { ...metadata, ...classifierMetadata(probe) },
  });
  const referenceFile = path.join(run.dir, REFERENCE_BATCH_FILE);
  await writeReferenceBatch(referenceFile, method, classifier, data.valCache, evalSetRecords(data), metadata);
  run.writeRows(rows);
  const { step, seconds } = position;
  run.setStatus({ state: 'done', epoch: config.epochs, step, seconds, secondsPerEpoch: seconds / config.epochs });
  removeCheckpoint(run.checkpointDir);
  const val = rows.find((r) => r.split === 'val' && r.metric === 'f1' && Math.abs(r.evalProportion - 0.45) < 1e-9);
  progress.done(val ? `val F1 ${val.value.toFixed(3)}` : 'done');
  return run.status();
}

/**
 * Re-evaluate a finished run from its saved backbone and classifier (e.g. after adding evaluation
 * proportions to its config): rewrites rows.json and predictions.json, and returns the rows.
 */
export async function evaluateRun(config: RunConfig, options: { resultsDir?: string } = {}): Promise<ResultRow[]> {
  await initBackend({ quiet: true });
  const run = openRun(options.resultsDir ?? projectPaths().results, config);
  for (const file of [BACKBONE_FILE, CLASSIFIER_FILE]) {
    if (!fs.existsSync(path.join(run.dir, file)))
      throw new Error(`${run.dir} has no ${file}: the run has not finished (status ${run.status().state})`);
  }
  const data = await prepareRunData(config);
  return disposingAfter(async (own) => {
    const method = own(createMethod(config, { posWeight: data.posWeight }));
    const probe = own(makeProbe(method, config));
    loadTorchStateDict(method.backbone, path.join(run.dir, BACKBONE_FILE));
    loadTorchStateDict((method.classifier ?? probe)!, path.join(run.dir, CLASSIFIER_FILE));
    const rows = await finalEvaluation(config, run, data, method, classifierOf(method, probe));
    run.writeRows(rows);
    return rows;
  });
}

/**
 * Run `body`, then dispose of everything it passed to `own` (tensors' owners: method, probe, optimiser, monitors),
 * in reverse order, however it ends.
 */
async function disposingAfter<T>(
  body: (own: <R extends { dispose(): void } | null>(resource: R) => R) => Promise<T>,
): Promise<T> {
  const owned: Array<{ dispose(): void }> = [];
  try {
    return await body((resource) => {
      if (resource) owned.push(resource);
      return resource;
    });
  } finally {
    for (const resource of owned.reverse()) resource.dispose();
  }
}

/**
 * Give the event loop a turn: a prefetched batch resolves as a microtask, and without this the step loop would
 * starve timers and signal handlers (a sweep's SIGTERM, the run lock's heartbeat).
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
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
    `${message.split('.')[0]}: the WebAssembly backend aborted, most likely out of memory ` +
    `(its heap holds at most 4 GiB; this run: batch ${config.batchSize}, ` +
    `${config.imageSize}×${config.imageSize} px${tokens}). ` +
    `Lower batchSize or imageSize${config.backbone === 'vit_tiny' ? ', or raise patchSize' : ''}, ` +
    `or train with tfjs-node.`
  );
}
