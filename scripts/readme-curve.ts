/**
 * Prints the README's learning-curve table (frozen-feature AUROC against steps, beside the untrained network) and
 * notebook 03's answer to "how many steps until SSL beats an untrained network", from the finished runs of a
 * scale's `learningCurveGrid`. Missing frozen probes are fitted first (a few seconds a run); unfinished runs are
 * named, not trained.
 *
 *   npx tsx scripts/readme-curve.ts --scale default [--results DIR]
 */
import { CURVE_PLANS, learningCurveGrid } from '../lib/experiments/curve';
import { runId } from '../lib/runs/id';
import { learningCurve, summarizeLearningCurve, type CurvePoint } from '../lib/report/curve';
import { projectPaths } from '../lib/runs/paths';
import type { ScaleName } from '../lib/runs/scale';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;

async function main(): Promise<void> {
  const scale = option('scale', 'default') as ScaleName;
  const resultsDir = option('results', projectPaths().results);
  const configs = learningCurveGrid(scale);
  const curve = await learningCurve(resultsDir, configs, { log: (line) => console.error(line) });
  // Series in the plan's order (its points are series-major), each series by steps.
  const seriesOf = new Map(configs.map((c, i) => [runId(c), Math.floor(i / CURVE_PLANS[scale].epochs.length)]));
  const rank = (p: CurvePoint) => seriesOf.get(p.runId) ?? configs.length;
  const points = [...curve.points].sort((a, b) => rank(a) - rank(b) || a.steps - b.steps);

  console.log(
    `<!-- ${points.length} of ${configs.length} curve runs in ${resultsDir}; made by scripts/readme-curve.ts -->`,
  );
  console.log('| series | epochs | steps | frozen AUROC | untrained | gain | online AUROC |');
  console.log('| :--- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const p of points) {
    console.log(
      `| ${p.series} | ${p.epochs} | ${p.steps} | ${p.frozenAuroc.toFixed(3)} | ${p.untrainedAuroc.toFixed(3)} | ` +
        `${signed(p.frozenAuroc - p.untrainedAuroc)} | ${p.onlineAuroc.toFixed(3)} |`,
    );
  }
  console.log('');
  console.log(summarizeLearningCurve(curve));
  if (curve.missing.length) console.log(`\nNot finished: ${curve.missing.join(', ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
