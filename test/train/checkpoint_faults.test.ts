/**
 * Faults while a run writes its checkpoint: a short write followed by a full disk (ENOSPC), injected through
 * store.ts's `atomicWriteFs` seam, and a checkpoint torn by an older version of the writer. Either way the rerun
 * must end with the weights and rows of an uninterrupted run.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeRunConfig } from '../../lib/methods/config';
import { type RunConfig } from '../../lib/runs/config';
import { atomicWriteFs, openRun } from '../../lib/runs/store';
import { CHECKPOINT_FILE } from '../../lib/train/checkpoint';
import { runExperiment } from '../../lib/train/run';
import { readSafetensorsFile } from '../../lib/models/safetensors';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-ckpt-faults-'));

function config(): RunConfig {
  return makeRunConfig(
    {
      method: 'supervised',
      backbone: 'resnet18',
      trainProportion: 0.15,
      evalProportions: [0.15, 0.45],
      epochs: 2,
      batchSize: 8,
      monitorSamples: 16,
    },
    'smoke',
  );
}

function assertSameResults(a: string, b: string, c: RunConfig): void {
  for (const file of ['backbone.safetensors', 'classifier.safetensors']) {
    const x = readSafetensorsFile(path.join(openRun(a, c).dir, file));
    const y = readSafetensorsFile(path.join(openRun(b, c).dir, file));
    assert.equal(x.tensors.size, y.tensors.size);
    let maxDiff = 0;
    for (const [name, tx] of x.tensors) {
      const ty = y.tensors.get(name)!;
      for (let i = 0; i < tx.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(tx.values[i] - ty.values[i]));
    }
    assert.ok(maxDiff <= 1e-6, `${file}: weights differ by ${maxDiff}`);
  }
  assert.deepEqual(
    openRun(b, c)
      .rows()
      .map((r) => r.value),
    openRun(a, c)
      .rows()
      .map((r) => r.value),
  );
  const steps = openRun(b, c)
    .log<{ kind: string; step: number }>()
    .filter((r) => r.kind === 'step')
    .map((r) => r.step);
  assert.deepEqual(
    steps,
    [...new Set(steps)].sort((p, q) => p - q),
    'every step logged once',
  );
}

describe('checkpoint faults', function () {
  this.timeout(600000);
  const c = config();
  const straightDir = path.join(root, 'straight');
  const saved = { ...atomicWriteFs };

  before(async () => {
    const straight = await runExperiment(c, { resultsDir: straightDir, quiet: true });
    assert.equal(straight.state, 'done', straight.reason);
  });

  it('a finished run records the identity of the data it was trained on', () => {
    const identity = openRun(straightDir, c).dataset();
    assert.ok(identity, 'dataset.json is written');
    assert.equal(identity.kind, 'synthetic');
    assert.equal(identity.generatorVersion, 3);
    assert.ok(identity.splits.train.images.count > 0 && /^[0-9a-f]{16}$/.test(identity.splits.train.annotationSha256));
    const start = openRun(straightDir, c)
      .log<{ kind: string; datasetIdentity?: string }>()
      .find((r) => r.kind === 'start');
    assert.equal(start?.datasetIdentity, identity.digest);
  });
  afterEach(() => Object.assign(atomicWriteFs, saved));
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it(
    'a short write then ENOSPC during the second checkpoint: the run fails, the ' +
      'first checkpoint survives, the rerun equals an uninterrupted run',
    async () => {
      const dir = path.join(root, 'enospc');
      let checkpointWrites = 0;
      const faulty = new Set<number>();
      atomicWriteFs.openSync = ((file: fs.PathLike, flags: fs.OpenMode) => {
        const fd = fs.openSync(file, flags);
        faulty.delete(fd); // descriptors are reused
        if (String(file).includes(`${CHECKPOINT_FILE}.tmp-`) && ++checkpointWrites === 2) faulty.add(fd);
        return fd;
      }) as typeof fs.openSync;
      atomicWriteFs.writeSync = (fd, buffer, offset, length) => {
        if (!faulty.has(fd)) return fs.writeSync(fd, buffer, offset, length);
        // The disk fills up: the first call writes part of the data, the next one fails.
        if (offset === 0) return fs.writeSync(fd, buffer, offset, Math.max(1, Math.floor(length / 3)));
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      const failed = await runExperiment(c, { resultsDir: dir, quiet: true });
      assert.equal(failed.state, 'failed');
      assert.match(String(failed.reason), /ENOSPC/);
      assert.match(String(failed.reason), /previous version, if any, is unchanged/);
      const run = openRun(dir, c);
      const checkpoint = readSafetensorsFile(path.join(run.checkpointDir, CHECKPOINT_FILE));
      assert.equal(
        JSON.parse(checkpoint.metadata.position).epoch,
        1,
        'the checkpoint of epoch 1 is still in place, whole',
      );
      assert.deepEqual(
        fs.readdirSync(run.checkpointDir).filter((f) => f.includes('.tmp-')),
        [],
        'no temporary file is left behind',
      );

      Object.assign(atomicWriteFs, saved); // the space is freed
      const resumed = await runExperiment(c, { resultsDir: dir, quiet: true });
      assert.equal(resumed.state, 'done', resumed.reason);
      assert.ok(
        run.log<{ kind: string; epoch?: number }>().some((r) => r.kind === 'resume' && r.epoch === 1),
        'resumed from the checkpoint of epoch 1',
      );
      assertSameResults(straightDir, dir, c);
    },
  );

  it(
    'a checkpoint torn by an older writer is treated as absent: the run ' +
      'says so, restarts, and equals an uninterrupted run',
    async () => {
      const dir = path.join(root, 'torn');
      const halted = await runExperiment(c, {
        resultsDir: dir,
        quiet: true,
        haltAfterSteps: stepsOfOneEpoch(straightDir, c) + 1,
      });
      assert.equal(halted.state, 'running');
      const run = openRun(dir, c);
      const file = path.join(run.checkpointDir, CHECKPOINT_FILE);
      const whole = fs.readFileSync(file);
      // What one unchecked writeSync left on a full disk.
      fs.writeFileSync(file, whole.subarray(0, Math.floor(whole.length * 0.47)));
      const again = await runExperiment(c, { resultsDir: dir, quiet: true });
      assert.equal(again.state, 'done', again.reason);
      const discarded = run.log<{ kind: string; reason?: string }>().find((r) => r.kind === 'checkpoint-discarded');
      assert.ok(discarded, 'the log says the checkpoint was discarded');
      assert.match(String(discarded.reason), /does not parse.*treated as absent, the run restarts from step 0/);
      assert.ok(fs.existsSync(`${file}.unreadable`), 'the torn file is kept aside for inspection');
      assertSameResults(straightDir, dir, c);
    },
  );
});

function stepsOfOneEpoch(dir: string, c: RunConfig): number {
  return (
    openRun(dir, c)
      .log<{ kind: string }>()
      .filter((r) => r.kind === 'step').length / c.epochs
  );
}
