/**
 * Cached, prefetching, deterministic batch loader.
 *
 * `ImageCache` decodes each image once (sharp), resized to the run's resolution, and keeps the uint8 RGB pixels
 * in binary shards under `<cacheDir>/<datasetId>/<split>-<res>px/shard-NNNNN.u8` (plus `meta.json`), keyed by
 * dataset, split and resolution, so later epochs and later runs never decode again. Slot i of the cache is the
 * record with `index === i`.
 *
 * `DataLoader` yields batches for one epoch; shuffling depends only on (seed, epoch) and augmentation only on
 * (seed, epoch, batch), so a run resumed at `startBatch` sees exactly the batches it would have seen.
 *
 * Tensor contract: every tensor in a yielded batch (`views[*]`, `labels`) belongs to the consumer, who must
 * dispose it (`disposeBatch(batch)`). The loader disposes everything else it creates, including a prefetched
 * batch that was never handed out when the consumer stops early.
 *
 * Prefetching: while the consumer works on batch b, batch b+1's shard reads / decodes (libuv threads) are in
 * flight; the tensor work itself runs on the single wasm thread, so it only overlaps with the consumer's awaits.
 *
 * @example
 *   const cache = await ImageCache.open(trainSplit, { resolution: 64, cacheDir: 'data/cache' });
 *   const loader = new DataLoader({ cache, records: subset, batchSize: 32, seed: 42, mode: 'ssl' });
 *   for await (const batch of loader.epoch(0)) {
 *     const [x1, x2] = batch.views;     // [32, 64, 64, 3] each, augmented and normalised
 *     ...
 *     disposeBatch(batch);
 *   }
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { Rng, mixSeed } from './rng';
import { DEFAULT_AUGMENT, augmentPixels, evalTransform, sampleAugmentParams, type AugmentConfig } from './augment';
import type { BadImage, DatasetSplit, SewerRecord } from './types';
import { withDefaults } from '../util/options';
import { processIsAlive } from '../util/process';

export const DEFAULT_CACHE_DIR = path.join('data', 'cache');

interface CacheMeta {
  datasetId: string;
  split: string;
  resolution: number;
  fingerprint: string;
  rowCount: number;
  shardSize: number;
  format: 'uint8-rgb-hwc';
}

export interface ImageCacheOptions {
  resolution: number;
  /** Root of the cache; default `data/cache` (git-ignored). */
  cacheDir?: string;
  /** Images per shard file. */
  shardSize?: number;
  /** Parallel decodes while building a shard (sharp runs them on libuv threads). */
  concurrency?: number;
  /** Undecodable images: stop with the list (default) or zero-fill and report them in `badImages`. */
  onBadImage?: 'error' | 'skip';
  /** Keep at most this many bytes of shards in memory (least recently used go first). */
  maxResidentBytes?: number;
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-120);
}

/** Decoded-image cache for one (dataset, split, resolution). */
export class ImageCache {
  readonly imageBytes: number;
  readonly shardCount: number;
  /** Images that failed to decode (only collected with onBadImage 'skip'). */
  readonly badImages: BadImage[] = [];
  /** How many images this process decoded (0 when everything came from disk). */
  decodedCount = 0;
  private readonly resident = new Map<number, Uint8Array>();
  private readonly building = new Map<number, Promise<Uint8Array>>();
  private readonly byIndex: Array<SewerRecord | undefined>;
  private readonly badIndices = new Set<number>();

  private constructor(
    readonly split: DatasetSplit,
    readonly resolution: number,
    readonly dir: string,
    readonly shardSize: number,
    private readonly options: ImageCacheOptions,
  ) {
    this.imageBytes = resolution * resolution * 3;
    this.shardCount = Math.ceil(split.rowCount / shardSize);
    this.byIndex = new Array(split.rowCount);
    for (const record of split.records) this.byIndex[record.index] = record;
  }

