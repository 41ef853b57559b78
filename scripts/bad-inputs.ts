/**
 * Tries every class of bad input the study can be given and prints the table of data/README.md ("Bad input"):
 * what was tried, where, and the error it gives. An input that does not raise an error is printed as SILENT and
 * makes the script exit 1, so the table can only be regenerated when every class fails loudly.
 *
 *   npx tsx scripts/bad-inputs.ts            # the markdown table, then the counts
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { makeRunConfig, validateRunConfig } from '../lib/methods/config';
import { type RunConfig, type RunOverrides } from '../lib/runs/config';
import { runId } from '../lib/runs/id';
import { clearDatasetIdentities } from '../lib/runs/dataset';
import { main } from '../lib/cli';
import { parseSewerMlCsv, readSewerMlSplit, SEWER_CODES } from '../lib/data/sewerml';
import { ensureSyntheticDataset, readSyntheticSplit } from '../lib/data/synthetic';
import { readFashionMnistSplit } from '../lib/data/fashion_mnist';

interface Case {
  input: string;
  where: string;
  run: () => unknown | Promise<unknown>;
  /** What the error must name (file, line, field) to count as clear. */
  names: RegExp;
}

const HEADER = ['Filename', ...SEWER_CODES, 'VA', 'ND', 'Defect', 'WaterLevel'];
const row = (name: string, code: number | null, extra: string[] = []) =>
  [
    name,
    ...SEWER_CODES.map((_, k) => (k === code ? '1' : '0')),
    '0',
    code === null ? '1' : '0',
    code === null ? '0' : '1',
    '5',
    ...extra,
  ].join(',');
const csv = (...lines: string[]) => [HEADER.join(','), ...lines].join('\n') + '\n';

async function sewerFolder(train: string, options: { images?: boolean } = {}): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-bad-'));
  fs.mkdirSync(path.join(dir, 'images'));
  if (options.images !== false) {
    for (const name of ['a.png', 'b.png'])
      await sharp(Buffer.alloc(48, 9), { raw: { width: 4, height: 4, channels: 3 } })
        .png()
        .toFile(path.join(dir, 'images', name));
  }
  fs.writeFileSync(path.join(dir, 'SewerML_Train.csv'), train);
  fs.writeFileSync(path.join(dir, 'SewerML_Val.csv'), csv(row('a.png', null)));
  return dir;
}

const config = (o: Partial<RunOverrides> = {}) =>
  makeRunConfig(
    { method: 'dino', backbone: 'resnet18', ...o } as RunOverrides & { method: 'dino'; backbone: 'resnet18' },
    'smoke',
  );

