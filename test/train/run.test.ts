import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { makeRunConfig } from '../../lib/methods/config';
import { type RunConfig, type RunOverrides, type MethodName, type BackboneName } from '../../lib/runs/config';
import { openRun, RunRecord } from '../../lib/runs/store';
import {
  evaluateRun,
  failureMessage,
  formatTerms,
  runExperiment,
  runOptimizer,
  TABLE_METRICS,
} from '../../lib/train/run';
import { createMethod } from '../../lib/methods';
import { scaledLearningRates } from '../../lib/runs/config';
import { readSafetensorsFile } from '../../lib/models/safetensors';

const resultsRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-train-'));

/** A smoke run small enough for the suite: one or two short epochs on the smoke synthetic set. */
function tinyConfig(method: MethodName, backbone: BackboneName, extra: RunOverrides = {}): RunConfig {
  return makeRunConfig(
    {
      method,
      backbone,
      trainProportion: 0.15,
      evalProportions: [0.15, 0.45],
      epochs: 1,
      batchSize: 8,
      monitorSamples: 16,
      ...extra,
    },
    'smoke',
  );
}

function steps(run: RunRecord): Array<Record<string, number>> {
  return run.log<Record<string, number> & { kind: string }>().filter((r) => (r as { kind: string }).kind === 'step');
}

