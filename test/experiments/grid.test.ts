import { strict as assert } from 'assert';
import { runId } from '../../lib/runs/id';
import {
  AUGMENTATION_POINTS,
  augmentationGrid,
  RESOLUTION_SIZES,
  resolutionGrid,
  sslGrid,
  studyGrid,
} from '../../lib/experiments/grid';

describe('experiment grids', () => {
  it('the SSL study is 5 methods × 2 backbones × 5 proportions + MAE × ViT-Tiny × 5 = 55 distinct runs', () => {
    const configs = sslGrid({ scale: 'smoke' });
    assert.equal(configs.length, 55);
    assert.equal(new Set(configs.map(runId)).size, 55);
    const mae = configs.filter((c) => c.method === 'mae');
    assert.equal(mae.length, 5);
    assert.ok(mae.every((c) => c.backbone === 'vit_tiny'));
    for (const method of ['supervised', 'byol', 'barlow', 'dino', 'simclr']) {
      for (const backbone of ['resnet18', 'vit_tiny']) {
        const cell = configs
          .filter((c) => c.method === method && c.backbone === backbone)
          .map((c) => c.trainProportion);
        assert.deepEqual(cell, [0.01, 0.02, 0.05, 0.15, 0.45], `${method}/${backbone}`);
      }
    }
    // Appendix B survives the grid.
    assert.equal(configs.find((c) => c.method === 'simclr')!.optimizer.kind, 'lars');
  });

  it('seeds multiply the grid and restrictions filter it', () => {
    const configs = sslGrid({
      scale: 'smoke',
      seeds: [1, 2],
      methods: ['supervised', 'mae'],
      backbones: ['resnet18'],
      proportions: [0.05],
    });
    // MAE has no ResNet-18 run, so only supervised remains: 1 × 1 × 1 × 2 seeds.
    assert.deepEqual(
      configs.map((c) => [c.method, c.backbone, c.trainProportion, c.seed]),
      [
        ['supervised', 'resnet18', 0.05, 1],
        ['supervised', 'resnet18', 0.05, 2],
      ],
    );
  });

  it('the resolution ablation is supervised, resize-only, both backbones at each size', () => {
    const configs = resolutionGrid({ scale: 'default' });
    assert.equal(configs.length, 2 * RESOLUTION_SIZES.default.length);
    assert.ok(
      configs.every((c) => c.method === 'supervised' && c.augment.enabled === false && c.trainProportion === 0.45),
    );
    assert.deepEqual(
      configs.filter((c) => c.backbone === 'vit_tiny').map((c) => c.imageSize),
      [...RESOLUTION_SIZES.default],
    );
    assert.ok(configs.every((c) => c.imageSize % c.patchSize === 0));
    assert.deepEqual(RESOLUTION_SIZES.paper, [64, 128, 224, 384, 512]);
  });

  it('the augmentation ablation is supervised ResNet-18 on 25 % of the data over t_val × min_scale', () => {
    const configs = augmentationGrid({ scale: 'default' });
    const points = AUGMENTATION_POINTS.default;
    assert.equal(configs.length, points.jitter.length * points.minScale.length);
    assert.ok(
      configs.every(
        (c) =>
          c.method === 'supervised' &&
          c.backbone === 'resnet18' &&
          c.dataset.trainFraction === 0.25 &&
          c.augment.enabled,
      ),
    );
    const cells = new Set(configs.map((c) => `${c.augment.jitter}/${c.augment.minScale}`));
    assert.equal(cells.size, configs.length);
    assert.ok(cells.has('0.275/0.395'), 'the paper’s chosen point is in the default grid');
    // The paper grid spans the stated ranges and holds every value the text names.
    const paper = AUGMENTATION_POINTS.paper;
    assert.deepEqual([Math.min(...paper.jitter), Math.max(...paper.jitter)], [0.1, 0.8]);
    assert.deepEqual([Math.min(...paper.minScale), Math.max(...paper.minScale)], [0.08, 0.71]);
    for (const v of [0.395, 0.605]) assert.ok(paper.minScale.includes(v));
    for (const v of [0.1, 0.275, 0.45]) assert.ok(paper.jitter.includes(v));
  });

  it('overrides apply to every run, but not to a field the study varies', () => {
    const configs = studyGrid('resolution', { scale: 'smoke', overrides: { epochs: 1, optimizer: { lr: 0.01 } } });
    assert.ok(configs.every((c) => c.epochs === 1 && c.optimizer.lr === 0.01 && c.optimizer.kind === 'adamw'));
    assert.throws(
      () => studyGrid('resolution', { scale: 'smoke', overrides: { imageSize: 64 } }),
      /overrides\.imageSize: this study varies imageSize/,
    );
    assert.throws(
      () => studyGrid('augmentation', { scale: 'smoke', overrides: { augment: { jitter: 0.3 } } }),
      /overrides\.augment\.jitter/,
    );
    assert.throws(
      () => studyGrid('ssl', { scale: 'smoke', overrides: { trainProportion: 0.3 } }),
      /overrides\.trainProportion/,
    );
  });

  it('bad restrictions name the field and the allowed values', () => {
    assert.throws(
      () => sslGrid({ scale: 'smoke', methods: ['moco' as never] }),
      /methods: "moco" is not allowed; allowed: supervised, byol, barlow, dino, simclr, mae/,
    );
    assert.throws(
      () => sslGrid({ scale: 'smoke', proportions: [0.3] }),
      /proportions: 0.3 is not allowed; allowed: 0.01, 0.02, 0.05, 0.15, 0.45/,
    );
    assert.throws(
      () => resolutionGrid({ scale: 'smoke', methods: ['simclr'] }),
      /methods: "simclr" is not allowed; allowed: supervised/,
    );
    assert.throws(() => studyGrid('bogus' as never, { scale: 'smoke' }), /study: "bogus" is not allowed/);
    assert.throws(() => sslGrid({ scale: 'smoke', seeds: [-1] }), /seeds: -1/);
  });
});
