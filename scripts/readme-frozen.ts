/**
 * Prints the README's frozen-feature table (online probe, frozen-feature probe, untrained backbone, gain, drift per
 * SSL run at 45 %, seeds averaged) and the default scale's four quality targets, from the finished runs of a scale.
 * Missing frozen probes are fitted first (a few seconds a run).
 *
 *   npx tsx scripts/readme-frozen.ts --scale default [--results DIR]
 */
import { sslStudyConfigs } from '../lib/experiments/selection';
import { projectPaths } from '../lib/runs/paths';
import type { ScaleName } from '../lib/runs/scale';
import { frozenProbeComparison, type FrozenComparisonRow } from '../lib/report/frozen';
import * as study from '../lib/report/study';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** The ResNet-18 margin over the untrained network that counts as "learned more than the architecture gives". */
const MARGIN = 0.03;
const SUPERVISED_VIT_AUROC = 0.85;
const NATURAL = 0.45;

const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)}`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function main(): Promise<void> {
  const scale = option('scale', 'default') as ScaleName;
  const resultsDir = option('results', projectPaths().results);
  const configs = sslStudyConfigs(scale);
  const frozen = (await frozenProbeComparison(resultsDir, configs)).objects() as unknown as FrozenComparisonRow[];
  const groups = new Map<string, FrozenComparisonRow[]>();
  for (const row of frozen) {
    const key = `${row.backbone}|${row.method}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }

  console.log(
    `<!-- ${frozen.length} SSL runs at ${NATURAL * 100} % in ${resultsDir}; made by scripts/readme-frozen.ts -->`,
  );
  console.log(
    '| backbone | method | seeds | online F1 | online AUROC | frozen AUROC | untrained | gain (per seed) | drift |',
  );
  console.log('| :--- | :--- | ---: | ---: | ---: | ---: | ---: | :--- | ---: |');
  const verdicts: Array<{ backbone: string; method: string; gain: number; seeds: number[] }> = [];
  for (const rows of [...groups.keys()].sort().map((key) => groups.get(key)!)) {
    rows.sort((a, b) => a.seed - b.seed);
    const gains = rows.map((r) => r.frozenAuroc - r.randomInitAuroc);
    const { backbone, method } = rows[0];
    verdicts.push({ backbone, method, gain: mean(gains), seeds: gains });
    const perSeed = rows.length > 1 ? ` (${gains.map(signed).join(', ')})` : '';
    console.log(
      `| ${backbone} | ${method} | ${rows.length} | ${mean(rows.map((r) => r.onlineF1)).toFixed(3)} | ` +
        `${mean(rows.map((r) => r.onlineAuroc)).toFixed(3)} | ${mean(rows.map((r) => r.frozenAuroc)).toFixed(3)} | ` +
        `${mean(rows.map((r) => r.randomInitAuroc)).toFixed(3)} | ${signed(mean(gains))}${perSeed} | ` +
        `${mean(rows.map((r) => r.backboneDrift)).toFixed(3)} |`,
    );
  }

  // Online scores of every run at 45 % (seed 42 as the grid), the supervised baseline included.
  const rows = study
    .resultRows(resultsDir, configs)
    .filter((r) => r.seed === 42 && r.split === 'val' && r.trainProportion === NATURAL && r.evalProportion === NATURAL);
  const value = (method: string, backbone: string, metric: string) =>
    rows.find((r) => r.method === method && r.backbone === backbone && r.metric === metric)?.value ?? NaN;
  const guess = (2 * NATURAL) / (1 + NATURAL);
  const runsAt45 = [...new Set(rows.map((r) => `${r.method}|${r.backbone}`))];
  const online = runsAt45.map((key) => {
    const [method, backbone] = key.split('|');
    return {
      label: `${study.methodLabel(method)} ${study.backboneLabel(backbone)}`,
      f1: value(method, backbone, 'f1'),
    };
  });
  const above = online.filter((o) => o.f1 > guess);
  const below = online.filter((o) => !(o.f1 > guess));
  const r18 = verdicts.filter((v) => v.backbone === 'ResNet-18');
  const vit = verdicts.filter((v) => v.backbone === 'ViT-Tiny');
  const r18Met = r18.filter((v) => v.gain >= MARGIN);
  const vitMet = vit.filter((v) => v.gain > 0);
  const supervisedVit = value('supervised', 'vit_tiny', 'auroc');
  const list = (vs: typeof verdicts) => vs.map((v) => `${v.method} ${signed(v.gain)}`).join(', ') || 'none';
  console.log('\n| target | result | met |\n| :--- | :--- | :--- |');
  console.log(
    `| every SSL ResNet-18 frozen AUROC ≥ untrained + ${MARGIN} (mean over its seeds) | ${list(r18)} | ` +
      `${r18Met.length} of ${r18.length} |`,
  );
  console.log(
    `| every SSL ViT-Tiny frozen AUROC above its untrained network | ${list(vit)} | ` +
      `${vitMet.length} of ${vit.length} |`,
  );
  console.log(
    `| supervised ViT-Tiny val AUROC ≥ ${SUPERVISED_VIT_AUROC} | ${supervisedVit.toFixed(3)} | ` +
      `${supervisedVit >= SUPERVISED_VIT_AUROC ? 'yes' : 'no'} |`,
  );
  const f1s = (os: typeof online) => os.map((o) => `${o.label} ${o.f1.toFixed(3)}`).join(', ') || 'none';
  console.log(
    `| every online probe at 45 % above the all-defect F1 guess (${guess.toFixed(3)}) | above: ${f1s(above)}; ` +
      `below: ${f1s(below)} | ${above.length} of ${online.length} |`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
