/**
 * What each scale sets in a run config: image size, depth, epochs and augmentation (per backbone), batch, data,
 * LARS η, learning-rate multipliers and the online probe. The head widths a CPU scale shrinks belong to the methods
 * (`widths` in each lib/methods/<name>.ts spec).
 */
import {
  PAPER_LARS_ETA,
  type AugmentConfig,
  type BackboneName,
  type DatasetConfig,
  type MethodName,
  type ProbeConfig,
} from './config';
import type { ScaleName } from './scale';
import { DEFAULT_AUGMENT } from '../data/augment';

export interface ScalePreset {
  imageSize: number;
  patchSize: number;
  vitDepth: number;
  epochs: number;
  /**
   * Epochs of a backbone that trains longer than `epochs` at this scale, so that its runs take about the same wall
   * time as the others' (the same cost a run, not the same epochs).
   */
  backboneEpochs: Partial<Record<BackboneName, number>>;
  warmupEpochs: number;
  /** Batch at this scale; null = the paper's per-method batch. */
  batchSize: number | null;
  valEvery: number;
  dataset: Pick<DatasetConfig, 'kind' | 'preset'>;
  /** Fraction of the training split kept by the stratified sample (the paper halves Sewer-ML's). */
  trainFraction: number;
  /** LARS trust coefficient of the LARS methods at this scale (the paper's code: 0.001; solo-learn: 0.02). */
  larsEta: number;
  monitorSamples: number;
  valSamples: number;
  /**
   * Online-probe settings of the SSL methods at this scale (a method without a probe, the supervised baseline, keeps
   * the paper's).
   */
  probe: Partial<ProbeConfig>;
  /** Online-probe settings of a backbone that departs from `probe` at this scale; absent = `probe`. */
  backboneProbe: Partial<Record<BackboneName, Partial<ProbeConfig>>>;
  /**
   * Multiplier of a method's appendix-B learning rates (lr and warmup_start_lr) at this scale; absent = the paper's.
   */
  lrScale: Partial<Record<MethodName, number>>;
  /** Training augmentation at this scale (crop scale and colour-jitter strength), unless `backboneAugment` has one. */
  augment: AugmentConfig;
  /** Augmentation of a backbone that departs from `augment` at this scale; absent = `augment`. */
  backboneAugment: Partial<Record<BackboneName, AugmentConfig>>;
}

/** The paper's augmentation (P `instantiate_transforms`): the best region of its Figure 3 on Sewer-ML. */
export const PAPER_AUGMENT: AugmentConfig = {
  enabled: true,
  minScale: DEFAULT_AUGMENT.minScale,
  jitter: DEFAULT_AUGMENT.jitterStrength,
  hflip: true,
};

/**
 * The default scale's augmentation, chosen as the paper chose its own: the best cell of the augmentation ablation
 * (Figure 3, notebook 02) run on this data, supervised ResNet-18 at t_val = 0.1, min_scale = 0.71 (F1 0.771; the
 * paper's cell 0.747). On the synthetic pipes a defect often sits near the rim, where a 0.395 crop cuts it out of one
 * view, and its colour is what hue jitter scrambles; README "Levers tried" has what it did to each method.
 */
export const DEFAULT_SCALE_AUGMENT: AugmentConfig = { enabled: true, minScale: 0.71, jitter: 0.1, hflip: true };

/**
 * DINO at 4× the paper's AdamW learning rates at the default scale. AdamW moves each weight by about lr a step
 * whatever its gradient, and at the paper's 5e-4 (1.25e-4 at batch 64) 236 steps moved DINO's ResNet-18 by 1.8 % of
 * its weights, leaving its frozen features level with the untrained network's (AUROC 0.866 against 0.858); at 4× it
 * moved 5.5 % and reached 0.896. The LARS methods got the same kind of help from η (larsEta).
 */
const DEFAULT_SCALE_LR: Partial<Record<MethodName, number>> = { dino: 4 };

/**
 * The online probe at the CPU scales. The paper's probe (plain Linear, lr 1e-3·batch/256, MAE 1e-4) gets 45 epochs
 * of thousands of steps; the default scale gives it 116. Measured by refitting probes on the frozen final features
 * of the finished default-scale runs (balanced validation AUROC; scratch simulation of the online probe's SGD, batch
 * 64, 4 epochs): with the paper's rule SimCLR ResNet-18 at 45 % reaches 0.72 and MAE ViT-Tiny 0.52, while a
 * logistic regression fitted to the same features reaches 0.84 and 0.80 — the probe, not the representation, was the
 * bottleneck, and on the ViT's unevenly scaled CLS coordinates plain SGD barely moves. Standardised features and
 * 0.03 per step at batch 64 give 0.83 and 0.73 in the same 116 steps. The step is a compromise with the imbalanced
 * shares: at 1 % (pos_weight ≈ 99, about one positive per batch) 0.1 per step made the online probe loss climb to
 * 40–58; at 0.03 it peaks at 10–17. Over the default SSL grid the rule raised the mean val AUROC (45 % validation)
 * at every training share: 0.54 → 0.56 at 1 %, 0.59 → 0.65 at 5 %, 0.59 → 0.71 at 45 %.
 */
