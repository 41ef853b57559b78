/**
 * Checks data/paper/*.json against the paper text itself: the markdown is parsed here,
 * independently of data/paper/transcribe.ts (which holds typed rows), so a wrong digit in
 * either place fails.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { paperCells, paperTable, allPaperCells, PaperCell } from '../../lib/report/paper';

const PAPER_MD = '/work/shared/paper/anomaly-detection-in-the-wild.md';
const PROPORTIONS = [0.01, 0.02, 0.05, 0.15, 0.45];
const haveText = fs.existsSync(PAPER_MD);

/** Plain decimals in a markdown table cell, ignoring labels such as "1%" or "<b>BYOL</b>". */
function decimals(cellText: string): number[] {
  return (cellText.match(/(?<![\d.%])\d+\.\d+(?![\d%])/g) ?? []).map(Number);
}

function linesBetween(lines: string[], start: RegExp, end: RegExp, from = 0): string[] {
  const first = lines.findIndex((l, i) => i >= from && start.test(l));
  assert.ok(first >= 0, `paper text: no line matches ${start}`);
  const last = lines.findIndex((l, i) => i > first && end.test(l));
  assert.ok(last > first, `paper text: no line matches ${end} after ${start}`);
  return lines.slice(first + 1, last);
}

function lookup(cells: PaperCell[], where: Partial<PaperCell>): PaperCell {
  const found = cells.filter((c) => (Object.keys(where) as Array<keyof PaperCell>).every((k) => c[k] === where[k]));
  assert.equal(found.length, 1, `expected one cell for ${JSON.stringify(where)}, found ${found.length}`);
  return found[0];
}

