import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { makeRunConfig } from '../../lib/methods/config';
import type { MethodName } from '../../lib/runs/config';
import { backboneFor, createMethod, type LossOutput, type Method, type MethodContext } from '../../lib/methods';
import { BaseMethod } from '../../lib/methods/base';
import { emaTau, emaUpdate } from '../../lib/optim';
import type { NamedParam } from '../../lib/nn/module';

/** A small ViT build of a method, so that two copies of it are cheap. */
function build(method: MethodName): Method {
  const config = makeRunConfig({ method, backbone: 'vit_tiny', imageSize: 16, patchSize: 8, vitDepth: 1 }, 'smoke');
  return createMethod(config, { posWeight: 1, seed: 3 });
}

function byName(params: NamedParam[]): Map<string, tf.Variable> {
  return new Map(params.map((p) => [p.name, p.variable]));
}

/** Move every trainable parameter by a seeded amount (seed 0 would draw unseeded), so students and teachers differ. */
function perturbStudents(method: Method): void {
  method.trainable().forEach((p, i) => {
    tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.randomNormal(p.variable.shape, 0, 0.1, 'float32', i + 1))));
  });
}

const TEACHERS: Record<string, Array<{ student: string; teacher: string }>> = {
  byol: [
    { student: 'backbone', teacher: 'momentum_backbone' },
    { student: 'projector', teacher: 'momentum_projector' },
  ],
  dino: [
    { student: 'backbone', teacher: 'momentum_backbone' },
    { student: 'head', teacher: 'momentum_head' },
  ],
};

describe('EMA teachers (written once, in BaseMethod)', () => {
  for (const name of ['byol', 'dino'] as const) {
    it(`${name}: declares its (student, teacher) pairs, starts each teacher as a copy of its student`, () => {
      const method = build(name);
      try {
        assert.ok(method instanceof BaseMethod);
        assert.deepEqual(method.teacherPairs(), TEACHERS[name]);
        assert.equal(method.lastTau, undefined, 'no τ before the first update');
        const state = byName(method.state());
        for (const { student, teacher } of TEACHERS[name]) {
          const students: NamedParam[] = method.trainable().filter((p) => p.name.startsWith(`${student}.`));
          assert.ok(students.length > 0);
          for (const p of students) {
            const copy = state.get(`${teacher}.${p.name.slice(student.length + 1)}`);
            assert.ok(copy, `no teacher parameter for ${p.name}`);
            assert.deepEqual(copy.dataSync(), p.variable.dataSync(), p.name);
          }
        }
      } finally {
        method.dispose();
      }
    });

    it(`${name}: afterStep equals emaUpdate of every pair with the cosine τ, bit for bit, without leaks`, () => {
      const [viaBase, byHand] = [build(name), build(name)];
      const state = { step: 3, epoch: 0, totalSteps: 10, stepsPerEpoch: 5 };
      try {
        perturbStudents(viaBase);
        perturbStudents(byHand);
        const settings = makeRunConfig({ method: name, backbone: 'vit_tiny' }, 'smoke').settings;
        const tau = emaTau(state.step, state.totalSteps, settings.emaBase, settings.emaFinal);
        assert.ok(tau > settings.emaBase && tau < settings.emaFinal);
        const before = tf.memory().numTensors;
        viaBase.afterStep(state);
        assert.equal(tf.memory().numTensors, before);
        assert.equal(viaBase.lastTau, tau);
        const stateOf = byName(byHand.state());
        for (const { student, teacher } of TEACHERS[name]) {
          const students = byHand.trainable().filter((p) => p.name.startsWith(`${student}.`));
          const suffixes = students.map((p) => p.name.slice(student.length + 1));
          const teachers = suffixes.map((s) => ({ name: s, variable: stateOf.get(`${teacher}.${s}`)! }));
          emaUpdate(
            teachers,
            students.map((p, i) => ({ name: suffixes[i], variable: p.variable })),
            tau,
          );
        }
        const expected = byName(byHand.state());
        let moved = 0;
        for (const [key, variable] of byName(viaBase.state())) {
          assert.deepEqual(variable.dataSync(), expected.get(key)!.dataSync(), key);
          if (key.startsWith('momentum_')) moved += 1;
        }
        assert.ok(moved > 0);
      } finally {
        viaBase.dispose();
        byHand.dispose();
      }
    });
  }

  it('a method without teachers has no τ and its afterStep changes nothing', () => {
    const method = build('simclr');
    try {
      const before = method.state().map((p) => Array.from(p.variable.dataSync()));
      method.afterStep({ step: 0, epoch: 0, totalSteps: 10, stepsPerEpoch: 5 });
      assert.equal(method.lastTau, undefined);
      method.state().forEach((p, i) => assert.deepEqual(Array.from(p.variable.dataSync()), before[i], p.name));
    } finally {
      method.dispose();
    }
  });

  it('refuses a teacher of a student it does not have, and teachers without a τ schedule', () => {
    const config = makeRunConfig({ method: 'simclr', backbone: 'vit_tiny', imageSize: 16, patchSize: 8 }, 'smoke');
    const context: MethodContext = { config, posWeight: 1, seed: 3 };
    class Teacherless extends BaseMethod {
      readonly name = 'teacherless';
      constructor(student: string) {
        super(context, backboneFor(config, 3));
        this.addTeacher('momentum_backbone', backboneFor(config, 4), student);
      }
      loss(): LossOutput {
        throw new Error('not trained here');
      }
    }
    assert.throws(() => new Teacherless('projector'), /teacherless: no student module 'projector'/);
    const method = new Teacherless('backbone');
    try {
      assert.throws(() => method.afterStep({ step: 0, epoch: 0, totalSteps: 1, stepsPerEpoch: 1 }), /no τ schedule/);
    } finally {
      method.dispose();
    }
  });
});
