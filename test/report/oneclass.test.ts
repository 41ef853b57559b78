import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeRunConfig } from '../../lib/methods/config';
import { openRun } from '../../lib/runs/store';
import { auroc } from '../../lib/eval/metrics';
import { knnScores } from '../../lib/eval/oneclass';
import {
  bestOneClassTable,
  contaminationCost,
  labelEfficiency,
  labelsToBeatOneClass,
  oneClassHeatmapTable,
  oneClassStudy,
  oneClassVerdict,
  ONECLASS_SETTINGS,
  type OneClassRow,
} from '../../lib/report/oneclass';
import { frozenFeatures, frozenFeaturesFile } from '../../lib/train/frozen';
import { runExperiment } from '../../lib/train/run';

function row(method: string, trainProportion: number, detector: string, fields: Partial<OneClassRow>): OneClassRow {
  const family =
    detector.startsWith('probe,') && !detector.includes('all')
      ? 'few-label'
      : detector.includes('online') || detector.includes('all labels')
        ? 'labelled'
        : 'one-class';
  return {
    runId: `${method}-${trainProportion}`,
    method,
    backbone: 'resnet18',
    trainProportion,
    seed: 42,
    detector,
    family,
    bank: '',
    labels: family === 'one-class' ? 0 : NaN,
    penalty: NaN,
    evalProportion: 0.45,
    auroc: NaN,
    auprc: NaN,
    f1: NaN,
    ...fields,
  };
}

