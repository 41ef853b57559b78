import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { openRun } from '../../lib/runs/store';
import { makeRunConfig, validateRunConfig } from '../../lib/methods/config';
import { methodSpec } from '../../lib/methods';
import { PAPER_LARS_ETA, scaledLearningRates, type RunConfig, type RunOverrides } from '../../lib/runs/config';
import { runId } from '../../lib/runs/id';
import { PAPER_AUGMENT, SCALE_PRESETS } from '../../lib/runs/presets';

/**
 * The default scale before it took every training image and solo-learn's η, and before it restored the paper's head
 * widths, took its own ablation's augmentation and trained ViT-Tiny for 8 epochs (the runs of the pinned ids below).
 */
const OLD_DEFAULT: RunOverrides = {
  epochs: 4,
  dataset: { trainFraction: 0.5 },
  optimizer: { eta: PAPER_LARS_ETA },
  settings: { projHiddenDim: 512, projOutputDim: 128, predHiddenDim: 512, numPrototypes: 1024 },
  augment: PAPER_AUGMENT,
};

describe('run configs', () => {
  it(
    'the CPU scales standardise the SSL probe and raise its lr; the ' +
      'paper scale and supervised keep the paper’s probe',
    () => {
      for (const scale of ['smoke', 'default'] as const) {
        for (const method of ['simclr', 'byol', 'barlow', 'dino'] as const) {
          const config = makeRunConfig({ method, backbone: 'resnet18' }, scale);
          assert.deepEqual(
            config.probe,
            { lr: 0.12, momentum: 0.9, weightDecay: 0, standardize: true, gaussNewton: false },
            `${method} at ${scale}`,
          );
        }
        assert.equal(
          makeRunConfig({ method: 'mae', backbone: 'vit_tiny' }, scale).probe.lr,
          scale === 'default' ? 0.4 : 0.12,
        );
        assert.deepEqual(makeRunConfig({ method: 'supervised', backbone: 'vit_tiny' }, scale).probe, {
          lr: 1e-3,
          momentum: 0.9,
          weightDecay: 0,
          standardize: false,
          gaussNewton: false,
        });
      }
      assert.deepEqual(
        makeRunConfig({ method: 'mae', backbone: 'vit_tiny', dataset: { dir: '/data/sewer-ml' } }, 'paper').probe,
        { lr: 1e-4, momentum: 0.9, weightDecay: 0, standardize: false, gaussNewton: false },
      );
      assert.deepEqual(
        makeRunConfig({ method: 'simclr', backbone: 'resnet18', dataset: { dir: '/data/sewer-ml' } }, 'paper').probe,
        { lr: 1e-3, momentum: 0.9, weightDecay: 0, standardize: false, gaussNewton: false },
      );
      // batch 64 at the default scale: 0.12 · 64/256 per step.
      assert.ok(
        Math.abs(
          scaledLearningRates(makeRunConfig({ method: 'simclr', backbone: 'resnet18' }, 'default')).probeLr - 0.03,
        ) < 1e-12,
      );
    },
  );

  it('a plain probe hashes as a config written before the standardize field, so finished runs keep their ids', () => {
    const plain = makeRunConfig({ method: 'simclr', backbone: 'resnet18', probe: { standardize: false } }, 'default');
    const { standardize: _dropped, ...oldProbe } = plain.probe;
    const written = JSON.parse(JSON.stringify({ ...plain, probe: oldProbe })) as RunConfig;
    assert.equal(runId(validateRunConfig(written)), runId(plain));
    assert.equal(written.probe.standardize, false, 'an old config file reads as the plain probe');
    assert.notEqual(runId(makeRunConfig({ method: 'simclr', backbone: 'resnet18' }, 'default')), runId(plain));
  });

  it(
    'smoke and paper keep the paper’s LARS trust coefficient, default ' +
      'takes solo-learn’s; an η override is its own run',
    () => {
      for (const method of ['simclr', 'byol', 'barlow', 'supervised', 'dino', 'mae'] as const) {
        const lars = methodSpec(method).appendixB.optimizer.kind === 'lars';
        assert.equal(makeRunConfig({ method, backbone: 'vit_tiny' }, 'smoke').optimizer.eta, PAPER_LARS_ETA, method);
        // The default scale's LARS methods use solo-learn's η; η means nothing to AdamW, which keeps the paper's.
        assert.equal(
          makeRunConfig({ method, backbone: 'vit_tiny' }, 'default').optimizer.eta,
          lars ? SCALE_PRESETS.default.larsEta : PAPER_LARS_ETA,
          method,
        );
      }
      assert.equal(SCALE_PRESETS.default.larsEta, 0.02);
      assert.equal(
        makeRunConfig({ method: 'byol', backbone: 'resnet18', dataset: { dir: '/data/sewer-ml' } }, 'paper').optimizer
          .eta,
        0.001,
      );
      assert.equal(
        makeRunConfig({ method: 'byol', backbone: 'resnet18', optimizer: { eta: 0.02 } }, 'default').optimizer.eta,
        0.02,
      );
    },
  );

  it(
    'the paper’s trust coefficient hashes as a config written before the ' +
      'eta field, so runs finished before it keep their ids',
    () => {
      for (const overrides of [
        { method: 'dino', backbone: 'resnet18' },
        { method: 'simclr', backbone: 'vit_tiny' },
      ] as const) {
        const config = makeRunConfig({ ...OLD_DEFAULT, ...overrides }, 'default');
        const { eta: _dropped, ...oldOptimizer } = config.optimizer;
        const written = JSON.parse(JSON.stringify({ ...config, optimizer: oldOptimizer })) as RunConfig;
        assert.equal(runId(validateRunConfig(written)), runId(config), overrides.method);
        assert.equal(written.optimizer.eta, PAPER_LARS_ETA, 'an old config file reads as the paper’s η');
      }
      assert.notEqual(
        runId(makeRunConfig({ method: 'simclr', backbone: 'vit_tiny' }, 'smoke')),
        runId(makeRunConfig({ method: 'simclr', backbone: 'vit_tiny', optimizer: { eta: 0.02 } }, 'smoke')),
      );
    },
  );

  it('MAE runs trained with the 3-head encoder get new ids; no other method’s id moves', () => {
    // Ids of the default-scale runs before the 12-head fix (measured on that code).
    assert.notEqual(
      runId(makeRunConfig({ ...OLD_DEFAULT, method: 'mae', backbone: 'vit_tiny' }, 'default')),
      'mae-vit_tiny-p45-s42-e906ec1de3f7',
    );
    assert.equal(
      // (and before ViT-Tiny's probe took the Gauss–Newton step)
      runId(
        makeRunConfig(
          { ...OLD_DEFAULT, method: 'simclr', backbone: 'vit_tiny', probe: { lr: 0.12, gaussNewton: false } },
          'default',
        ),
      ),
      'simclr-vit_tiny-p45-s42-f8b46e000e8d',
    );
    assert.equal(
      runId(makeRunConfig({ ...OLD_DEFAULT, method: 'supervised', backbone: 'resnet18' }, 'default')),
      'supervised-resnet18-p45-s42-2278f5c66b33',
    );
  });

  it('the default trains the paper’s heads and, on ResNet-18, the ablation’s augmentation', () => {
    for (const method of ['simclr', 'byol', 'barlow', 'dino'] as const) {
      const settings = makeRunConfig({ method, backbone: 'resnet18' }, 'default').settings;
      const paper = methodSpec(method).settings as Record<string, number | boolean>;
      for (const key of ['projHiddenDim', 'projOutputDim', 'predHiddenDim', 'numPrototypes'])
        if (key in paper) assert.equal(settings[key], paper[key], `${method} ${key}`);
    }
    assert.equal(makeRunConfig({ method: 'dino', backbone: 'resnet18' }, 'default').settings.numPrototypes, 8192);
    // ViT-Tiny trains twice the epochs at the default scale only; an epochs override still wins.
    assert.equal(makeRunConfig({ method: 'mae', backbone: 'vit_tiny' }, 'default').epochs, 8);
    assert.equal(makeRunConfig({ method: 'mae', backbone: 'vit_tiny', epochs: 3 }, 'default').epochs, 3);
    assert.equal(makeRunConfig({ method: 'byol', backbone: 'resnet18' }, 'default').epochs, 4);
    assert.equal(makeRunConfig({ method: 'byol', backbone: 'vit_tiny' }, 'smoke').epochs, 2);
    assert.equal(makeRunConfig({ method: 'byol', backbone: 'resnet18' }, 'smoke').settings.projHiddenDim, 64);
    const ablation = { enabled: true, minScale: 0.71, jitter: 0.1, hflip: true };
    for (const method of ['supervised', 'simclr'] as const)
      assert.deepEqual(makeRunConfig({ method, backbone: 'resnet18' }, 'default').augment, ablation, method);
    // ViT-Tiny keeps the paper's augmentation at the default scale: the ablation that chose 0.71 / 0.1 trained a
    // ResNet-18.
    for (const method of ['supervised', 'simclr', 'byol', 'mae'] as const)
      assert.deepEqual(makeRunConfig({ method, backbone: 'vit_tiny' }, 'default').augment, PAPER_AUGMENT, method);
    for (const method of ['supervised', 'simclr', 'mae'] as const) {
      const backbone = method === 'mae' ? 'vit_tiny' : 'resnet18';
      assert.deepEqual(makeRunConfig({ method, backbone }, 'smoke').augment, PAPER_AUGMENT);
      assert.deepEqual(makeRunConfig({ method, backbone, dataset: { dir: '/data/sewer-ml' } }, 'paper').augment, {
        enabled: true,
        minScale: 0.395,
        jitter: 0.275,
        hflip: true,
      });
    }
    // A preset's augmentation is copied, so an override never writes into the preset.
    makeRunConfig({ method: 'simclr', backbone: 'resnet18', augment: { jitter: 0.5 } }, 'default');
    assert.equal(SCALE_PRESETS.default.augment.jitter, 0.1);
    makeRunConfig({ method: 'simclr', backbone: 'vit_tiny', augment: { jitter: 0.5 } }, 'default');
    assert.equal(PAPER_AUGMENT.jitter, 0.275);
  });

  it('DINO takes 4× the paper’s learning rates at the default scale only; the other methods keep appendix B', () => {
    for (const method of ['supervised', 'simclr', 'byol', 'barlow', 'dino', 'mae'] as const) {
      const backbone = method === 'mae' ? 'vit_tiny' : 'resnet18';
      const paper = methodSpec(method).appendixB.optimizer;
      const factor = method === 'dino' ? 4 : 1;
      const atDefault = makeRunConfig({ method, backbone }, 'default').optimizer;
      assert.equal(atDefault.lr, paper.lr * factor, method);
      assert.equal(atDefault.warmupStartLr, paper.warmupStartLr * factor, method);
      assert.equal(makeRunConfig({ method, backbone }, 'smoke').optimizer.lr, paper.lr, method);
    }
    assert.equal(makeRunConfig({ method: 'dino', backbone: 'vit_tiny' }, 'default').optimizer.lr, 0.002);
    // A user's lr still wins over the scale's rule.
    assert.equal(
      makeRunConfig({ method: 'dino', backbone: 'vit_tiny', optimizer: { lr: 1e-3 } }, 'default').optimizer.lr,
      1e-3,
    );
  });

  it('rejects a negative or non-numeric optimizer.eta, naming the field', () => {
    assert.throws(
      () => makeRunConfig({ method: 'simclr', backbone: 'resnet18', optimizer: { eta: -1 } }, 'smoke'),
      /optimizer\.eta = -1/,
    );
    assert.throws(
      () =>
        makeRunConfig(
          { method: 'simclr', backbone: 'resnet18', optimizer: { eta: 'big' as unknown as number } },
          'smoke',
        ),
      /optimizer\.eta = "big"/,
    );
  });

  it('the ViT-Tiny probe takes the Gauss–Newton step at the default scale; ResNet-18 runs keep their ids', () => {
    const vit = makeRunConfig({ method: 'dino', backbone: 'vit_tiny' }, 'default');
    const resnet = makeRunConfig({ method: 'dino', backbone: 'resnet18' }, 'default');
    assert.deepEqual([vit.probe.gaussNewton, vit.probe.lr, vit.probe.standardize], [true, 0.4, true]);
    assert.deepEqual([resnet.probe.gaussNewton, resnet.probe.lr], [false, 0.12]);
    assert.equal(makeRunConfig({ method: 'supervised', backbone: 'vit_tiny' }, 'default').probe.gaussNewton, false);
    // A config file written before the field existed reads as the SGD probe and hashes as it did.
    const { gaussNewton: _dropped, ...oldProbe } = resnet.probe;
    const written = JSON.parse(JSON.stringify({ ...resnet, probe: oldProbe })) as RunConfig;
    assert.equal(validateRunConfig(written).probe.gaussNewton, false);
    assert.equal(runId(validateRunConfig(written)), runId(resnet));
    assert.notEqual(
      runId(makeRunConfig({ method: 'dino', backbone: 'vit_tiny', probe: { gaussNewton: false } }, 'default')),
      runId(vit),
    );
  });

  it('rejects a probe.gaussNewton that is not a boolean, naming the field', () => {
    assert.throws(
      () =>
        makeRunConfig(
          { method: 'simclr', backbone: 'vit_tiny', probe: { gaussNewton: 1 as unknown as boolean } },
          'smoke',
        ),
      /probe\.gaussNewton = 1; allowed: true, false/,
    );
  });

  it('rejects a probe.standardize that is not a boolean, naming the field', () => {
    assert.throws(
      () =>
        makeRunConfig(
          { method: 'simclr', backbone: 'resnet18', probe: { standardize: 'yes' as unknown as boolean } },
          'smoke',
        ),
      /probe\.standardize = "yes"; allowed: true, false/,
    );
  });
});

