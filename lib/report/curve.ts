/**
 * The learning curve's table, figure and answer: frozen-feature AUROC (validation at 45 %) of each run of
 * `learningCurveGrid` against its optimisation steps, beside the same backbone untrained. The frozen-feature probe
 * (lib/train/frozen.ts) is fitted once per run and read from the run folder afterwards.
 *
 * @example
 *   const curve = await learningCurve(resultsDir, learningCurveGrid(scale));
 *   await showFigure(learningCurveFigure(curve), { name: 'learning_curve', dir: figures });
 *   tslab.display.markdown(summarizeLearningCurve(curve));
 */
import * as aq from 'arquero';
import type { RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import { listRuns } from '../runs/store';
import { currentFrozenProbe } from '../train/frozen';
import { lineChart, type FigureSpec } from './figures';
import { atProportion } from './frozen';
import { backboneLabel, methodLabel } from './labels';

export interface CurvePoint {
  series: string;
  method: string;
  backbone: string;
  epochs: number;
  steps: number;
  frozenAuroc: number;
  onlineAuroc: number;
  /** The same backbone at its random initialisation (same seed), frozen-feature AUROC. */
  untrainedAuroc: number;
  runId: string;
}

export interface LearningCurve {
  points: CurvePoint[];
  /** Runs of the plan not finished yet (the curve is drawn from the others). */
  missing: string[];
  evalProportion: number;
}

/** Frozen-feature probes of every finished run of the curve (computed where missing) and their untrained baselines. */
export async function learningCurve(
  resultsDir: string,
  configs: RunConfig[],
  options: { log?: (line: string) => void } = {},
): Promise<LearningCurve> {
  const log = options.log ?? ((line: string) => console.log(line));
  const runs = new Map(listRuns(resultsDir).map((r) => [r.id, r]));
  const evalProportion = Math.max(...configs.flatMap((c) => c.evalProportions));
  const points: CurvePoint[] = [];
  const missing: string[] = [];
  // The untrained network depends on the architecture and the seed, not on the epochs: one baseline per series.
  const untrainedBySeries = new Map<string, number>();
  for (const config of configs) {
    const id = runId(config);
    const run = runs.get(id);
    if (!run || run.status().state !== 'done') {
      missing.push(id);
      continue;
    }
    const series = `${methodLabel(config.method)} ${backboneLabel(config.backbone)}`;
    const started = Date.now();
    const trained = (await currentFrozenProbe(config, { resultsDir })).result;
    if (!untrainedBySeries.has(series)) {
      const untrained = (await currentFrozenProbe(config, { resultsDir, randomInit: true })).result;
      untrainedBySeries.set(series, atProportion(untrained, evalProportion).auroc);
    }
    const seconds = (Date.now() - started) / 1000;
    if (seconds > 1) log(`[learning curve] frozen probe of ${id} (${seconds.toFixed(0)} s)`);
    const online = run
      .rows()
      .find((r) => r.split === 'val' && r.evalProportion === evalProportion && r.metric === 'auroc');
    points.push({
      series,
      method: methodLabel(config.method),
      backbone: backboneLabel(config.backbone),
      epochs: config.epochs,
      steps: run.status().step ?? NaN,
      frozenAuroc: atProportion(trained, evalProportion).auroc,
      onlineAuroc: online?.value ?? NaN,
      untrainedAuroc: untrainedBySeries.get(series)!,
      runId: id,
    });
  }
  return { points, missing, evalProportion };
}

/** One row per point: steps, frozen and online AUROC, and the gain over the untrained backbone. */
export function learningCurveTable(curve: LearningCurve): aq.ColumnTable {
  return aq
    .from(curve.points)
    .derive({ gain: (d: CurvePoint) => d.frozenAuroc - d.untrainedAuroc })
    .select('series', 'epochs', 'steps', 'frozenAuroc', 'untrainedAuroc', 'gain', 'onlineAuroc')
    .orderby('series', 'steps');
}

/** Frozen AUROC against steps (log axis), one line per series, each series' untrained network as a dashed line. */
export function learningCurveFigure(curve: LearningCurve): FigureSpec {
  const trained = curve.points.map((p) => ({ ...p, network: 'trained', auroc: p.frozenAuroc }));
  const untrained = [...new Set(curve.points.map((p) => p.series))].flatMap((series) => {
    const own = curve.points.filter((p) => p.series === series);
    const steps = own.map((p) => p.steps);
    return [Math.min(...steps), Math.max(...steps)].map((s) => ({
      series,
      steps: s,
      network: 'untrained',
      auroc: own[0].untrainedAuroc,
    }));
  });
  return lineChart(aq.from([...trained, ...untrained]), {
    title: `Frozen-feature AUROC (validation at ${Math.round(100 * curve.evalProportion)} %) against training steps`,
    x: 'steps',
    y: 'auroc',
    color: 'series',
    strokeDash: 'network',
    xTitle: 'optimisation steps (log scale)',
    yTitle: 'frozen-feature AUROC',
    colorTitle: 'run',
    strokeDashTitle: 'backbone',
    points: true,
    xLog: true,
  });
}

/**
 * The curve's answer, per series: the fewest steps at which the trained backbone beats its untrained network by
 * `margin` AUROC (the CPU study's target for ResNet-18 is 0.03), or how far the longest run is from that.
 */
export function summarizeLearningCurve(curve: LearningCurve, margin = 0.03): string {
  if (curve.points.length === 0) return '*No run of the learning curve has finished yet.*';
  const lines = [...new Set(curve.points.map((p) => p.series))].map((series) => {
    const own = curve.points.filter((p) => p.series === series).sort((a, b) => a.steps - b.steps);
    const first = own.find((p) => p.frozenAuroc - p.untrainedAuroc >= margin);
    const longest = own[own.length - 1];
    const gain = (p: CurvePoint) => p.frozenAuroc - p.untrainedAuroc;
    const best = own.reduce((a, b) => (gain(b) > gain(a) ? b : a));
    const path = own.map((p) => `${p.frozenAuroc.toFixed(3)} at ${p.steps}`).join(', ');
    const verdict = first
      ? `beats its untrained network (${first.untrainedAuroc.toFixed(3)}) by ${margin} first at ${first.steps} steps`
      : `does not beat its untrained network (${longest.untrainedAuroc.toFixed(3)}) by ${margin} in any run up to ` +
        `${longest.steps} steps (best gain ${gain(best).toFixed(3)} at ${best.steps}, ` +
        `${gain(longest).toFixed(3)} at ${longest.steps})`;
    return `- **${series}** ${verdict}; frozen AUROC ${path} steps.`;
  });
  const missing = curve.missing.length ? [`\n*${curve.missing.length} run(s) of the curve not finished yet.*`] : [];
  return [...lines, ...missing].join('\n');
}
