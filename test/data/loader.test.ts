import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ensureSyntheticDataset, readSyntheticSplit, type SyntheticParams } from '../../lib/data/synthetic';
import { DataLoader, ImageCache, disposeBatch, type Batch } from '../../lib/data/loader';
import type { DatasetSplit } from '../../lib/data/types';

const TINY: SyntheticParams = {
  trainImages: 48,
  valImages: 10,
  imageSize: 32,
  trainDefectProportion: 0.45,
  valDefectProportion: 0.47,
  seed: 9,
};

async function collect(
  loader: DataLoader,
  epoch: number,
  start = 0,
): Promise<Array<{ indices: number[]; sum: number }>> {
  const out: Array<{ indices: number[]; sum: number }> = [];
  for await (const batch of loader.epoch(epoch, start)) {
    out.push({ indices: Array.from(batch.indices), sum: batch.views[0].sum().dataSync()[0] });
    disposeBatch(batch);
  }
  return out;
}

describe('data/loader', () => {
  let root: string;
  let split: DatasetSplit;
  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'loader-'));
    await ensureSyntheticDataset(path.join(root, 'ds'), TINY);
    split = await readSyntheticSplit(path.join(root, 'ds'), 'train');
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('decodes once into shards keyed by dataset, split and resolution; reopening decodes nothing', async () => {
    const cacheDir = path.join(root, 'cache');
    const cache = await ImageCache.open(split, { resolution: 16, cacheDir, shardSize: 20 });
    await cache.ensure();
    assert.equal(cache.decodedCount, 48);
    assert.ok(cache.isComplete());
    const shardDir = path.join(cacheDir, split.datasetId, 'train-16px');
    assert.deepEqual(
      fs
        .readdirSync(shardDir)
        .filter((f) => f.endsWith('.u8'))
        .sort(),
      ['shard-00000.u8', 'shard-00001.u8', 'shard-00002.u8'],
    );
    const reopened = await ImageCache.open(split, { resolution: 16, cacheDir, shardSize: 20 });
    const [fromCache] = await reopened.images([25]);
    assert.equal(reopened.decodedCount, 0);
    const direct = await split.loadImage(split.records[25], 16);
    assert.deepEqual(Array.from(fromCache), Array.from(direct));
  });

  it('yields two-view SSL batches deterministically and resumes mid-epoch exactly', async () => {
    const cache = await ImageCache.open(split, { resolution: 16, cacheDir: path.join(root, 'cache') });
    const loader = new DataLoader({ cache, records: split.records, batchSize: 8, seed: 3, mode: 'ssl' });
    assert.equal(loader.batchesPerEpoch(), 6);
    let first: Batch | null = null;
    for await (const batch of loader.epoch(0)) {
      first = batch;
      break; // stopping early must free the prefetched batch
    }
    assert.ok(first);
    assert.equal(first.views.length, 2);
    assert.deepEqual(first.views[0].shape, [8, 16, 16, 3]);
    assert.equal(first.codes.length, 8 * 17);
    assert.deepEqual(Array.from(first.labels.dataSync()), Array.from(first.defects));
    assert.notEqual(first.views[0].sum().dataSync()[0], first.views[1].sum().dataSync()[0]);
    disposeBatch(first);
    const epoch0 = await collect(loader, 0);
    const epoch0Again = await collect(loader, 0);
    const epoch1 = await collect(loader, 1);
    assert.deepEqual(epoch0Again, epoch0);
    assert.notDeepEqual(
      epoch1.map((b) => b.indices),
      epoch0.map((b) => b.indices),
    );
    const resumed = await collect(loader, 0, 4);
    assert.deepEqual(resumed, epoch0.slice(4));
    const seen = epoch0.flatMap((b) => b.indices).sort((a, b) => a - b);
    assert.deepEqual(
      seen,
      split.records.map((r) => r.index),
    );
  });

  it('eval batches are unshuffled, unaugmented and keep the last partial batch', async () => {
    const cache = await ImageCache.open(split, { resolution: 16, cacheDir: path.join(root, 'cache') });
    const loader = new DataLoader({ cache, records: split.records.slice(0, 21), batchSize: 8, seed: 3, mode: 'eval' });
    const batches = await collect(loader, 0);
    assert.deepEqual(
      batches.map((b) => b.indices.length),
      [8, 8, 5],
    );
    assert.deepEqual(
      batches.flatMap((b) => b.indices),
      split.records.slice(0, 21).map((r) => r.index),
    );
  });

  it('holds tf.memory().numTensors steady across many batches', async () => {
    const cache = await ImageCache.open(split, { resolution: 16, cacheDir: path.join(root, 'cache') });
    const start = tf.memory().numTensors;
    for (const mode of ['ssl', 'supervised', 'eval'] as const) {
      const loader = new DataLoader({ cache, records: split.records, batchSize: 6, seed: 1, mode, prefetch: 2 });
      const counts: number[] = [];
      for (let epoch = 0; epoch < 3; epoch++) {
        for await (const batch of loader.epoch(epoch)) {
          disposeBatch(batch);
          counts.push(tf.memory().numTensors);
        }
      }
      assert.ok(counts.length >= 24);
      assert.ok(
        counts.every((c) => c === counts[1] || c <= counts[1]),
        `${mode}: tensor counts drift ${counts.join(',')}`,
      );
      assert.equal(tf.memory().numTensors, start, `${mode}: tensors left after the epochs`);
    }
  });
});
