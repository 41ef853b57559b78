import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { main } from '../../lib/cli';
import { makeRunConfig } from '../../lib/methods/config';
import type { BackboneName, MethodName, RunOverrides } from '../../lib/runs/config';
import { openRun } from '../../lib/runs/store';
import { FROZEN_PROBE_L2, currentFrozenProbe, frozenLinearProbe, readFrozenProbe } from '../../lib/train/frozen';
import { runExperiment } from '../../lib/train/run';

describe('linear evaluation on frozen features', function () {
  this.timeout(600000);
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-frozen-'));
  const SMALL: RunOverrides & { method: MethodName; backbone: BackboneName } = {
    method: 'simclr',
    backbone: 'vit_tiny',
    trainProportion: 0.15,
    evalProportions: [0.15, 0.45],
    epochs: 1,
    batchSize: 8,
    monitorSamples: 16,
  };
  const config = makeRunConfig(SMALL, 'smoke');

  after(() => fs.rmSync(resultsDir, { recursive: true, force: true }));

  it('refuses an unfinished run unless asked for the random-initialisation baseline', async () => {
    await assert.rejects(
      frozenLinearProbe(config, { resultsDir }),
      /has no backbone\.safetensors: the run has not finished/,
    );
    const baseline = await frozenLinearProbe(config, { resultsDir, randomInit: true });
    assert.equal(baseline.backbone, 'random-init');
    assert.equal(baseline.backboneDrift, 0, 'the untrained backbone is its initialisation');
    assert.deepEqual(readFrozenProbe(openRun(resultsDir, config).dir, true), JSON.parse(JSON.stringify(baseline)));
    assert.equal(readFrozenProbe(openRun(resultsDir, config).dir), null);
  });

  it('fits a finished run’s features with their own labels and scores every validation proportion', async () => {
    const status = await runExperiment(config, { resultsDir, quiet: true });
    assert.equal(status.state, 'done', status.reason);
    const result = await frozenLinearProbe(config, { resultsDir });
    assert.ok(result.converged, `not converged after ${result.iterations} iterations`);
    assert.equal(result.featureDim, 192);
    // The final drift is the last epoch's logged drift: both measure the saved backbone against the seed's init.
    const logged = openRun(resultsDir, config)
      .log<{ kind: string; backbone_drift: number }>()
      .filter((r) => r.kind === 'epoch')
      .pop()!.backbone_drift;
    assert.ok(
      result.backboneDrift! > 0 && Math.abs(result.backboneDrift! - logged) < 1e-5,
      `drift ${result.backboneDrift} vs logged ${logged}`,
    );
    // 192 features for a few dozen training images: a fit that sees the right labels separates them; one whose
    // labels were shuffled against the features would not.
    assert.ok(result.train.auroc > 0.95, `train AUROC ${result.train.auroc}`);
    assert.deepEqual(
      result.val.map((v) => v.proportion),
      [0.15, 0.45],
    );
    for (const v of result.val)
      assert.ok(v.metrics.auroc >= 0 && v.metrics.auroc <= 1 && v.metrics.f1 >= 0 && v.metrics.f1 <= 1);
    assert.equal(readFrozenProbe(openRun(resultsDir, config).dir)!.val[1].metrics.f1, result.val[1].metrics.f1);
    // The penalty is the cross-validated one: the best mean held-out AUROC of the grid.
    const selection = result.l2Selection!;
    assert.ok(selection.folds >= 2, JSON.stringify(selection));
    const best = selection.scores.reduce((a, b) => (b.auroc > a.auroc + 1e-12 ? b : a));
    assert.equal(result.l2, best.l2);
  });

  it('falls back to the fixed penalty, with no folds, when the training set has fewer than 2 of a class', async () => {
    // 1 % of the smoke training images: a single defect, nothing to cross-validate.
    const rare = makeRunConfig({ ...SMALL, trainProportion: 0.01 }, 'smoke');
    const result = await frozenLinearProbe(rare, { resultsDir, randomInit: true });
    assert.equal(result.train.tp + result.train.fn, 1, `training defects: ${result.train.tp + result.train.fn}`);
    assert.equal(result.l2, FROZEN_PROBE_L2);
    assert.deepEqual(result.l2Selection, { l2: FROZEN_PROBE_L2, folds: 0, scores: [] });
    assert.ok(readFrozenProbe(openRun(resultsDir, rare).dir, true, { crossValidated: true }), 'read as current');
  });

  it('keeps a penalty the caller fixes, which readers asking for the cross-validated one refit', async () => {
    const fixed = await frozenLinearProbe(config, { resultsDir, l2: 0.5 });
    assert.equal(fixed.l2, 0.5);
    assert.equal(fixed.l2Selection, undefined);
    const dir = openRun(resultsDir, config).dir;
    assert.equal(readFrozenProbe(dir)!.l2, 0.5);
    assert.equal(readFrozenProbe(dir, false, { crossValidated: true }), null);
    const file = path.join(dir, 'frozen_probe.json');
    const stale = { ...fixed, l2Selection: { l2: 0.01, folds: 5, scores: [{ l2: 0.01, auroc: 0.5 }] } };
    fs.writeFileSync(file, JSON.stringify(stale));
    assert.equal(readFrozenProbe(dir, false, { crossValidated: true }), null, 'another grid than L2_GRID');
    const refitted = await currentFrozenProbe(config, { resultsDir });
    assert.ok(refitted.fitted && refitted.result.l2Selection, 'the stale result is refitted with CV');
    const again = await currentFrozenProbe(config, { resultsDir });
    assert.equal(again.fitted, false);
    assert.deepEqual(again.result, JSON.parse(JSON.stringify(refitted.result)));
  });

  it('ssl-ad probe prints the online and frozen scores of a run, and rejects a bad --l2', async () => {
    let out = '';
    let err = '';
    const io = { log: (l: string) => (out += l + '\n'), err: (l: string) => (err += l + '\n') };
    const id = openRun(resultsDir, config).id;
    assert.equal(await main(['probe', '--run', id, '--results', resultsDir], io), 0, err);
    assert.match(out, new RegExp(`${id}\\s+[0-9.]+\\s+[0-9.]+ \\|\\s+[0-9.]+\\s+[0-9.]+ \\|\\s+0\\.[0-9]{3}`));
    assert.match(out, /\| drift/);
    assert.match(out, /l2 0\.0+1 by CV/);
    assert.equal(await main(['probe', '--run', id, '--l2', '-1', '--results', resultsDir], io), 2);
    assert.match(err, /--l2 must be a positive number, got "-1"/);
    assert.equal(await main(['probe', '--run', 'nope', '--results', resultsDir], io), 2);
    assert.match(err, /no run "nope" under/);
  });
});
