/**
 * Evaluation: binary defect metrics (P/R/F1, F1_Normal, F2_CIW both ways, AUROC, AUPRC) and the SSL
 * monitors (RankMe, feature std/mean). Plain arrays in, numbers out; no tensors, no files.
 *
 * @example
 *   import { binaryMetrics, rankMe } from '../eval';
 *   const m = binaryMetrics(labels, logits, { codes });
 *   const r = rankMe(featuresFlat, batchSize, 512);
 */
export { binaryMetrics, confusionCounts, auroc, averagePrecision, f2CiwBinary, f2CiwMultiLabel } from './metrics';
export type { BinaryMetricOptions, BinaryMetrics, ConfusionCounts, Numbers } from './metrics';
export { rankMe, singularValues, featureStats, featureStatsOverViews } from './rankme';
export { fitLogisticRegression, logisticLogits } from './logistic';
export type { LogisticFit, LogisticOptions } from './logistic';
export type { FeatureStats, Matrix } from './rankme';
export {
  knnSearch,
  knnScores,
  ledoitWolf,
  fitMahalanobis,
  mahalanobisScores,
  contaminationThreshold,
  fewLabelProbe,
} from './oneclass';
export type {
  KnnMetric,
  KnnOptions,
  KnnResult,
  MahalanobisModel,
  ShrunkCovariance,
  FewLabelProbeOptions,
} from './oneclass';
