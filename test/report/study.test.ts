import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as aq from 'arquero';
import { makeRunConfig } from '../../lib/methods/config';
import { runId } from '../../lib/runs/id';
import { openRun, type ResultRow } from '../../lib/runs/store';
import { paperTable } from '../../lib/report/paper';
import {
  appendixTable,
  augmentationTable,
  bestValF1,
  correlationTable,
  describeCorrelation,
  figuresDir,
  heatmapFindings,
  heatmapTable,
  monitoringCurves,
  rankMeVsF1,
  resolutionTable,
  resultsTable,
  runLogs,
  runSummaries,
  summarizeFindings,
  summarizeRun,
  table1,
  table1Findings,
  type CorrelationRow,
  type LogRecord,
  type RunSummary,
} from '../../lib/report/study';

function row(
  partial: Partial<ResultRow> &
    Pick<
      ResultRow,
      'runId' | 'method' | 'backbone' | 'trainProportion' | 'evalProportion' | 'split' | 'metric' | 'value'
    >,
): ResultRow {
  return { seed: 42, threshold: 0, epoch: 1, dataset: 'synthetic-smoke', scale: 'smoke', imageSize: 32, ...partial };
}

function summary(
  partial: Partial<RunSummary> & Pick<RunSummary, 'runId' | 'method' | 'backbone' | 'trainProportion'>,
): RunSummary {
  return {
    seed: 42,
    imageSize: 32,
    augmentEnabled: true,
    jitter: 0.275,
    minScale: 0.395,
    trainFraction: 0.5,
    dataset: 'synthetic',
    epochs: 2,
    state: 'done',
    secondsPerEpoch: 10,
    ...partial,
  };
}

// Two seeds of SimCLR/ResNet-18 at 5 %, one supervised ViT run: hand-computable means.
const ROWS: ResultRow[] = [
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.45,
    split: 'val',
    metric: 'f1',
    value: 0.6,
  }),
  row({
    runId: 'a2',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.45,
    split: 'val',
    metric: 'f1',
    value: 0.8,
    seed: 43,
  }),
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.01,
    split: 'val',
    metric: 'f1',
    value: 0.1,
  }),
  row({
    runId: 'a2',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.01,
    split: 'val',
    metric: 'f1',
    value: 0.2,
    seed: 43,
  }),
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.45,
    split: 'val',
    metric: 'f2Ciw',
    value: 0.7,
  }),
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.01,
    split: 'val',
    metric: 'f2Ciw',
    value: 0.68,
  }),
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.05,
    split: 'train',
    metric: 'f1',
    value: 0.3,
  }),
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.05,
    split: 'train',
    metric: 'precision',
    value: 0.25,
  }),
  row({
    runId: 'a1',
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.45,
    split: 'val',
    metric: 'auroc',
    value: 0.9,
  }),
  row({
    runId: 'b1',
    method: 'supervised',
    backbone: 'vit_tiny',
    trainProportion: 0.45,
    evalProportion: 0.45,
    split: 'val',
    metric: 'f1',
    value: 0.9,
  }),
  row({
    runId: 'b1',
    method: 'supervised',
    backbone: 'vit_tiny',
    trainProportion: 0.45,
    evalProportion: 0.45,
    split: 'train',
    metric: 'f1',
    value: 0.95,
  }),
];

const near = (a: unknown, b: number, what: string) =>
  assert.ok(typeof a === 'number' && Math.abs(a - b) < 1e-12, `${what}: got ${String(a)}, expected ${b}`);

