/**
 * Kill-and-resume with the REAL trainer (lib/train/run.ts) at the smoke scale: start a sweep of two
 * tiny runs (supervised and SimCLR, two workers) in its own process group, kill -9 the whole group once a
 * checkpoint exists, rerun, and check that every run is done and every (runId, split, evalProportion, metric)
 * is present exactly once.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { collectRows, listRuns } from '../../lib/runs/store';
import { groupAlive, REAL_TRAINER, rowKey, runCli, spawnCli, tempDir, waitFor } from './helpers';
import { expectedRealKeys, realConfigs, realRowKey, realSweepArgs } from './realSweep';

describe('sweep with the real trainer', function () {
  this.timeout(300000);

  before(function () {
    if (!fs.existsSync(REAL_TRAINER)) {
      console.log('    (skipped: lib/train/run.ts is missing; this test needs the real trainer)');
      this.skip();
    }
  });

  it('kill -9 of the sweep group mid-run, then a rerun: every run done, every row exactly once', async () => {
    const { TABLE_METRICS } = require('../../lib/train/run') as { TABLE_METRICS: readonly string[] };
    const dir = tempDir('real-kill');
    const args = [...realSweepArgs('supervised,simclr', '0.45'), '--workers', '2', '--results', dir];
    const configs = realConfigs(['supervised', 'simclr'], [0.45]);
    const sweep = spawnCli(args, { detached: true });
    await waitFor(
      () => listRuns(dir).some((r) => fs.existsSync(r.checkpointDir) && fs.readdirSync(r.checkpointDir).length > 0),
      240000,
      `a first checkpoint (sweep output: ${sweep.output()})`,
    );
    process.kill(-sweep.child.pid!, 'SIGKILL');
    await waitFor(() => !groupAlive(sweep.child.pid!), 10000, 'the process group to die');
    const states = listRuns(dir).map((r) => r.status().state);
    assert.ok(
      states.filter((s) => s === 'done').length < states.length,
      `the kill came before the end (${states.join(', ')})`,
    );

    const rerun = await runCli(args);
    assert.equal(rerun.code, 0, rerun.output);
    for (const run of listRuns(dir))
      assert.equal(run.status().state, 'done', `${run.id}: ${run.status().reason ?? ''}`);
    const rows = collectRows(dir);
    const exact = rows.map(rowKey);
    assert.equal(new Set(exact).size, exact.length, 'no (runId, split, evalProportion, metric) twice');
    assert.deepEqual(rows.map(realRowKey).sort(), expectedRealKeys(configs, TABLE_METRICS));
    for (const r of rows.filter((row) => row.split === 'train'))
      assert.ok(Math.abs(r.evalProportion - r.trainProportion) < 0.05, `${r.runId} train split at ${r.evalProportion}`);
  });
});