describe('one-class detection study', () => {
  describe('analyses of the rows', () => {
    const rows: OneClassRow[] = [
      row('simclr', 0.15, 'kNN', { bank: 'contaminated', auroc: 0.7 }),
      row('simclr', 0.15, 'kNN', { bank: 'clean', auroc: 0.76 }),
      row('simclr', 0.15, 'Mahalanobis', { bank: 'contaminated', auroc: 0.74 }),
      row('simclr', 0.15, 'Mahalanobis', { bank: 'clean', auroc: 0.75 }),
      row('simclr', 0.15, 'online probe', { auroc: 0.77 }),
      row('simclr', 0.15, 'probe, 1 label', { labels: 1, penalty: 10, auroc: 0.6 }),
      row('simclr', 0.15, 'probe, 10 labels', { labels: 10, penalty: 10, auroc: 0.75 }),
      row('simclr', 0.15, 'probe, 50 labels', { labels: 50, penalty: 10, auroc: 0.8 }),
      row('simclr', 0.15, 'probe, 50 labels, weak', { family: 'few-label', labels: 50, penalty: 0.01, auroc: 0.7 }),
      row('byol', 0.15, 'kNN', { bank: 'contaminated', auroc: 0.66 }),
      row('byol', 0.15, 'kNN', { bank: 'clean', auroc: 0.65 }),
      row('byol', 0.15, 'online probe', { auroc: 0.8 }),
      row('untrained', 0.15, 'kNN', { bank: 'contaminated', auroc: 0.72 }),
      // Another validation proportion must not leak into the 45 % answers.
      row('simclr', 0.15, 'kNN', { bank: 'contaminated', auroc: 0.99, evalProportion: 0.01 }),
    ];

    it('picks the best contaminated-bank detector per run and its gap to the online probe', () => {
      const best = bestOneClassTable(rows);
      const simclr = best.find((b) => b.method === 'simclr')!;
      assert.equal(simclr.detector, 'Mahalanobis');
      assert.equal(simclr.auroc, 0.74);
      assert.equal(simclr.cleanAuroc, 0.75);
      assert.ok(Math.abs(simclr.gap - 0.03) < 1e-12);
      const byol = best.find((b) => b.method === 'byol')!;
      assert.ok(Math.abs(byol.gap - 0.14) < 1e-12);
      assert.ok(
        Number.isNaN(best.find((b) => b.method === 'untrained')!.gap),
        'the untrained baseline has no online probe',
      );
    });

    it('measures the contamination cost and the labels a probe needs, per penalty', () => {
      const cost = contaminationCost(rows);
      assert.deepEqual(
        cost.map((c) => [c.method, c.detector, Math.round(c.cost * 1000) / 1000]),
        [
          ['simclr', 'kNN', 0.06],
          ['simclr', 'Mahalanobis', 0.01],
          ['byol', 'kNN', -0.01],
        ],
      );
      const needs = labelsToBeatOneClass(labelEfficiency(rows));
      const strong = needs.find((n) => n.method === 'simclr' && n.penalty === 10)!;
      assert.equal(strong.labels, 10, '10 labels give 0.75 > 0.74, 1 label does not');
      assert.equal(needs.find((n) => n.method === 'simclr' && n.penalty === 0.01)!.labels, null);
    });

    it('keeps seeds apart: each seed of a cell gets its own cost, curve and labels needed', () => {
      const seeded = rows.filter((r) => r.method === 'simclr' && r.evalProportion === 0.45);
      const twoSeeds = [
        ...seeded,
        ...seeded.map((r) => ({
          ...r,
          seed: 7,
          runId: `${r.runId}-s7`,
          auroc: r.detector === 'probe, 1 label' ? 0.9 : r.auroc,
        })),
      ];
      const needs = labelsToBeatOneClass(labelEfficiency(twoSeeds)).filter((n) => n.penalty === 10);
      assert.deepEqual(needs.map((n) => [n.seed, n.labels]).sort(), [
        [42, 10],
        [7, 1],
      ]);
      assert.deepEqual(
        contaminationCost(twoSeeds)
          .map((c) => c.seed)
          .sort(),
        [42, 42, 7, 7],
      );
      assert.equal(
        new Set(labelEfficiency(twoSeeds).map((r) => `${r.seed}|${r.labels}|${r.penalty}`)).size,
        labelEfficiency(twoSeeds).length,
      );
    });

    it('says so in the verdict, and lays out Figure-2 cells', () => {
      const text = oneClassVerdict(rows);
      assert.match(text, /trained at 15%, SimCLR resnet18 with Mahalanobis \(AUROC 0\.740\)/);
      assert.match(text, /SimCLR resnet18 online probe's 0\.770: below it by 0\.030, within 0\.05/);
      assert.match(
        text,
        /Contamination at 15%\*\*: a clean bank gains 0\.020 AUROC on average .*3 SSL run × detector pairs/,
      );
      assert.match(text, /3 SSL run × detector pairs; largest 0\.060, SimCLR/);
      assert.match(text, /SimCLR resnet18 15% with l2 10: 10; SimCLR resnet18 15% with l2 0\.01: none of the k tried/);
      assert.match(text, /Untrained backbone\*\*: best one-class AUROC 0\.720 \(resnet18, bank at 15%, kNN\)/);
      const beaten = oneClassVerdict(
        rows.map((r) => (r.detector === 'online probe' && r.method === 'simclr' ? { ...r, auroc: 0.7 } : r)),
      );
      assert.match(beaten, /above it by 0\.040: the label-free score beats the online probe/);
      assert.equal(
        oneClassHeatmapTable(rows, { detector: 'kNN', bank: 'contaminated', backbone: 'vit_tiny' }).numRows(),
        0,
      );
      const cells = oneClassHeatmapTable(rows, {
        detector: 'kNN',
        bank: 'contaminated',
        backbone: 'resnet18',
        metrics: ['auroc'],
      }).objects() as Array<{ row: string; evalProportion: number; value: number }>;
      assert.deepEqual(
        cells.map((c) => [c.row, c.evalProportion, c.value]),
        [
          ['SimCLR 15%', 0.01, 0.99],
          ['SimCLR 15%', 0.45, 0.7],
          ['BYOL 15%', 0.45, 0.66],
          ['untrained 15%', 0.45, 0.72],
        ],
      );
      assert.match(oneClassVerdict([]), /nothing to answer/);
    });
  });

  describe('on a finished smoke run', function () {
    this.timeout(900000);
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-oneclass-'));
    const config = makeRunConfig(
      {
        method: 'simclr',
        backbone: 'resnet18',
        trainProportion: 0.45,
        evalProportions: [0.15, 0.45],
        epochs: 1,
        batchSize: 16,
        monitorSamples: 16,
      },
      'smoke',
    );
    after(() => fs.rmSync(resultsDir, { recursive: true, force: true }));

    it('scores every detector on every validation proportion, from features cached once in the run', async () => {
      const status = await runExperiment(config, { resultsDir, quiet: true });
      assert.equal(status.state, 'done', status.reason);
      const logs: string[] = [];
      const rows = await oneClassStudy(resultsDir, [config], { log: (l) => logs.push(l) });
      assert.equal(logs.length, 2, 'the run and its untrained baseline');
      const run = openRun(resultsDir, config);
      for (const file of [
        frozenFeaturesFile(false),
        frozenFeaturesFile(true),
        'oneclass.json',
        'oneclass_random_init.json',
      ])
        assert.ok(fs.existsSync(path.join(run.dir, file)), file);
      const features = await frozenFeatures(config, { resultsDir });
      const defects = features.train.defect.reduce((a, b) => a + b, 0);
      const ks = ONECLASS_SETTINGS.labels.filter((k) => k <= defects);
      // Per validation set: 2 one-class detectors × 2 banks (trained and untrained), the few-label probes, all labels,
      // online.
      const perSet = 4 + 4 + ks.length * ONECLASS_SETTINGS.probePenalties.length + 2;
      assert.equal(rows.length, perSet * 2);
      for (const r of rows) {
        if (r.detector === 'online probe') continue;
        for (const m of [r.auroc, r.auprc, r.f1]) assert.ok(m >= 0 && m <= 1, `${r.detector} ${r.bank}: ${m}`);
      }
      // The clean-bank kNN AUROC at 45 %, recomputed here from the cached features.
      const clean = Array.from({ length: features.train.rows }, (_, i) => i).filter(
        (i) => features.train.defect[i] === 0,
      );
      const bank = new Float32Array(clean.length * features.width);
      clean.forEach((r, i) =>
        bank.set(features.train.values.subarray(r * features.width, (r + 1) * features.width), i * features.width),
      );
      const scores = knnScores(bank, clean.length, features.val.values, features.val.rows, features.width, {
        k: ONECLASS_SETTINGS.knnK,
      });
      const set = features.evalSets.find((s) => s.proportion === 0.45)!;
      const expected = auroc(
        Array.from(set.rows, (r) => features.val.defect[r]),
        Array.from(set.rows, (r) => scores[r]),
      );
      const stored = rows.find(
        (r) => r.method === 'simclr' && r.detector.startsWith('kNN') && r.bank === 'clean' && r.evalProportion === 0.45,
      )!;
      assert.ok(Math.abs(stored.auroc - expected) < 1e-12, `${stored.auroc} vs ${expected}`);
      assert.equal(
        rows.find((r) => r.detector === 'online probe' && r.evalProportion === 0.45)!.auroc,
        run.rows().find((r) => r.split === 'val' && r.evalProportion === 0.45 && r.metric === 'auroc')!.value,
      );
      // A second pass reads the caches: same rows, nothing rewritten.
      const before = fs.statSync(path.join(run.dir, 'oneclass.json')).mtimeMs;
      const again = await oneClassStudy(resultsDir, [config], { log: () => undefined });
      assert.deepEqual(again, rows);
      assert.equal(fs.statSync(path.join(run.dir, 'oneclass.json')).mtimeMs, before);
    });
  });
});
