/**
 * Notebook 10's study: label-free defect detection with one-class scores on each run's frozen features, when the
 * "normal" bank is the run's own training images and so is contaminated at the run's training proportion.
 *
 * Per finished run (`oneClassRunResult`, cached as `oneclass.json` in the run folder; the features themselves are
 * cached by lib/train/frozen.ts and shared by every scorer):
 * - detectors: kNN distance (cosine, k = ONECLASS_SETTINGS.knnK) and Ledoit–Wolf Mahalanobis, each with two banks:
 *   `contaminated` (every training image, as trained) and `clean` (its normals only: the upper bound);
 * - the few-label probe: k ∈ ONECLASS_SETTINGS.labels labelled training defects against the rest of the training
 *   images as normals (lib/eval/oneclass.ts `fewLabelProbe`), mean over `draws` random draws of the k defects;
 * - references: the probe with every training label (the frozen probe's fit) and the run's online probe (or, for
 *   the supervised run, its classifier), read from the run's result rows;
 * - the untrained baseline: the same detectors on the random-initialisation features, once per (backbone,
 *   training proportion, seed) cell, reported as method `untrained`.
 * Every detector is scored on every validation proportion: AUROC, AUPRC and F1 at a threshold set from an assumed
 * contamination rate c = the run's training share: the score above which a share c of the training images lies
 * (kNN scores bank members leave-one-out, Mahalanobis in-sample; the probes likewise on their training pool).
 * The online probe keeps its own threshold (logit 0).
 *
 * The rest is pure: `bestOneClassTable`, `contaminationCost`, `labelEfficiency`, `oneClassHeatmapTable` and
 * `oneClassVerdict` turn the rows into the notebook's tables, figures and computed prose.
 *
 * @example
 *   const rows = await oneClassStudy(resultsDir, configs);        // one row per run × detector × bank × val proportion
 *   const best = bestOneClassTable(rows);                          // best label-free detector per run at 45 %
 *   tslab.display.markdown(oneClassVerdict(rows));
 */
import * as fs from 'fs';
import * as path from 'path';
import * as aq from 'arquero';
import { type RunConfig } from '../runs/config';
import { runId } from '../runs/id';
import { listRuns, writeFileAtomic } from '../runs/store';
import { binaryMetrics } from '../eval/metrics';
import { fitLogisticRegression, logisticLogits } from '../eval/logistic';
import { contaminationThreshold, fewLabelProbe, fitMahalanobis, knnScores, mahalanobisScores } from '../eval/oneclass';
import { mixSeed, Rng } from '../data/rng';
import { FROZEN_PROBE_L2, frozenFeatures, frozenFeaturesFile, type FrozenFeatures } from '../train/frozen';
import { methodLabel, percent, sameProportion } from './labels';
import { NATURAL_PROPORTION } from './table1';

/** The study's fixed choices (changing one recomputes every cached `oneclass.json`). */
export const ONECLASS_SETTINGS = {
  knnK: 5,
  knnMetric: 'cosine' as const,
  /**
   * Labelled defects given to the few-label probe: the issue's 1, 5, 10, 50, and 200 to see where the curve meets
   * the one-class score.
   */
  labels: [1, 5, 10, 50, 200],
  /** Random draws of the labelled defects per k (the probe's AUROC is their mean). */
  draws: 3,
  /**
   * Penalties of the few-label probe on the standardised features: the frozen probe's (fitted there with every
   * label) and a strong one, under which the fit tends to the difference of the class means, the better-posed
   * estimator with a handful of labels in 512 dimensions. Both are reported: which one wins is part of the answer.
   * 10 was picked after trying 0.01, 0.1, 1 and 10 on the default-scale SimCLR 45 % run's validation set (one draw
   * of 5 and 50 labels): a choice made with validation labels, so that curve is somewhat optimistic.
   */
  probePenalties: [FROZEN_PROBE_L2, 10],
};

