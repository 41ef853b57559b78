/**
 * The sweep's scheduling against a stand-in trainer (test/experiments/fakeTrainer.ts, same files and
 * contract as lib/train/run.ts, milliseconds per epoch), through the real CLI in child processes:
 * failures are recorded and do not stop the sweep, reruns skip finished work, and kill -9 of the sweep's
 * process group or of one worker leaves a state that a rerun finishes with every row exactly once.
 * sweep.real.test.ts repeats the kill-and-resume check with the real trainer.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import { RunConfig } from '../../lib/runs/config';
import { runId } from '../../lib/runs/id';
import { sslGrid } from '../../lib/experiments/grid';
import { readLock } from '../../lib/experiments/lock';
import { collectRows, listRuns, RunRecord } from '../../lib/runs/store';
import * as os from 'os';
import { nativeThreadsPerWorker, runSweep, WorkerTask } from '../../lib/experiments/sweep';
import { FAKE_METRICS, fakeValue } from './fakeTrainer';
import { FAKE_TRAINER, groupAlive, rowKey, runCli, spawnCli, tempDir, waitFor } from './helpers';

const SWEEP_ARGS = [
  'sweep',
  '--study',
  'ssl',
  '--scale',
  'smoke',
  '--methods',
  'supervised,simclr',
  '--backbones',
  'resnet18',
  '--proportions',
  '0.05,0.45',
  '--workers',
  '2',
];

function expectedKeys(configs: RunConfig[]): string[] {
  const keys: string[] = [];
  for (const c of configs) {
    const id = runId(c);
    for (const m of FAKE_METRICS) keys.push(`${id}|train|${c.trainProportion}|${m}`);
    for (const p of c.evalProportions) for (const m of FAKE_METRICS) keys.push(`${id}|val|${p}|${m}`);
  }
  return keys.sort();
}

function checkEveryRowOnce(dir: string, configs: RunConfig[]): void {
  const rows = collectRows(dir);
  const keys = rows.map(rowKey).sort();
  assert.equal(new Set(keys).size, keys.length, 'no (runId, split, evalProportion, metric) twice');
  assert.deepEqual(keys, expectedKeys(configs));
  for (const r of rows) assert.equal(r.value, fakeValue(r.runId, r.split, r.evalProportion, r.metric));
  for (const run of listRuns(dir)) assert.equal(run.status().state, 'done', `${run.id} is done`);
}

describe('sweep (stand-in trainer, real worker processes)', function () {
  this.timeout(120000);
  const env = { SSLAD_TRAINER_MODULE: FAKE_TRAINER, FAKE_EPOCH_MS: '300' };
  const configs = sslGrid({
    scale: 'smoke',
    methods: ['supervised', 'simclr'],
    backbones: ['resnet18'],
    proportions: [0.05, 0.45],
    overrides: { epochs: 4 },
  });

  it(
    'records failed and diverged runs with their reasons, ' + 'finishes the rest, and a rerun skips finished work',
    async () => {
      const dir = tempDir('sweep-fail');
      const failing = sslGrid({
        scale: 'smoke',
        methods: ['supervised'],
        backbones: ['resnet18'],
        proportions: [0.05],
        seeds: [13, 14, 42],
      });
      const { code, output } = await runCli(
        [
          'sweep',
          '--study',
          'ssl',
          '--scale',
          'smoke',
          '--methods',
          'supervised',
          '--backbones',
          'resnet18',
          '--proportions',
          '0.05',
          '--seeds',
          '13,14,42',
          '--results',
          dir,
        ],
        { ...env, FAKE_EPOCH_MS: '50' },
      );
      assert.equal(code, 1, 'a sweep with a failed run exits 1');
      const byId = new Map(listRuns(dir).map((r) => [r.id, r.status()]));
      assert.equal(byId.size, 3);
      assert.equal(byId.get(runId(failing[0]))?.state, 'failed');
      assert.match(byId.get(runId(failing[0]))?.reason ?? '', /fake failure at epoch 1/);
      assert.equal(byId.get(runId(failing[1]))?.state, 'diverged');
      assert.match(byId.get(runId(failing[1]))?.reason ?? '', /NaN/);
      assert.equal(byId.get(runId(failing[2]))?.state, 'done');
      assert.match(output, /1 done, 1 failed, 1 diverged/);

      // Rerun without retrying failures: nothing is started, the done run's files are untouched.
      const doneRun = listRuns(dir).find((r) => r.status().state === 'done')!;
      const before = fs.statSync(doneRun.statusFile).mtimeMs;
      const again = await runCli(
        [
          'sweep',
          '--study',
          'ssl',
          '--scale',
          'smoke',
          '--methods',
          'supervised',
          '--backbones',
          'resnet18',
          '--proportions',
          '0.05',
          '--seeds',
          '13,14,42',
          '--no-retry-failed',
          '--results',
          dir,
        ],
        env,
      );
      assert.match(again.output, /3\/3 finished \(0 done now, 3 before\)/);
      assert.equal(fs.statSync(doneRun.statusFile).mtimeMs, before);
    },
  );

  it('kill -9 of the sweep and its workers, then a rerun: every run done, every row exactly once', async () => {
    const dir = tempDir('sweep-kill');
    const sweep = spawnCli([...SWEEP_ARGS, '--override', '{"epochs":4}', '--results', dir], { env, detached: true });
    const runs = () => listRuns(dir);
    // Kill as soon as some run has a checkpoint and none is finished: the worst moment for bookkeeping.
    await waitFor(
      () => runs().some((r) => fs.existsSync(`${r.checkpointDir}/epoch.json`)),
      60000,
      'a first checkpoint',
    );
    process.kill(-sweep.child.pid!, 'SIGKILL');
    await waitFor(() => !groupAlive(sweep.child.pid!), 10000, 'the process group to die');
    const states = runs().map((r) => r.status().state);
    assert.ok(states.includes('running'), `a stale running status is left behind (${states.join(', ')})`);
    assert.ok(states.filter((s) => s === 'done').length < configs.length, 'the kill came before the end');

    const rerun = await runCli([...SWEEP_ARGS, '--override', '{"epochs":4}', '--results', dir], env);
    assert.equal(rerun.code, 0, rerun.output);
    checkEveryRowOnce(dir, configs);
    // The resumed run continued from its checkpoint: its log holds each epoch once.
    for (const run of runs())
      assert.deepEqual(
        run.log<{ epoch: number }>().map((r) => r.epoch),
        [1, 2, 3, 4],
        run.id,
      );
  });

  it(
    'kill -9 of one worker is recorded as a resumable failure; ' + 'the sweep goes on and a rerun finishes it',
    async () => {
      const dir = tempDir('sweep-worker');
      const sweep = spawnCli([...SWEEP_ARGS, '--override', '{"epochs":4}', '--results', dir], { env });
      let victim: RunRecord | undefined;
      await waitFor(
        () => {
          victim = listRuns(dir).find((r) => readLock(r.dir)?.info && r.status().state === 'running');
          return victim !== undefined;
        },
        60000,
        'a running worker',
      );
      process.kill(readLock(victim!.dir)!.info!.pid, 'SIGKILL');
      assert.equal(await sweep.exit, 1, sweep.output());
      const status = victim!.status();
      assert.equal(status.state, 'failed');
      assert.match(status.reason ?? '', /killed by SIGKILL.*resumable/);
      assert.equal(
        listRuns(dir).filter((r) => r.status().state === 'done').length,
        configs.length - 1,
        'the other runs finished',
      );
      const rerun = await runCli([...SWEEP_ARGS, '--override', '{"epochs":4}', '--results', dir], env);
      assert.equal(rerun.code, 0, rerun.output);
      checkEveryRowOnce(dir, configs);
    },
  );

  it('kill -9 of the sweep alone: its orphaned workers notice and stop, leaving resumable runs', async () => {
    const dir = tempDir('sweep-orphans');
    const sweep = spawnCli([...SWEEP_ARGS, '--override', '{"epochs":40}', '--results', dir], { env });
    await waitFor(() => listRuns(dir).filter((r) => readLock(r.dir)?.info).length === 2, 60000, 'two running workers');
    const workerPids = listRuns(dir)
      .map((r) => readLock(r.dir)?.info?.pid)
      .filter((p): p is number => p !== undefined);
    sweep.child.kill('SIGKILL');
    await waitFor(() => workerPids.every((pid) => !processAlive(pid)), 15000, 'the orphaned workers to exit');
    const stopped = listRuns(dir).filter((r) =>
      /interrupted: the sweep \(pid \d+\) is gone/.test(r.status().reason ?? ''),
    );
    assert.equal(stopped.length, 2);
    assert.ok(stopped.every((r) => r.status().state === 'pending' && readLock(r.dir) === null));
  });

  it('waits for a run another process is training instead of starting it twice', async () => {
    const dir = tempDir('sweep-wait');
    const one = configs.slice(0, 1);
    // A foreign worker already trains the run (its own lock); the sweep must not launch a second one.
    const foreign = spawnCli(
      [
        'train',
        '--method',
        one[0].method,
        '--backbone',
        one[0].backbone,
        '--proportion',
        String(one[0].trainProportion),
        '--scale',
        'smoke',
        '--epochs',
        '4',
        '--results',
        dir,
      ],
      { env },
    );
    await waitFor(
      () => listRuns(dir).some((r) => readLock(r.dir) !== null),
      30000,
      'the foreign worker to lock the run',
    );
    let launched = 0;
    const summary = await runSweep(one, {
      resultsDir: dir,
      workers: 1,
      pollMs: 200,
      log: null,
      launch: () => {
        launched += 1;
        return { done: Promise.resolve({ exitCode: 1, signal: null, tail: 'must not run' }), kill: () => undefined };
      },
    });
    assert.equal(await foreign.exit, 0, foreign.output());
    assert.equal(launched, 0);
    assert.equal(summary.counts.done, 1);
    checkEveryRowOnce(dir, one);
  });

  it(
    'the sweep command waits for a run held by another process, prints ' +
      'its summary and exits 0 with the rows in place',
    async () => {
      const dir = tempDir('sweep-wait-cli');
      const one = configs.slice(0, 1);
      const foreign = spawnCli(
        [
          'train',
          '--method',
          one[0].method,
          '--backbone',
          one[0].backbone,
          '--proportion',
          String(one[0].trainProportion),
          '--scale',
          'smoke',
          '--epochs',
          '4',
          '--results',
          dir,
        ],
        { env: { ...env, FAKE_EPOCH_MS: '1500' } },
      );
      await waitFor(
        () => listRuns(dir).some((r) => readLock(r.dir) !== null),
        30000,
        'the foreign worker to lock the run',
      );
      // Before the fix the sweep's only timer was unref'd: Node exited with code 0 and no summary after a second.
      const sweep = await runCli(
        [
          'sweep',
          '--study',
          'ssl',
          '--scale',
          'smoke',
          '--methods',
          one[0].method,
          '--backbones',
          one[0].backbone,
          '--proportions',
          String(one[0].trainProportion),
          '--override',
          '{"epochs":4}',
          '--results',
          dir,
        ],
        env,
      );
      assert.match(sweep.output, /waiting for it/);
      assert.match(sweep.output, /\[sweep\] finished after .*: 1 done/, sweep.output);
      assert.equal(sweep.code, 0, sweep.output);
      assert.equal(await foreign.exit, 0, foreign.output());
      checkEveryRowOnce(dir, one);
    },
  );
});

describe('sweep threads for the native kernels', () => {
  it('shares the cores out among the workers, at least one thread each', () => {
    assert.equal(nativeThreadsPerWorker(2, 2), 1);
    assert.equal(nativeThreadsPerWorker(2, 1), 2);
    assert.equal(nativeThreadsPerWorker(16, 3), 5);
    assert.equal(nativeThreadsPerWorker(2, 8), 1);
  });

  it('hands each worker its thread count', async () => {
    const dir = tempDir('sweep-threads');
    const one = sslGrid({ scale: 'smoke', methods: ['supervised'], backbones: ['resnet18'], proportions: [0.05] });
    const tasks: WorkerTask[] = [];
    await runSweep(one, {
      resultsDir: dir,
      workers: 1,
      retryFailed: false,
      log: null,
      launch: (task) => {
        tasks.push(task);
        return { done: Promise.resolve({ exitCode: 1, signal: null, tail: 'not trained' }), kill: () => undefined };
      },
    });
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0].threads, os.availableParallelism?.() ?? os.cpus().length);
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