  /** Open (and validate, or reset) the cache folder of a split at a resolution. Builds nothing yet. */
  static async open(split: DatasetSplit, options: ImageCacheOptions): Promise<ImageCache> {
    if (!(Number.isInteger(options.resolution) && options.resolution > 0))
      throw new Error(`ImageCache: bad resolution ${options.resolution}`);
    const shardSize = options.shardSize ?? 512;
    const dir = path.join(
      options.cacheDir ?? DEFAULT_CACHE_DIR,
      safeName(split.datasetId),
      `${split.split}-${options.resolution}px`,
    );
    const meta: CacheMeta = {
      datasetId: split.datasetId,
      split: split.split,
      resolution: options.resolution,
      fingerprint: split.fingerprint,
      rowCount: split.rowCount,
      shardSize,
      format: 'uint8-rgb-hwc',
    };
    const metaPath = path.join(dir, 'meta.json');
    let existing: CacheMeta | null = null;
    try {
      existing = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
    } catch {
      existing = null;
    }
    if (!existing || JSON.stringify(existing) !== JSON.stringify(meta)) {
      // stale or foreign cache: start afresh rather than serve wrong pixels
      fs.rmSync(dir, { recursive: true, force: true });
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(metaPath, JSON.stringify(meta, null, 2) + '\n');
    }
    // Shards a killed process was writing: `shard-NNNNN.u8.<pid>.tmp`, never renamed into place.
    for (const file of fs.readdirSync(dir)) {
      const pid = Number(/\.(\d+)\.tmp$/.exec(file)?.[1] ?? 0);
      if (pid > 0 && pid !== process.pid && !processIsAlive(pid)) fs.rmSync(path.join(dir, file), { force: true });
    }
    const cache = new ImageCache(split, options.resolution, dir, shardSize, options);
    cache.loadBadLists();
    return cache;
  }

  private shardPath(shard: number): string {
    return path.join(this.dir, `shard-${String(shard).padStart(5, '0')}.u8`);
  }

  private loadBadLists(): void {
    for (const file of fs.readdirSync(this.dir)) {
      if (!file.endsWith('.bad.json')) continue;
      const list: Array<BadImage & { index: number }> = JSON.parse(fs.readFileSync(path.join(this.dir, file), 'utf8'));
      for (const bad of list) {
        this.badIndices.add(bad.index);
        this.badImages.push({ filename: bad.filename, reason: bad.reason });
      }
    }
  }

  /** Whether every shard is on disk. */
  isComplete(): boolean {
    for (let s = 0; s < this.shardCount; s++) if (!fs.existsSync(this.shardPath(s))) return false;
    return true;
  }

  /** Whether a record's image failed to decode (skip mode). */
  isBad(index: number): boolean {
    return this.badIndices.has(index);
  }

  /** Build every missing shard that holds one of `indices` (default: all). */
  async ensure(indices?: Iterable<number>): Promise<void> {
    const shards = new Set<number>();
    if (indices) for (const i of indices) shards.add(Math.floor(i / this.shardSize));
    else for (let s = 0; s < this.shardCount; s++) shards.add(s);
    for (const shard of [...shards].sort((a, b) => a - b)) {
      if (!fs.existsSync(this.shardPath(shard))) await this.shard(shard);
    }
  }

