/**
 * Where things live on disk. Every path can be moved with an environment variable so a user can point
 * the same notebooks at the real Sewer-ML or at a shared results folder.
 *
 * @example
 *   projectPaths().results;          // <repo>/runs/results   (SSLAD_RESULTS_DIR overrides)
 *   datasetStatus().map(d => d.name); // ['synthetic-sewer', 'sewer-ml', 'fashion-mnist']
 */
import * as fs from 'fs';
import * as path from 'path';

/** The repository root, found from this file whether it runs from lib/ (tsx) or dist/lib/ (compiled). */
export function projectRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'lib'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`cannot find the project root above ${__dirname}`);
}

export interface ProjectPaths {
  root: string;
  data: string;
  /** Generated synthetic sewer datasets, one folder per preset. */
  synthetic: string;
  /** Decoded-image shards. */
  cache: string;
  /** One folder per training run, plus the tidy results table. */
  results: string;
  figures: string;
  /** The real Sewer-ML (CSVs + image folder), if the user has it. */
  sewerMl: string | null;
  fashionMnist: string;
}

export function projectPaths(): ProjectPaths {
  const root = projectRoot();
  const env = process.env;
  return {
    root,
    data: path.join(root, 'data'),
    synthetic: env.SSLAD_SYNTHETIC_DIR ?? path.join(root, 'data', 'synthetic-sewer'),
    cache: env.SSLAD_CACHE_DIR ?? path.join(root, 'data', 'cache'),
    results: env.SSLAD_RESULTS_DIR ?? path.join(root, 'runs', 'results'),
    figures: env.SSLAD_FIGURES_DIR ?? path.join(root, 'figures'),
    sewerMl: env.SSLAD_SEWERML_DIR ?? null,
    fashionMnist: env.SSLAD_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist',
  };
}

export interface DatasetStatus {
  name: 'synthetic-sewer' | 'sewer-ml' | 'fashion-mnist';
  present: boolean;
  location: string | null;
  note: string;
}

const FASHION_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
];

/** Which of the study's datasets are on this machine, and what to do about the missing ones. */
export function datasetStatus(paths: ProjectPaths = projectPaths()): DatasetStatus[] {
  const syntheticPresets = fs.existsSync(paths.synthetic)
    ? fs.readdirSync(paths.synthetic).filter((d) => fs.existsSync(path.join(paths.synthetic, d, 'SewerML_Train.csv')))
    : [];
  const sewer = paths.sewerMl;
  const sewerPresent =
    sewer !== null &&
    fs.existsSync(path.join(sewer, 'SewerML_Train.csv')) &&
    fs.existsSync(path.join(sewer, 'SewerML_Val.csv'));
  const fashionMissing = FASHION_FILES.filter((f) => !fs.existsSync(path.join(paths.fashionMnist, f)));
  return [
    {
      name: 'synthetic-sewer',
      present: syntheticPresets.length > 0,
      location: paths.synthetic,
      note: syntheticPresets.length
        ? `generated presets: ${syntheticPresets.join(', ')}`
        : 'not generated yet; it is generated on first use',
    },
    {
      name: 'sewer-ml',
      present: sewerPresent,
      location: sewer,
      note: sewerPresent
        ? 'SewerML_Train.csv and SewerML_Val.csv found'
        : sewer === null
          ? 'set SSLAD_SEWERML_DIR to the folder holding SewerML_Train.csv, SewerML_Val.csv and the images' +
            ' (obtained from the Sewer-ML authors)'
          : `SSLAD_SEWERML_DIR=${sewer} lacks SewerML_Train.csv or SewerML_Val.csv`,
    },
    {
      name: 'fashion-mnist',
      present: fashionMissing.length === 0,
      location: paths.fashionMnist,
      note:
        fashionMissing.length === 0
          ? 'the four IDX files are present'
          : `missing ${fashionMissing.join(', ')}: apt-get install dataset-fashion-mnist`,
    },
  ];
}
