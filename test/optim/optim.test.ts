import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { NamedParam } from '../../lib/nn/module';
import {
  AdamW,
  Lars,
  Sgd,
  applyWarmupCosine,
  clipGradNormPerParam,
  createOptimizer,
  emaTau,
  emaUpdate,
  probeGroupOverrides,
  warmupCosineLr,
  type GradMap,
  type GroupOptimizer,
} from '../../lib/optim';

interface OptimFixture {
  paramShapes: Record<string, number[]>;
  init: Record<string, number[]>;
  grads: Array<Record<string, number[]>>;
  skipAtStep1: string;
  main: string[];
  probe: string[];
  lars: { lr: number; weightDecay: number; probeLr: number; eta: number; steps: Array<Record<string, number[]>> };
  adamw: { lr: number; weightDecay: number; probeLr: number; steps: Array<Record<string, number[]>> };
  sgd: { lr: number; weightDecay: number; steps: Array<Record<string, number[]>> };
  schedule: {
    batch: number;
    totalSteps: number;
    warmupSteps: number;
    baseLrs: number[];
    warmupStartLr: number;
    minLr: number;
    lrs: number[][];
  };
  emaTau: { totalSteps: number; base: number; final: number; values: Record<string, number> };
  clip: {
    maxNorm: number;
    only: string[];
    in: Record<string, { shape: number[]; data: number[] }>;
    out: Record<string, number[]>;
  };
}

const fx = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'optim', 'optim.json'), 'utf8'),
) as OptimFixture;

function variableFrom(values: number[], shape: number[], trainable = true): tf.Variable {
  const init = tf.tensor(values, shape, 'float32');
  const v = tf.variable(init, trainable);
  init.dispose();
  return v;
}

function makeParams(): Record<string, NamedParam> {
  const out: Record<string, NamedParam> = {};
  for (const [name, shape] of Object.entries(fx.paramShapes)) {
    out[name] = { name, variable: variableFrom(fx.init[name], shape) };
  }
  return out;
}

/** Gradients keyed by the variables' TF.js names, as tf.variableGrads returns them. */
function gradsAt(params: Record<string, NamedParam>, step: number): GradMap {
  const g: GradMap = {};
  for (const [name, p] of Object.entries(params)) {
    if (step === 1 && name === fx.skipAtStep1) continue;
    g[p.variable.name] = tf.tensor(fx.grads[step][name], fx.paramShapes[name], 'float32');
  }
  return g;
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string, rel = 1e-5, abs = 1e-7): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(err <= abs + rel * Math.abs(expected[i]), `${what}[${i}]: got ${actual[i]}, expected ${expected[i]}`);
  }
}

function runTwoSteps(
  makeOpt: (p: Record<string, NamedParam>) => GroupOptimizer,
  expected: Array<Record<string, number[]>>,
): void {
  const params = makeParams();
  const opt = makeOpt(params);
  for (let step = 0; step < 2; step++) {
    const g = gradsAt(params, step);
    opt.step(g);
    tf.dispose(Object.values(g));
    for (const [name, p] of Object.entries(params))
      assertClose(p.variable.dataSync(), expected[step][name], `step ${step} ${name}`);
  }
  opt.dispose();
  Object.values(params).forEach((p) => p.variable.dispose());
}

function groups(
  params: Record<string, NamedParam>,
  probe: Partial<{ lr: number; weightDecay: number; betas: [number, number] }>,
) {
  return [
    { name: 'main', params: fx.main.map((n) => params[n]) },
    { name: 'classifier', params: fx.probe.map((n) => params[n]), ...probe },
  ];
}