async function cli(argv: string[], env: Record<string, string> = {}): Promise<void> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const lines: string[] = [];
  try {
    const code = await main(argv, { log: (l) => lines.push(l), err: (l) => lines.push(l) });
    if (code !== 0) throw new Error(`exit ${code}: ${lines.join(' ').replace(/\s*usage: .*$/s, '')}`);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const results = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-bad-results-'));

const CASES: Case[] = [
  // Annotation files
  {
    input: 'annotation file missing',
    where: 'reader',
    run: () => readSewerMlSplit({ dir: results, split: 'val' }),
    names: /SewerML_Val\.csv: annotation file not found/,
  },
  {
    input: 'empty annotation file',
    where: 'reader',
    run: () => parseSewerMlCsv('', 'T.csv'),
    names: /T\.csv: empty annotation file/,
  },
  {
    input: 'a required column missing',
    where: 'reader',
    run: () => parseSewerMlCsv(HEADER.filter((h) => h !== 'IN').join(',') + '\n', 'T.csv'),
    names: /T\.csv: missing column IN/,
  },
  {
    input: 'header only, no rows',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(), 'T.csv'),
    names: /T\.csv: no data rows/,
  },
  {
    input: 'a row with too few fields',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(row('a.png', null).replace(/,5$/, '')), 'T.csv'),
    names: /T\.csv: line 2: 21 fields/,
  },
  {
    input: 'a row with too many fields (unquoted comma)',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(row('a,b.png', 7)), 'T.csv'),
    names: /T\.csv: line 2: 23 fields/,
  },
  {
    input: 'an empty Filename',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(row('', null)), 'T.csv'),
    names: /T\.csv: line 2, field Filename/,
  },
  {
    input: 'a flag that is not 0/1',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(row('a.png', null).replace(/^a\.png,0/, 'a.png,2')), 'T.csv'),
    names: /line 2, field RB: expected 0 or 1, got "2"/,
  },
  {
    input: 'a WaterLevel that is not a number',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(row('a.png', null).replace(/,5$/, ',deep')), 'T.csv'),
    names: /line 2, field WaterLevel/,
  },
  {
    input: 'Defect = 0 with a code set',
    where: 'reader',
    run: () => parseSewerMlCsv(csv(row('a.png', null).replace(/^a\.png,0/, 'a.png,1')), 'T.csv'),
    names: /T\.csv: line 2 \(a\.png\): Defect = 0 but RB = 1/,
  },
  {
    input: 'Defect = 1 with no code',
    where: 'reader',
    run: () =>
      parseSewerMlCsv(
        csv(
          row('a.png', null)
            .replace(/,0,5$/, ',1,5')
            .replace(/,1,1,5$/, ',0,1,5'),
        ),
        'T.csv',
      ),
    names: /line 2 \(a\.png\): Defect = 1 but none of the 17 codes/,
  },
  {
    input: 'an image file missing',
    where: 'reader',
    run: async () =>
      readSewerMlSplit({ dir: await sewerFolder(csv(row('a.png', null), row('zz.png', 3))), split: 'train' }),
    names: /zz\.png \(line 3\): file not found/,
  },
  {
    input: 'an image that is not an image',
    where: 'reader',
    run: async () => {
      const d = await sewerFolder(csv(row('a.png', null), row('b.png', 3)));
      fs.writeFileSync(path.join(d, 'images', 'b.png'), 'text');
      return readSewerMlSplit({ dir: d, split: 'train' });
    },
    names: /b\.png \(line 3\)/,
  },
  // Dataset folders
  {
    input: 'dataset.kind sewerml without a folder',
    where: 'config',
    run: () => {
      delete process.env.SSLAD_SEWERML_DIR;
      return config({ dataset: { kind: 'sewerml' } as never });
    },
    names: /dataset\.dir = null; Sewer-ML needs a folder/,
  },
  {
    input: 'SSLAD_SEWERML_DIR that does not exist',
    where: 'run id',
    run: () => {
      process.env.SSLAD_SEWERML_DIR = '/no/such/sewer';
      try {
        return runId(config({ dataset: { kind: 'sewerml' } as never }));
      } finally {
        delete process.env.SSLAD_SEWERML_DIR;
      }
    },
    names: /SSLAD_SEWERML_DIR = \/no\/such\/sewer: the dataset folder does not exist/,
  },
  {
    input: 'dataset.dir that is a file',
    where: 'run id',
    run: () => {
      clearDatasetIdentities();
      return runId(config({ dataset: { kind: 'sewerml', dir: __filename } as never }));
    },
    names: /bad-inputs\.ts: not a folder/,
  },
  {
    input: 'synthetic data changed after generation',
    where: 'reader',
    run: async () => {
      const d = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-bad-syn-'));
      await ensureSyntheticDataset(d, {
        trainImages: 6,
        valImages: 4,
        imageSize: 16,
        trainDefectProportion: 0.5,
        valDefectProportion: 0.5,
        seed: 1,
      });
      await new Promise((r) => setTimeout(r, 20));
      fs.copyFileSync(path.join(d, 'images', '00000002.png'), path.join(d, 'images', '00000001.png'));
      return readSyntheticSplit(d, 'train');
    },
    names: /the synthetic dataset differs from what the generator wrote .*train images were replaced/,
  },
  {
    input: 'Fashion-MNIST files missing',
    where: 'reader',
    run: () => readFashionMnistSplit({ split: 'train', dir: results }),
    names: /train-images-idx3-ubyte\.gz not found: install .*dataset-fashion-mnist/,
  },
  // Config values
  {
    input: 'an unknown top-level field',
    where: 'config',
    run: () => config({ epoch: 3 } as never),
    names: /epoch = 3; unknown field/,
  },
  {
    input: 'an unknown field in a section (override)',
    where: 'config',
    run: () => config({ optimizer: { learningRate: 1 } as never }),
    names: /optimizer\.learningRate = 1; unknown field/,
  },
  {
    input: 'a misspelt field in a config file',
    where: 'config',
    run: () =>
      validateRunConfig({
        ...config(),
        settings: { ...config().settings, studentTemprature: 0.1 },
      } as unknown as RunConfig),
    names: /settings\.studentTemprature = 0\.1; unknown field/,
  },
  {
    input: 'studentTemperature 0',
    where: 'config',
    run: () => config({ settings: { studentTemperature: 0 } }),
    names: /settings\.studentTemperature = 0; expected a number in \[0\.0001, 10\]/,
  },
  {
    input: 'temperature 0 (SimCLR)',
    where: 'config',
    run: () => config({ settings: { temperature: 0 } }),
    names: /settings\.temperature = 0/,
  },
  {
    input: 'teacherTemperature negative',
    where: 'config',
    run: () => config({ settings: { teacherTemperature: -1 } }),
    names: /settings\.teacherTemperature = -1/,
  },
  {
    input: 'scaleLoss 0 (Barlow Twins)',
    where: 'config',
    run: () => config({ settings: { scaleLoss: 0 } }),
    names: /settings\.scaleLoss = 0/,
  },
  {
    input: 'maskRatio that keeps no patch (MAE)',
    where: 'config',
    run: () =>
      makeRunConfig(
        { method: 'mae', backbone: 'vit_tiny', imageSize: 16, patchSize: 8, settings: { maskRatio: 0.9 } },
        'smoke',
      ),
    names: /settings\.maskRatio = 0\.9; keeps no patch/,
  },
  {
    input: 'decoderHeads not dividing decoderEmbedDim',
    where: 'config',
    run: () => makeRunConfig({ method: 'mae', backbone: 'vit_tiny', settings: { decoderHeads: 5 } }, 'smoke'),
    names: /settings\.decoderHeads = 5; must divide/,
  },
  {
    input: 'patchSize not dividing imageSize',
    where: 'config',
    run: () => makeRunConfig({ method: 'simclr', backbone: 'vit_tiny', imageSize: 36 }, 'smoke'),
    names: /patchSize = 8; must divide imageSize 36/,
  },
  {
    input: 'MAE on ResNet-18',
    where: 'config',
    run: () => makeRunConfig({ method: 'mae', backbone: 'resnet18' }, 'smoke'),
    names: /backbone = "resnet18"; MAE needs a ViT/,
  },
  {
    input: 'trainProportion 1',
    where: 'config',
    run: () => config({ trainProportion: 1 }),
    names: /trainProportion = 1; expected a number in \[0\.001, 0\.999\]/,
  },
  {
    input: 'evalProportions empty',
    where: 'config',
    run: () => config({ evalProportions: [] }),
    names: /evalProportions = \[\]/,
  },
  { input: 'batchSize 1', where: 'config', run: () => config({ batchSize: 1 }), names: /batchSize = 1/ },
  {
    input: 'warmupEpochs beyond epochs',
    where: 'config',
    run: () => config({ optimizer: { warmupEpochs: 5 } }),
    names: /optimizer\.warmupEpochs = 5; expected an integer in \[0, 2\]/,
  },
  {
    input: 'optimizer.eta negative',
    where: 'config',
    run: () => config({ optimizer: { eta: -1 } }),
    names: /optimizer\.eta = -1/,
  },
  {
    input: 'a boolean setting given as a string',
    where: 'config',
    run: () => config({ augment: { hflip: 'no' as never } }),
    names: /augment\.hflip = "no"/,
  },
  {
    input: 'dataset.dir an empty string',
    where: 'config',
    run: () => config({ dataset: { dir: '' } as never }),
    names: /dataset\.dir = ""/,
  },
  // Command line and environment
  {
    input: 'SSLAD_BACKEND=nosuch',
    where: 'CLI',
    run: () =>
      cli(['train', '--method', 'supervised', '--backbone', 'resnet18', '--scale', 'smoke', '--results', results], {
        SSLAD_BACKEND: 'nosuch',
      }),
    names: /exit 2: ssl-ad train: SSLAD_BACKEND=nosuch is not a backend; use one of/,
  },
  {
    input: 'an unknown command',
    where: 'CLI',
    run: () => cli(['trian']),
    names: /unknown command "trian"; allowed: train/,
  },
  {
    input: 'an unknown flag',
    where: 'CLI',
    run: () => cli(['train', '--methd', 'x']),
    names: /unknown flag --methd; allowed:/,
  },
  {
    input: '--proportion that is not a number',
    where: 'CLI',
    run: () => cli(['train', '--method', 'supervised', '--backbone', 'resnet18', '--proportion', 'abc']),
    names: /--proportion: "abc" is not a number/,
  },
  {
    input: '--override that is not JSON',
    where: 'CLI',
    run: () => cli(['train', '--method', 'supervised', '--backbone', 'resnet18', '--override', '{epochs:2}']),
    names: /--override: not a JSON object/,
  },
  {
    input: '--config that does not exist',
    where: 'CLI',
    run: () => cli(['train', '--config', '/no/config.json']),
    names: /--config \/no\/config\.json does not exist/,
  },
  {
    input: '--scale that names no scale',
    where: 'CLI',
    run: () => cli(['sweep', '--scale', 'huge', '--dry-run']),
    names: /huge/,
  },
];

