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
import type { RunConfig } from '../experiments/config';
import { projectPaths } from '../experiments/paths';
import { ImageCache } from '../data/loader';
import { readSewerMlSplit } from '../data/sewerml';
import { ensureSyntheticDataset, readSyntheticSplit } from '../data/synthetic';
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
  trainSplit: DatasetSplit;
  valSplit: DatasetSplit;
  train: { records: SewerRecord[]; report: SampleReport };
  evalSets: EvalSet[];
  trainCache: ImageCache;
  valCache: ImageCache;
  /** n_neg / n_pos of the training subset: BCE's pos_weight. */
  posWeight: number;
}

/** Read (generating the synthetic dataset on first use) both splits of the run's dataset. */
export async function loadSplits(config: RunConfig): Promise<{ datasetName: string; train: DatasetSplit; val: DatasetSplit }> {
  const paths = projectPaths();
  const dataset = config.dataset;
  switch (dataset.kind) {
    case 'synthetic': {
      const dir = dataset.dir ?? path.join(paths.synthetic, dataset.preset);
      await ensureSyntheticDataset(dir, dataset.preset);
      return { datasetName: `synthetic-${dataset.preset}`, train: await readSyntheticSplit(dir, 'train'), val: await readSyntheticSplit(dir, 'val') };
    }
    case 'sewerml': {
      const dir = dataset.dir ?? paths.sewerMl;
      if (!dir) throw new Error('dataset.kind = sewerml needs dataset.dir or SSLAD_SEWERML_DIR');
      return { datasetName: 'sewerml', train: await readSewerMlSplit({ dir, split: 'train' }), val: await readSewerMlSplit({ dir, split: 'val' }) };
    }
    case 'fashion-mnist': {
      const dir = dataset.dir ?? paths.fashionMnist;
      const common = { dir, defectClass: dataset.defectClass };
      return { datasetName: `fashion-mnist-c${dataset.defectClass}`, train: readFashionMnistSplit({ ...common, split: 'train' }), val: readFashionMnistSplit({ ...common, split: 'val' }) };
    }
  }
}

/** Everything a run reads, with the decoded-image caches opened (built on first use). */
export async function prepareRunData(config: RunConfig): Promise<RunData> {
  const { datasetName, train: trainSplit, val: valSplit } = await loadSplits(config);
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
  if (nPos === 0) throw new Error(`the training subset of ${datasetName} at proportion ${config.trainProportion} has no defects`);
  return { datasetName, trainSplit, valSplit, train, evalSets, trainCache, valCache, posWeight: nNeg / nPos };
}

/** Every validation record any evaluation set uses, once each (the sets overlap: one forward pass scores all). */
export function evalSetRecords(data: RunData): SewerRecord[] {
  return [...new Map(data.evalSets.flatMap((s) => s.records).map((r) => [r.index, r])).values()];
}
