import { strict as assert } from 'assert';
import * as aq from 'arquero';
import { summarizeFrozenProbe, type FrozenComparisonRow } from '../../lib/report/frozen';

function row(
  method: string,
  backbone: string,
  online: number,
  frozen: number,
  random: number,
  drift = 0.05,
): FrozenComparisonRow {
  return {
    method,
    backbone,
    seed: 42,
    runId: `${method}-${backbone}`,
    evalProportion: 0.45,
    onlineF1: 0.5,
    onlineAuroc: online,
    frozenF1: 0.6,
    frozenAuroc: frozen,
    randomInitF1: 0.55,
    randomInitAuroc: random,
    backboneDrift: drift,
  };
}

describe('online versus frozen-feature probe summary', () => {
  it('states the probe gap and which backbones beat their random initialisation, per backbone', () => {
    const text = summarizeFrozenProbe(
      aq.from([
        row('SimCLR', 'ResNet-18', 0.7, 0.84, 0.7, 0.098),
        row('BYOL', 'ResNet-18', 0.72, 0.8, 0.79, 0.006),
        row('MAE', 'ViT-Tiny', 0.52, 0.8, 0.75),
      ]),
    );
    const [resnet, vit] = text.split('\n');
    assert.match(
      resnet,
      /\*\*ResNet-18\*\* \(2 runs\): the frozen-feature probe is above the online probe by 0\.110 AUROC on average/,
    );
    assert.match(resnet, /for SimCLR \(not for BYOL\) \(random-init AUROC 0\.700–0\.790\); training moved/);
    assert.match(
      resnet,
      /random-init AUROC 0\.700–0\.790\); training moved its weight matrices by 0\.6–9\.8 % of their norm\./,
    );
    assert.match(vit, /by 5\.0 % of their norm\.$/);
    assert.match(vit, /\*\*ViT-Tiny\*\* \(1 run\): .* by 0\.280 AUROC .* for MAE \(random-init AUROC 0\.750\)/);
  });

  it('says when nothing beats random initialisation, and when there is nothing to compare', () => {
    assert.match(
      summarizeFrozenProbe(aq.from([row('DINO', 'ViT-Tiny', 0.6, 0.55, 0.6)])),
      /below the online probe by 0\.050 .* no method's trained backbone beats its random initialisation/,
    );
    assert.match(summarizeFrozenProbe(aq.from([])), /nothing to compare/);
  });
});