describe('optimisers against PyTorch (tools/fixtures/make_optim_fixtures.py)', () => {
  let before = 0;
  beforeEach(() => {
    before = tf.memory().numTensors;
  });
  afterEach(() => {
    assert.equal(tf.memory().numTensors, before, 'a test leaked tensors');
  });

  it('LARS (paper variant): two steps, 1-D params excluded, zero-norm param, probe group, skipped grad', () => {
    runTwoSteps(
      (p) =>
        new Lars(groups(p, { lr: fx.lars.probeLr, weightDecay: 0 }), {
          lr: fx.lars.lr,
          weightDecay: fx.lars.weightDecay,
          eta: fx.lars.eta,
          momentum: 0.9,
        }),
      fx.lars.steps,
    );
  });

  it('AdamW (torch.optim.AdamW): two steps, exclude_bias_and_norm, a second group with its own betas (0.9, 0)', () => {
    runTwoSteps(
      (p) =>
        createOptimizer(
          { kind: 'adamw', lr: fx.adamw.lr, weightDecay: fx.adamw.weightDecay, excludeBiasAndNorm: true },
          groups(p, { lr: fx.adamw.probeLr, weightDecay: 0, betas: [0.9, 0] }),
        ),
      fx.adamw.steps,
    );
  });

  it('SGD with momentum (torch.optim.SGD): two steps with weight decay', () => {
    runTwoSteps(
      (p) =>
        new Sgd([{ name: 'all', params: Object.values(p) }], {
          lr: fx.sgd.lr,
          weightDecay: fx.sgd.weightDecay,
          momentum: 0.9,
        }),
      fx.sgd.steps,
    );
  });

  it('getState/setState resumes bit-exactly', () => {
    for (const make of [
      (p: NamedParam[]) =>
        new AdamW([{ name: 'g', params: p }], { lr: 1e-2, weightDecay: 0.05, excludeBiasAndNorm: true }),
      (p: NamedParam[]) => new Lars([{ name: 'g', params: p }], { lr: 0.3, weightDecay: 1e-2 }),
    ]) {
      const straight = makeParams();
      const optA = make(Object.values(straight));
      for (const step of [0, 1, 0]) {
        const g = gradsAt(straight, step);
        optA.step(g);
        tf.dispose(Object.values(g));
      }
      const resumed = makeParams();
      const optB1 = make(Object.values(resumed));
      for (const step of [0, 1]) {
        const g = gradsAt(resumed, step);
        optB1.step(g);
        tf.dispose(Object.values(g));
      }
      // Serialise through plain arrays, as a checkpoint would.
      const state = optB1.getState();
      const saved = state.tensors.map(({ name, tensor }) => ({
        name,
        shape: tensor.shape,
        data: Array.from(tensor.dataSync()),
      }));
      tf.dispose(state.tensors.map((t) => t.tensor));
      optB1.dispose();
      const optB2 = make(Object.values(resumed));
      const restored = saved.map(({ name, shape, data }) => ({ name, tensor: tf.tensor(data, shape, 'float32') }));
      optB2.setState({
        tensors: restored,
        scalars: JSON.parse(JSON.stringify(state.scalars)) as Record<string, number>,
      });
      tf.dispose(restored.map((t) => t.tensor));
      const g = gradsAt(resumed, 0);
      optB2.step(g);
      tf.dispose(Object.values(g));
      assert.equal(optB2.stepCount, 3);
      for (const name of Object.keys(straight)) {
        assert.deepEqual(
          Array.from(resumed[name].variable.dataSync()),
          Array.from(straight[name].variable.dataSync()),
          name,
        );
      }
      optA.dispose();
      optB2.dispose();
      [...Object.values(straight), ...Object.values(resumed)].forEach((p) => p.variable.dispose());
    }
  });

  it('setState rejects a state from another model with the offending name', () => {
    const params = makeParams();
    const opt = new Lars([{ name: 'g', params: Object.values(params) }]);
    const t = tf.zeros([2]);
    assert.throws(() => opt.setState({ tensors: [{ name: 'nope/mu', tensor: t }], scalars: {} }), /'nope\/mu'/);
    assert.throws(
      () => opt.setState({ tensors: [{ name: 'w/mu', tensor: t }], scalars: {} }),
      /'w\/mu' has shape \[2\]/,
    );
    t.dispose();
    opt.dispose();
    Object.values(params).forEach((p) => p.variable.dispose());
  });

  it('probeGroupOverrides scales the probe lr by batch/256', () => {
    assert.deepEqual(probeGroupOverrides(128), { lr: 5e-4, weightDecay: 0, momentum: 0.9, adaptive: false });
  });
});

