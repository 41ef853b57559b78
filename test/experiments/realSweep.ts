/** The smallest real sweep: supervised + SimCLR on ResNet-18 at the smoke scale, sized for CI. */
import { RunConfig } from '../../lib/runs/config';
import { runId } from '../../lib/runs/id';
import { sslGrid } from '../../lib/experiments/grid';
import { ResultRow } from '../../lib/runs/store';

// The smoke dataset's Val split is too small to resample to 1 % defects, so the tests evaluate at 15 % and 45 %.
export const REAL_OVERRIDES = { evalProportions: [0.15, 0.45], batchSize: 8, monitorSamples: 16 };

export function realSweepArgs(methods: string, proportions: string): string[] {
  return [
    'sweep',
    '--study',
    'ssl',
    '--scale',
    'smoke',
    '--methods',
    methods,
    '--backbones',
    'resnet18',
    '--proportions',
    proportions,
    '--override',
    JSON.stringify(REAL_OVERRIDES),
  ];
}

export function realConfigs(methods: Array<'supervised' | 'simclr'>, proportions: number[]): RunConfig[] {
  return sslGrid({ scale: 'smoke', methods, backbones: ['resnet18'], proportions, overrides: REAL_OVERRIDES });
}

/**
 * Every (runId, split, evalProportion, metric) the trainer should write for these configs. The train
 * split is evaluated at its own realised proportion (close to, not equal to, the target): `own`.
 */
export function expectedRealKeys(configs: RunConfig[], metrics: readonly string[]): string[] {
  const keys: string[] = [];
  for (const c of configs) {
    const id = runId(c);
    for (const m of metrics) keys.push(`${id}|train|own|${m}`);
    for (const p of c.evalProportions) for (const m of metrics) keys.push(`${id}|val|${p}|${m}`);
  }
  return keys.sort();
}

/** The row's key, with the train split's realised proportion written as `own` (see expectedRealKeys). */
export function realRowKey(r: ResultRow): string {
  return `${r.runId}|${r.split}|${r.split === 'train' ? 'own' : r.evalProportion}|${r.metric}`;
}

export function valuesByKey(rows: ResultRow[]): Map<string, { value: number; threshold: number }> {
  return new Map(rows.map((r) => [rowKeyExact(r), { value: r.value, threshold: r.threshold }]));
}

function rowKeyExact(r: ResultRow): string {
  return `${r.runId}|${r.split}|${r.evalProportion}|${r.metric}`;
}