(haveText ? describe : describe.skip)('paper numbers (data/paper) against the paper text', () => {
  const lines = haveText ? fs.readFileSync(PAPER_MD, 'utf8').split('\n') : [];

  it('Table 1: every cell, with the merged ResNet-18 SSL rows mapped to BYOL, Barlow, DINO, SimCLR', () => {
    const cells = paperCells('table1');
    const body = linesBetween(lines, /RESNET-18\s+VIT-TINY/, /^<span id="page-3-0">/);
    const rows = body.filter((l) => decimals(l).length > 0);
    // Per metric: one Supervised line, then one line with the SSL methods merged per column.
    assert.equal(rows.length, 6);
    const metrics = ['f1', 'f2Ciw', 'f1Normal'];
    let checked = 0;
    metrics.forEach((metric, m) => {
      const supervised = decimals(rows[2 * m]);
      assert.equal(supervised.length, 10);
      const merged = rows[2 * m + 1].split('\t').filter((c) => decimals(c).length > 0);
      assert.equal(merged.length, 10, `merged ${metric} row should have 10 columns`);
      for (let col = 0; col < 10; col++) {
        const backbone = col < 5 ? 'resnet18' : 'vit_tiny';
        const trainProportion = PROPORTIONS[col % 5];
        assert.equal(lookup(cells, { metric, method: 'supervised', backbone, trainProportion }).value, supervised[col]);
        const methods =
          backbone === 'resnet18' ? ['byol', 'barlow', 'dino', 'simclr'] : ['byol', 'barlow', 'dino', 'mae', 'simclr'];
        const values = decimals(merged[col]);
        assert.equal(values.length, methods.length, `${metric} column ${col}: ${merged[col]}`);
        methods.forEach((method, i) => {
          assert.equal(
            lookup(cells, { metric, method, backbone, trainProportion }).value,
            values[i],
            `${metric} ${backbone} ${method} ${trainProportion}`,
          );
          checked++;
        });
        assert.equal(lookup(cells, { metric, method: 'mae', backbone: 'resnet18', trainProportion }).value, null);
      }
    });
    assert.equal(checked, 3 * 5 * 9);
  });

  it('Table 1 matches the text: SimCLR best on ResNet-18 above 5 %, BYOL best F2_CIW at 1 %, DINO poor at 1-2%', () => {
    const f1 = paperCells('table1').filter(
      (c) => c.metric === 'f1' && c.backbone === 'resnet18' && c.method !== 'supervised' && c.value !== null,
    );
    for (const p of [0.05, 0.15, 0.45]) {
      const best = f1.filter((c) => c.trainProportion === p).sort((a, b) => (b.value ?? 0) - (a.value ?? 0))[0];
      assert.equal(best.method, 'simclr', `best SSL F1 at ${p}`);
    }
    const f2At1 = paperCells('table1').filter(
      (c) => c.metric === 'f2Ciw' && c.trainProportion === 0.01 && c.method !== 'supervised' && c.value !== null,
    );
    assert.equal(f2At1.sort((a, b) => (b.value ?? 0) - (a.value ?? 0))[0].method, 'byol');
    assert.ok((lookup(f1, { method: 'dino', trainProportion: 0.01 }).value ?? 1) < 0.1);
  });

  it('Table 2: F1 per resolution and time per epoch', () => {
    const line = lines.find((l) => /ViT-Tiny .* ResNet-18 .* Time\/Epoch/.test(l));
    assert.ok(line, 'Table 2 line not found');
    const vit = decimals(line.split('ResNet-18')[0]);
    const resnet = decimals(line.split('ResNet-18')[1].split('Time/Epoch')[0]);
    const minutes = (line.split('Time/Epoch')[1].match(/\d+m/g) ?? []).map((s) => Number(s.slice(0, -1)));
    const cells = paperCells('table2');
    [64, 128, 224, 384, 512].forEach((resolution, i) => {
      assert.equal(lookup(cells, { metric: 'f1', backbone: 'vit_tiny', resolution }).value, vit[i]);
      assert.equal(lookup(cells, { metric: 'f1', backbone: 'resnet18', resolution }).value, resnet[i]);
      assert.equal(lookup(cells, { metric: 'timePerEpochMinutes', resolution }).value, minutes[i]);
    });
  });

  it('Table 3 (ResNet-18, merged SSL rows) and Table 4 (ViT-Tiny, one line per method): every cell', () => {
    const metrics = ['precision', 'recall', 'f1', 'f2Ciw', 'f1Normal'];
    const table3Start = lines.findIndex((l) => l.startsWith('Table 3:'));
    const t3rows = linesBetween(lines, /^Table 3:/, /^\s*<b>TRAIN<\/b>/, 0).filter((l) => decimals(l).length > 0);
    assert.equal(t3rows.length, 10);
    const t3 = paperCells('table3');
    metrics.forEach((metric, m) => {
      const supervised = decimals(t3rows[2 * m]);
      const merged = t3rows[2 * m + 1]
        .split('\t')
        .filter((c) => decimals(c).length > 0)
        .map(decimals);
      assert.equal(supervised.length, 10);
      assert.equal(merged.length, 10);
      for (let col = 0; col < 10; col++) {
        const where = {
          metric,
          split: col < 5 ? ('train' as const) : ('val' as const),
          trainProportion: PROPORTIONS[col % 5],
        };
        assert.equal(lookup(t3, { ...where, method: 'supervised' }).value, supervised[col]);
        ['byol', 'barlow', 'dino', 'simclr'].forEach((method, i) => {
          assert.equal(lookup(t3, { ...where, method }).value, merged[col][i], `table3 ${metric} ${method} col ${col}`);
        });
      }
    });
    const t4rows = linesBetween(lines, /^\s*<b>TRAIN<\/b>/, /^Table 4:/, table3Start).filter(
      (l) => decimals(l).length === 10,
    );
    assert.equal(t4rows.length, 30);
    const t4 = paperCells('table4');
    const labels: Record<string, string> = {
      Supervised: 'supervised',
      BYOL: 'byol',
      'Barlow Twins': 'barlow',
      DINO: 'dino',
      MAE: 'mae',
      SimCLR: 'simclr',
    };
    t4rows.forEach((line, r) => {
      const metric = metrics[Math.floor(r / 6)];
      const label = Object.keys(labels).find((name) => line.includes(`\t${name}\t`) || line.includes(`<b>${name}</b>`));
      assert.ok(label, `no method label in: ${line}`);
      decimals(line).forEach((value, col) => {
        const where = {
          metric,
          method: labels[label],
          split: col < 5 ? ('train' as const) : ('val' as const),
          trainProportion: PROPORTIONS[col % 5],
        };
        assert.equal(lookup(t4, where).value, value, `table4 ${JSON.stringify(where)}`);
      });
    });
  });

  it('Figure 2: every legible heatmap cell (percent → fraction), the illegible one null', () => {
    const rows = linesBetween(lines, /F1 Score vs\. Methods/, /^Figure 2:/).filter((l) => /\d+\.\d/.test(l));
    assert.equal(rows.length, 15);
    const cells = paperCells('figure2');
    const methods = ['mae', 'simclr', 'supervised'];
    const metrics = ['f1', 'f2Ciw', 'f1Normal'];
    let nulls = 0;
    rows.forEach((line, r) => {
      // Keep purely numeric tab cells: labels such as "MAE 1%" or "2%" carry a percent sign.
      const numbers = line
        .split('\t')
        .map((c) => c.trim())
        .filter((c) => /^\d+\.\d*$/.test(c));
      assert.equal(numbers.length, 15, `figure 2 row ${r}: ${line}`);
      numbers.forEach((text, i) => {
        const cell = lookup(cells, {
          metric: metrics[Math.floor(i / 5)],
          method: methods[Math.floor(r / 5)],
          trainProportion: PROPORTIONS[r % 5],
          evalProportion: PROPORTIONS[i % 5],
        });
        if (/\.$/.test(text)) {
          assert.equal(cell.value, null, `"${text}" is illegible and should be null`);
          nulls++;
        } else {
          assert.ok(
            cell.value !== null && Math.abs(cell.value - Number(text) / 100) < 1e-12,
            `${text} vs ${cell.value}`,
          );
        }
      });
    });
    assert.equal(nulls, 1);
  });
});