const DEFAULT_SCALE_PROBE: Partial<ProbeConfig> = { lr: 0.12, standardize: true };

/**
 * The ViT-Tiny online probe at the default scale: standardised features and a Gauss–Newton step (lr 0.4·batch/256 =
 * 0.1 per step on the preconditioned gradient). With plain SGD three of the five SSL ViT probes ended below the
 * all-defect F1 at 45 % (SimCLR 0.619, Barlow Twins 0.577, DINO 0.480; online AUROC 0.69–0.72) while a logistic
 * regression fitted to the augmented views of their last two epochs reached AUROC 0.79–0.80: the CLS features'
 * low effective rank (RankMe 6–15 of 192) left SGD unconverged, and neither ¼× nor 4× its step helped. Replayed on
 * the recorded feature streams of those runs (scripts/probe-replay), the preconditioned step gives DINO 0.767 / F1
 * 0.668, Barlow Twins 0.768 / 0.653, SimCLR 0.777 / 0.662; retrained, the five SSL ViT-Tiny probes end at F1
 * 0.651–0.729 (README "Levers tried"). ResNet-18 probes pass with plain SGD and keep it (their runs stay valid).
 */
const DEFAULT_SCALE_VIT_PROBE: Partial<ProbeConfig> = { lr: 0.4, standardize: true, gaussNewton: true };

/**
 * The scales. `default` is sized so the 55-run SSL grid fits in two hours on a 2-core machine with the native
 * kernels and two workers: 4 epochs over every synthetic training image (4 000; 236 steps at 45 %) for ResNet-18
 * and 8 for the depth-6 ViT-Tiny, whose step at 32 px costs about half a ResNet-18 step (a depth-12 step 2.5× one),
 * so a run of either takes about the same time; LARS at solo-learn's η; the paper's head widths (they cost nothing
 * measurable beside the backbone with the native kernels); on ResNet-18 the augmentation of this data's own ablation,
 * on ViT-Tiny the paper's (with the ablation's, BYOL and SimCLR on ViT-Tiny stayed level with the untrained network,
 * frozen AUROC 0.725 and 0.736 against 0.732; with the paper's 0.763 and 0.765). README
 * "Departures at the CPU scales" lists each change from the paper and what it was measured to do. `paper` is
 * appendix B verbatim.
 */
export const SCALE_PRESETS: Record<ScaleName, ScalePreset> = {
  smoke: {
    imageSize: 32,
    patchSize: 8,
    vitDepth: 2,
    epochs: 2,
    backboneEpochs: {},
    warmupEpochs: 1,
    batchSize: 16,
    valEvery: 1,
    dataset: { kind: 'synthetic', preset: 'smoke' },
    trainFraction: 0.5,
    larsEta: PAPER_LARS_ETA,
    monitorSamples: 64,
    valSamples: 64,
    probe: DEFAULT_SCALE_PROBE,
    backboneProbe: {},
    augment: PAPER_AUGMENT,
    backboneAugment: {},
    lrScale: {},
  },
  default: {
    imageSize: 32,
    patchSize: 8,
    vitDepth: 6,
    epochs: 4,
    backboneEpochs: { vit_tiny: 8 },
    warmupEpochs: 1,
    batchSize: 64,
    valEvery: 1,
    dataset: { kind: 'synthetic', preset: 'default' },
    trainFraction: 1,
    larsEta: 0.02,
    monitorSamples: 512,
    valSamples: 512,
    probe: DEFAULT_SCALE_PROBE,
    backboneProbe: { vit_tiny: DEFAULT_SCALE_VIT_PROBE },
    augment: DEFAULT_SCALE_AUGMENT,
    backboneAugment: { vit_tiny: PAPER_AUGMENT },
    lrScale: DEFAULT_SCALE_LR,
  },
  paper: {
    imageSize: 224,
    patchSize: 16,
    vitDepth: 12,
    epochs: 45,
    backboneEpochs: {},
    warmupEpochs: 10,
    batchSize: null,
    valEvery: 5,
    dataset: { kind: 'sewerml', preset: 'default' },
    trainFraction: 0.5,
    larsEta: PAPER_LARS_ETA,
    monitorSamples: 25000,
    valSamples: 0,
    probe: {},
    backboneProbe: {},
    augment: PAPER_AUGMENT,
    backboneAugment: {},
    lrScale: {},
  },
};

/** The training augmentation of a backbone at a scale. */
export function scaleAugment(scale: ScaleName, backbone: BackboneName): AugmentConfig {
  const preset = SCALE_PRESETS[scale];
  return { ...(preset.backboneAugment[backbone] ?? preset.augment) };
}

/** The epochs a backbone trains for at a scale. */
export function scaleEpochs(scale: ScaleName, backbone: BackboneName): number {
  const preset = SCALE_PRESETS[scale];
  return preset.backboneEpochs[backbone] ?? preset.epochs;
}
