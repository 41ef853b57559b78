/**
 * What a run logs about its representation besides the loss. Every step: RankMe and statistics of the batch's
 * backbone features and embeddings (`batchMonitors`, the paper's per-batch monitors). Every epoch
 * (`epochMonitors`): how far the backbone has moved from its initialisation (`BackboneDrift`) and the label-free
 * scores of a fixed unlabelled sample of the training subset (`labelFreeMonitor`), from backbone features and,
 * where the method has one, from projector embeddings. The sample, its two augmented views and its surrogate
 * classes are the same every epoch, so the scores are comparable over time.
 *
 * @example
 *   const scores = await labelFreeMonitor(method, data.trainCache, sampleRecords, { batchSize: 64, seed: 42 });
 *   scores.lf_rankme; scores.lfe_alignment; // backbone (lf_) and embedding (lfe_) scores
 */
import * as tf from '@tensorflow/tfjs';
import { DataLoader, disposeBatch, type ImageCache } from '../data/loader';
import type { SewerRecord } from '../data/types';
import { featureStats, rankMe } from '../eval';
import { alignment, invariance, labelFreeScores } from '../eval/labelfree';
import type { Method } from '../methods';
import type { Module } from '../nn/module';

/**
 * RankMe of the first view's backbone features and the mean and std of its features and embeddings, read back
 * from the step's tensors, which it then disposes.
 */
export function batchMonitors(features: tf.Tensor2D[], embeddings: tf.Tensor2D[]): Record<string, number> {
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
  return monitors;
}

/**
 * The epoch log's monitors: `backbone_drift`, and, on a sample of at least 4 images, the label-free scores with
 * the names the paper's monitoring figures read (the large-sample RankMe and feature statistics).
 */
export async function epochMonitors(
  method: Method,
  drift: BackboneDrift,
  cache: ImageCache,
  sample: SewerRecord[],
  options: MonitorOptions,
): Promise<Record<string, number>> {
  const monitors: Record<string, number> = { backbone_drift: drift.measure(method.backbone) };
  if (sample.length < 4) return monitors;
  const scores = await labelFreeMonitor(method, cache, sample, options);
  return {
    ...monitors,
    ...scores,
    rankme_sample: scores.lf_rankme,
    sample_feature_std: scores.lf_feature_std,
    sample_feature_mean: scores.lf_feature_mean,
  };
}

export interface MonitorOptions {
  batchSize: number;
  seed: number;
  /** Images whose two augmented views measure alignment and invariance. */
  viewImages?: number;
  /** Images (classes) and augmentations per image of the surrogate-class (LiDAR-style) score. */
  surrogateImages?: number;
  surrogateAugmentations?: number;
}

interface Encoded {
  features: Float32Array;
  embeddings: Float32Array | null;
}

/** Backbone features (and embeddings) of every view of every batch, in record order. */
async function encode(method: Method, loader: DataLoader, viewCount: 1 | 2): Promise<Encoded[]> {
  const d = method.backbone.featureDim;
  const out: Encoded[] = Array.from({ length: viewCount }, () => ({
    features: new Float32Array(loader.size * d),
    embeddings: null,
  }));
  let at = 0;
  for await (const batch of loader.epoch(0)) {
    for (let v = 0; v < viewCount; v++) {
      const f = tf.tidy(() => method.backbone.forward(batch.views[v]));
      const e = method.embed ? tf.tidy(() => method.embed!(f)) : null;
      out[v].features.set(await f.data(), at * d);
      if (e) {
        const width = e.shape[1];
        out[v].embeddings ??= new Float32Array(loader.size * width);
        out[v].embeddings!.set(await e.data(), at * width);
      }
      tf.dispose([f, ...(e ? [e] : [])]);
    }
    at += batch.indices.length;
    disposeBatch(batch);
  }
  return out;
}

