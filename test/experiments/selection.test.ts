import { strict as assert } from 'assert';
import { studyGrid } from '../../lib/experiments/grid';
import {
  fashionMnistGridOptions,
  SEEDS_BY_SCALE,
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
    assert.equal(studyGrid('ssl', { scale: 'default', seeds: SEEDS_BY_SCALE.default }).length, 55);
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
