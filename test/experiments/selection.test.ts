import { strict as assert } from 'assert';
import { studyGrid } from '../../lib/experiments/grid';
import {
  fashionMnistGridOptions,
  oneClassSubsetFor,
  seedsOf,
  sslStudyConfigs,
  SMOKE_SSL_SUBSET,
  sslSubsetFor,
} from '../../lib/experiments/selection';

describe('experiments/selection', () => {
  const saved = process.env.SSLAD_SUBSET;
  afterEach(() => {
    if (saved === undefined) delete process.env.SSLAD_SUBSET;
    else process.env.SSLAD_SUBSET = saved;
  });

  it('runs the smoke subset at smoke and the whole grid otherwise', () => {
    delete process.env.SSLAD_SUBSET;
    assert.deepEqual(sslSubsetFor('smoke'), SMOKE_SSL_SUBSET);
    assert.deepEqual(sslSubsetFor('default'), {});
    assert.equal(studyGrid('ssl', { scale: 'smoke', ...sslSubsetFor('smoke') }).length, 4);
    assert.equal(studyGrid('ssl', { scale: 'default' }).length, 55);
  });

  it('adds the seed plan inside the subset: three seeds of the ResNet-18 half at 1 % and 45 % by default', () => {
    delete process.env.SSLAD_SUBSET;
    const configs = sslStudyConfigs('default');
    assert.equal(configs.length, 55 + 20);
    assert.deepEqual(seedsOf(configs), [42, 43, 44]);
    const extra = configs.filter((c) => c.seed !== 42);
    assert.deepEqual([...new Set(extra.map((c) => c.backbone))], ['resnet18']);
    assert.deepEqual([...new Set(extra.map((c) => c.trainProportion))].sort(), [0.01, 0.45]);
    assert.equal(new Set(extra.map((c) => c.method)).size, 5);
    assert.equal(sslStudyConfigs('smoke').length, 4);
    process.env.SSLAD_SUBSET = '{"methods":["simclr"],"backbones":["vit_tiny"]}';
    assert.deepEqual(seedsOf(sslStudyConfigs('default')), [42], 'no ResNet-18 in the subset, no extra seeds');
    process.env.SSLAD_SUBSET = '{"methods":["simclr","byol"],"proportions":[0.45]}';
    assert.equal(sslStudyConfigs('default').length, 4 + 4);
    delete process.env.SSLAD_SUBSET;
  });

  it("notebook 10 runs nine ResNet-18 runs at default, the smoke subset at smoke and SSLAD_SUBSET's fields", () => {
    delete process.env.SSLAD_SUBSET;
    const nine = studyGrid('ssl', { scale: 'default', ...oneClassSubsetFor('default') });
    assert.equal(nine.length, 9);
    assert.deepEqual([...new Set(nine.map((c) => `${c.backbone} ${c.method}`))].sort(), [
      'resnet18 byol',
      'resnet18 simclr',
      'resnet18 supervised',
    ]);
    assert.deepEqual(oneClassSubsetFor('smoke'), SMOKE_SSL_SUBSET);
    assert.deepEqual(oneClassSubsetFor('paper'), {});
    process.env.SSLAD_SUBSET = '{"proportions":[0.45]}';
    assert.equal(studyGrid('ssl', { scale: 'default', ...oneClassSubsetFor('default') }).length, 3);
    process.env.SSLAD_SUBSET = '{"methods":"simclr"}';
    assert.throws(() => oneClassSubsetFor('default'), /SSLAD_SUBSET\.methods must be a list/);
  });

  it('SSLAD_SUBSET narrows the SSL grid of any scale and names a bad field', () => {
    process.env.SSLAD_SUBSET = '{"backbones":["resnet18"],"proportions":[0.01,0.45]}';
    assert.deepEqual(sslSubsetFor('default'), { backbones: ['resnet18'], proportions: [0.01, 0.45] });
    assert.equal(sslSubsetFor('smoke').methods?.length, SMOKE_SSL_SUBSET.methods?.length);
    process.env.SSLAD_SUBSET = '{"backbone":["resnet18"]}';
    assert.throws(() => sslSubsetFor('default'), /SSLAD_SUBSET\.backbone is not a subset field/);
    process.env.SSLAD_SUBSET = '{"methods":"simclr"}';
    assert.throws(() => sslSubsetFor('default'), /SSLAD_SUBSET\.methods must be a list/);
    process.env.SSLAD_SUBSET = '[1]';
    assert.throws(() => sslSubsetFor('default'), /SSLAD_SUBSET must be a JSON object/);
    process.env.SSLAD_SUBSET = '{oops';
    assert.throws(() => sslSubsetFor('default'), /SSLAD_SUBSET is not valid JSON/);
  });

  it('the Fashion-MNIST grid is one run at smoke and trains on Fashion-MNIST', () => {
    const smoke = studyGrid('ssl', fashionMnistGridOptions('smoke'));
    assert.equal(smoke.length, 1);
    assert.equal(smoke[0].dataset.kind, 'fashion-mnist');
    assert.equal(studyGrid('ssl', fashionMnistGridOptions('default')).length, 4);
  });
});
