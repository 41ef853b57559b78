import { strict as assert } from 'assert';
import { makeRunConfig } from '../../lib/methods/config';
import { runId } from '../../lib/runs/id';
import type { DatasetSplit, SewerRecord } from '../../lib/data/types';
import {
  calibrationHeatmapTable,
  calibrationInputFrom,
  calibrationRows,
  recoveredRows,
  thresholdArtefactSummary,
  type CalibrationInput,
  type CalibrationRow,
} from '../../lib/report/calibration';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

const identity = { runId: 'r1', method: 'simclr', backbone: 'resnet18', trainProportion: 1 / 3, seed: 42 };

// Training subset: 2 defects, 4 normal → pos_weight 2, π_t = 1/3, so the weighted BCE's effective prior is
// 2·(1/3) / (2·(1/3) + 2/3) = 0.5 and the prior shift to π_d = 0.2 moves the cut to −logit(0.2) = ln 4.
const INPUT: CalibrationInput = {
  ...identity,
  train: { labels: [1, 1, 0, 0, 0, 0], logits: [2, -1.5, 1, -1, -2, -3] },
  evalSets: [
    { proportion: 0.2, split: { labels: [1, 0, 0, 0, 0], logits: [1.6, 2.0, 0.3, -0.5, -1.8] } },
    { proportion: 0.45, split: { labels: [0, 0], logits: [1, -1] } },
  ],
  trainPrior: 1 / 3,
  posWeight: 2,
};

