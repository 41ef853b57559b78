import { strict as assert } from 'assert';
import { createMethod, methodSpec, PAPER_METHODS, settingsFor } from '../../lib/methods';
import { makeRunConfig } from '../../lib/methods/config';

describe('the paper methods’ specs', () => {
  it('together carry exactly the 19 settings every run config has always had', () => {
    assert.deepEqual(Object.keys(settingsFor('supervised', 'paper')).sort(), [
      'decoderDepth',
      'decoderEmbedDim',
      'decoderHeads',
      'emaBase',
      'emaFinal',
      'freezePrototypesEpochs',
      'lambda',
      'maskRatio',
      'normPixLoss',
      'numPrototypes',
      'predHiddenDim',
      'projHiddenDim',
      'projOutputDim',
      'scaleLoss',
      'studentTemperature',
      'teacherTemperature',
      'temperature',
      'warmupTeacherTemperature',
      'warmupTeacherTemperatureEpochs',
    ]);
    // The same settings whatever the run's method: a method's own settings do not move the paper's.
    for (const spec of PAPER_METHODS)
      assert.deepEqual(settingsFor(spec.name, 'smoke'), settingsFor('supervised', 'smoke'));
  });

  it('every setting has a rule and every width names a setting of its method', () => {
    for (const spec of PAPER_METHODS) {
      assert.deepEqual(Object.keys(spec.rules).sort(), Object.keys(spec.settings).sort(), spec.name);
      for (const widths of Object.values(spec.widths))
        for (const key of Object.keys(widths ?? {})) assert.ok(key in spec.settings, `${spec.name}: width ${key}`);
    }
  });

  it('the teachers a spec declares are the momentum copies its method builds', () => {
    for (const spec of PAPER_METHODS) {
      const backbone = spec.backbones[spec.backbones.length - 1];
      const method = createMethod(makeRunConfig({ method: spec.name, backbone }, 'smoke'), { posWeight: 1 });
      try {
        const stateNames = new Set(method.state().map((p) => p.name.split('.')[0]));
        const trainable = new Set(method.trainable().map((p) => p.name.split('.')[0]));
        for (const { student, teacher } of spec.teachers ?? []) {
          assert.ok(stateNames.has(teacher), `${spec.name}: teacher ${teacher} is in the checkpoint state`);
          assert.ok(!trainable.has(teacher), `${spec.name}: teacher ${teacher} is not trained`);
          assert.ok(trainable.has(student), `${spec.name}: student ${student} is trained`);
        }
        const momentum = [...stateNames].filter((n) => n.startsWith('momentum_'));
        assert.deepEqual(momentum.sort(), (spec.teachers ?? []).map((t) => t.teacher).sort(), spec.name);
      } finally {
        method.dispose();
      }
    }
  });

  it('MAE allows only a ViT, and builds its own encoder', () => {
    assert.deepEqual(methodSpec('mae').backbones, ['vit_tiny']);
    assert.equal(methodSpec('mae').encoder, 'mae_vit_tiny');
  });
});
