import { strict as assert } from 'assert';
import { runId } from '../../lib/runs/id';
import { scaleEpochs } from '../../lib/runs/presets';
import { CURVE_PLANS, learningCurveGrid } from '../../lib/experiments/curve';
import { studyGrid } from '../../lib/experiments/grid';

describe('learning-curve grid', () => {
  for (const scale of ['smoke', 'default'] as const) {
    it(`at ${scale}, its point at a backbone's epochs is the SSL grid's run, the others differ in epochs`, () => {
      const curve = learningCurveGrid(scale);
      const plan = CURVE_PLANS[scale];
      assert.equal(curve.length, plan.series.length * plan.epochs.length + (plan.extra?.length ?? 0));
      for (const series of plan.series) assert.ok(plan.epochs.includes(scaleEpochs(scale, series.backbone)));
      const grid = new Set(studyGrid('ssl', { scale }).map(runId));
      for (const config of curve) {
        assert.equal(grid.has(runId(config)), config.epochs === scaleEpochs(scale, config.backbone), runId(config));
        assert.equal(config.trainProportion, 0.45);
      }
      assert.equal(new Set(curve.map(runId)).size, curve.length, 'every point is its own run');
    });
  }

  it('adds the extra points of a series after the common ones', () => {
    const plan = {
      ...CURVE_PLANS.default,
      extra: [{ method: 'byol' as const, backbone: 'resnet18' as const, epochs: 16 }],
    };
    const curve = learningCurveGrid('default', plan);
    const last = curve[curve.length - 1];
    assert.deepEqual([last.method, last.backbone, last.epochs], ['byol', 'resnet18', 16]);
    assert.equal(curve.length, learningCurveGrid('default').length + 1);
    assert.equal(learningCurveGrid('smoke').length, CURVE_PLANS.smoke.series.length * CURVE_PLANS.smoke.epochs.length);
  });
});