describe('study tables from hand-made rows', () => {
  it('Table 1: val at 0.45 only, F1/F2_CIW/F1_Normal, mean over seeds with n, paper order', () => {
    const t = table1(ROWS).objects() as Array<Record<string, unknown>>;
    assert.deepEqual(
      t.map((r) => [r.metric, r.method, r.backbone, r.trainProportion, r.n]),
      [
        ['f1', 'supervised', 'vit_tiny', 0.45, 1],
        ['f1', 'simclr', 'resnet18', 0.05, 2],
        ['f2Ciw', 'simclr', 'resnet18', 0.05, 1],
      ].sort((a, b) => (a[0] === b[0] ? (a[2] === 'resnet18' ? -1 : 1) : 0)),
    );
    near(t.find((r) => r.metric === 'f1' && r.method === 'simclr')!.value, 0.7, 'mean of 0.6 and 0.8');
  });

  it('heatmap rows: every evaluation proportion, labelled like the paper', () => {
    const t = heatmapTable(ROWS, { backbone: 'resnet18', metrics: ['f1', 'f2Ciw'] }).objects() as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      t.map((r) => [r.metric, r.row, r.evalProportion]),
      [
        ['f1', 'SimCLR 5%', 0.01],
        ['f1', 'SimCLR 5%', 0.45],
        ['f2Ciw', 'SimCLR 5%', 0.01],
        ['f2Ciw', 'SimCLR 5%', 0.45],
      ],
    );
    near(t[0].value, 0.15, 'f1 at 1 %');
    const findings = heatmapFindings(heatmapTable(ROWS, { backbone: 'resnet18', metrics: ['f1', 'f2Ciw'] }));
    assert.deepEqual(findings.f1Declines, { rows: 1, declining: 1 });
    near(findings.meanRange.f1, 0.55, 'F1 range 0.7 − 0.15');
    near(findings.meanRange.f2Ciw, 0.02, 'F2 range');
    assert.match(findings.sentence, /1 of 1 rows/);
    assert.match(findings.sentence, /F2_CIW is the more stable/);
  });

  it('Tables 3/4: TRAIN from the own subset, VAL at the natural proportion, one backbone', () => {
    const t = appendixTable(ROWS, 'resnet18').objects() as Array<Record<string, unknown>>;
    assert.deepEqual(
      t.map((r) => [r.split, r.metric, r.value]),
      [
        ['train', 'precision', 0.25],
        ['train', 'f1', 0.3],
        ['val', 'f1', 0.7],
        ['val', 'f2Ciw', 0.7],
      ].map((r) =>
        r[0] === 'val' && r[1] === 'f1'
          ? [r[0], r[1], t.find((x) => x.split === 'val' && x.metric === 'f1')!.value]
          : r,
      ),
    );
    near(t.find((x) => x.split === 'val' && x.metric === 'f1')!.value, 0.7, 'val f1');
    assert.ok(!t.some((r) => r.metric === 'auroc'), 'AUROC is not in the appendix tables');
  });

  it('Table 2: best val F1 over logged epochs, final F1, seconds per epoch', () => {
    const log = (values: number[]): LogRecord[] => values.map((v, i) => ({ kind: 'epoch', epoch: i, val_f1: v }));
    assert.equal(bestValF1(log([0.2, 0.5, 0.4])), 0.5);
    assert.equal(bestValF1([{ kind: 'epoch', epoch: 0 }]), null);
    const runs = [
      {
        summary: summary({
          runId: 'r16',
          method: 'supervised',
          backbone: 'resnet18',
          trainProportion: 0.45,
          imageSize: 16,
          secondsPerEpoch: 4,
        }),
        log: log([0.3, 0.5]),
      },
      {
        summary: summary({
          runId: 'r32',
          method: 'supervised',
          backbone: 'resnet18',
          trainProportion: 0.45,
          imageSize: 32,
          secondsPerEpoch: 9,
        }),
        log: log([0.6, 0.55]),
      },
      {
        summary: summary({
          runId: 'rx',
          method: 'supervised',
          backbone: 'resnet18',
          trainProportion: 0.45,
          imageSize: 64,
          state: 'failed',
        }),
        log: log([0.99]),
      },
    ];
    const rows = [
      row({
        runId: 'r32',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        evalProportion: 0.45,
        split: 'val',
        metric: 'f1',
        value: 0.55,
      }),
    ];
    const t = resolutionTable(runs, rows).objects() as Array<Record<string, unknown>>;
    assert.deepEqual(
      t.map((r) => [r.imageSize, r.bestF1, r.finalF1, r.secondsPerEpoch]),
      [
        [16, 0.5, null, 4],
        [32, 0.6, 0.55, 9],
      ],
    );
  });

  it('Figure 3: F1 per t_val × min_scale joined through the run summaries', () => {
    const summaries = [
      summary({
        runId: 'j1',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        jitter: 0.1,
        minScale: 0.08,
      }),
      summary({
        runId: 'j2',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        jitter: 0.8,
        minScale: 0.08,
      }),
    ];
    const rows = [
      row({
        runId: 'j1',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        evalProportion: 0.45,
        split: 'val',
        metric: 'f1',
        value: 0.4,
      }),
      row({
        runId: 'j2',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        evalProportion: 0.45,
        split: 'val',
        metric: 'f1',
        value: 0.5,
      }),
      row({
        runId: 'j2',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        evalProportion: 0.01,
        split: 'val',
        metric: 'f1',
        value: 0.1,
      }),
      row({
        runId: 'zz',
        method: 'supervised',
        backbone: 'resnet18',
        trainProportion: 0.45,
        evalProportion: 0.45,
        split: 'val',
        metric: 'f1',
        value: 0.9,
      }),
    ];
    const t = augmentationTable(rows, summaries).objects() as Array<Record<string, unknown>>;
    assert.deepEqual(
      t.map((r) => [r.jitter, r.minScale, r.value]),
      [
        [0.1, 0.08, 0.4],
        [0.8, 0.08, 0.5],
      ],
    );
  });

  it('monitoring curves (1-based epochs) and RankMe against train/val F1 with min–max re-scaling', () => {
    const runs = [
      {
        summary: summary({ runId: 'a1', method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }),
        log: [
          { kind: 'start' },
          { kind: 'step', rankme: 99 },
          { kind: 'epoch', epoch: 0, rankme: 10, rankme_sample: 30, feature_std: 0.5 },
          { kind: 'epoch', epoch: 1, rankme: 20, rankme_sample: 40, feature_std: 0.6, val_f1: 0.6 },
        ] as LogRecord[],
      },
      {
        summary: summary({ runId: 'b1', method: 'supervised', backbone: 'vit_tiny', trainProportion: 0.45 }),
        log: [{ kind: 'epoch', epoch: 0, rankme: 5 }] as LogRecord[],
      },
    ];
    const curves = monitoringCurves(runs, ['rankme', 'feature_std', 'val_f1']).objects() as Array<
      Record<string, unknown>
    >;
    assert.deepEqual(
      curves.filter((c) => c.runId === 'a1').map((c) => [c.epoch, c.measure, c.value]),
      [
        [1, 'rankme', 10],
        [1, 'feature_std', 0.5],
        [2, 'rankme', 20],
        [2, 'feature_std', 0.6],
        [2, 'val_f1', 0.6],
      ],
    );
    const scatter = rankMeVsF1(runs, ROWS).objects() as Array<Record<string, unknown>>;
    assert.deepEqual(
      scatter.map((r) => [r.runId, r.rankme, r.rankmeSample, r.rankmeScaled, r.trainF1, r.valF1]),
      [
        ['a1', 20, 40, 1, 0.3, 0.6],
        ['b1', 5, null, 0, 0.95, 0.9],
      ],
    );
  });

  it('correlation table per group, and sentences that follow the interval', () => {
    const records = [1, 2, 3, 4, 5, 6].map((i) => ({
      backbone: i <= 3 ? 'resnet18' : 'vit_tiny',
      x: i,
      y: i * i,
      z: [3, 1, 2, 2, 1, 3][i - 1],
    }));
    const t = correlationTable(records, 'x', ['y', 'z'], {
      groupBy: 'backbone',
      resamples: 200,
      seed: 1,
    }).objects() as unknown as CorrelationRow[];
    assert.deepEqual(
      t.map((r) => [r.group, r.y, r.n]),
      [
        ['all', 'y', 6],
        ['all', 'z', 6],
        ['resnet18', 'y', 3],
        ['resnet18', 'z', 3],
        ['vit_tiny', 'y', 3],
        ['vit_tiny', 'z', 3],
      ],
    );
    near(t[0].spearman, 1, 'monotone');
    near(t[0].kendallTauB, 1, 'monotone');
    assert.match(
      describeCorrelation(t[0], { x: 'RankMe', y: 'val F1' }),
      /excludes zero, so RankMe does carry a positive/,
    );
    assert.match(
      describeCorrelation(t[1], { x: 'RankMe', y: 'val F1' }),
      /contains zero, so these runs give no evidence/,
    );
    const tooFew = correlationTable(records.slice(0, 2), 'x', ['y']).objects() as unknown as CorrelationRow[];
    assert.ok(Number.isNaN(tooFew[0].spearman));
    assert.match(describeCorrelation(tooFew[0], { x: 'RankMe', y: 'F1' }), /too few runs/);
  });

  it('Table 1 findings on the paper itself hold, and ours are judged by the same rule', () => {
    const paper = paperTable('table1').select('metric', 'method', 'backbone', 'trainProportion', 'value');
    const onPaper = table1Findings(paper, paper);
    assert.ok(
      onPaper.every((f) => f.agree === true),
      JSON.stringify(onPaper),
    );
    // Table 1, ResNet-18, 1 %: by F1 Barlow Twins (0.768) edges out BYOL (0.764), which the text names.
    assert.equal(onPaper[0].paper, 'Barlow Twins (0.768)');
    assert.equal(onPaper[2].paper, 'SimCLR (0.814)');
    // Ours: BYOL wins at 1 % (the paper's numbers say Barlow Twins), no 15 %/45 % cells.
    const ours = aq.from([
      { metric: 'f1', method: 'byol', backbone: 'resnet18', trainProportion: 0.01, value: 0.6 },
      { metric: 'f1', method: 'barlow', backbone: 'resnet18', trainProportion: 0.01, value: 0.5 },
      { metric: 'f1', method: 'supervised', backbone: 'resnet18', trainProportion: 0.01, value: 0.7 },
    ]);
    const f = table1Findings(ours, paper);
    assert.equal(f[0].agree, false);
    assert.equal(f[0].ours, 'BYOL (0.600)');
    assert.equal(f[1].agree, null);
    assert.equal(f[5].agree, true); // supervised wins its one cell, as in most of the paper's
    assert.match(summarizeFindings(f), /“Best SSL method by F1 at 1 % defects, ResNet-18 \(the text names BYOL\)”/);
  });
});

