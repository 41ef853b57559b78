import { strict as assert } from 'assert';
import * as aq from 'arquero';
import { toMarkdown, toHtml, wideTable, paperVsOurs, showTable, tableMarkdown } from '../../lib/report/tables';
import { paperTable } from '../../lib/report/paper';

describe('report tables', () => {
  const long = aq.table({
    method: ['simclr', 'simclr', 'byol', 'byol', 'byol'],
    trainProportion: [0.15, 0.01, 0.01, 0.15, 0.45],
    value: [0.8071, 0.74, 0.764, 0.783, null],
  });

  it('toMarkdown formats numbers to the given digits, integers as is, missing as —', () => {
    const md = toMarkdown(aq.table({ name: ['a|b', 'c'], count: [3, 12], score: [0.12345, null] }), { digits: 2 });
    assert.equal(
      md,
      ['| name | count | score |', '| :--- | ---: | ---: |', '| a\\|b | 3 | 0.12 |', '| c | 12 | — |'].join('\n'),
    );
    assert.throws(() => toMarkdown(long, { columns: ['nope'] }), /no column "nope"/);
  });

  it('toHtml escapes text and keeps the same number format', () => {
    const html = toHtml(aq.table({ label: ['<x>'], v: [0.5] }), { digits: 1 });
    assert.ok(html.includes('<td>&lt;x&gt;</td>'));
    assert.ok(html.includes('<td style="text-align:right">0.5</td>'));
  });

  it('wideTable pivots method rows × proportion columns, numeric columns sorted, gaps null', () => {
    const wide = wideTable(long, {
      rows: ['method'],
      columns: 'trainProportion',
      value: 'value',
      columnLabel: (p) => `${Math.round(Number(p) * 100)}%`,
    });
    assert.deepEqual(wide.columnNames(), ['method', '1%', '15%', '45%']);
    assert.deepEqual(wide.objects(), [
      { method: 'simclr', '1%': 0.74, '15%': 0.8071, '45%': null },
      { method: 'byol', '1%': 0.764, '15%': 0.783, '45%': null },
    ]);
    const twice = long.concat(long);
    assert.throws(
      () => wideTable(twice, { rows: ['method'], columns: 'trainProportion', value: 'value' }),
      /two values for method=simclr, trainProportion=0.15/,
    );
  });

  it('wideTable reproduces the paper layout of Table 1 (ResNet-18 F1 row for SimCLR)', () => {
    const f1 = paperTable('table1')
      .params({ m: 'f1' })
      .filter(
        (d: { metric: string; backbone: string }, $: { m: string }) => d.metric === $.m && d.backbone === 'resnet18',
      );
    const wide = wideTable(f1, { rows: ['method'], columns: 'trainProportion', value: 'value' });
    const simclr = wide.objects().find((r) => (r as { method: string }).method === 'simclr');
    assert.deepEqual(simclr, {
      method: 'simclr',
      '0.01': 0.74,
      '0.02': 0.778,
      '0.05': 0.796,
      '0.15': 0.807,
      '0.45': 0.814,
    });
  });

  it('paperVsOurs joins on keys, keeps one-sided cells and computes ours − paper', () => {
    const ours = aq.table({
      method: ['simclr', 'byol', 'dino'],
      trainProportion: [0.01, 0.01, 0.01],
      f1: [0.7, 0.8, 0.5],
    });
    const paper = aq.table({
      method: ['byol', 'simclr', 'mae'],
      trainProportion: [0.01, 0.01, 0.01],
      value: [0.764, 0.74, null],
    });
    const joined = paperVsOurs(ours, paper, ['method', 'trainProportion'], { oursValue: 'f1' });
    assert.deepEqual(joined.columnNames(), ['method', 'trainProportion', 'ours', 'paper', 'diff']);
    const rows = joined.objects() as Array<{
      method: string;
      ours: number | null;
      paper: number | null;
      diff: number | null;
    }>;
    assert.deepEqual(
      rows.map((r) => r.method),
      ['simclr', 'byol', 'dino', 'mae'],
    );
    assert.ok(Math.abs((rows[0].diff ?? NaN) - (0.7 - 0.74)) < 1e-12);
    assert.ok(Math.abs((rows[1].diff ?? NaN) - (0.8 - 0.764)) < 1e-12);
    assert.deepEqual([rows[2].paper, rows[2].diff], [null, null]);
    assert.deepEqual([rows[3].ours, rows[3].paper, rows[3].diff], [null, null, null]);
    assert.throws(() => paperVsOurs(ours, paper, ['backbone']), /ours table has no column "backbone"/);
    assert.throws(
      () => paperVsOurs(ours.concat(ours), paper, ['method', 'trainProportion'], { oursValue: 'f1' }),
      /two rows for method=simclr/,
    );
  });

  it('showTable prints markdown outside Jupyter and says so', () => {
    const logged: unknown[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => {
      logged.push(...args);
    };
    try {
      assert.equal(
        showTable(long, { maxRows: 2, caption: 'demo' }),
        undefined,
        'a cell ending with showTable prints no value',
      );
      const markdown = tableMarkdown(long, { maxRows: 2, caption: 'demo' });
      assert.ok(markdown.startsWith('**demo**'));
      assert.ok(markdown.includes('(3 more rows not shown)'));
      assert.deepEqual(logged, [markdown]);
    } finally {
      console.log = original;
    }
  });
});
