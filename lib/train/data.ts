/**
 * The data of one run: the dataset's splits, the paper's training subset (stratified 50 % sample, then
 * resampled to the run's defect proportion) and the Val split resampled to every evaluation proportion.
 *
 * @example
 *   const data = await prepareRunData(config);
 *   data.train.records.length;            // the imbalanced training subset
 *   data.evalSets.map((s) => s.proportion); // [0.01, 0.02, 0.05, 0.15, 0.45]
 */
import * as path from 'path';
import type { RunConfig } from '../runs/config';
import { projectPaths } from '../runs/paths';
import { ImageCache } from '../data/loader';
import { readSewerMlSplit, SewerDataError } from '../data/sewerml';
import { identityDigest, realDir, type DatasetIdentity } from '../data/identity';
import { datasetDir, datasetIdentityFor } from '../runs/dataset';
import { ensureSyntheticDataset, readSyntheticMarker, readSyntheticSplit } from '../data/synthetic';
import { readFashionMnistSplit } from '../data/fashion_mnist';
import { resampleToProportion, stratifiedHalf, type SampleReport } from '../data/sampling';
import type { DatasetSplit, SewerRecord } from '../data/types';

export interface EvalSet {
  /** Requested defect proportion of this validation test. */
  proportion: number;
  records: SewerRecord[];
  report: SampleReport;
}

export interface RunData {
  /** A short name for tables: `synthetic-default`, `sewerml`, `fashion-mnist-c6`. */
  datasetName: string;
  /** What was read: the folder, each annotation file's digest and the images' names/sizes/mtimes digest. */
  identity: DatasetIdentity;
  trainSplit: DatasetSplit;
  valSplit: DatasetSplit;
  train: { records: SewerRecord[]; report: SampleReport };
  evalSets: EvalSet[];
  trainCache: ImageCache;
  valCache: ImageCache;
  /** n_neg / n_pos of the training subset: BCE's pos_weight. */
  posWeight: number;
}

/** The identity of what was read: the folder and both splits' digests. */
function identityOf(
  kind: string,
  dir: string,
  train: DatasetSplit,
  val: DatasetSplit,
  generatorVersion?: number,
): DatasetIdentity {
  if (!train.identity || !val.identity) throw new Error(`${dir}: the reader gave no identity for its splits`);
  const base = {
    kind,
    dir: realDir(dir),
    splits: { train: train.identity, val: val.identity },
    ...(generatorVersion !== undefined ? { generatorVersion } : {}),
  };
  return { ...base, digest: identityDigest(base) };
}

/**
 * Read (generating the synthetic dataset on first use) both splits of the run's dataset, with the identity of what
 * was read. For Sewer-ML that identity must be the one the run id was computed from: data that changed in between
 * is an error, never a run trained on other data under the old id.
 */
export async function loadSplits(
  config: RunConfig,
): Promise<{ datasetName: string; train: DatasetSplit; val: DatasetSplit; identity: DatasetIdentity }> {
  const paths = projectPaths();
  const dataset = config.dataset;
  switch (dataset.kind) {
    case 'synthetic': {
      const dir = dataset.dir ?? path.join(paths.synthetic, dataset.preset);
      await ensureSyntheticDataset(dir, dataset.preset);
      const train = await readSyntheticSplit(dir, 'train');
      const val = await readSyntheticSplit(dir, 'val');
      return {
        datasetName: `synthetic-${dataset.preset}`,
        train,
        val,
        identity: identityOf('synthetic', dir, train, val, readSyntheticMarker(dir)?.generatorVersion),
      };
    }
    case 'sewerml': {
      const expected = datasetIdentityFor(config)!; // throws naming the folder when it is unset or absent
      const dir = datasetDir(config)!;
      const train = await readSewerMlSplit({ dir, split: 'train' });
      const val = await readSewerMlSplit({ dir, split: 'val' });
      const identity = identityOf('sewerml', dir, train, val);
      if (identity.digest !== expected.digest) {
        throw new SewerDataError(
          `${dir}: the dataset changed while the run started (identity ${expected.digest} when its id was computed, ${identity.digest} when read); rerun`,
        );
      }
      return { datasetName: 'sewerml', train, val, identity };
    }
    case 'fashion-mnist': {
      const dir = dataset.dir ?? paths.fashionMnist;
      const common = { dir, defectClass: dataset.defectClass };
      const train = readFashionMnistSplit({ ...common, split: 'train' });
      const val = readFashionMnistSplit({ ...common, split: 'val' });
      return {
        datasetName: `fashion-mnist-c${dataset.defectClass}`,
        train,
        val,
        identity: identityOf('fashion-mnist', dir, train, val),
      };
    }
  }
}

/** Everything a run reads, with the decoded-image caches opened (built on first use). */
export async function prepareRunData(config: RunConfig): Promise<RunData> {
  const { datasetName, train: trainSplit, val: valSplit, identity } = await loadSplits(config);
  const sample = stratifiedHalf(trainSplit.records, { seed: config.seed, fraction: config.dataset.trainFraction });
  const train = resampleToProportion(sample.records, config.trainProportion, { seed: config.seed });
  const evalSets = config.evalProportions.map((proportion) => {
    const resampled = resampleToProportion(valSplit.records, proportion, { seed: config.seed });
    return { proportion, records: resampled.records, report: resampled.report };
  });
  const cacheDir = projectPaths().cache;
  const trainCache = await ImageCache.open(trainSplit, { resolution: config.imageSize, cacheDir });
  const valCache = await ImageCache.open(valSplit, { resolution: config.imageSize, cacheDir });
  const nPos = train.records.filter((r) => r.defect === 1).length;
  const nNeg = train.records.length - nPos;
  if (nPos === 0)
    throw new Error(`the training subset of ${datasetName} at proportion ${config.trainProportion} has no defects`);
  return { datasetName, identity, trainSplit, valSplit, train, evalSets, trainCache, valCache, posWeight: nNeg / nPos };
}

/** Every validation record any evaluation set uses, once each (the sets overlap: one forward pass scores all). */
export function evalSetRecords(data: RunData): SewerRecord[] {
  return [...new Map(data.evalSets.flatMap((s) => s.records).map((r) => [r.index, r])).values()];
}