  private async buildShard(shard: number): Promise<Uint8Array> {
    const first = shard * this.shardSize;
    const last = Math.min(first + this.shardSize, this.split.rowCount);
    const buffer = new Uint8Array((last - first) * this.imageBytes);
    const failures: Array<BadImage & { index: number }> = [];
    let next = first;
    const worker = async (): Promise<void> => {
      while (next < last) {
        const index = next++;
        const record = this.byIndex[index];
        if (!record) continue; // skipped by the reader: leave zeros, never served
        try {
          const pixels = await this.split.loadImage(record, this.resolution);
          if (pixels.length !== this.imageBytes)
            throw new Error(`decoded ${pixels.length} bytes, expected ${this.imageBytes}`);
          buffer.set(pixels, (index - first) * this.imageBytes);
          this.decodedCount++;
        } catch (err) {
          failures.push({ index, filename: record.filename, reason: (err as Error).message.split('\n')[0] });
        }
      }
    };
    await Promise.all(Array.from({ length: this.options.concurrency ?? 4 }, worker));
    if (failures.length > 0) {
      failures.sort((a, b) => a.index - b.index);
      if ((this.options.onBadImage ?? 'error') === 'error') {
        throw new Error(
          `${this.split.datasetId} (${this.split.split}): ${failures.length} image(s) could not be decoded:\n` +
            failures.map((f) => `  ${f.filename}: ${f.reason}`).join('\n') +
            `\n(use onBadImage: 'skip' to skip and count them)`,
        );
      }
      fs.writeFileSync(this.shardPath(shard).replace(/\.u8$/, '.bad.json'), JSON.stringify(failures));
      for (const f of failures) {
        this.badIndices.add(f.index);
        this.badImages.push({ filename: f.filename, reason: f.reason });
      }
    }
    const target = this.shardPath(shard);
    const temporary = `${target}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(temporary, buffer); // writes every byte or throws (e.g. ENOSPC)
      fs.renameSync(temporary, target);
    } catch (err) {
      fs.rmSync(temporary, { force: true });
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`cannot write the decoded-image cache ${target} (${reason}); nothing was cached for it`);
    }
    return buffer;
  }

  private async shard(shard: number): Promise<Uint8Array> {
    const resident = this.resident.get(shard);
    if (resident) {
      this.resident.delete(shard); // re-insert: most recently used last
      this.resident.set(shard, resident);
      return resident;
    }
    let pending = this.building.get(shard);
    if (!pending) {
      const file = this.shardPath(shard);
      pending = fs.existsSync(file)
        ? fs.promises.readFile(file).then((b) => new Uint8Array(b.buffer, b.byteOffset, b.length))
        : this.buildShard(shard);
      this.building.set(shard, pending);
    }
    try {
      const data = await pending;
      this.resident.set(shard, data);
      this.evict();
      return data;
    } finally {
      this.building.delete(shard);
    }
  }

  private evict(): void {
    const limit = this.options.maxResidentBytes ?? 2 ** 31;
    let total = 0;
    for (const data of this.resident.values()) total += data.length;
    for (const [shard, data] of this.resident) {
      if (total <= limit || this.resident.size <= 1) break;
      this.resident.delete(shard);
      total -= data.length;
    }
  }

  /** Pixels of the records with these split indices (views into the shards; do not modify). */
  async images(indices: ArrayLike<number>): Promise<Uint8Array[]> {
    const shards = new Set<number>();
    for (let i = 0; i < indices.length; i++) shards.add(Math.floor(indices[i] / this.shardSize));
    const loaded = new Map<number, Uint8Array>();
    await Promise.all([...shards].map(async (s) => loaded.set(s, await this.shard(s))));
    return Array.from({ length: indices.length }, (_, k) => {
      const index = indices[k];
      if (index < 0 || index >= this.split.rowCount || !this.byIndex[index])
        throw new Error(`ImageCache: no record with index ${index} in ${this.split.split}`);
      const shard = Math.floor(index / this.shardSize);
      const offset = (index - shard * this.shardSize) * this.imageBytes;
      return loaded.get(shard)!.subarray(offset, offset + this.imageBytes);
    });
  }
}

export interface Batch {
  /** Two augmented views (ssl), one augmented view (supervised) or one resized view (eval); NHWC float32. */
  views: tf.Tensor4D[];
  /** Defect labels as float32 [n]. */
  labels: tf.Tensor1D;
  /** The same labels on the CPU. */
  defects: Uint8Array;
  /** Code flags, n × 17 row-major. */
  codes: Uint8Array;
  /** `record.index` of each image. */
  indices: Int32Array;
  epoch: number;
  batchIndex: number;
}

/** Dispose every tensor of a batch (the consumer's duty, see the module doc). */
export function disposeBatch(batch: Batch): void {
  tf.dispose([...batch.views, batch.labels]);
}

export interface DataLoaderOptions {
  cache: ImageCache;
  /** The records to serve (a subset of the cache's split, e.g. a resampled one). */
  records: SewerRecord[];
  batchSize: number;
  seed: number;
  mode: 'ssl' | 'supervised' | 'eval';
  /** Augmentation settings; `outSize` defaults to the cache resolution. */
  augment?: Partial<AugmentConfig>;
  /** Default: true except in eval mode. */
  shuffle?: boolean;
  /** Drop the last incomplete batch; default: true except in eval mode. */
  dropLast?: boolean;
  /** Batches prepared ahead (0 disables prefetching). */
  prefetch?: number;
}

export class DataLoader {
  private readonly config: AugmentConfig;
  private readonly records: SewerRecord[];

  constructor(private readonly options: DataLoaderOptions) {
    if (!(options.batchSize > 0)) throw new Error(`DataLoader: batchSize must be positive, got ${options.batchSize}`);
    this.config = withDefaults({ ...DEFAULT_AUGMENT, outSize: options.cache.resolution }, options.augment ?? {});
    this.records = options.records.filter((r) => !options.cache.isBad(r.index));
  }

  get size(): number {
    return this.records.length;
  }

  batchesPerEpoch(): number {
    const dropLast = this.options.dropLast ?? this.options.mode !== 'eval';
    return dropLast
      ? Math.floor(this.records.length / this.options.batchSize)
      : Math.ceil(this.records.length / this.options.batchSize);
  }

  /** Record order of an epoch (depends only on seed and epoch). */
  order(epoch: number): SewerRecord[] {
    const shuffle = this.options.shuffle ?? this.options.mode !== 'eval';
    if (!shuffle) return this.records;
    const permutation = new Rng(mixSeed(this.options.seed, 'shuffle', epoch)).permutation(this.records.length);
    return permutation.map((i) => this.records[i]);
  }

  private async makeBatch(ordered: SewerRecord[], epoch: number, batchIndex: number): Promise<Batch> {
    const { batchSize, cache, mode, seed } = this.options;
    const chosen = ordered.slice(batchIndex * batchSize, (batchIndex + 1) * batchSize);
    const n = chosen.length;
    const indices = Int32Array.from(chosen, (r) => r.index);
    const pixels = await cache.images(indices);
    const res = cache.resolution;
    const floats = new Float32Array(n * cache.imageBytes);
    for (let i = 0; i < n; i++) {
      const source = pixels[i];
      const offset = i * cache.imageBytes;
      for (let j = 0; j < source.length; j++) floats[offset + j] = source[j] / 255;
    }
    const defects = Uint8Array.from(chosen, (r) => r.defect);
    const codes = new Uint8Array(n * 17);
    chosen.forEach((r, i) => codes.set(r.codes.subarray(0, 17), i * 17));
    let views: tf.Tensor4D[];
    if (mode === 'eval') {
      const images = tf.tensor4d(floats, [n, res, res, 3]);
      try {
        views = [
          evalTransform(images, {
            outSize: this.config.outSize,
            mean: this.config.mean,
            std: this.config.std,
            interpolation: this.config.interpolation,
          }),
        ];
      } finally {
        images.dispose();
      }
    } else {
      // augment on the pixel array and upload each view once (see augment.ts for why not tensor ops)
      const rng = new Rng(mixSeed(seed, 'augment', epoch, batchIndex));
      const view = (): tf.Tensor4D =>
        tf.tensor4d(
          augmentPixels(floats, n, res, res, sampleAugmentParams(rng, n, res, res, this.config), this.config),
          [n, this.config.outSize, this.config.outSize, 3],
        );
      views = mode === 'ssl' ? [view(), view()] : [view()];
    }
    const labels = tf.tensor1d(Float32Array.from(defects));
    return { views, labels, defects, codes, indices, epoch, batchIndex };
  }

  /** Batches of one epoch, starting at `startBatch` (for exact resumption). */
  async *epoch(epoch: number, startBatch = 0): AsyncGenerator<Batch, void, undefined> {
    const ordered = this.order(epoch);
    const total = this.batchesPerEpoch();
    const ahead = Math.max(0, this.options.prefetch ?? 1);
    const queue: Array<Promise<Batch>> = [];
    let nextToStart = startBatch;
    const fill = (): void => {
      while (queue.length < ahead + 1 && nextToStart < total) {
        const p = this.makeBatch(ordered, epoch, nextToStart++);
        p.catch(() => undefined); // surfaced when awaited below
        queue.push(p);
      }
    };
    try {
      fill();
      while (queue.length > 0) {
        const batch = await queue.shift()!;
        fill();
        yield batch;
      }
    } finally {
      // the consumer stopped early: free batches prepared but never handed out
      for (const pending of queue.splice(0)) {
        try {
          disposeBatch(await pending);
        } catch {
          /* its error is moot once the consumer has stopped */
        }
      }
    }
  }
}