describe('trainer', function () {
  this.timeout(600000);

  after(() => fs.rmSync(resultsRoot, { recursive: true, force: true }));

  it('resumes exactly: 2 epochs straight equal 1 epoch + kill + resume + 1 epoch', async () => {
    // The Gauss–Newton probe (the default scale's ViT-Tiny probe) carries its running curvature across the resume.
    const config = tinyConfig('byol', 'vit_tiny', { epochs: 2, probe: { gaussNewton: true } });
    const straightDir = path.join(resultsRoot, 'straight');
    const resumedDir = path.join(resultsRoot, 'resumed');
    const straight = await runExperiment(config, { resultsDir: straightDir, quiet: true });
    assert.equal(straight.state, 'done', straight.reason);
    const stepsPerEpoch = steps(openRun(straightDir, config)).length / 2;

    // Killed one step into the second epoch: the checkpoint of epoch 1 is the last thing written.
    const halted = await runExperiment(config, {
      resultsDir: resumedDir,
      quiet: true,
      haltAfterSteps: stepsPerEpoch + 1,
    });
    assert.equal(halted.state, 'running');
    const resumed = await runExperiment(config, { resultsDir: resumedDir, quiet: true });
    assert.equal(resumed.state, 'done', resumed.reason);

    // The probe's file holds its feature-standardisation statistics too (the smoke scale standardises).
    for (const file of ['backbone.safetensors', 'classifier.safetensors']) {
      const a = readSafetensorsFile(path.join(openRun(straightDir, config).dir, file));
      const b = readSafetensorsFile(path.join(openRun(resumedDir, config).dir, file));
      assert.equal(a.tensors.size, b.tensors.size);
      let maxDiff = 0;
      for (const [name, ta] of a.tensors) {
        const tb = b.tensors.get(name)!;
        for (let i = 0; i < ta.values.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ta.values[i] - tb.values[i]));
      }
      assert.ok(maxDiff <= 1e-6, `${file}: weights differ by ${maxDiff}`);
    }
    const classifierTensors = readSafetensorsFile(
      path.join(openRun(straightDir, config).dir, 'classifier.safetensors'),
    ).tensors;
    assert.ok(classifierTensors.has('norm.running_mean'));
    assert.deepEqual(classifierTensors.get('curvature')?.shape, [193, 193]);
    // The log holds every step exactly once after the resume.
    const resumedSteps = steps(openRun(resumedDir, config)).map((r) => r.step);
    assert.deepEqual(
      resumedSteps,
      Array.from({ length: 2 * stepsPerEpoch }, (_, i) => i),
    );
    assert.deepEqual(
      openRun(straightDir, config)
        .rows()
        .map((r) => r.value),
      openRun(resumedDir, config)
        .rows()
        .map((r) => r.value),
    );
    // The backbone's drift from its initialisation is measured from the same point after a resume.
    const drifts = (dir: string) =>
      openRun(dir, config)
        .log<{ kind: string; backbone_drift: number }>()
        .filter((r) => r.kind === 'epoch')
        .map((r) => r.backbone_drift);
    const straightDrift = drifts(straightDir);
    assert.equal(straightDrift.length, 2);
    assert.ok(
      straightDrift.every((d) => Number.isFinite(d) && d > 0),
      `drift ${straightDrift}`,
    );
    drifts(resumedDir).forEach((d, i) =>
      assert.ok(Math.abs(d - straightDrift[i]) < 1e-6, `epoch ${i}: drift ${d} vs ${straightDrift[i]}`),
    );
  });

  it('stops a run whose loss turns NaN as diverged, keeping what was logged before', async () => {
    const config = tinyConfig('simclr', 'vit_tiny', { seed: 7 });
    const status = await runExperiment(config, { resultsDir: resultsRoot, quiet: true, nanAtStep: 2 });
    assert.equal(status.state, 'diverged');
    assert.match(String(status.reason), /non-finite loss at step 2/);
    // The reason shows the value itself; JSON.stringify printed NaN as null.
    assert.match(String(status.reason), /loss: NaN/);
    assert.doesNotMatch(String(status.reason), /null/);
    const run = openRun(resultsRoot, config);
    assert.deepEqual(
      steps(run).map((r) => r.step),
      [0, 1],
    );
    const diverged = run.log<{ kind: string; terms?: Record<string, string> }>().find((r) => r.kind === 'diverged');
    assert.ok(diverged?.terms && diverged.terms.loss === 'NaN', 'the diverged record names the loss terms');
  });

  it('keeps the number of live tensors flat across steps and frees everything at the end', async () => {
    const config = tinyConfig('dino', 'vit_tiny', { seed: 11, epochs: 2 });
    const before = tf.memory().numTensors;
    const status = await runExperiment(config, { resultsDir: resultsRoot, quiet: true });
    assert.equal(status.state, 'done', status.reason);
    // Within the last epoch: optimiser slots of DINO's prototypes appear lazily once they unfreeze in epoch 1,
    // and the loader's prefetched batch (3 tensors) is not in flight at an epoch's first and last steps.
    const counts = steps(openRun(resultsRoot, config))
      .filter((r) => r.epoch === 1)
      .map((r) => r.tensors);
    assert.ok(counts.length >= 5);
    assert.equal(new Set(counts.slice(1, -1)).size, 1, `live tensors changed across steps: ${counts.join(', ')}`);
    assert.equal(tf.memory().numTensors, before);
  });

  const combos: Array<[MethodName, BackboneName]> = [
    ['supervised', 'resnet18'],
    ['simclr', 'resnet18'],
    ['byol', 'resnet18'],
    ['barlow', 'resnet18'],
    ['dino', 'resnet18'],
    ['supervised', 'vit_tiny'],
    ['simclr', 'vit_tiny'],
    ['byol', 'vit_tiny'],
    ['barlow', 'vit_tiny'],
    ['dino', 'vit_tiny'],
    ['mae', 'vit_tiny'],
  ];
  for (const [method, backbone] of combos) {
    it(`trains ${method} on ${backbone} at the smoke scale and writes its evaluation rows`, async () => {
      const config = tinyConfig(method, backbone);
      const status = await runExperiment(config, { resultsDir: resultsRoot, quiet: true });
      assert.equal(status.state, 'done', status.reason);
      const run = openRun(resultsRoot, config);
      for (const record of steps(run)) assert.ok(Number.isFinite(record.loss), `finite loss at step ${record.step}`);
      const rows = run.rows();
      // train split + 2 validation proportions, one row per table metric each.
      assert.equal(rows.length, 3 * TABLE_METRICS.length);
      assert.ok(rows.every((r) => r.method === method && r.backbone === backbone));
      const f1 = rows.find((r) => r.split === 'val' && r.metric === 'f1' && r.evalProportion === 0.45);
      assert.ok(f1 && f1.value >= 0 && f1.value <= 1);
    });
  }

  it('re-evaluates a finished run from its saved backbone and classifier to the same rows', async () => {
    for (const [method, backbone] of [
      ['supervised', 'vit_tiny'],
      ['simclr', 'vit_tiny'],
    ] as Array<[MethodName, BackboneName]>) {
      const config = tinyConfig(method, backbone);
      const status = await runExperiment(config, { resultsDir: resultsRoot, quiet: true });
      assert.equal(status.state, 'done', status.reason);
      const stored = openRun(resultsRoot, config).rows();
      const again = await evaluateRun(config, { resultsDir: resultsRoot });
      assert.equal(again.length, stored.length);
      again.forEach((row, i) => {
        assert.equal(row.metric, stored[i].metric);
        if (Number.isNaN(stored[i].value)) assert.ok(Number.isNaN(row.value));
        else
          assert.ok(
            Math.abs(row.value - stored[i].value) < 1e-6,
            `${method} ${row.split} ${row.evalProportion} ${row.metric}: ${row.value} vs ${stored[i].value}`,
          );
      });
    }
  });

  it('steps LARS with the config’s trust coefficient: a weight matrix moves by lr·η of its norm', () => {
    for (const eta of [0.001, 0.02]) {
      const config = tinyConfig('simclr', 'vit_tiny', { optimizer: { eta } });
      const method = createMethod(config, { posWeight: 1 });
      const optimizer = runOptimizer(config, method, null);
      try {
        const weight = method.trainable().find((p) => p.variable.rank === 2)!;
        const before = weight.variable.clone();
        const grad = tf.randomNormal(weight.variable.shape, 0, 1, 'float32', 7);
        optimizer.step({ [weight.name]: grad });
        const moved = tf.tidy(() => tf.norm(tf.sub(weight.variable, before)).div(tf.norm(before)).dataSync()[0]);
        const expected = scaledLearningRates(config).lr * eta;
        assert.ok(Math.abs(moved - expected) < 0.02 * expected, `η ${eta}: moved ${moved}, expected ${expected}`);
        tf.dispose([before, grad]);
      } finally {
        optimizer.dispose();
        method.dispose();
      }
    }
  });

  it('formats loss terms with their non-finite values, which JSON would print as null', () => {
    assert.equal(
      formatTerms({ loss: NaN, probe_loss: Infinity, kl: -Infinity, ce: 0.5 }),
      '{loss: NaN, probe_loss: Infinity, kl: -Infinity, ce: 0.5}',
    );
  });

  it('explains a wasm abort as memory, naming the batch, size and patch count; other errors pass through', () => {
    const config = tinyConfig('simclr', 'vit_tiny', { batchSize: 64, imageSize: 32, patchSize: 4 });
    const message = failureMessage(new Error('Aborted(). Build with -sASSERTIONS for more info.'), config);
    assert.match(message, /^Aborted\(\): the WebAssembly backend aborted, most likely out of memory/);
    assert.match(message, /batch 64, 32×32 px, 64 patches per image/);
    assert.match(message, /raise patchSize/);
    assert.equal(failureMessage(new Error('data/x.png: not an image'), config), 'data/x.png: not an image');
  });
});
