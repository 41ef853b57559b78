/**
 * The learning curve: how many optimisation steps SSL needs on this data before its backbone beats the same
 * network untrained. A few runs at 45 % training defects, identical to the SSL grid's except for the number of
 * epochs (so the curve's point at the scale's own epochs is the grid's run), for the methods that answer the
 * question on each backbone and the supervised baseline beside them.
 *
 * @example
 *   const configs = learningCurveGrid('default');    // 20 runs: 5 series × epochs 1, 2, 4, 8
 *   await runSweep(configs, { resultsDir });
 */
import { makeRunConfig } from '../methods/config';
import type { BackboneName, MethodName, RunConfig } from '../runs/config';
import type { ScaleName } from '../runs/scale';

export interface CurveSeries {
  method: MethodName;
  backbone: BackboneName;
}

export interface CurvePlan {
  series: CurveSeries[];
  /** Epochs of each point; the scale's own epochs is one of them, so that point is the SSL grid's run. */
  epochs: number[];
  /** Longer points for some series only: where a series has not crossed its untrained network by the last epochs. */
  extra?: Array<CurveSeries & { epochs: number }>;
  trainProportion: number;
}

const SERIES: CurveSeries[] = [
  { method: 'simclr', backbone: 'resnet18' },
  { method: 'byol', backbone: 'resnet18' },
  { method: 'supervised', backbone: 'resnet18' },
  { method: 'mae', backbone: 'vit_tiny' },
  { method: 'supervised', backbone: 'vit_tiny' },
];

/**
 * Per scale; the default curve's longest ResNet-18 point is twice its grid run, the most a grid run could afford;
 * ViT-Tiny's grid run is its 8-epoch point.
 */
export const CURVE_PLANS: Record<ScaleName, CurvePlan> = {
  smoke: { series: [SERIES[0], SERIES[2]], epochs: [1, 2], trainProportion: 0.45 },
  // At the previous default BYOL on ResNet-18 stayed below its untrained network through 8 epochs (944 steps), so its
  // curve had a 16-epoch point; at this default its 4-epoch grid run clears the margin, and the 8-epoch point is the
  // longest a grid run could afford.
  default: { series: SERIES, epochs: [1, 2, 4, 8], trainProportion: 0.45 },
  paper: { series: SERIES, epochs: [5, 15, 45], trainProportion: 0.45 },
};

/** The curve's runs at a scale: every series at every epoch count of its plan, then its extra points (seed 42). */
export function learningCurveGrid(scale: ScaleName, plan: CurvePlan = CURVE_PLANS[scale]): RunConfig[] {
  const points = [
    ...plan.series.flatMap((s) => plan.epochs.map((epochs) => ({ ...s, epochs }))),
    ...(plan.extra ?? []),
  ];
  return points.map((p) =>
    makeRunConfig(
      { method: p.method, backbone: p.backbone, trainProportion: plan.trainProportion, epochs: p.epochs },
      scale,
    ),
  );
}
