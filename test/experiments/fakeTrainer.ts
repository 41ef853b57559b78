/**
 * A stand-in for lib/train/run.ts with the same contract and files, for the scheduler tests: it
 * "trains" one epoch per FAKE_EPOCH_MS milliseconds, checkpoints after each epoch, resumes from the
 * checkpoint, and writes deterministic evaluation rows. Seed 13 fails, seed 14 diverges.
 *
 * Use: SSLAD_TRAINER_MODULE=<abs path of this file> ssl-ad train ...
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { RunConfig } from '../../lib/runs/config';
import { openRun, ResultRow, RunStatus, writeFileAtomic } from '../../lib/runs/store';

export const FAKE_METRICS = ['f1', 'precision', 'recall'];

/** The value the stand-in reports for one cell: a hash, so tests can recompute it independently. */
export function fakeValue(runId: string, split: string, evalProportion: number, metric: string): number {
  const digest = createHash('sha256').update(`${runId}|${split}|${evalProportion}|${metric}`).digest();
  return digest.readUInt32LE(0) / 2 ** 32;
}

export async function runExperiment(config: RunConfig, options: { resultsDir: string }): Promise<RunStatus> {
  const run = openRun(options.resultsDir, config);
  if (run.status().state === 'done') return run.status();
  const epochFile = path.join(run.checkpointDir, 'epoch.json');
  let epoch = fs.existsSync(epochFile)
    ? (JSON.parse(fs.readFileSync(epochFile, 'utf8')) as { epoch: number }).epoch
    : 0;
  // As the real trainer does on resume: a kill between a log append and its checkpoint leaves a record to drop.
  run.truncateLogAfterStep(epoch);
  run.setStatus({ state: 'running', epoch });
  const epochMs = Number(process.env.FAKE_EPOCH_MS ?? 100);
  for (; epoch < config.epochs; epoch++) {
    if (config.seed === 13 && epoch === 1) throw new Error('fake failure at epoch 1 (seed 13)');
    if (config.seed === 14 && epoch === 1) {
      const status: RunStatus = { state: 'diverged', reason: 'loss is NaN at step 7 (fake, seed 14)', epoch };
      run.setStatus(status);
      return status;
    }
    await new Promise((resolve) => setTimeout(resolve, epochMs));
    run.appendLog({ kind: 'epoch', epoch: epoch + 1, step: epoch + 1 });
    writeFileAtomic(epochFile, JSON.stringify({ epoch: epoch + 1 }));
    run.setStatus({ state: 'running', epoch: epoch + 1 });
  }
  const rows: ResultRow[] = [];
  const cell = (split: 'train' | 'val', evalProportion: number, metric: string): ResultRow => ({
    runId: run.id,
    method: config.method,
    backbone: config.backbone,
    trainProportion: config.trainProportion,
    evalProportion,
    split,
    metric,
    value: fakeValue(run.id, split, evalProportion, metric),
    seed: config.seed,
    threshold: 0,
    epoch: config.epochs,
    dataset: config.dataset.kind,
    scale: config.scale,
    imageSize: config.imageSize,
  });
  for (const metric of FAKE_METRICS) rows.push(cell('train', config.trainProportion, metric));
  for (const p of config.evalProportions) for (const metric of FAKE_METRICS) rows.push(cell('val', p, metric));
  run.writeRows(rows);
  const status: RunStatus = { state: 'done', epoch: config.epochs };
  run.setStatus(status);
  return status;
}
