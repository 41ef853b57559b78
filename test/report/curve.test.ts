import { strict as assert } from 'assert';
import {
  learningCurveFigure,
  learningCurveTable,
  summarizeLearningCurve,
  type CurvePoint,
  type LearningCurve,
} from '../../lib/report/curve';

function point(series: string, steps: number, frozen: number, untrained: number): CurvePoint {
  return {
    series,
    method: series.split(' ')[0],
    backbone: series.split(' ')[1],
    epochs: steps / 59,
    steps,
    frozenAuroc: frozen,
    onlineAuroc: frozen - 0.02,
    untrainedAuroc: untrained,
    runId: `${series}-${steps}`,
  };
}

const curve: LearningCurve = {
  evalProportion: 0.45,
  missing: ['mae-vit_tiny-p45-s42-000000000000'],
  points: [
    point('SimCLR ResNet-18', 236, 0.911, 0.858),
    point('SimCLR ResNet-18', 59, 0.86, 0.858),
    point('SimCLR ResNet-18', 118, 0.895, 0.858),
    point('BYOL ResNet-18', 59, 0.8, 0.858),
    point('BYOL ResNet-18', 236, 0.85, 0.858),
  ],
};

describe('learning curve report', () => {
  it('names the fewest steps that beat the untrained network by the margin, or the gap at the longest run', () => {
    const [simclr, byol, note] = summarizeLearningCurve(curve).split('\n').filter(Boolean);
    assert.match(simclr, /\*\*SimCLR ResNet-18\*\* beats its untrained network \(0\.858\) by 0\.03 first at 118 steps/);
    assert.match(simclr, /0\.860 at 59, 0\.895 at 118, 0\.911 at 236 steps/);
    assert.match(byol, /does not beat its untrained network \(0\.858\) by 0\.03 in any run up to 236 steps/);
    assert.match(byol, /\(best gain -0\.008 at 236, -0\.008 at 236\)/);
    assert.match(note, /1 run\(s\) of the curve not finished yet/);
    assert.match(
      summarizeLearningCurve(curve, 0.06),
      /SimCLR ResNet-18\*\* does not beat .* \(best gain 0\.053 at 236/,
    );
    assert.match(summarizeLearningCurve({ ...curve, points: [], missing: [] }), /No run of the learning curve/);
  });

  it('tabulates the gain per point in step order', () => {
    const rows = learningCurveTable(curve).objects() as Array<Record<string, number | string>>;
    assert.deepEqual(
      rows.filter((r) => r.series === 'SimCLR ResNet-18').map((r) => r.steps),
      [59, 118, 236],
    );
    const last = rows.find((r) => r.series === 'SimCLR ResNet-18' && r.steps === 236)!;
    assert.ok(Math.abs((last.gain as number) - 0.053) < 1e-9);
  });

  it('draws each series and its untrained network as a flat dashed line across the series’ steps', () => {
    const spec = learningCurveFigure(curve) as unknown as { data: { values: Array<Record<string, unknown>> } };
    const values = spec.data.values;
    const flat = values.filter((v) => v.network === 'untrained' && v.series === 'SimCLR ResNet-18');
    assert.deepEqual(
      flat.map((v) => [v.steps, v.auroc]),
      [
        [59, 0.858],
        [236, 0.858],
      ],
    );
    assert.equal(values.filter((v) => v.network === 'trained').length, curve.points.length);
  });
});