const SETTINGS_KEY = JSON.stringify({ ...ONECLASS_SETTINGS, version: 1 });
const RESULT_FILE = 'oneclass.json';

export type Bank = 'contaminated' | 'clean';
export type Family = 'one-class' | 'few-label' | 'labelled';

/** One detector on one validation set of one run. */
export interface OneClassRow {
  runId: string;
  /** The run's method, or `untrained` for the random-initialisation baseline. */
  method: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  detector: string;
  family: Family;
  /** The bank of a one-class detector; '' for the probes. */
  bank: Bank | '';
  /** Labelled defects the detector used (0 for one-class, NaN for "all"). */
  labels: number;
  /** L2 penalty of a probe fitted here; NaN otherwise. */
  penalty: number;
  evalProportion: number;
  auroc: number;
  auprc: number;
  f1: number;
}

interface StoredResult {
  settings: string;
  rows: OneClassRow[];
}

function scoreSets(
  features: FrozenFeatures,
  valScores: ArrayLike<number>,
  threshold: number,
): Array<{ evalProportion: number; auroc: number; auprc: number; f1: number }> {
  return features.evalSets.map((set) => {
    const labels = Array.from(set.rows, (r) => features.val.defect[r]);
    const scores = Array.from(set.rows, (r) => valScores[r]);
    const m = binaryMetrics(labels, scores, { threshold });
    return { evalProportion: set.proportion, auroc: m.auroc, auprc: m.auprc, f1: m.f1 };
  });
}

function subsetRows(values: Float32Array, width: number, rows: number[]): Float32Array {
  const out = new Float32Array(rows.length * width);
  rows.forEach((r, i) => out.set(values.subarray(r * width, r * width + width), i * width));
  return out;
}

/** The one-class detectors (both banks) on one feature set. */
function oneClassRows(
  features: FrozenFeatures,
  share: number,
  base: Omit<
    OneClassRow,
    'detector' | 'family' | 'bank' | 'labels' | 'penalty' | 'evalProportion' | 'auroc' | 'auprc' | 'f1'
  >,
): OneClassRow[] {
  const { train, val, width } = features;
  const all = Array.from({ length: train.rows }, (_, i) => i);
  const banks: Record<Bank, number[]> = { contaminated: all, clean: all.filter((i) => train.defect[i] === 0) };
  const rows: OneClassRow[] = [];
  for (const bank of ['contaminated', 'clean'] as Bank[]) {
    const members = banks[bank];
    const bankValues = subsetRows(train.values, width, members);
    const bankRow = new Map(members.map((r, i) => [r, i]));
    const exclude = Int32Array.from(all, (r) => bankRow.get(r) ?? -1);
    const knnOptions = { k: ONECLASS_SETTINGS.knnK, metric: ONECLASS_SETTINGS.knnMetric };
    const knnPool = knnScores(bankValues, members.length, train.values, train.rows, width, { ...knnOptions, exclude });
    const knnVal = knnScores(bankValues, members.length, val.values, val.rows, width, knnOptions);
    const gauss = fitMahalanobis(bankValues, members.length, width);
    const mahaPool = mahalanobisScores(gauss, train.values, train.rows);
    const mahaVal = mahalanobisScores(gauss, val.values, val.rows);
    const detectors: Array<[string, Float64Array, Float64Array]> = [
      [`kNN (k=${ONECLASS_SETTINGS.knnK}, cosine)`, knnPool, knnVal],
      ['Mahalanobis (Ledoit–Wolf)', mahaPool, mahaVal],
    ];
    for (const [detector, pool, valScores] of detectors) {
      for (const m of scoreSets(features, valScores, contaminationThreshold(pool, share)))
        rows.push({ ...base, detector, family: 'one-class', bank, labels: 0, penalty: NaN, ...m });
    }
  }
  return rows;
}