describe('paper tables (arquero)', () => {
  it('loads every table with the same columns and the expected sizes', () => {
    const sizes = { table1: 180, table2: 15, table3: 250, table4: 300, figure2: 225 };
    for (const [name, rows] of Object.entries(sizes)) {
      const t = paperTable(name as keyof typeof sizes);
      assert.equal(t.numRows(), rows, name);
      assert.deepEqual(t.columnNames(), [
        'table',
        'metric',
        'method',
        'backbone',
        'split',
        'trainProportion',
        'evalProportion',
        'resolution',
        'value',
        'note',
      ]);
    }
    assert.equal(allPaperCells().numRows(), 970);
  });

  it('Table 1 equals the VAL half of Tables 3 and 4 (the paper is self-consistent)', () => {
    const appendix = [...paperCells('table3'), ...paperCells('table4')];
    for (const c of paperCells('table1').filter((cell) => cell.value !== null)) {
      const twin = lookup(appendix, {
        metric: c.metric,
        method: c.method,
        backbone: c.backbone,
        split: 'val',
        trainProportion: c.trainProportion,
      });
      assert.equal(twin.value, c.value);
    }
  });

  it('rejects an unknown table and a malformed file with a message naming them', () => {
    assert.throws(() => paperTable('table9' as 'table1'), /unknown table "table9"/);
    const dir = fs.mkdtempSync('/tmp/paper-json-');
    fs.writeFileSync(`${dir}/table1.json`, JSON.stringify({ cells: [{ table: 'table1', metric: 'f1' }] }));
    assert.throws(() => paperTable('table1', dir), /table1\.json: cells\[0\] lacks field "method"/);
    fs.rmSync(dir, { recursive: true });
  });
});
