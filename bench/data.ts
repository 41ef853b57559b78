/**
 * Data pipeline throughput at the default scale: images/s for decode + cache (PNG → sharp resize → shard) and for
 * augment-from-cache (SSL two-view and eval batches), on the synthetic default dataset.
 *
 * Run: npx tsx bench/data.ts [--preset default|smoke] [--resolution 64] [--batch 64]
 *        [--dir data/synthetic-sewer/default]
 * Generates the dataset first when absent (reported separately), and uses a fresh cache folder under
 * data/cache/bench so the decode figure is a real cold decode.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { ensureSyntheticDataset, readSyntheticSplit } from '../lib/data/synthetic';
import { DataLoader, ImageCache, disposeBatch } from '../lib/data/loader';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  await initBackend();
  const preset = arg('preset', 'default') as 'default' | 'smoke';
  const resolution = Number(arg('resolution', '64'));
  const batchSize = Number(arg('batch', '64'));
  const dir = arg('dir', path.join('data', 'synthetic-sewer', preset));
  const rows: Array<[string, number, number]> = [];

  let t = performance.now();
  const info = await ensureSyntheticDataset(dir, preset);
  if (info.generated)
    rows.push([
      'generate synthetic (render + PNG)',
      info.params.trainImages + info.params.valImages,
      (performance.now() - t) / 1000,
    ]);

  const split = await readSyntheticSplit(dir, 'train');
  const cacheDir = path.join('data', 'cache', 'bench');
  fs.rmSync(cacheDir, { recursive: true, force: true });
  t = performance.now();
  const cache = await ImageCache.open(split, { resolution, cacheDir });
  await cache.ensure();
  rows.push([`decode + cache (${resolution}px)`, split.records.length, (performance.now() - t) / 1000]);

  t = performance.now();
  const reopened = await ImageCache.open(split, { resolution, cacheDir });
  await reopened.images(split.records.map((r) => r.index));
  rows.push(['read cache from disk', split.records.length, (performance.now() - t) / 1000]);

  const maxBatches = Number(arg('batches', '20'));
  for (const mode of ['ssl', 'supervised', 'eval'] as const) {
    const loader = new DataLoader({ cache: reopened, records: split.records, batchSize, seed: 1, mode });
    let images = 0;
    t = performance.now();
    for await (const batch of loader.epoch(0)) {
      images += batch.indices.length;
      await batch.views[0].data(); // force the work
      disposeBatch(batch);
      if (images >= maxBatches * batchSize) break;
    }
    rows.push([
      `augment from cache: ${mode}${mode === 'ssl' ? ' (2 views)' : ''}, batch ${batchSize}`,
      images,
      (performance.now() - t) / 1000,
    ]);
  }
  console.log(`\n${tf.getBackend()} backend, ${split.records.length} train images of ${info.params.imageSize}px\n`);
  console.log('| step | images | seconds | images/s |');
  console.log('|---|---:|---:|---:|');
  for (const [name, n, s] of rows) console.log(`| ${name} | ${n} | ${s.toFixed(2)} | ${(n / s).toFixed(0)} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