/** The few-label probes and the all-labels probe on the trained features. */
function probeRows(
  features: FrozenFeatures,
  share: number,
  seed: number,
  base: Omit<
    OneClassRow,
    'detector' | 'family' | 'bank' | 'labels' | 'penalty' | 'evalProportion' | 'auroc' | 'auprc' | 'f1'
  >,
): OneClassRow[] {
  const { train, val, width } = features;
  const defects = Array.from({ length: train.rows }, (_, i) => i).filter((i) => train.defect[i] === 1);
  const rows: OneClassRow[] = [];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const penalty of ONECLASS_SETTINGS.probePenalties) {
    for (const k of ONECLASS_SETTINGS.labels) {
      // A training subset with fewer defects than k cannot give k labels (1 % of 2 000 images is 20 defects).
      if (k > defects.length) continue;
      const draws: Array<ReturnType<typeof scoreSets>> = [];
      for (let draw = 0; draw < ONECLASS_SETTINGS.draws; draw++) {
        const labelled = new Rng(mixSeed(seed, 'oneclass-labels', k, draw)).shuffle([...defects]).slice(0, k);
        const fit = fewLabelProbe(train.values, train.rows, width, labelled, { knownShare: share, l2: penalty });
        const pool = logisticLogits(fit, train.values, train.rows);
        draws.push(scoreSets(features, logisticLogits(fit, val.values, val.rows), contaminationThreshold(pool, share)));
      }
      draws[0].forEach((first, i) => {
        rows.push({
          ...base,
          detector: `probe, ${k} label${k === 1 ? '' : 's'}, l2 ${penalty}`,
          family: 'few-label',
          bank: '',
          labels: k,
          penalty,
          evalProportion: first.evalProportion,
          auroc: mean(draws.map((d) => d[i].auroc)),
          auprc: mean(draws.map((d) => d[i].auprc)),
          f1: mean(draws.map((d) => d[i].f1)),
        });
      });
    }
  }
  const nPos = defects.length;
  const fit = fitLogisticRegression(train.values, train.rows, width, train.defect, {
    l2: FROZEN_PROBE_L2,
    positiveWeight: (train.rows - nPos) / nPos,
  });
  const pool = logisticLogits(fit, train.values, train.rows);
  for (const m of scoreSets(features, logisticLogits(fit, val.values, val.rows), contaminationThreshold(pool, share))) {
    rows.push({
      ...base,
      detector: 'probe, all labels',
      family: 'labelled',
      bank: '',
      labels: NaN,
      penalty: FROZEN_PROBE_L2,
      ...m,
    });
  }
  return rows;
}

function baseOf(config: RunConfig, id: string, method = config.method as string) {
  return { runId: id, method, backbone: config.backbone, trainProportion: config.trainProportion, seed: config.seed };
}

function knownShare(features: FrozenFeatures): number {
  let defects = 0;
  for (const v of features.train.defect) defects += v;
  return defects / features.train.rows;
}

function cached(dir: string, name: string, featureFile: string): OneClassRow[] | null {
  const file = path.join(dir, name);
  if (
    !fs.existsSync(file) ||
    !fs.existsSync(featureFile) ||
    fs.statSync(file).mtimeMs < fs.statSync(featureFile).mtimeMs
  )
    return null;
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredResult;
  if (stored.settings !== SETTINGS_KEY) return null;
  // JSON has no NaN: `labels` of the all-labels probe and undefined metrics come back as null.
  return stored.rows.map((r) => ({
    ...r,
    labels: r.labels ?? NaN,
    penalty: r.penalty ?? NaN,
    auroc: r.auroc ?? NaN,
    auprc: r.auprc ?? NaN,
    f1: r.f1 ?? NaN,
  }));
}

/**
 * The detectors of one finished run on its trained features (and, with `untrained`, the one-class detectors on
 * its random-initialisation features, as method `untrained`), computed once and cached in the run folder.
 */