async function mainScript(): Promise<number> {
  let clear = 0;
  let vague = 0;
  let silent = 0;
  const lines = ['| input | caught by | error (first two lines) |', '|---|---|---|'];
  for (const c of CASES) {
    let message: string | null = null;
    try {
      await c.run();
    } catch (err) {
      message = (err as Error).message.split('\n').slice(0, 2).join(' / ');
    }
    const cell =
      message === null
        ? '**SILENT** (no error)'
        : `\`${message
            .replace(/\/tmp\/[^\s:/]+/g, '…')
            .replace(/ on \d{4}-\d\d-\d\dT[\d:.]+Z/, '')
            .replace(/\|/g, '\\|')
            .slice(0, 230)}\``;
    if (message === null) silent++;
    else if (c.names.test(message)) clear++;
    else vague++;
    lines.push(`| ${c.input} | ${c.where} | ${cell}${message !== null && !c.names.test(message) ? ' (VAGUE)' : ''} |`);
  }
  console.log(lines.join('\n'));
  console.log(`\n${CASES.length} inputs tried: ${clear} clear errors, ${vague} vague, ${silent} silent`);
  fs.rmSync(results, { recursive: true, force: true });
  return silent || vague ? 1 : 0;
}

mainScript().then((code) => process.exit(code));
