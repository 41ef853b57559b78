/**
 * Online probe versus linear evaluation on frozen features, per SSL run: is a weak score the representation's
 * or the probe's? Each finished run at the chosen training share gets its frozen-feature probe and the same
 * backbone's random-initialisation baseline (lib/train/frozen.ts; computed once, then read from the run folder).
 *
 * @example
 *   const table = await frozenProbeComparison(resultsDir, configs);   // one row per run
 *   tslab.display.markdown(summarizeFrozenProbe(table));
 */
import * as aq from 'arquero';
import { METHOD_LABELS } from '../methods/config';
import { BACKBONE_LABELS, type RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import { listRuns } from '../runs/store';
import { currentFrozenProbe, type FrozenProbeResult } from '../train/frozen';

export interface FrozenComparisonOptions {
  /** Training share of the runs compared (default 0.45, the natural one). */
  trainProportion?: number;
  /** Progress lines (default console.log). */
  log?: (line: string) => void;
}

export interface FrozenComparisonRow {
  method: string;
  backbone: string;
  seed: number;
  runId: string;
  /** Validation proportion the scores are taken at (the largest the run evaluates, normally 45 %). */
  evalProportion: number;
  onlineF1: number;
  onlineAuroc: number;
  frozenF1: number;
  frozenAuroc: number;
  randomInitF1: number;
  randomInitAuroc: number;
  /** How far training moved the backbone's weight matrices from their initialisation (relative Frobenius norm). */
  backboneDrift: number;
}

export function atProportion(result: FrozenProbeResult, proportion: number): { f1: number; auroc: number } {
  const entry = result.val.find((v) => v.proportion === proportion);
  if (!entry) throw new Error(`frozen probe of ${result.runId} has no validation set at ${proportion}`);
  return { f1: entry.metrics.f1, auroc: entry.metrics.auroc };
}

/** One row per finished SSL run of `configs` at the training share; computes what is missing. */
export async function frozenProbeComparison(
  resultsDir: string,
  configs: RunConfig[],
  options: FrozenComparisonOptions = {},
): Promise<aq.ColumnTable> {
  const share = options.trainProportion ?? 0.45;
  const log = options.log ?? ((line: string) => console.log(line));
  const runs = new Map(listRuns(resultsDir).map((r) => [r.id, r]));
  const chosen = configs.filter(
    (c) =>
      c.method !== 'supervised' &&
      Math.abs(c.trainProportion - share) < 1e-9 &&
      runs.get(runId(c))?.status().state === 'done',
  );
  const rows: FrozenComparisonRow[] = [];
  for (const [i, config] of chosen.entries()) {
    const run = runs.get(runId(config))!;
    const started = Date.now();
    // Stored results from before the cross-validated penalty (and so before the drift was recorded) are refitted.
    const trained = await currentFrozenProbe(config, { resultsDir });
    const untrained = await currentFrozenProbe(config, { resultsDir, randomInit: true });
    if (trained.fitted || untrained.fitted)
      log(`[frozen probe] ${i + 1}/${chosen.length} ${run.id} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    const evalProportion = Math.max(...config.evalProportions);
    const onlineRows = run.rows().filter((r) => r.split === 'val' && r.evalProportion === evalProportion);
    const online = (metric: string) => onlineRows.find((r) => r.metric === metric)?.value ?? NaN;
    const frozen = atProportion(trained.result, evalProportion);
    const random = atProportion(untrained.result, evalProportion);
    rows.push({
      method: METHOD_LABELS[config.method],
      backbone: BACKBONE_LABELS[config.backbone],
      seed: config.seed,
      runId: run.id,
      evalProportion,
      onlineF1: online('f1'),
      onlineAuroc: online('auroc'),
      frozenF1: frozen.f1,
      frozenAuroc: frozen.auroc,
      randomInitF1: random.f1,
      randomInitAuroc: random.auroc,
      backboneDrift: trained.result.backboneDrift ?? NaN,
    });
  }
  return aq.from(rows);
}

function percentRange(values: number[]): string {
  const low = (100 * Math.min(...values)).toFixed(1);
  const high = (100 * Math.max(...values)).toFixed(1);
  return low === high ? `${low} %` : `${low}–${high} %`;
}

/** What the comparison says, per backbone, in two sentences computed from the table. */
export function summarizeFrozenProbe(table: aq.ColumnTable): string {
  const rows = table.objects() as unknown as FrozenComparisonRow[];
  if (rows.length === 0) return 'No finished SSL run at this training share yet: nothing to compare.';
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const lines: string[] = [];
  for (const backbone of [...new Set(rows.map((r) => r.backbone))]) {
    const own = rows.filter((r) => r.backbone === backbone);
    const probeGap = mean(own.map((r) => r.frozenAuroc - r.onlineAuroc));
    const learned = own.filter((r) => r.frozenAuroc - r.randomInitAuroc > 0.02).map((r) => r.method);
    const randomLow = Math.min(...own.map((r) => r.randomInitAuroc)).toFixed(3);
    const randomHigh = Math.max(...own.map((r) => r.randomInitAuroc)).toFixed(3);
    lines.push(
      `- **${backbone}** (${own.length} run${own.length === 1 ? '' : 's'}): ` +
        `the frozen-feature probe is ${probeGap >= 0 ? 'above' : 'below'} the online probe by ` +
        `${Math.abs(probeGap).toFixed(3)} AUROC on average; ` +
        (learned.length
          ? `the trained backbone beats its random initialisation by more than 0.02 AUROC for ${learned.join(', ')}` +
            (learned.length < own.length
              ? ` (not for ${own
                  .filter((r) => !learned.includes(r.method))
                  .map((r) => r.method)
                  .join(', ')})`
              : '')
          : "no method's trained backbone beats its random initialisation by more than 0.02 AUROC") +
        ` (random-init AUROC ${randomLow === randomHigh ? randomLow : `${randomLow}–${randomHigh}`}); ` +
        `training moved its weight matrices by ${percentRange(own.map((r) => r.backboneDrift))} of their norm.`,
    );
  }
  return lines.join('\n');
}