export async function oneClassRunResult(
  config: RunConfig,
  options: { resultsDir: string; untrained?: boolean },
): Promise<OneClassRow[]> {
  const id = runId(config);
  const dir = path.join(options.resultsDir, id);
  const untrained = Boolean(options.untrained);
  const name = untrained ? 'oneclass_random_init.json' : RESULT_FILE;
  const stored = cached(dir, name, path.join(dir, frozenFeaturesFile(untrained)));
  if (stored) return stored;
  const features = await frozenFeatures(config, { resultsDir: options.resultsDir, randomInit: untrained });
  const share = knownShare(features);
  const base = baseOf(config, id, untrained ? 'untrained' : config.method);
  const rows = oneClassRows(features, share, base);
  if (!untrained) rows.push(...probeRows(features, share, config.seed, base));
  writeFileAtomic(path.join(dir, name), JSON.stringify({ settings: SETTINGS_KEY, rows } satisfies StoredResult));
  return rows;
}

/** The online probe's (supervised: the classifier's) validation AUROC, AUPRC and F1 of a run, as rows. */
function onlineRows(
  config: RunConfig,
  run: { id: string; rows(): Array<{ split: string; evalProportion: number; metric: string; value: number }> },
): OneClassRow[] {
  const val = run.rows().filter((r) => r.split === 'val');
  return config.evalProportions.map((p) => {
    const at = (metric: string) =>
      val.find((r) => Math.abs(r.evalProportion - p) < 1e-9 && r.metric === metric)?.value ?? NaN;
    return {
      ...baseOf(config, run.id),
      detector: config.method === 'supervised' ? 'supervised classifier' : 'online probe',
      family: 'labelled' as const,
      bank: '' as const,
      labels: NaN,
      penalty: NaN,
      evalProportion: p,
      auroc: at('auroc'),
      auprc: at('auprc'),
      f1: at('f1'),
    };
  });
}

/**
 * Every finished run of `configs`: its detectors, its online probe, and the untrained baseline of each (backbone,
 * training proportion, seed) cell (on the cell's supervised run when there is one). Computes what is not cached.
 */
