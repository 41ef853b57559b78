/**
 * Results are tied to the data they came from: the dataset's identity enters the run id (Sewer-ML always;
 * synthetic and published Fashion-MNIST runs keep the ids they had), a missing folder is an error before any run is
 * looked up, and bad environment input leaves no run folder behind.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { makeRunConfig } from '../../lib/methods/config';
import { runId } from '../../lib/runs/id';
import { clearDatasetIdentities } from '../../lib/runs/dataset';
import { studyGrid } from '../../lib/experiments/grid';
import { sslStudyConfigs } from '../../lib/experiments/selection';
import { fashionMnistGridOptions } from '../../lib/report/labelfree';
import { listRuns, openRun } from '../../lib/runs/store';
import { main } from '../../lib/cli';
import { SEWER_CODES, sewerMlIdentity } from '../../lib/data/sewerml';
import { FAKE_TRAINER, ROOT, runCli, tempDir } from './helpers';

const HEADER = ['Filename', ...SEWER_CODES, 'VA', 'ND', 'Defect', 'WaterLevel'].join(',');

function row(filename: string, code: number | null): string {
  return [
    filename,
    ...SEWER_CODES.map((_, k) => (k === code ? '1' : '0')),
    '0',
    code === null ? '1' : '0',
    code === null ? '0' : '1',
    '5',
  ].join(',');
}

async function writePng(file: string, value: number): Promise<void> {
  await sharp(Buffer.alloc(8 * 8 * 3, value), { raw: { width: 8, height: 8, channels: 3 } })
    .png()
    .toFile(file);
}

/** A Sewer-ML-layout folder: 6 train and 2 val images. */
async function sewerFolder(): Promise<string> {
  const dir = tempDir('sewer-identity');
  fs.mkdirSync(path.join(dir, 'images'));
  const names = Array.from({ length: 8 }, (_, i) => `${String(i + 1).padStart(8, '0')}.png`);
  for (const [i, name] of names.entries()) await writePng(path.join(dir, 'images', name), 30 * i);
  fs.writeFileSync(
    path.join(dir, 'SewerML_Train.csv'),
    [HEADER, ...names.slice(0, 6).map((n, i) => row(n, i % 2 ? i : null))].join('\n') + '\n',
  );
  fs.writeFileSync(
    path.join(dir, 'SewerML_Val.csv'),
    [HEADER, row(names[6], null), row(names[7], 2)].join('\n') + '\n',
  );
  return dir;
}