export async function labelFreeMonitor(
  method: Method,
  cache: ImageCache,
  records: SewerRecord[],
  options: MonitorOptions,
): Promise<Record<string, number>> {
  const n = records.length;
  if (n < 4) return {};
  const viewImages = Math.min(options.viewImages ?? 256, n);
  const surrogateImages = Math.min(options.surrogateImages ?? 32, n);
  const augmentations = options.surrogateAugmentations ?? 8;
  const loader = (subset: SewerRecord[], mode: 'eval' | 'ssl' | 'supervised') =>
    new DataLoader({
      cache,
      records: subset,
      batchSize: options.batchSize,
      seed: options.seed,
      mode,
      shuffle: false,
      dropLast: false,
      prefetch: 0,
    });
  method.setTraining(false);
  try {
    const [clean] = await encode(method, loader(records, 'eval'), 1);
    const [viewA, viewB] = await encode(method, loader(records.slice(0, viewImages), 'ssl'), 2);
    // Image-major surrogate classes: each image repeated `augmentations` times, each copy augmented afresh.
    const repeated = records.slice(0, surrogateImages).flatMap((r) => Array.from({ length: augmentations }, () => r));
    const [surrogate] = await encode(method, loader(repeated, 'supervised'), 1);
    const scores: Record<string, number> = {};
    // The spectrum scores use the whole sample; the two-view scores only the first `viewImages` images.
    const score = (prefix: string, width: number, pick: (e: Encoded) => Float32Array | null) => {
      const all = labelFreeScores({
        clean: pick(clean)!,
        n,
        d: width,
        surrogate: { features: pick(surrogate)!, images: surrogateImages, augmentations },
      });
      all.alignment = alignment(pick(viewA)!, pick(viewB)!, viewImages, width);
      all.invariance = invariance(pick(viewA)!, pick(viewB)!, viewImages, width);
      for (const [k, v] of Object.entries(all)) scores[`${prefix}${k}`] = v;
    };
    score('lf_', method.backbone.featureDim, (e) => e.features);
    if (clean.embeddings) score('lfe_', clean.embeddings.length / n, (e) => e.embeddings);
    return scores;
  } finally {
    method.setTraining(true);
  }
}

/**
 * How far the backbone has moved from its initialisation: ‖W − W₀‖_F / ‖W₀‖_F over all its weight matrices and
 * kernels (one-dimensional parameters, biases and norm scales, left out). A run whose loss falls while this stays
 * near zero has trained its heads, not its representation: that is how the paper's LARS trust coefficient showed
 * itself at the CPU scales (see `PAPER_LARS_ETA`). W₀ is a snapshot of the backbone as its run's seed built it,
 * taken before a checkpoint or trained weights are loaded into it; the initialisation is a function of the seed, so
 * a resumed run measures from the same point.
 *
 * @example
 *   const drift = BackboneDrift.fromInitial(method.backbone);   // before loading a checkpoint
 *   drift.measure(method.backbone); // 0 before the first step
 *   drift.dispose();
 */
export class BackboneDrift {
  private constructor(private readonly initial: Map<string, tf.Tensor>) {}

  /** Snapshot the weight matrices of a backbone that is still at its initialisation. */
  static fromInitial(backbone: Module): BackboneDrift {
    return new BackboneDrift(
      new Map(
        backbone
          .namedParameters()
          .filter((p) => p.variable.rank > 1)
          .map((p) => [p.name, p.variable.clone()]),
      ),
    );
  }

  measure(backbone: Module): number {
    return tf.tidy(() => {
      let moved = tf.scalar(0);
      let size = tf.scalar(0);
      for (const p of backbone.namedParameters()) {
        const start = this.initial.get(p.name);
        if (!start) continue;
        moved = moved.add(tf.sum(tf.square(tf.sub(p.variable, start))));
        size = size.add(tf.sum(tf.square(start)));
      }
      return Math.sqrt(moved.dataSync()[0] / Math.max(size.dataSync()[0], 1e-30));
    });
  }

  dispose(): void {
    for (const t of this.initial.values()) t.dispose();
    this.initial.clear();
  }
}
