import { strict as assert } from 'assert';
import { createBackbone } from '../../lib/models';
import { describeBackbone } from '../../lib/models/describe';

describe('models/describe', () => {
  it('reads the head count, depth and MLP width from the built model', () => {
    const vit = createBackbone({ kind: 'vit_tiny', imageSize: 32, patchSize: 8, depth: 2, numHeads: 6 }, 1);
    const arch = describeBackbone(vit, 'vit_tiny');
    assert.deepEqual(
      {
        depth: arch.kind !== 'resnet18' && arch.depth,
        heads: arch.kind !== 'resnet18' && arch.numHeads,
        mlp: arch.kind !== 'resnet18' && arch.mlpRatio,
        pos: arch.kind !== 'resnet18' && arch.posEmbed,
      },
      { depth: 2, heads: 6, mlp: 4, pos: 'learned' },
    );
    vit.dispose();
    const mae = createBackbone({ kind: 'mae_vit_tiny', imageSize: 32, patchSize: 8, depth: 1 }, 1);
    const maeArch = describeBackbone(mae, 'mae_vit_tiny');
    assert.equal(maeArch.kind !== 'resnet18' && maeArch.posEmbed, 'sincos');
    mae.dispose();
  });

  it('refuses a description that does not fit the model', () => {
    const resnet = createBackbone({ kind: 'resnet18', imageSize: 32 }, 1);
    assert.throws(() => describeBackbone(resnet, 'resnet18'), /pass the imageSize/);
    assert.throws(() => describeBackbone(resnet, 'vit_tiny', 32), /cannot be described as vit_tiny/);
    assert.deepEqual(describeBackbone(resnet, 'resnet18', 32), {
      kind: 'resnet18',
      imageSize: 32,
      featureDim: 512,
      pooling: 'avg',
      layers: [2, 2, 2, 2],
      batchNormEps: 1e-5,
    });
    resnet.dispose();
  });
});
