import { strict as assert } from 'assert';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { ResultRow } from '../../lib/runs/store';
import { Rng } from '../../lib/data/rng';
import { rowsToTable, table1, TABLE1_METRICS } from '../../lib/report/study';
import { compareTable1, loadDanfo, rowsToDanfo, table1Danfo, toDanfo } from '../../lib/report/danfo';

/** Tidy rows with everything Table 1 must filter out: train rows, other proportions, other metrics, two seeds. */
function sampleRows(): ResultRow[] {
  const rng = new Rng(7);
  const rows: ResultRow[] = [];
  for (const method of ['supervised', 'simclr', 'byol'])
    for (const backbone of ['resnet18', 'vit_tiny'])
      for (const trainProportion of [0.01, 0.45])
        for (const seed of [1, 2])
          for (const [split, evalProportion] of [
            ['train', trainProportion],
            ['val', 0.45],
            ['val', 0.05],
          ] as const)
            for (const metric of ['f1', 'f2Ciw', 'f1Normal', 'auroc']) {
              rows.push({
                runId: `${method}-${backbone}-${trainProportion}-${seed}`,
                method,
                backbone,
                trainProportion,
                evalProportion,
                split,
                metric,
                value: rng.next(),
                seed,
                threshold: 0,
                epoch: 1,
                dataset: 'synthetic',
                scale: 'smoke',
                imageSize: 32,
              });
            }
  return rows;
}

type GlobalRegistries = { _tfGlobals: Map<string, Map<string, unknown>> };

describe('report/danfo', () => {
  it('loads danfojs-node with its own tfjs 3 and leaves the project on tfjs 4.22 (kernels, gradients, backend)', () => {
    const globals = (globalThis as unknown as GlobalRegistries)._tfGlobals;
    const kernels = new Map(globals.get('kernelRegistry'));
    const gradients = new Map(globals.get('gradRegistry'));
    const backend = tf.getBackend();
    const dfd = loadDanfo();
    // The control: danfo really brings a second tfjs-core (else this test would prove nothing).
    const danfoCore = require(
      require.resolve('@tensorflow/tfjs-core/package.json', { paths: [path.dirname(require.resolve('danfojs-node'))] }),
    );
    assert.match(danfoCore.version, /^3\./);
    assert.equal(require('@tensorflow/tfjs').version.tfjs, '4.22.0');
    assert.equal(tf.getBackend(), backend);
    const liveKernels = globals.get('kernelRegistry')!;
    assert.equal(liveKernels.size, kernels.size);
    for (const [key, config] of kernels) assert.equal(liveKernels.get(key), config, `kernel ${key} was replaced`);
    const liveGradients = globals.get('gradRegistry')!;
    assert.equal(liveGradients.size, gradients.size);
    for (const [key, config] of gradients)
      assert.equal(liveGradients.get(key), config, `gradient of ${key} was replaced`);
    // The backend still trains: d/dx Σ (x·W)² through matMul, on the project's backend.
    const grad = tf.tidy(() => {
      const w = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      return tf
        .grad((x: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor2D, w))))(tf.tensor2d([[1, 1]]))
        .arraySync();
    });
    // x·W = [4, 6]; gradient = 2·[4, 6]·Wᵀ = [2·(4 + 12), 2·(12 + 24)].
    assert.deepEqual(grad, [[32, 72]]);
    assert.equal(typeof dfd.DataFrame, 'function');
  });

  it('gives the same rows as the arquero view, column for column', () => {
    const rows = sampleRows();
    const table = rowsToTable(rows);
    const df = rowsToDanfo(rows);
    assert.deepEqual(df.columns, table.columnNames());
    assert.deepEqual(df.shape, [table.numRows(), table.numCols()]);
    assert.deepEqual(loadDanfo().toJSON(df), table.objects());
  });

  it('keeps the columns of an empty table', () => {
    const df = toDanfo(rowsToTable([]));
    assert.deepEqual(df.columns, rowsToTable([]).columnNames());
    assert.equal(df.shape[0], 0);
  });

  it("does Table 1's mean over seeds as arquero's table1 does", () => {
    const rows = sampleRows();
    const ours = table1(rows).objects() as Array<{
      metric: string;
      method: string;
      backbone: string;
      trainProportion: number;
      value: number;
    }>;
    const viaDanfo = loadDanfo().toJSON(table1Danfo(rowsToDanfo(rows))) as Array<Record<string, string | number>>;
    // 3 metrics × 3 methods × 2 backbones × 2 proportions cells, each the mean of 2 seeds.
    assert.equal(ours.length, TABLE1_METRICS.length * 3 * 2 * 2);
    assert.equal(viaDanfo.length, ours.length);
    for (const cell of ours) {
      const match = viaDanfo.filter(
        (d) =>
          d.metric === cell.metric &&
          d.method === cell.method &&
          d.backbone === cell.backbone &&
          d.trainProportion === cell.trainProportion,
      );
      assert.equal(match.length, 1, `one danfo row for ${JSON.stringify(cell)}`);
      assert.ok(
        Math.abs((match[0].value_mean as number) - cell.value) < 1e-12,
        `${cell.metric} ${cell.method} ${cell.backbone} ${cell.trainProportion}: ${match[0].value_mean} vs ` +
          `${cell.value}`,
      );
    }
  });
});

describe('report/danfo compareTable1', () => {
  it('finds every cell when the views agree, and says so when one differs', () => {
    const rows = sampleRows();
    const good = compareTable1(table1Danfo(rowsToDanfo(rows)), table1(rows));
    assert.equal(good.matched, good.cells);
    assert.match(good.sentence, /^danfo and arquero agree on all 36 cells/);
    const changed = rows.map((r, i) =>
      i === rows.findIndex((x) => x.split === 'val' && x.evalProportion === 0.45 && x.metric === 'f1')
        ? { ...r, value: r.value + 0.5 }
        : r,
    );
    const bad = compareTable1(table1Danfo(rowsToDanfo(changed)), table1(rows));
    assert.ok(
      Math.abs(bad.maxAbsDiff - 0.25) < 1e-12,
      `a 0.5 change in one of two seeds moves the mean by 0.25, got ${bad.maxAbsDiff}`,
    );
    assert.match(bad.sentence, /disagree/);
  });
});
