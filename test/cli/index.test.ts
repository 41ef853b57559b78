import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { main, trainConfigFromFlags } from '../../lib/cli';
import { makeRunConfig } from '../../lib/methods/config';
import { collectRows, openRun, ResultRow } from '../../lib/runs/store';
import { tempDir } from '../experiments/helpers';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { log: (l) => (out += l + '\n'), err: (l) => (err += l + '\n') });
  return { code, out, err };
}

function row(runId: string, metric: string, value: number, extra: Partial<ResultRow> = {}): ResultRow {
  return {
    runId,
    method: 'simclr',
    backbone: 'resnet18',
    trainProportion: 0.05,
    evalProportion: 0.45,
    split: 'val',
    metric,
    value,
    seed: 42,
    threshold: 0,
    epoch: 2,
    dataset: 'synthetic',
    scale: 'smoke',
    imageSize: 32,
    ...extra,
  };
}

describe('ssl-ad CLI', () => {
  it('usage errors name the bad flag or value and the allowed ones', async () => {
    let r = await cli(['sweep', '--sclae', 'smoke']);
    assert.equal(r.code, 2);
    assert.match(r.err, /sweep: unknown flag --sclae; allowed: .*--scale/);
    r = await cli(['sweep', '--scale', 'huge']);
    assert.match(r.err, /huge is not a scale; use one of smoke, default, paper/);
    r = await cli(['sweep', '--backbones', 'resnet50']);
    assert.match(r.err, /--backbones: "resnet50" is not allowed; allowed: resnet18,vit_tiny/);
    r = await cli(['sweep', '--study', 'resolution', '--methods', 'simclr']);
    assert.match(r.err, /methods: "simclr" is not allowed; allowed: supervised/);
    r = await cli(['train', '--method', 'mae', '--backbone', 'resnet18']);
    assert.match(r.err, /MAE needs a ViT backbone/);
    r = await cli(['train', '--config', 'x.json', '--epochs', '3']);
    assert.match(r.err, /--config cannot be combined with --epochs/);
    r = await cli(['frobnicate']);
    assert.match(r.err, /unknown command "frobnicate"; allowed: train, sweep, eval, probe, status, export/);
    r = await cli(['sweep', '--workers']);
    assert.match(r.err, /--workers needs a value/);
  });

  it('train flags build the same config as makeRunConfig', () => {
    const fromFlags = trainConfigFromFlags({
      method: 'byol',
      backbone: 'vit_tiny',
      proportion: '0.02',
      scale: 'smoke',
      seed: '7',
      epochs: '3',
      override: '{"optimizer":{"lr":0.1}}',
    });
    const direct = makeRunConfig(
      { method: 'byol', backbone: 'vit_tiny', trainProportion: 0.02, seed: 7, epochs: 3, optimizer: { lr: 0.1 } },
      'smoke',
    );
    assert.deepEqual(fromFlags, direct);
  });

  it('sweep --dry-run lists the grid', async () => {
    const r = await cli([
      'sweep',
      '--study',
      'augmentation',
      '--scale',
      'smoke',
      '--dry-run',
      '--results',
      tempDir('dry'),
    ]);
    assert.equal(r.code, 0);
    assert.match(r.out, /augmentation at scale smoke: 4 runs/);
  });

  it('status shows each run with its state and reason, a dead running run as stale', async () => {
    const dir = tempDir('status');
    const a = openRun(dir, makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke'));
    a.setStatus({ state: 'done', epoch: 2 });
    const b = openRun(dir, makeRunConfig({ method: 'dino', backbone: 'resnet18', trainProportion: 0.01 }, 'smoke'));
    b.setStatus({ state: 'diverged', reason: 'loss is NaN at step 12', epoch: 1 });
    const c = openRun(dir, makeRunConfig({ method: 'byol', backbone: 'resnet18', trainProportion: 0.01 }, 'smoke'));
    c.setStatus({ state: 'running', epoch: 1 });
    const r = await cli(['status', '--results', dir]);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`${b.id}\\s+diverged\\s+1/2\\s+loss is NaN at step 12`));
    assert.match(r.out, new RegExp(`${c.id}\\s+running \\(stale\\)`));
    assert.match(r.out, /3 runs in .*: 1 running \(stale\), 1 diverged, 1 done/);
    const json = JSON.parse((await cli(['status', '--json', '--results', dir])).out) as Array<{
      runId: string;
      state: string;
    }>;
    assert.equal(json.length, 3);
  });

  it('export writes the tidy table of finished runs as CSV and Arrow that read back equal', async () => {
    const aq = require('arquero') as typeof import('arquero');
    const dir = tempDir('export');
    const done = openRun(
      dir,
      makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke'),
    );
    done.writeRows([
      row(done.id, 'f1', 0.25),
      row(done.id, 'auroc', 0.875, { split: 'train', evalProportion: 0.0512 }),
    ]);
    done.setStatus({ state: 'done' });
    const failed = openRun(
      dir,
      makeRunConfig({ method: 'byol', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke'),
    );
    failed.writeRows([row(failed.id, 'f1', 0.5)]);
    failed.setStatus({ state: 'failed', reason: 'boom' });
    const out = path.join(dir, 'export');
    const r = await cli(['export', '--results', dir, '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /2 rows/);
    const expected = collectRows(dir);
    assert.equal(expected.length, 2);
    const csv = aq.fromCSV(fs.readFileSync(path.join(out, 'tidy.csv'), 'utf8')).objects() as Array<
      Record<string, unknown>
    >;
    const arrow = aq.fromArrow(new Uint8Array(fs.readFileSync(path.join(out, 'tidy.arrow')))).objects() as Array<
      Record<string, unknown>
    >;
    for (const table of [csv, arrow]) {
      assert.equal(table.length, 2);
      table.forEach((t, i) => {
        for (const key of ['runId', 'split', 'metric', 'value', 'evalProportion', 'seed'] as const)
          assert.equal(t[key], expected[i][key], `${key} of row ${i}`);
      });
    }
    assert.match(
      r.err + (await cli(['export', '--format', 'parquet', '--results', dir])).err,
      /--format: "parquet" is not allowed; allowed: csv,arrow/,
    );
  });

  it('export --grids keeps only the runs of the named grids at the scale', async () => {
    const dir = tempDir('export-grids');
    const inGrid = openRun(
      dir,
      makeRunConfig({ method: 'simclr', backbone: 'resnet18', trainProportion: 0.05 }, 'smoke'),
    );
    const offGrid = openRun(
      dir,
      makeRunConfig(
        { method: 'simclr', backbone: 'resnet18', trainProportion: 0.05, probe: { standardize: false } },
        'smoke',
      ),
    );
    for (const run of [inGrid, offGrid]) {
      run.writeRows([row(run.id, 'f1', 0.25)]);
      run.setStatus({ state: 'done' });
    }
    const out = path.join(dir, 'export');
    let r = await cli([
      'export',
      '--results',
      dir,
      '--out',
      out,
      '--grids',
      'ssl,resolution',
      '--scale',
      'smoke',
      '--format',
      'csv',
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /1 rows .*runs of the ssl, resolution grids/);
    assert.match(fs.readFileSync(path.join(out, 'tidy.csv'), 'utf8'), new RegExp(inGrid.id));
    assert.doesNotMatch(fs.readFileSync(path.join(out, 'tidy.csv'), 'utf8'), new RegExp(offGrid.id));
    r = await cli([
      'export',
      '--results',
      dir,
      '--out',
      out,
      '--grids',
      'ssl',
      '--scale',
      'default',
      '--format',
      'csv',
    ]);
    assert.match(r.out, /0 rows/);
    // The ssl grid carries the scale's extra seeds; the learning curve is a grid of its own.
    const seeded = openRun(
      dir,
      makeRunConfig({ method: 'dino', backbone: 'resnet18', trainProportion: 0.01, seed: 43 }, 'default'),
    );
    const longer = openRun(
      dir,
      makeRunConfig({ method: 'byol', backbone: 'resnet18', trainProportion: 0.45, epochs: 8 }, 'default'),
    );
    for (const run of [seeded, longer]) {
      run.writeRows([row(run.id, 'f1', 0.5)]);
      run.setStatus({ state: 'done' });
    }
    const exported = async (grids: string) => {
      const res = await cli(['export', '--results', dir, '--out', out, '--grids', grids, '--scale', 'default']);
      assert.equal(res.code, 0, res.err);
      return fs.readFileSync(path.join(out, 'tidy.csv'), 'utf8');
    };
    let csv = await exported('ssl');
    assert.match(csv, new RegExp(seeded.id));
    assert.doesNotMatch(csv, new RegExp(longer.id));
    csv = await exported('learning-curve');
    assert.match(csv, new RegExp(longer.id));
    assert.doesNotMatch(csv, new RegExp(seeded.id));
    r = await cli(['export', '--results', dir, '--grids', 'sweeps']);
    assert.match(
      r.err,
      /--grids: "sweeps" is not allowed; allowed: ssl,resolution,augmentation,fashion-mnist,learning-curve/,
    );
    r = await cli(['export', '--results', dir, '--scale', 'smoke']);
    assert.match(r.err, /--scale selects the grids of --grids; give --grids too/);
  });
});
