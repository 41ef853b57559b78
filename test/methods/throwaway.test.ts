/**
 * Adding a method is one method file and one loss: this file is both. A toy method (a linear projector and a
 * negative-cosine loss between the two views) is defined here, registered through the public registry, and from
 * then on validation, the SSL grid, the trainer and the report's order know it; no lib file names it.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { studyGrid } from '../../lib/experiments/grid';
import { methodLabel, methodNames, registerMethod, unregisterMethod } from '../../lib/methods';
import { BaseMethod } from '../../lib/methods/base';
import { makeRunConfig, validateRunConfig } from '../../lib/methods/config';
import type { LossOutput, MethodContext } from '../../lib/methods/method';
import { defineMethod, settingsOf, WIDTH } from '../../lib/methods/spec';
import type { Backbone } from '../../lib/models/backbone';
import { Linear } from '../../lib/nn/layers';
import { SeedStream } from '../../lib/nn/init';
import { runId } from '../../lib/runs/id';
import { openRun } from '../../lib/runs/store';
import { runExperiment } from '../../lib/train/run';

/** The loss file: 1 − cos(z₁, z₂), averaged over the batch (a pure function of tensors). */
function negativeCosineLoss(z1: tf.Tensor2D, z2: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const unit = (z: tf.Tensor2D) => tf.div(z, tf.add(tf.norm(z, 'euclidean', 1, true), 1e-8));
    return tf.sub(1, tf.mean(tf.sum(tf.mul(unit(z1), unit(z2)), 1))) as tf.Scalar;
  });
}

interface ToySettings extends Record<string, number | boolean> {
  toyDim: number;
}

/** The method file: its class and its spec. */
class ToyCosineMethod extends BaseMethod {
  readonly name = 'toy_cosine';
  private readonly projector: Linear;

  constructor(context: MethodContext, backbone: Backbone) {
    super(context, backbone);
    const { toyDim } = settingsOf(toyCosine, context.config);
    this.projector = this.addHead(
      'projector',
      new Linear(backbone.featureDim, toyDim, { seeds: new SeedStream(context.seed + 5) }),
    );
  }

  loss(views: tf.Tensor4D[]): LossOutput {
    const features = views.map((v) => this.backbone.forward(v));
    const z = features.map((f) => this.projector.forward(f) as tf.Tensor2D);
    const loss = negativeCosineLoss(z[0], z[1]);
    return { loss, features, embeddings: z, terms: { negative_cosine: loss } };
  }
}

const toyCosine = defineMethod<ToySettings>({
  name: 'toy_cosine',
  label: 'Toy cosine',
  settings: { toyDim: 32 },
  rules: { toyDim: WIDTH },
  widths: { smoke: { toyDim: 8 } },
  appendixB: {
    optimizer: { kind: 'adamw', lr: 5e-4, warmupStartLr: 3e-5, weightDecay: 1e-4, momentum: 0.9, clipGrad: null },
    batchSize: 256,
    probeLr: 1e-3,
  },
  backbones: ['resnet18'],
  probe: true,
  build: (context, backbone) => new ToyCosineMethod(context, backbone),
});

describe('a throwaway method defined in a test', () => {
  const paperConfig = () => makeRunConfig({ method: 'simclr', backbone: 'resnet18' }, 'smoke');
  let paperIdBefore: string;
  let resultsDir: string;

  before(() => {
    assert.equal(methodNames().includes('toy_cosine'), false);
    assert.throws(
      () => makeRunConfig({ method: 'toy_cosine', backbone: 'resnet18' }, 'smoke'),
      /method = "toy_cosine"/,
    );
    paperIdBefore = runId(paperConfig());
    resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-throwaway-'));
    registerMethod(toyCosine);
  });
  after(() => {
    unregisterMethod('toy_cosine');
    fs.rmSync(resultsDir, { recursive: true, force: true });
  });

  it('is unknown before it is registered (see before), known to the lists after, and registered once only', () => {
    assert.ok(methodNames().includes('toy_cosine'));
    assert.equal(methodLabel('toy_cosine'), 'Toy cosine');
    assert.throws(() => registerMethod(toyCosine), /registered already/);
  });

  it('gets its settings, scale widths and appendix-B row in its configs, and leaves the paper runs’ ids alone', () => {
    const config = makeRunConfig({ method: 'toy_cosine', backbone: 'resnet18' }, 'smoke');
    assert.equal(config.settings.toyDim, 8);
    assert.equal(
      makeRunConfig({ method: 'toy_cosine', backbone: 'resnet18', dataset: { kind: 'synthetic' } }, 'paper').settings
        .toyDim,
      32,
    );
    assert.equal(config.optimizer.kind, 'adamw');
    assert.equal(config.probe.standardize, true, 'an SSL method gets the smoke scale’s probe');
    // The paper's configs do not carry the new method's setting, so their ids stay.
    assert.equal('toyDim' in paperConfig().settings, false);
    assert.equal(runId(paperConfig()), paperIdBefore);
  });

  it('is validated by its own spec: its backbones and its settings’ rules', () => {
    assert.throws(
      () => makeRunConfig({ method: 'toy_cosine', backbone: 'vit_tiny' }, 'smoke'),
      /backbone = "vit_tiny"; Toy cosine needs another backbone: allowed "resnet18"/,
    );
    const config = makeRunConfig({ method: 'toy_cosine', backbone: 'resnet18' }, 'smoke');
    assert.throws(
      () => validateRunConfig({ ...config, settings: { ...config.settings, toyDim: 0 } }),
      /settings\.toyDim = 0/,
    );
    assert.throws(
      () => validateRunConfig({ ...config, settings: { ...config.settings, toyDimm: 8 } }),
      /settings\.toyDimm = 8; unknown field/,
    );
  });

  it('appears in the SSL grid on the backbones it allows', () => {
    const own = studyGrid('ssl', { scale: 'smoke', methods: ['toy_cosine'] });
    assert.equal(own.length, 5);
    assert.ok(own.every((c) => c.method === 'toy_cosine' && c.backbone === 'resnet18'));
    assert.equal(studyGrid('ssl', { scale: 'smoke' }).length, 55 + 5);
  });

  it('trains at the smoke scale through the normal trainer and writes its evaluation rows', async () => {
    const config = makeRunConfig(
      {
        method: 'toy_cosine',
        backbone: 'resnet18',
        trainProportion: 0.15,
        evalProportions: [0.45],
        epochs: 1,
        batchSize: 8,
        monitorSamples: 16,
      },
      'smoke',
    );
    const status = await runExperiment(config, { resultsDir, quiet: true });
    assert.equal(status.state, 'done', status.reason);
    const run = openRun(resultsDir, config);
    const rows = run.rows();
    assert.ok(rows.length > 0 && rows.every((r) => r.method === 'toy_cosine'));
    const steps = fs
      .readFileSync(path.join(run.dir, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => typeof r.negative_cosine === 'number' || typeof r['loss/negative_cosine'] === 'number');
    assert.ok(steps.length > 0, 'the loss term is logged at each step');
  });
});
