import { strict as assert } from 'assert';
import * as aq from 'arquero';
import { seededFindings, seededFindingsTable } from '../../lib/report/claims';
import type { ResultRow } from '../../lib/runs/store';

function f1(method: string, trainProportion: number, seed: number, value: number): ResultRow {
  return {
    runId: `${method}-${trainProportion}-${seed}`,
    method,
    backbone: 'resnet18',
    trainProportion,
    evalProportion: 0.45,
    split: 'val',
    metric: 'f1',
    value,
    seed,
    threshold: 0,
    epoch: 3,
    dataset: 'synthetic-default',
    scale: 'default',
  } as ResultRow;
}

const paper = aq.from([
  { metric: 'f1', method: 'simclr', backbone: 'resnet18', trainProportion: 0.45, value: 0.81 },
  { metric: 'f1', method: 'byol', backbone: 'resnet18', trainProportion: 0.45, value: 0.79 },
  { metric: 'f1', method: 'supervised', backbone: 'resnet18', trainProportion: 0.45, value: 0.9 },
]);

describe('claims over seeds', () => {
  const rows = [
    ...[0.8, 0.82, 0.81].map((v, i) => f1('simclr', 0.45, 42 + i, v)),
    ...[0.7, 0.73, 0.7].map((v, i) => f1('byol', 0.45, 42 + i, v)),
    ...[0.8, 0.86, 0.78].map((v, i) => f1('supervised', 0.45, 42 + i, v)),
    f1('simclr', 0.15, 42, 0.9),
    f1('byol', 0.15, 42, 0.5),
  ];

  it('judges the best SSL method and supervised vs it with paired intervals, only where seeds repeat', () => {
    const [bestSsl, supervised, ...rest] = seededFindings(rows, paper);
    assert.equal(rest.length, 0, 'the one-seed 15 % cell is not judged');
    assert.match(bestSsl.claim, /Best SSL method by F1 at 45% defects, ResNet-18/);
    assert.equal(bestSsl.agree, true);
    assert.equal(bestSsl.seeds, 3);
    assert.match(bestSsl.ours, /^SimCLR \(0\.810 ± 0\.025\), then BYOL \(0\.710 ± 0\.043\)$/);
    assert.match(bestSsl.difference, /^SimCLR − BYOL 0\.100 \[/);
    assert.equal(bestSsl.clear, true);
    // Supervised − SimCLR per seed: 0, 0.04, −0.03: positive on average, but a tie at three seeds.
    assert.match(supervised.ours, /^by 0\.003 F1/);
    assert.equal(supervised.agree, true);
    assert.equal(supervised.clear, false);
    assert.equal(seededFindingsTable([bestSsl, supervised]).get('clear', 1), 'tie');
  });
});