describe('report/calibration', () => {
  it('scores every rule on hand-computed cuts', () => {
    const rows = calibrationRows(INPUT);
    const at = (rule: string, proportion = 0.2) =>
      rows.find((r) => r.rule === rule && r.evalProportion === proportion)!;
    // logit > 0 predicts 1.6 (defect), 2.0 and 0.3 (normal): P = 1/3, R = 1.
    close(at('fixed').f1, 0.5);
    close(at('priorShift').threshold, Math.log(4), 1e-12);
    close(at('priorShift').f1, 2 / 3); // predicts 1.6 and 2.0
    // Train F1: cuts after 2 (P 1, R .5) and after −1.5 (P .5, R 1) tie at 2/3; the higher cut, (2 + 1)/2, wins.
    close(at('trainF1').threshold, 1.5);
    close(at('trainF1').f1, 2 / 3);
    // Train F2 = 5PR/(4P + R): 0.556 after 2, 0.833 after −1.5 → cut (−1.5 − 2)/2.
    close(at('trainF2').threshold, -1.75);
    close(at('trainF2').f1, 0.4); // predicts four images, one defect
    close(at('evalOracle').threshold, 0.95);
    close(at('evalOracle').f1, 2 / 3);
    close(at('fixed').auroc, 0.75); // the defect outranks 3 of the 4 normal images
    close(at('fixed').auprc, 0.5);
    assert.equal(
      rows.filter((r) => r.evalProportion === 0.45 && r.rule === 'evalOracle').length,
      0,
      'no defects: no val-set threshold',
    );
    assert.equal(rows.filter((r) => r.evalProportion === 0.45).length, 4);
    const gains = recoveredRows(rows);
    close(gains.find((g) => g.rule === 'priorShift' && g.evalProportion === 0.2)!.gain, 2 / 3 - 0.5);
    close(gains.find((g) => g.rule === 'trainF2' && g.evalProportion === 0.2)!.gain, 0.4 - 0.5);
  });

  function cell(
    runId: string,
    method: string,
    evalProportion: number,
    rule: CalibrationRow['rule'],
    f1: number,
    seed = 42,
  ): CalibrationRow {
    return {
      runId,
      method,
      backbone: 'resnet18',
      trainProportion: 0.05,
      seed,
      evalProportion,
      rule,
      threshold: 0,
      f1,
      f2Ciw: NaN,
      precision: NaN,
      recall: NaN,
      auroc: 0.8,
      auprc: evalProportion,
    };
  }

  it('attributes the F1 drop to the threshold with known shares', () => {
    const rows: CalibrationRow[] = [
      cell('a', 'simclr', 0.45, 'fixed', 0.8),
      cell('a', 'simclr', 0.01, 'fixed', 0.2),
      cell('a', 'simclr', 0.01, 'priorShift', 0.3),
      cell('a', 'simclr', 0.01, 'trainF1', 0.25),
      cell('a', 'simclr', 0.01, 'trainF2', 0.2),
      cell('a', 'simclr', 0.01, 'evalOracle', 0.5),
      cell('b', 'byol', 0.45, 'fixed', 0.6),
      cell('b', 'byol', 0.01, 'fixed', 0.2),
      cell('b', 'byol', 0.01, 'priorShift', 0.1),
      cell('b', 'byol', 0.01, 'trainF1', 0.25),
      cell('b', 'byol', 0.01, 'trainF2', 0.2),
      cell('b', 'byol', 0.01, 'evalOracle', 0.3),
      cell('c', 'dino', 0.45, 'fixed', 0.1), // validated at the natural proportion only: left out
    ];
    const s = thresholdArtefactSummary(rows);
    assert.equal(s.runs, 2);
    assert.equal(s.lowProportion, 0.01);
    close(s.naturalF1, 0.7);
    close(s.lowF1, 0.2);
    close(s.recoveredShare.priorShift, 0, 1e-12);
    close(s.recoveredShare.trainF1, 0.1, 1e-12);
    close(s.recoveredShare.evalOracle, 0.4, 1e-12);
    close(s.auprc.natural, 0.45);
    close(s.auprc.low, 0.01);
    assert.match(s.sentence, /falls from 0\.700 at 45% defects to 0\.200 at 1%/);
    assert.match(s.sentence, /at most 40 % of the drop is a threshold artefact/);
    assert.equal(thresholdArtefactSummary(rows, { methods: ['byol'] }).runs, 1);
    const flat = thresholdArtefactSummary([
      cell('a', 'simclr', 0.45, 'fixed', 0.2),
      cell('a', 'simclr', 0.01, 'fixed', 0.3),
    ]);
    assert.match(flat.sentence, /does not drop/);
    assert.match(thresholdArtefactSummary([]).sentence, /No runs/);
  });

  it('averages heatmap cells over seeds', () => {
    const rows = [
      cell('a', 'simclr', 0.01, 'fixed', 0.2, 42),
      cell('a2', 'simclr', 0.01, 'fixed', 0.4, 43),
      cell('b', 'simclr', 0.01, 'priorShift', 0.5),
    ];
    const table = calibrationHeatmapTable(rows, { backbone: 'resnet18', field: 'f1' }).objects() as Array<
      Record<string, unknown>
    >;
    assert.equal(table.length, 2);
    assert.equal(table[0].rule, 'fixed', 'rules in RULES order');
    close(table[0].value as number, 0.3);
    assert.equal(table[0].n, 2);
    assert.equal(table[0].row, 'SimCLR 5%');
    assert.equal(calibrationHeatmapTable(rows, { backbone: 'vit_tiny', field: 'f1' }).numRows(), 0);
  });

  it('joins predictions with the split records by record index', () => {
    const rec = (index: number, defect: 0 | 1): SewerRecord =>
      ({ filename: `${index}.png`, index, defect, codes: new Uint8Array(17).fill(defect) }) as unknown as SewerRecord;
    const split = (records: SewerRecord[]): DatasetSplit =>
      ({ datasetId: 'toy', split: 'x', records }) as unknown as DatasetSplit;
    const train = split([rec(0, 1), rec(1, 0), rec(2, 0), rec(3, 0)]);
    const val = split([rec(0, 0), rec(1, 1), rec(2, 0)]);
    const config = makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke');
    const input = calibrationInputFrom(
      config,
      {
        train: { indices: [2, 0, 3, 1], logits: [-2, 3, -1, -0.5] },
        val: { indices: [1, 0, 2], logits: [0.7, -0.3, 0.1] },
        evalSets: [{ proportion: 0.05, indices: [0, 1] }],
      },
      { train, val },
    );
    assert.equal(input.runId, runId(config));
    assert.deepEqual(Array.from(input.train.labels as ArrayLike<number>), [0, 1, 0, 0]);
    assert.deepEqual(Array.from(input.train.logits as ArrayLike<number>), [-2, 3, -1, -0.5]);
    close(input.trainPrior, 0.25);
    close(input.posWeight, 3);
    assert.deepEqual(Array.from(input.evalSets[0].split.labels as ArrayLike<number>), [0, 1]);
    assert.deepEqual(Array.from(input.evalSets[0].split.logits as ArrayLike<number>), [-0.3, 0.7]);
    assert.throws(
      () =>
        calibrationInputFrom(
          config,
          {
            train: { indices: [0, 9], logits: [1, 2] },
            val: { indices: [], logits: [] },
            evalSets: [],
          },
          { train, val },
          'p.json',
        ),
      /p\.json: train\.indices\[1\] = 9 is not a record of the split/,
    );
    assert.throws(
      () =>
        calibrationInputFrom(
          config,
          {
            train: { indices: [1, 2], logits: [1, 2] },
            val: { indices: [], logits: [] },
            evalSets: [],
          },
          { train, val },
          'p.json',
        ),
      /0 defects and 2 normal/,
    );
  });
});