describe('schedules, EMA and clipping', () => {
  it('warm-up + cosine equals the per-step chainable LinearWarmupCosineAnnealingLR, for both groups', () => {
    const s = fx.schedule;
    for (let step = 0; step < s.totalSteps; step++) {
      s.baseLrs.forEach((base, gi) => {
        const got = warmupCosineLr(step, s.totalSteps, s.warmupSteps, base, s.warmupStartLr, s.minLr);
        const want = s.lrs[step][gi];
        assert.ok(Math.abs(got - want) <= 1e-12 + 1e-9 * Math.abs(want), `step ${step} group ${gi}: ${got} vs ${want}`);
      });
    }
    // Known points: start, end of warm-up (W−1 and W), end.
    assert.equal(warmupCosineLr(0, 100, 10, 0.3, 0.15, 1e-6), 0.15);
    assert.ok(Math.abs(warmupCosineLr(9, 100, 10, 0.3, 0.15, 1e-6) - 0.3) < 1e-15);
    assert.equal(warmupCosineLr(10, 100, 10, 0.3, 0.15, 1e-6), 0.3);
    assert.ok(Math.abs(warmupCosineLr(100, 100, 10, 0.3, 0.15, 1e-6) - 1e-6) < 1e-15);
    assert.ok(Math.abs(warmupCosineLr(55, 100, 10, 0.3, 0.15, 1e-6) - (1e-6 + 0.5 * (0.3 - 1e-6))) < 1e-15);
  });

  it('applyWarmupCosine sets each group from its own base lr with the shared warm-up start', () => {
    const v = variableFrom([0, 0, 0, 0], [2, 2]);
    const b = variableFrom([0, 0], [2]);
    const opt = new Lars([
      { name: 'main', params: [{ name: 'w', variable: v }], lr: 0.15 },
      { name: 'classifier', params: [{ name: 'b', variable: b }], lr: 5e-4 },
    ]);
    applyWarmupCosine(opt, 3, { totalSteps: 100, warmupSteps: 10, warmupStartLr: 0.075, minLr: 1e-6 });
    assert.ok(Math.abs(opt.groups[0].lr - (0.075 + (3 * (0.15 - 0.075)) / 9)) < 1e-15);
    assert.ok(Math.abs(opt.groups[1].lr - (0.075 + (3 * (5e-4 - 0.075)) / 9)) < 1e-15);
    opt.dispose();
    tf.dispose([v, b]);
  });

  it('EMA tau cosine 0.996 → 0.999 at known steps', () => {
    for (const [k, want] of Object.entries(fx.emaTau.values)) {
      assert.ok(Math.abs(emaTau(Number(k), fx.emaTau.totalSteps, 0.996, 0.999) - want) < 1e-15, `step ${k}`);
    }
    assert.ok(Math.abs(emaTau(0, 10) - 0.996) < 1e-15);
    assert.ok(Math.abs(emaTau(10, 10) - 0.999) < 1e-15);
  });

  it('emaUpdate moves teacher parameters towards the student, without leaks', () => {
    const before = tf.memory().numTensors;
    const t: NamedParam = { name: 'w', variable: variableFrom([1, 2, 3], [3], false) };
    const s: NamedParam = { name: 'w', variable: variableFrom([3, 2, 1], [3]) };
    emaUpdate([t], [s], 0.75);
    assertClose(t.variable.dataSync(), [1.5, 2, 2.5], 'teacher');
    assertClose(s.variable.dataSync(), [3, 2, 1], 'student unchanged');
    assert.throws(() => emaUpdate([t], [{ name: 'x', variable: s.variable }], 0.9), /'w' in the teacher but 'x'/);
    tf.dispose([t.variable, s.variable]);
    assert.equal(tf.memory().numTensors, before);
  });

  it('per-parameter clipping at norm 1 (DINO), only for the selected keys', () => {
    const grads: GradMap = {};
    for (const [k, v] of Object.entries(fx.clip.in)) grads[k] = tf.tensor(v.data, v.shape, 'float32');
    const before = tf.memory().numTensors;
    const clipped = clipGradNormPerParam(grads, fx.clip.maxNorm, new Set(fx.clip.only));
    assert.equal(tf.memory().numTensors, before + Object.keys(grads).length);
    for (const [k, want] of Object.entries(fx.clip.out)) assertClose(clipped[k].dataSync(), want, `clip ${k}`);
    // The small gradient is below the threshold and must come back bit-identical.
    assert.deepEqual(Array.from(clipped.small.dataSync()), Array.from(grads.small.dataSync()));
    tf.dispose([...Object.values(grads), ...Object.values(clipped)]);
  });
});
