import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ResultRow } from '../../lib/runs/store';
import { runId } from '../../lib/runs/id';
import { studyGrid } from '../../lib/experiments/grid';
import {
  checkpointSelection,
  fashionMnistGridOptions,
  finalScoreRecords,
  labelFreeVerdict,
  methodSelection,
  orient,
  pairedMethodTests,
  regretSummary,
  scoreCorrelations,
  SCORES,
  seedTable,
  writeTableFiles,
  type ScoreRecord,
} from '../../lib/report/labelfree';
import type { LogRecord, RunSummary } from '../../lib/report/study';

function summary(partial: Partial<RunSummary> & Pick<RunSummary, 'runId' | 'method' | 'backbone'>): RunSummary {
  return {
    trainProportion: 0.05,
    seed: 42,
    imageSize: 32,
    augmentEnabled: true,
    jitter: 0.275,
    minScale: 0.395,
    trainFraction: 0.5,
    dataset: 'synthetic',
    epochs: 3,
    state: 'done',
    secondsPerEpoch: 1,
    ...partial,
  };
}

function row(partial: Partial<ResultRow> & Pick<ResultRow, 'runId' | 'method' | 'metric' | 'value'>): ResultRow {
  return {
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.45,
    split: 'val',
    seed: 42,
    threshold: 0,
    epoch: 2,
    dataset: 'synthetic-smoke',
    scale: 'smoke',
    imageSize: 32,
    ...partial,
  };
}

function record(partial: Partial<ScoreRecord> & Pick<ScoreRecord, 'runId' | 'method' | 'f1' | 'scores'>): ScoreRecord {
  return { backbone: 'resnet18', trainProportion: 0.05, seed: 42, f2Ciw: 0.5, ...partial };
}

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

