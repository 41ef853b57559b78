/**
 * Training checkpoints in one file, so a kill at any moment leaves the previous checkpoint or the new one:
 * every tensor of the method, the probe and the optimiser in TF.js layout, plus the schedule position as JSON
 * in the safetensors metadata. Weights for PyTorch are exported separately (torch layout) when a run ends.
 *
 * @example
 *   saveCheckpoint(file, { tensors: [...method.state(), ...probe], optimizer, position: { epoch: 1, batch: 0, step: 40 } });
 *   const restored = loadCheckpoint(file, { tensors: [...], optimizer });  // returns the position
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { NamedParam } from '../nn/module';
import type { GroupOptimizer } from '../optim';
import { readSafetensorsFile, serializeSafetensors, type TensorToWrite } from '../models/safetensors';
import { writeFileAtomic } from '../runs/store';

export interface TrainingPosition {
  /** Epoch to continue in. */
  epoch: number;
  /** First batch of `epoch` not yet trained. */
  batch: number;
  /** Global optimiser steps taken. */
  step: number;
  /** Wall-clock training seconds so far. */
  seconds: number;
  /** Running sums of the current epoch's log terms, so the epoch record of a resumed run is the same. */
  epochSums: Record<string, number>;
  epochCount: number;
}

export const CHECKPOINT_FILE = 'checkpoint.safetensors';

function entry(name: string, tensor: tf.Tensor): TensorToWrite {
  const values =
    tensor.dtype === 'int32'
      ? new Int32Array(tensor.dataSync() as Int32Array)
      : new Float32Array(tensor.dataSync() as Float32Array);
  return { name, shape: tensor.shape.slice(), values };
}

export function saveCheckpoint(
  dir: string,
  parts: { tensors: NamedParam[]; optimizer: GroupOptimizer; position: TrainingPosition },
): string {
  const file = path.join(dir, CHECKPOINT_FILE);
  const entries = parts.tensors.map((p) => entry(`model/${p.name}`, p.variable));
  const optimizerState = parts.optimizer.getState();
  try {
    for (const { name, tensor } of optimizerState.tensors) entries.push(entry(`optimizer/${name}`, tensor));
  } finally {
    tf.dispose(optimizerState.tensors.map((t) => t.tensor));
  }
  const metadata = {
    position: JSON.stringify(parts.position),
    optimizerScalars: JSON.stringify(optimizerState.scalars),
    format: 'sslad-checkpoint-1',
  };
  writeFileAtomic(file, Buffer.from(serializeSafetensors(entries, metadata)));
  return file;
}

export function hasCheckpoint(dir: string): boolean {
  return fs.existsSync(path.join(dir, CHECKPOINT_FILE));
}

/**
 * A checkpoint that cannot be used: it does not parse, is not this project's, or does not fit the run's model.
 * Raised before any tensor is changed, so the caller may start afresh instead.
 */
export class CheckpointUnreadable extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'CheckpointUnreadable';
  }
}

/** Restore tensors and optimiser state in place; returns where training stopped. */
export function loadCheckpoint(
  dir: string,
  parts: { tensors: NamedParam[]; optimizer: GroupOptimizer },
): TrainingPosition {
  const file = path.join(dir, CHECKPOINT_FILE);
  // Everything is checked before the first tensor is assigned, so an unusable file leaves the model untouched.
  let contents: ReturnType<typeof readSafetensorsFile>;
  let position: TrainingPosition;
  let optimizerScalars: unknown;
  try {
    contents = readSafetensorsFile(file);
    if (contents.metadata.format !== 'sslad-checkpoint-1')
      throw new Error(`not a checkpoint of this project (format ${contents.metadata.format})`);
    position = JSON.parse(contents.metadata.position) as TrainingPosition;
    optimizerScalars = JSON.parse(contents.metadata.optimizerScalars);
    if (!position || typeof position.step !== 'number' || typeof position.epoch !== 'number')
      throw new Error('its position is incomplete');
  } catch (err) {
    throw new CheckpointUnreadable(file, `does not parse (${(err as Error).message})`);
  }
  const problems: string[] = [];
  for (const p of parts.tensors) {
    const stored = contents.tensors.get(`model/${p.name}`);
    if (!stored) problems.push(`missing tensor model/${p.name}`);
    else if (
      stored.shape.length !== p.variable.shape.length ||
      stored.shape.some((d, i) => d !== p.variable.shape[i])
    ) {
      problems.push(`model/${p.name}: checkpoint [${stored.shape}] vs model [${p.variable.shape}]`);
    }
  }
  if (problems.length) throw new CheckpointUnreadable(file, `does not match this run's model: ${problems.join('; ')}`);
  for (const p of parts.tensors) {
    const stored = contents.tensors.get(`model/${p.name}`)!;
    tf.tidy(() => p.variable.assign(tf.tensor(stored.values, stored.shape, p.variable.dtype)));
  }
  const optimizerTensors: Array<{ name: string; tensor: tf.Tensor }> = [];
  for (const [name, stored] of contents.tensors) {
    if (name.startsWith('optimizer/'))
      optimizerTensors.push({ name: name.slice('optimizer/'.length), tensor: tf.tensor(stored.values, stored.shape) });
  }
  try {
    parts.optimizer.setState({ tensors: optimizerTensors, scalars: optimizerScalars as never });
  } finally {
    tf.dispose(optimizerTensors.map((t) => t.tensor));
  }
  return position;
}

/** Move an unusable checkpoint aside (`checkpoint.safetensors.unreadable`, replacing an older one) so the run starts afresh. */
export function discardCheckpoint(dir: string): string {
  const file = path.join(dir, CHECKPOINT_FILE);
  const aside = `${file}.unreadable`;
  fs.renameSync(file, aside);
  return aside;
}

export function removeCheckpoint(dir: string): void {
  fs.rmSync(path.join(dir, CHECKPOINT_FILE), { force: true });
}
