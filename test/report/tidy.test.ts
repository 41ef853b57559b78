import { strict as assert } from 'assert';
import * as aq from 'arquero';
import { meanOverSeeds, paperOrder, rowsToTable, tableOf, whereEquals } from '../../lib/report/tidy';

describe('report/tidy', () => {
  it('meanOverSeeds: mean, count and sample sd per group, non-finite values dropped', () => {
    const table = aq.from([
      { g: 'x', value: 1 },
      { g: 'x', value: 3 },
      { g: 'y', value: 5 },
      { g: 'y', value: NaN },
      { g: 'z', value: Infinity },
    ]);
    const groups = meanOverSeeds(table, ['g']).objects() as Array<{ g: string; value: number; n: number; sd: number }>;
    assert.deepEqual(
      groups.map((a) => [a.g, a.value, a.n]),
      [
        ['x', 2, 2],
        ['y', 5, 1],
      ],
    );
    assert.ok(Math.abs(groups[0].sd - Math.SQRT2) < 1e-12);
    assert.equal(groups[1].sd, null);
  });

  it('meanOverSeeds sums then divides, as the hand-written mean did', () => {
    const values = [0.1, 0.7, 0.2, 0.9, 0.3];
    const table = aq.from(values.map((value) => ({ g: 'a', value })));
    const mean = (meanOverSeeds(table, ['g']).objects()[0] as { value: number }).value;
    assert.equal(mean, values.reduce((a, b) => a + b, 0) / values.length);
  });

  it('paperOrder: split, metric in the given order, ResNet-18 first, Supervised first, then numbers', () => {
    const records = [
      { split: 'val', metric: 'f1', backbone: 'vit_tiny', method: 'simclr', trainProportion: 0.45 },
      { split: 'val', metric: 'f2Ciw', backbone: 'resnet18', method: 'byol', trainProportion: 0.01 },
      { split: 'val', metric: 'f1', backbone: 'resnet18', method: 'simclr', trainProportion: 0.05 },
      { split: 'val', metric: 'f1', backbone: 'resnet18', method: 'supervised', trainProportion: 0.45 },
      { split: 'val', metric: 'f1', backbone: 'resnet18', method: 'simclr', trainProportion: 0.01 },
      { split: 'train', metric: 'f2Ciw', backbone: 'vit_tiny', method: 'mae', trainProportion: 0.15 },
    ];
    const ordered = paperOrder(aq.from(records), ['f2Ciw', 'f1']).objects() as typeof records;
    assert.deepEqual(
      ordered.map((r) => `${r.split} ${r.metric} ${r.backbone} ${r.method} ${r.trainProportion}`),
      [
        'train f2Ciw vit_tiny mae 0.15',
        'val f2Ciw resnet18 byol 0.01',
        'val f1 resnet18 supervised 0.45',
        'val f1 resnet18 simclr 0.01',
        'val f1 resnet18 simclr 0.05',
        'val f1 vit_tiny simclr 0.45',
      ],
    );
  });

  it('paperOrder keeps the input order of ties', () => {
    const records = ['c', 'a', 'b'].map((measure) => ({ method: 'simclr', epoch: 1, measure }));
    const ordered = paperOrder(aq.from(records), []).objects() as typeof records;
    assert.deepEqual(
      ordered.map((r) => r.measure),
      ['c', 'a', 'b'],
    );
  });

  it('tableOf and rowsToTable keep their columns without rows; whereEquals matches values and lists', () => {
    assert.deepEqual(tableOf([], ['a', 'b']).columnNames(), ['a', 'b']);
    assert.ok(rowsToTable([]).columnNames().includes('trainProportion'));
    assert.deepEqual(tableOf([{ a: 1 }], ['a', 'b']).objects(), [{ a: 1, b: null }]);
    const table = aq.from([
      { metric: 'f1', method: 'simclr' },
      { metric: 'f1', method: 'byol' },
      { metric: 'f2Ciw', method: 'simclr' },
    ]);
    assert.equal(whereEquals(table, { metric: 'f1' }).numRows(), 2);
    assert.equal(whereEquals(table, { metric: 'f1', method: ['byol', 'dino'] }).numRows(), 1);
    assert.throws(() => whereEquals(table, { backbone: 'resnet18' }), /no column "backbone"/);
  });
});