describe('study loaders over a results folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'study-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('resultsTable restricts to the given configs; runSummaries/runLogs read config, status and log', () => {
    const done = makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke');
    const other = makeRunConfig({ method: 'byol', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke');
    for (const config of [done, other]) {
      const run = openRun(dir, config);
      run.writeRows([
        row({
          runId: runId(config),
          method: config.method,
          backbone: 'resnet18',
          trainProportion: 0.05,
          evalProportion: 0.45,
          split: 'val',
          metric: 'f1',
          value: 0.5,
        }),
      ]);
      run.appendLog({ kind: 'epoch', epoch: 0, rankme: 3 });
      run.setStatus({ state: 'done', secondsPerEpoch: 2.5 });
    }
    assert.equal(resultsTable(dir).numRows(), 2);
    const only = resultsTable(dir, [done]);
    assert.deepEqual(only.array('method'), ['simclr']);
    assert.equal(resultsTable(dir, []).numRows(), 0);
    assert.ok(resultsTable(dir, []).columnNames().includes('metric'));
    const s = runSummaries(dir, [done]);
    assert.deepEqual(s, [summarizeRun(done, { state: 'done', secondsPerEpoch: 2.5 })]);
    assert.equal(s[0].minScale, 0.395);
    assert.deepEqual(runLogs(dir, [other])[0].log, [{ kind: 'epoch', epoch: 0, rankme: 3 }]);
  });

  it('figuresDir keeps smoke figures apart from the committed ones', () => {
    assert.equal(path.basename(figuresDir('smoke')), 'smoke');
    assert.equal(path.dirname(figuresDir('smoke')), figuresDir('default'));
  });
});