describe('report/labelfree', () => {
  it('orients every direction so that larger means predicted better', () => {
    assert.equal(orient(3, { kind: 'higher' }), 3);
    assert.equal(orient(3, { kind: 'lower' }), -3);
    assert.equal(orient(1.25, { kind: 'closeTo', target: 1 }), -0.25);
    assert.equal(orient(0.75, { kind: 'closeTo', target: 1 }), -0.25);
    assert.ok(Number.isNaN(orient(NaN, { kind: 'higher' })));
    // Every logged score has a direction: 10 backbone, 10 embedding, the per-batch rankme.
    assert.equal(SCORES.length, 21);
    for (const s of SCORES) assert.ok(s.direction, s.key);
  });

  it("reuses notebook 07's Fashion-MNIST run ids", () => {
    const configs = studyGrid('ssl', fashionMnistGridOptions('default'));
    assert.equal(configs.length, 4);
    assert.deepEqual(
      configs.map((c) => [
        c.method,
        c.trainProportion,
        c.dataset.kind,
        c.dataset.trainFraction,
        c.evalProportions.join(','),
      ]),
      [
        ['supervised', 0.05, 'fashion-mnist', 0.02, '0.01,0.05,0.45'],
        ['supervised', 0.45, 'fashion-mnist', 0.02, '0.01,0.05,0.45'],
        ['simclr', 0.05, 'fashion-mnist', 0.02, '0.01,0.05,0.45'],
        ['simclr', 0.45, 'fashion-mnist', 0.02, '0.01,0.05,0.45'],
      ],
    );
    // Spelled as 07 spells it inline.
    const seventh = studyGrid('ssl', {
      scale: 'default',
      methods: ['supervised', 'simclr'],
      backbones: ['resnet18'],
      proportions: [0.05, 0.45],
      overrides: {
        dataset: { kind: 'fashion-mnist', trainFraction: 0.02, defectClass: 6 },
        evalProportions: [0.01, 0.05, 0.45],
      } as never,
    });
    assert.deepEqual(configs.map(runId), seventh.map(runId));
    assert.equal(studyGrid('ssl', fashionMnistGridOptions('smoke')).length, 1);
  });

  it("takes the final epoch's scores and the natural-proportion validation metrics", () => {
    const log: LogRecord[] = [
      { kind: 'step', step: 0, loss: 1 },
      { kind: 'epoch', epoch: 1, lf_rankme: 7, rankme: 3 },
      { kind: 'epoch', epoch: 0, lf_rankme: 5, lf_nesum: 2 },
    ];
    const rows = [
      row({ runId: 'r1', method: 'simclr', metric: 'f1', value: 0.6 }),
      row({ runId: 'r1', method: 'simclr', metric: 'f2Ciw', value: 0.7 }),
      row({ runId: 'r1', method: 'simclr', metric: 'f1', value: 0.1, evalProportion: 0.01 }),
      row({ runId: 'r1', method: 'simclr', metric: 'f1', value: 0.9, split: 'train' }),
    ];
    const records = finalScoreRecords(
      [
        { summary: summary({ runId: 'r1', method: 'simclr', backbone: 'resnet18' }), log },
        { summary: summary({ runId: 'r2', method: 'byol', backbone: 'resnet18' }), log },
      ],
      rows,
    );
    assert.equal(records.length, 1, 'r2 has no rows');
    assert.equal(records[0].f1, 0.6);
    assert.equal(records[0].f2Ciw, 0.7);
    assert.equal(records[0].scores.lf_rankme, 7);
    assert.equal(records[0].scores.rankme, 3);
    assert.ok(Number.isNaN(records[0].scores.lf_nesum), 'not logged at the final epoch');
  });

  it('correlates oriented scores with known Spearman and Kendall values, per group', () => {
    const f1 = [0.1, 0.2, 0.3, 0.4, 0.5];
    const rankme = [1, 2, 3, 4, 5];
    const alignment = [5, 4, 3, 2, 1];
    const alpha = [3, 2.5, 0.2, 1.3, 1.0]; // distance to 1: 2, 1.5, 0.8, 0.3, 0 → perfectly ordered
    const nesum = [2, 1, 4, 3, 5]; // two swapped pairs: ρ = 1 − 6·4/120 = 0.8, τ = (8 − 2)/10 = 0.6
    const methods = ['simclr', 'simclr', 'simclr', 'byol', 'byol'];
    const records = f1.map((v, i) =>
      record({
        runId: `r${i}`,
        method: methods[i],
        f1: v,
        f2Ciw: 0.5,
        scores: { lf_rankme: rankme[i], lf_alignment: alignment[i], lf_alpha_req: alpha[i], lf_nesum: nesum[i] },
      }),
    );
    const table = scoreCorrelations(records, {
      scores: ['lf_rankme', 'lf_alignment', 'lf_alpha_req', 'lf_nesum'],
      groupBy: ['method'],
      resamples: 300,
    });
    const get = (score: string, target: string, group: string) =>
      table.find((r) => r.score === score && r.target === target && r.group === group)!;
    for (const score of ['lf_rankme', 'lf_alignment', 'lf_alpha_req']) {
      const r = get(score, 'f1', 'all');
      assert.equal(r.n, 5);
      close(r.spearman, 1);
      close(r.kendall, 1);
      close(r.spearmanLow, 1);
      close(r.spearmanHigh, 1);
    }
    const n = get('lf_nesum', 'f1', 'all');
    close(n.spearman, 0.8);
    close(n.kendall, 0.6);
    assert.ok(n.spearmanLow <= 0.8 && n.spearmanHigh >= 0.8 && n.spearmanHigh <= 1);
    assert.ok(Number.isNaN(get('lf_rankme', 'f2Ciw', 'all').spearman), 'constant target');
    assert.equal(get('lf_rankme', 'f1', 'method: simclr').n, 3);
    close(get('lf_rankme', 'f1', 'method: simclr').spearman, 1);
    assert.ok(Number.isNaN(get('lf_rankme', 'f1', 'method: byol').spearman), 'two runs are too few');
    const verdict = labelFreeVerdict(table, [], [], 'toy');
    const aboveZero = 3 + (n.spearmanLow > 0 ? 1 : 0);
    assert.match(verdict, new RegExp(`Of the 4 scores with a correlation, ${aboveZero} have a 95 % interval`));
    assert.match(verdict, /RankMe \(large sample, backbone features\) has ρ = 1\.00 \[1\.00, 1\.00\]/);
  });

  it('chooses checkpoints by each score and measures the regret against the best validation epoch', () => {
    const log: LogRecord[] = [
      {
        kind: 'epoch',
        epoch: 0,
        val_f1: 0.5,
        lf_rankme: 10,
        lf_alignment: 0.3,
        lf_alpha_req: 2.0,
        lf_nesum: 3,
        lfe_rankme: 4,
      },
      { kind: 'epoch', epoch: 1, val_f1: 0.7, lf_rankme: 5, lf_alignment: 0.1, lf_alpha_req: 0.8, lf_nesum: 3 },
      { kind: 'epoch', epoch: 2, val_f1: 0.6, lf_rankme: 20, lf_alignment: 0.2, lf_alpha_req: 1.1, lf_nesum: 1 },
      { kind: 'epoch', epoch: 3, lf_rankme: 100 }, // no validation at this epoch: not a candidate
    ];
    const choices = checkpointSelection(
      [{ summary: summary({ runId: 'r1', method: 'simclr', backbone: 'resnet18' }), log }],
      ['lf_rankme', 'lf_alignment', 'lf_alpha_req', 'lf_nesum', 'lfe_rankme'],
    );
    const by = (score: string) => choices.find((c) => c.score === score)!;
    assert.equal(by('lf_rankme').chosenEpoch, 2);
    close(by('lf_rankme').regret, 0.1);
    assert.equal(by('lf_rankme').oracleEpoch, 1);
    assert.equal(by('lf_alignment').chosenEpoch, 1);
    close(by('lf_alignment').regret, 0);
    assert.equal(by('lf_alpha_req').chosenEpoch, 2, '1.1 is closest to 1');
    assert.equal(by('lf_nesum').chosenEpoch, 1, 'ties go to the later epoch');
    assert.equal(by('lfe_rankme').candidates, 1);
    close(by('last epoch').regret, 0.1);
    close(by('random epoch').regret, 0.7 - 0.6);
    const summaryRows = regretSummary(choices);
    assert.equal(summaryRows[0].regret, 0, 'best first');
    const rankme = summaryRows.find((s) => s.score === 'lf_rankme')!;
    assert.equal(rankme.n, 1);
    assert.equal(rankme.hitRate, 0);
    assert.ok(Number.isNaN(rankme.low), 'one run: no interval');
  });

  it('chooses methods per cell by each score against the validation-label oracle', () => {
    const records = [
      record({ runId: 'a', method: 'simclr', f1: 0.6, scores: { lf_rankme: 30, lfe_rankme: 5 } }),
      record({ runId: 'b', method: 'byol', f1: 0.8, scores: { lf_rankme: 10, lfe_rankme: 7 } }),
      record({ runId: 'c', method: 'mae', f1: 0.7, scores: { lf_rankme: 20, lfe_rankme: NaN } }),
      // A cell of one method:
      record({ runId: 'd', method: 'simclr', backbone: 'vit_tiny', f1: 0.3, scores: { lf_rankme: 1 } }),
    ];
    const choices = methodSelection(records, ['lf_rankme', 'lfe_rankme']);
    assert.equal(choices.length, 3);
    const by = (score: string) => choices.find((c) => c.score === score)!;
    assert.equal(by('lf_rankme').chosenMethod, 'simclr');
    assert.equal(by('lf_rankme').oracleMethod, 'byol');
    close(by('lf_rankme').regret, 0.2);
    assert.equal(by('lfe_rankme').chosenMethod, 'byol');
    assert.equal(by('lfe_rankme').scored, 2);
    close(by('random method').regret, 0.8 - 0.7);
    const s = regretSummary([
      { score: 'x', regret: 0 },
      { score: 'x', regret: 0.1 },
      { score: 'x', regret: 0.2 },
    ]);
    close(s[0].regret, 0.1);
    // t_{0.975, 2} = 4.302652729749464; s = 0.1; half-width = t·s/√3.
    close(s[0].high - s[0].regret, (4.302652729749464 * 0.1) / Math.sqrt(3), 1e-9);
    close(s[0].hitRate, 1 / 3);
  });

  it('summarises seeds with a t-interval and tests methods on matched (seed, proportion) cells', () => {
    const rows: ResultRow[] = [];
    const simclr = [0.6, 0.8, 0.5, 0.7];
    const cells = [
      [42, 0.05],
      [43, 0.05],
      [42, 0.45],
      [43, 0.45],
    ] as const;
    cells.forEach(([seed, p], i) => {
      rows.push(row({ runId: `s${i}`, method: 'simclr', metric: 'f1', value: simclr[i], seed, trainProportion: p }));
      rows.push(
        row({ runId: `b${i}`, method: 'byol', metric: 'f1', value: simclr[i] - 0.1, seed, trainProportion: p }),
      );
    });
    rows.push(
      row({
        runId: 'x',
        method: 'byol',
        metric: 'f1',
        value: 0.99,
        seed: 42,
        trainProportion: 0.05,
        evalProportion: 0.01,
      }),
    );
    const table = seedTable(rows, ['f1']).objects() as Array<Record<string, unknown>>;
    const cell = table.find((r) => r.method === 'simclr' && r.trainProportion === 0.05)!;
    close(cell.mean as number, 0.7);
    // t_{0.975, 1} = 12.706204736174707; s = √0.02 → half-width = t·s/√2 = t·0.1.
    close((cell.high as number) - 0.7, 12.706204736174707 * 0.1, 1e-9);
    assert.equal(cell.n, 2);
    assert.equal(cell.cell, '0.700 ± 1.271');
    const tests = pairedMethodTests(rows, 'f1', { resamples: 500 });
    assert.equal(tests.length, 1);
    assert.equal(tests[0].methodA, 'simclr');
    close(tests[0].meanDifference, 0.1, 1e-12);
    close(tests[0].low, 0.1, 1e-12);
    close(tests[0].high, 0.1, 1e-12);
    close(tests[0].pValue, 1 / 501);
    assert.equal(tests[0].cells, 4);
  });

  it('writes tables as markdown and CSV beside the figures', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelfree-'));
    const aq = require('arquero');
    const files = writeTableFiles(aq.table({ score: ['a', 'b'], rho: [0.5, -0.25] }), dir, 'labelfree_test', {
      digits: 2,
      caption: 'toy',
    });
    assert.equal(
      fs.readFileSync(files.markdown, 'utf8'),
      '**toy**\n\n| score | rho |\n| :--- | ---: |\n| a | 0.50 |\n| b | -0.25 |\n',
    );
    assert.equal(fs.readFileSync(files.csv, 'utf8').trim(), 'score,rho\na,0.5\nb,-0.25');
    assert.throws(() => writeTableFiles(aq.table({ a: [1] }), dir, 'bad name'), /may only contain/);
    fs.rmSync(dir, { recursive: true });
  });
});