export async function oneClassStudy(
  resultsDir: string,
  configs: RunConfig[],
  options: { log?: (line: string) => void } = {},
): Promise<OneClassRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const runs = new Map(listRuns(resultsDir).map((r) => [r.id, r]));
  const done = configs.filter((c) => runs.get(runId(c))?.status().state === 'done');
  const rows: OneClassRow[] = [];
  const baselineCells = new Map<string, RunConfig>();
  for (const [i, config] of done.entries()) {
    const started = Date.now();
    rows.push(...(await oneClassRunResult(config, { resultsDir })), ...onlineRows(config, runs.get(runId(config))!));
    const cell = `${config.backbone}|${config.trainProportion}|${config.seed}`;
    if (!baselineCells.has(cell) || config.method === 'supervised') baselineCells.set(cell, config);
    log(`[one-class] ${i + 1}/${done.length} ${runId(config)} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }
  for (const config of baselineCells.values()) {
    const started = Date.now();
    rows.push(...(await oneClassRunResult(config, { resultsDir, untrained: true })));
    log(
      `[one-class] untrained baseline ${config.backbone} at ${percent(config.trainProportion)} ` +
        `(${((Date.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Analyses (pure).

function groupKey(r: OneClassRow): string {
  return `${r.method}|${r.backbone}|${r.trainProportion}|${r.seed}`;
}

function groups(rows: OneClassRow[]): OneClassRow[][] {
  const out = new Map<string, OneClassRow[]>();
  for (const r of rows) out.set(groupKey(r), [...(out.get(groupKey(r)) ?? []), r]);
  return [...out.values()];
}

function best(rows: OneClassRow[]): OneClassRow | null {
  const finite = rows.filter((r) => Number.isFinite(r.auroc));
  return finite.length ? finite.reduce((a, b) => (b.auroc > a.auroc ? b : a)) : null;
}

export interface BestOneClassRow {
  method: string;
  methodLabel: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  /** Best one-class detector with the contaminated bank (the label-free setting) and its AUROC. */
  detector: string;
  auroc: number;
  /** The same detector with the clean bank. */
  cleanAuroc: number;
  /** The online probe's (supervised: classifier's) AUROC; NaN for the untrained baseline. */
  onlineAuroc: number;
  /** onlineAuroc − auroc. */
  gap: number;
}

/** The label-free setting's winner of one run's rows: the best one-class detector on the contaminated bank. */
function bestContaminated(group: OneClassRow[]): OneClassRow | null {
  return best(group.filter((r) => r.family === 'one-class' && r.bank === 'contaminated'));
}

/** Per run (and untrained cell), the best one-class detector on the contaminated bank at `evalProportion`. */
export function bestOneClassTable(rows: OneClassRow[], evalProportion = NATURAL_PROPORTION): BestOneClassRow[] {
  const at = rows.filter((r) => sameProportion(r.evalProportion, evalProportion));
  const out: BestOneClassRow[] = [];
  for (const group of groups(at)) {
    const winner = bestContaminated(group);
    if (!winner) continue;
    const clean = group.find((r) => r.family === 'one-class' && r.bank === 'clean' && r.detector === winner.detector);
    const online = group.find((r) => r.detector === 'online probe' || r.detector === 'supervised classifier');
    const onlineAuroc = online?.auroc ?? NaN;
    out.push({
      method: winner.method,
      methodLabel: methodLabel(winner.method),
      backbone: winner.backbone,
      trainProportion: winner.trainProportion,
      seed: winner.seed,
      detector: winner.detector,
      auroc: winner.auroc,
      cleanAuroc: clean?.auroc ?? NaN,
      onlineAuroc,
      gap: onlineAuroc - winner.auroc,
    });
  }
  return out.sort(
    (a, b) => a.backbone.localeCompare(b.backbone) || a.trainProportion - b.trainProportion || b.auroc - a.auroc,
  );
}

export interface ContaminationCostRow {
  method: string;
  methodLabel: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  detector: string;
  cleanAuroc: number;
  contaminatedAuroc: number;
  /** clean − contaminated AUROC: what the defects in the bank cost. */
  cost: number;
}

/** Per run and one-class detector: AUROC with the clean bank minus with the contaminated one, at `evalProportion`. */
export function contaminationCost(rows: OneClassRow[], evalProportion = NATURAL_PROPORTION): ContaminationCostRow[] {
  const out: ContaminationCostRow[] = [];
  const oneClass = rows.filter((r) => r.family === 'one-class' && sameProportion(r.evalProportion, evalProportion));
  for (const r of oneClass.filter((x) => x.bank === 'contaminated')) {
    const clean = oneClass.find((x) => x.bank === 'clean' && groupKey(x) === groupKey(r) && x.detector === r.detector);
    if (!clean) continue;
    out.push({
      method: r.method,
      methodLabel: methodLabel(r.method),
      backbone: r.backbone,
      trainProportion: r.trainProportion,
      seed: r.seed,
      detector: r.detector,
      cleanAuroc: clean.auroc,
      contaminatedAuroc: r.auroc,
      cost: clean.auroc - r.auroc,
    });
  }
  return out;
}

export interface LabelEfficiencyRow {
  method: string;
  methodLabel: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  /** Labelled defects (NaN for the all-labels probe). */
  labels: number;
  /** The probe's L2 penalty. */
  penalty: number;
  probeAuroc: number;
  /** Best one-class AUROC of the same features with the contaminated bank. */
  oneClassAuroc: number;
}

/** The probe's AUROC per number of labels next to the best one-class AUROC of the same run, at `evalProportion`. */
export function labelEfficiency(rows: OneClassRow[], evalProportion = NATURAL_PROPORTION): LabelEfficiencyRow[] {
  const at = rows.filter((r) => sameProportion(r.evalProportion, evalProportion));
  const out: LabelEfficiencyRow[] = [];
  for (const group of groups(at)) {
    const oneClass = bestContaminated(group);
    if (!oneClass) continue;
    for (const probe of group.filter((r) => r.family === 'few-label' || r.detector === 'probe, all labels')) {
      out.push({
        method: probe.method,
        methodLabel: methodLabel(probe.method),
        backbone: probe.backbone,
        trainProportion: probe.trainProportion,
        seed: probe.seed,
        labels: probe.labels,
        penalty: probe.penalty,
        probeAuroc: probe.auroc,
        oneClassAuroc: oneClass.auroc,
      });
    }
  }
  return out;
}

export interface LabelsNeeded {
  method: string;
  backbone: string;
  trainProportion: number;
  seed: number;
  penalty: number;
  /** Fewest labelled defects whose probe beats the best one-class AUROC; null when no k tried does. */
  labels: number | null;
  oneClassAuroc: number;
}

/** Per run and probe penalty, the fewest labelled defects whose probe beats the run's best one-class AUROC. */
export function labelsToBeatOneClass(curve: LabelEfficiencyRow[]): LabelsNeeded[] {
  const out = new Map<string, LabelsNeeded>();
  for (const r of curve.filter((x) => Number.isFinite(x.labels))) {
    const key = `${r.method}|${r.backbone}|${r.trainProportion}|${r.seed}|${r.penalty}`;
    const entry = out.get(key) ?? {
      method: r.method,
      backbone: r.backbone,
      trainProportion: r.trainProportion,
      seed: r.seed,
      penalty: r.penalty,
      labels: null,
      oneClassAuroc: r.oneClassAuroc,
    };
    if (r.probeAuroc > r.oneClassAuroc && (entry.labels === null || r.labels < entry.labels)) entry.labels = r.labels;
    out.set(key, entry);
  }
  return [...out.values()];
}

/**
 * Figure-2-style cells: one row per (method, training proportion), one column per validation proportion, for the
 * chosen detectors and bank; `metricLabel` names the panel.
 */
export function oneClassHeatmapTable(
  rows: OneClassRow[],
  options: { detector: string; bank: Bank | ''; backbone?: string; metrics?: Array<'auroc' | 'auprc' | 'f1'> },
): aq.ColumnTable {
  const labels: Record<string, string> = { auroc: 'AUROC', auprc: 'AUPRC', f1: 'F1 (contamination threshold)' };
  const records: Array<Record<string, unknown>> = [];
  const metrics = options.metrics ?? ['auroc', 'auprc', 'f1'];
  const order = ['supervised', 'simclr', 'byol', 'barlow', 'dino', 'mae', 'untrained'];
  const chosen = rows
    .filter(
      (r) =>
        r.detector === options.detector &&
        r.bank === options.bank &&
        (options.backbone === undefined || r.backbone === options.backbone),
    )
    .sort(
      (a, b) =>
        order.indexOf(a.method) - order.indexOf(b.method) ||
        a.trainProportion - b.trainProportion ||
        a.evalProportion - b.evalProportion,
    );
  for (const metric of metrics) {
    for (const r of chosen) {
      records.push({
        metric,
        metricLabel: labels[metric],
        method: r.method,
        backbone: r.backbone,
        trainProportion: r.trainProportion,
        evalProportion: r.evalProportion,
        row: `${methodLabel(r.method)} ${percent(r.trainProportion)}`,
        value: r[metric],
      });
    }
  }
  return aq.from(records);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '—';
}

/** The notebook's closing answers, computed from the rows (SSL methods only for "label-free"). */
export function oneClassVerdict(rows: OneClassRow[]): string {
  const bestRows = bestOneClassTable(rows);
  const ssl = bestRows.filter((r) => !['supervised', 'untrained'].includes(r.method));
  if (ssl.length === 0) return 'No finished SSL run: nothing to answer yet.';
  const lines: string[] = [];
  const byShare = [...new Set(ssl.map((r) => r.trainProportion))].sort((a, b) => a - b);
  const winners = byShare.map((p) =>
    ssl.filter((r) => sameProportion(r.trainProportion, p)).reduce((a, b) => (b.auroc > a.auroc ? b : a)),
  );
  lines.push(
    `- **Best label-free detector** (contaminated bank, validation at ${percent(NATURAL_PROPORTION)}): ` +
      winners
        .map(
          (w) =>
            `trained at ${percent(w.trainProportion)}, ${w.methodLabel} ${w.backbone} with ${w.detector} (AUROC ` +
            `${fmt(w.auroc)})`,
        )
        .join('; ') +
      '.',
  );
  for (const w of winners) {
    const verdict = !Number.isFinite(w.gap)
      ? 'no online AUROC recorded.'
      : w.gap < 0
        ? `above it by ${fmt(-w.gap)}: the label-free score beats the online probe.`
        : `below it by ${fmt(w.gap)}, ${w.gap <= 0.05 ? 'within' : 'not within'} 0.05.`;
    lines.push(
      `- **Against the online probe at ${percent(w.trainProportion)}**: the best one-class AUROC ${fmt(w.auroc)} ` +
        `vs the ${w.methodLabel} ${w.backbone} online probe's ${fmt(w.onlineAuroc)}: ${verdict}`,
    );
  }
  const untrained = bestRows.filter((r) => r.method === 'untrained');
  const untrainedCell = (u: (typeof untrained)[number]) =>
    `${fmt(u.auroc)} (${u.backbone}, bank at ${percent(u.trainProportion)}, ${u.detector})`;
  if (untrained.length)
    lines.push(`- **Untrained backbone**: best one-class AUROC ${untrained.map(untrainedCell).join('; ')}.`);
  const supervised = bestRows.filter((r) => r.method === 'supervised');
  if (supervised.length)
    lines.push(
      `- **Supervised backbone** (trained with labels, a reference): best one-class AUROC ` +
        `${supervised.map((s) => `${fmt(s.auroc)} (${s.backbone}, ${percent(s.trainProportion)})`).join('; ')}.`,
    );
  const costs = contaminationCost(rows).filter((c) => !['supervised', 'untrained'].includes(c.method));
  for (const p of [...new Set(costs.map((c) => c.trainProportion))].sort((a, b) => a - b)) {
    const own = costs.filter((c) => sameProportion(c.trainProportion, p));
    const mean = own.reduce((a, c) => a + c.cost, 0) / own.length;
    const worst = own.reduce((a, b) => (b.cost > a.cost ? b : a));
    lines.push(
      `- **Contamination at ${percent(p)}**: a clean bank gains ${fmt(mean)} AUROC on average over the ` +
        `contaminated one (${own.length} SSL run × detector pairs; largest ${fmt(worst.cost)}, ` +
        `${worst.methodLabel} ${worst.detector}).`,
    );
  }
  const needs = labelsToBeatOneClass(labelEfficiency(rows)).filter(
    (n) => !['supervised', 'untrained'].includes(n.method),
  );
  if (needs.length) {
    lines.push(
      `- **Labels the probe needs** to beat the run's best one-class AUROC: ` +
        needs
          .map(
            (n) =>
              `${methodLabel(n.method)} ${n.backbone} ${percent(n.trainProportion)} with l2 ${n.penalty}: ` +
              `${n.labels === null ? 'none of the k tried' : `${n.labels}`}`,
          )
          .join('; ') +
        ` (k ∈ {${ONECLASS_SETTINGS.labels.join(', ')}}, at most the run's training defects).`,
    );
  }
  return lines.join('\n');
}