describe('config validation catches what would fail later', () => {
  const base = { method: 'dino' as const, backbone: 'resnet18' as const };
  // Each of these trained until a NaN, a division by zero or a shape error before it was checked.
  const cases: Array<[string, Parameters<typeof makeRunConfig>[0], RegExp]> = [
    [
      'studentTemperature 0',
      { ...base, settings: { studentTemperature: 0 } },
      /settings\.studentTemperature = 0; expected a number in \[0\.0001, 10\]/,
    ],
    ['teacherTemperature 0', { ...base, settings: { teacherTemperature: 0 } }, /settings\.teacherTemperature = 0/],
    [
      'warmupTeacherTemperature negative',
      { ...base, settings: { warmupTeacherTemperature: -0.04 } },
      /settings\.warmupTeacherTemperature = -0\.04/,
    ],
    [
      'warmupTeacherTemperatureEpochs 1.5',
      { ...base, settings: { warmupTeacherTemperatureEpochs: 1.5 } },
      /settings\.warmupTeacherTemperatureEpochs = 1\.5; expected an integer/,
    ],
    [
      'freezePrototypesEpochs -1',
      { ...base, settings: { freezePrototypesEpochs: -1 } },
      /settings\.freezePrototypesEpochs = -1/,
    ],
    ['lambda negative', { method: 'barlow', backbone: 'resnet18', settings: { lambda: -1 } }, /settings\.lambda = -1/],
    ['scaleLoss 0', { method: 'barlow', backbone: 'resnet18', settings: { scaleLoss: 0 } }, /settings\.scaleLoss = 0/],
    [
      'normPixLoss "yes"',
      { method: 'mae', backbone: 'vit_tiny', settings: { normPixLoss: 'yes' as unknown as boolean } },
      /settings\.normPixLoss = "yes"; allowed: true, false/,
    ],
    [
      'maskRatio keeping no patch',
      { method: 'mae', backbone: 'vit_tiny', imageSize: 16, patchSize: 8, settings: { maskRatio: 0.9 } },
      /settings\.maskRatio = 0\.9; keeps no patch of the 4/,
    ],
    [
      'decoderHeads not dividing decoderEmbedDim',
      { method: 'mae', backbone: 'vit_tiny', settings: { decoderHeads: 5 } },
      /settings\.decoderHeads = 5; must divide decoderEmbedDim 64/,
    ],
    ['augment.hflip "no"', { ...base, augment: { hflip: 'no' as unknown as boolean } }, /augment\.hflip = "no"/],
    ['augment.enabled 1', { ...base, augment: { enabled: 1 as unknown as boolean } }, /augment\.enabled = 1/],
    ['dataset.dir ""', { ...base, dataset: { dir: '' } }, /dataset\.dir = ""; expected a folder path or null/],
  ];
  for (const [what, overrides, message] of cases) {
    it(`rejects ${what}, naming the field and the range`, () => {
      assert.throws(() => makeRunConfig(overrides, 'smoke'), message);
    });
  }

  it('rejects a config file with a misspelt field inside a section', () => {
    const config = makeRunConfig(base, 'smoke');
    const file = { ...config, settings: { ...config.settings, studentTemprature: 0.1 } } as unknown as RunConfig;
    assert.throws(() => validateRunConfig(file), /settings\.studentTemprature = 0\.1; unknown field/);
  });
});

describe('run folders written before probe.standardize and optimizer.eta', () => {
  it('reopen under the same id, and read back with the plain probe', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-old-config-'));
    try {
      const config = makeRunConfig({ method: 'supervised', backbone: 'resnet18' }, 'smoke');
      const first = openRun(dir, config);
      const { standardize: _dropped, ...oldProbe } = config.probe;
      const { eta: _alsoDropped, ...oldOptimizer } = config.optimizer;
      fs.writeFileSync(
        first.configFile,
        JSON.stringify({ ...config, probe: oldProbe, optimizer: oldOptimizer }, null, 1),
      );
      const again = openRun(dir, config);
      assert.equal(again.id, first.id);
      assert.equal(again.config().probe.standardize, false);
      assert.equal(again.config().optimizer.eta, PAPER_LARS_ETA);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