describe('dataset identity in run ids', function () {
  this.timeout(120000);
  const saved = process.env.SSLAD_SEWERML_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.SSLAD_SEWERML_DIR;
    else process.env.SSLAD_SEWERML_DIR = saved;
    clearDatasetIdentities();
  });

  function sewerConfig() {
    return makeRunConfig({ method: 'supervised', backbone: 'resnet18', dataset: { kind: 'sewerml' } }, 'smoke');
  }

  it(
    'a Sewer-ML run selected through SSLAD_SEWERML_DIR gets a new id ' +
      'for another folder, a cut CSV or replaced images',
    async () => {
      const dir = await sewerFolder();
      process.env.SSLAD_SEWERML_DIR = dir;
      const config = sewerConfig();
      assert.equal(config.dataset.dir, null, 'the folder comes from the environment, not the config');
      const original = runId(config);
      clearDatasetIdentities();
      assert.equal(runId(config), original, 'the same data keeps its id');

      const other = tempDir('sewer-identity-copy');
      fs.cpSync(dir, other, { recursive: true, preserveTimestamps: true });
      process.env.SSLAD_SEWERML_DIR = other;
      clearDatasetIdentities();
      const copied = runId(config);
      assert.notEqual(copied, original, 'another folder');

      const csv = path.join(other, 'SewerML_Train.csv');
      fs.writeFileSync(csv, fs.readFileSync(csv, 'utf8').split('\n').slice(0, 4).join('\n') + '\n');
      clearDatasetIdentities();
      const cut = runId(config);
      assert.notEqual(cut, copied, 'a CSV cut to fewer rows');

      await new Promise((r) => setTimeout(r, 20));
      for (const name of fs.readdirSync(path.join(other, 'images')))
        await writePng(path.join(other, 'images', name), 0);
      clearDatasetIdentities();
      assert.notEqual(runId(config), cut, 'every image replaced by a black one');
    },
  );

  it('a Sewer-ML folder that does not exist is an error naming it, before any run is looked up', () => {
    process.env.SSLAD_SEWERML_DIR = path.join(tempDir('sewer-missing'), 'no-such-folder');
    assert.throws(
      () => runId(sewerConfig()),
      /SSLAD_SEWERML_DIR = .*no-such-folder: the dataset folder does not exist/,
    );
    const withDir = makeRunConfig(
      { method: 'supervised', backbone: 'resnet18', dataset: { kind: 'sewerml', dir: '/no/such/sewer-ml' } },
      'smoke',
    );
    assert.throws(() => runId(withDir), /dataset\.dir = \/no\/such\/sewer-ml: the dataset folder does not exist/);
  });

  it(
    'train on a missing folder, or with SSLAD_BACKEND=nosuch: one ' +
      'line without a stack trace, exit 2, no run folder',
    async () => {
      const results = tempDir('identity-cli');
      const args = [
        'train',
        '--method',
        'supervised',
        '--backbone',
        'resnet18',
        '--scale',
        'smoke',
        '--results',
        results,
      ];
      const missing = await runCli([...args, '--override', '{"dataset":{"kind":"sewerml"}}'], {
        SSLAD_SEWERML_DIR: '/no/such/folder',
        SSLAD_TRAINER_MODULE: FAKE_TRAINER,
      });
      assert.equal(missing.code, 2, missing.output);
      assert.equal(
        missing.output.trim(),
        'ssl-ad train: SSLAD_SEWERML_DIR = /no/such/folder: the dataset folder does not exist',
      );
      const backend = await runCli(args, { SSLAD_BACKEND: 'nosuch', SSLAD_TRAINER_MODULE: FAKE_TRAINER });
      assert.equal(backend.code, 2, backend.output);
      assert.match(backend.output.trim(), /^ssl-ad train: SSLAD_BACKEND=nosuch is not a backend; use one of [a-z, ]+$/);
      assert.deepEqual(fs.readdirSync(results), [], 'no run folder was created');
      const sweep = await runCli(
        [
          'sweep',
          '--study',
          'ssl',
          '--scale',
          'smoke',
          '--methods',
          'supervised',
          '--backbones',
          'resnet18',
          '--proportions',
          '0.45',
          '--results',
          results,
        ],
        { SSLAD_BACKEND: 'nosuch', SSLAD_TRAINER_MODULE: FAKE_TRAINER },
      );
      assert.equal(sweep.code, 2, sweep.output);
      assert.doesNotMatch(sweep.output, /\n\s+at /, 'no stack trace');
      assert.deepEqual(listRuns(results), []);
    },
  );

  it('train after the Sewer-ML CSV was cut trains a new run instead of answering "already done"', async () => {
    const dir = await sewerFolder();
    const results = tempDir('identity-rerun');
    const env = { SSLAD_SEWERML_DIR: dir, SSLAD_TRAINER_MODULE: FAKE_TRAINER, FAKE_EPOCH_MS: '10' };
    const args = [
      'train',
      '--method',
      'supervised',
      '--backbone',
      'resnet18',
      '--scale',
      'smoke',
      '--override',
      '{"dataset":{"kind":"sewerml"}}',
      '--results',
      results,
    ];
    const first = await runCli(args, env);
    assert.equal(first.code, 0, first.output);
    const again = await runCli(args, env);
    assert.match(again.output, /already done; nothing to do/);
    const csv = path.join(dir, 'SewerML_Train.csv');
    fs.writeFileSync(csv, fs.readFileSync(csv, 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    const cut = await runCli(args, env);
    assert.equal(cut.code, 0, cut.output);
    assert.doesNotMatch(cut.output, /already done/);
    assert.equal(listRuns(results).length, 2, 'the cut CSV is another run');
  });

  it(
    'a sweep worker whose data changed since the sweep listed its ' + 'run stops instead of training under another id',
    async () => {
      const dir = await sewerFolder();
      const results = tempDir('identity-expected');
      const env = { SSLAD_SEWERML_DIR: dir, SSLAD_TRAINER_MODULE: FAKE_TRAINER, FAKE_EPOCH_MS: '10' };
      const args = [
        'train',
        '--method',
        'supervised',
        '--backbone',
        'resnet18',
        '--scale',
        'smoke',
        '--override',
        '{"dataset":{"kind":"sewerml"}}',
        '--results',
        results,
      ];
      process.env.SSLAD_SEWERML_DIR = dir;
      const listed = runId(sewerConfig()); // what the sweep saw
      const csv = path.join(dir, 'SewerML_Train.csv');
      fs.writeFileSync(csv, fs.readFileSync(csv, 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
      const worker = await runCli(args, { ...env, SSLAD_EXPECTED_RUN_ID: listed });
      assert.equal(worker.code, 2, worker.output);
      assert.match(worker.output, new RegExp(`not ${listed} as when the sweep listed it: the dataset changed since`));
      assert.deepEqual(listRuns(results), [], 'nothing was trained under the new id');
    },
  );

  it('ssl-ad status shows the dataset identity a run recorded', async () => {
    const dir = await sewerFolder();
    const results = tempDir('identity-status');
    const run = openRun(
      results,
      makeRunConfig({ method: 'supervised', backbone: 'resnet18', dataset: { kind: 'sewerml', dir } }, 'smoke'),
    );
    const identity = sewerMlIdentity(dir);
    run.writeDataset(identity);
    const lines: string[] = [];
    assert.equal(
      await main(['status', '--results', results], { log: (l) => lines.push(l), err: (l) => lines.push(l) }),
      0,
    );
    assert.ok(
      lines.some((l) => l.includes(`data: sewerml ${fs.realpathSync(dir)} #${identity.digest.slice(0, 8)} (8 images)`)),
      lines.join('\n'),
    );
    const json: string[] = [];
    await main(['status', '--json', '--results', results], { log: (l) => json.push(l), err: (l) => json.push(l) });
    assert.equal(
      JSON.parse(json.join('\n'))[0].datasetIdentity.splits.train.annotationSha256,
      identity.splits.train.annotationSha256,
    );
  });

  it('finished runs on the bundled synthetic data and on the published Fashion-MNIST keep their ids', () => {
    const committed = new Set(
      fs
        .readFileSync(path.join(ROOT, 'data', 'results', 'default', 'tidy.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[0]),
    );
    // The SSL grid with the scale's extra seeds, as `ssl-ad export --grids ssl` writes it.
    const configs = [
      ...sslStudyConfigs('default', {}),
      ...(['resolution', 'augmentation'] as const).flatMap((g) => studyGrid(g, { scale: 'default' })),
      ...studyGrid('ssl', fashionMnistGridOptions('default')),
    ];
    const ids = new Set(configs.map(runId));
    const lost = [...committed].filter((id) => !ids.has(id));
    assert.deepEqual(lost, [], 'every committed run id is still the id of its config');
    assert.ok(committed.size >= 55, `${committed.size} committed runs: at least the SSL grid`);
  });
});
