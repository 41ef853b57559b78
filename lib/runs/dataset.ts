/**
 * The dataset a run config reads, as a folder and as an identity (lib/data/identity.ts), and the part of that
 * identity its run id includes.
 *
 * - Sewer-ML: the resolved folder, a digest of each annotation file and of the images' names, sizes and mtimes all
 *   enter the run id, so another folder, an edited CSV or replaced images give a new id. A folder that does not exist
 *   is an error before any run is looked up.
 * - Synthetic: the data is a pure function of the generator version (already in every run id) and the preset (in the
 *   config); reading it checks it against the identity recorded when it was generated (lib/data/synthetic.ts), so
 *   the id needs nothing more and the finished runs keep their ids.
 * - Fashion-MNIST: the published content (checked by content digest) keeps the ids it had; other content enters the id.
 *
 * An identity is reused for a few seconds while the folder's annotation files and image folder look unchanged (size,
 * mtime), so a grid's run ids cost one pass over the images; a sweep worker computes its own and stops when it
 * differs from the sweep's (SSLAD_EXPECTED_RUN_ID).
 *
 * @example
 *   datasetDir(config);              // '/data/sewer-ml' (dataset.dir, else SSLAD_SEWERML_DIR)
 *   datasetIdentityFor(config)?.digest;
 */
import * as fs from 'fs';
import * as path from 'path';
import type { RunConfig } from './config';
import { projectPaths } from './paths';
import type { DatasetIdentity } from '../data/identity';
import { defaultImageDir, SEWER_CSV_NAMES, SewerDataError, sewerMlIdentity } from '../data/sewerml';
import { fashionMnistIdentity, isPublishedFashionMnist } from '../data/fashion_mnist';
import { readSyntheticMarker, syntheticIdentity } from '../data/synthetic';

/** The folder the config's dataset is read from (not checked). */
export function datasetDir(config: RunConfig): string | null {
  const paths = projectPaths();
  switch (config.dataset.kind) {
    case 'synthetic':
      return config.dataset.dir ?? path.join(paths.synthetic, config.dataset.preset);
    case 'sewerml':
      return config.dataset.dir ?? paths.sewerMl;
    case 'fashion-mnist':
      return config.dataset.dir ?? paths.fashionMnist;
  }
  return null;
}

function statKey(file: string): string {
  try {
    const s = fs.statSync(file);
    return `${s.size}:${s.mtimeMs}:${s.ino}`;
  } catch {
    return '-'; // absent, or under something that is not a folder: the identity itself says which
  }
}

/** How long a computed identity is reused: long enough for one grid's run ids, short enough for a notebook session. */
const REUSE_MS = 5000;
const memo = new Map<string, { key: string; at: number; identity: DatasetIdentity | null }>();

/** Forget the identities computed so far (tests; a long-lived process that knows its data changed). */
export function clearDatasetIdentities(): void {
  memo.clear();
}

function remembered(
  kind: string,
  dir: string,
  files: string[],
  compute: () => DatasetIdentity | null,
): DatasetIdentity | null {
  const id = `${kind}:${path.resolve(dir)}`;
  const key = files.map(statKey).join('|');
  const hit = memo.get(id);
  if (hit && hit.key === key && Date.now() - hit.at < REUSE_MS) return hit.identity;
  const identity = compute();
  memo.set(id, { key, at: Date.now(), identity });
  return identity;
}

/**
 * The identity of the config's dataset as it is on disk now; null for synthetic data not generated yet and for an
 * absent Fashion-MNIST folder (nothing to read; training says what to install). Throws naming the folder when a
 * Sewer-ML folder is unset or does not exist.
 */
export function datasetIdentityFor(config: RunConfig): DatasetIdentity | null {
  const dir = datasetDir(config);
  switch (config.dataset.kind) {
    case 'sewerml': {
      if (!dir) throw new SewerDataError('dataset.kind = sewerml needs dataset.dir or SSLAD_SEWERML_DIR');
      const from = config.dataset.dir ? 'dataset.dir' : 'SSLAD_SEWERML_DIR';
      if (!fs.existsSync(dir)) throw new SewerDataError(`${from} = ${dir}: the dataset folder does not exist`);
      const files = [SEWER_CSV_NAMES.train, SEWER_CSV_NAMES.val].map((f) => path.join(dir, f));
      return remembered('sewerml', dir, [...files, defaultImageDir(dir)], () => sewerMlIdentity(dir));
    }
    case 'synthetic': {
      if (!dir || !readSyntheticMarker(dir)) return null;
      const files = [
        ...[SEWER_CSV_NAMES.train, SEWER_CSV_NAMES.val].map((f) => path.join(dir, f)),
        path.join(dir, 'images'),
        path.join(dir, '.synthetic-sewer.json'),
      ];
      return remembered('synthetic', dir, files, () => syntheticIdentity(dir));
    }
    case 'fashion-mnist': {
      if (!dir || !fs.existsSync(dir)) return null;
      const files = fs
        .readdirSync(dir)
        .filter((f) => f.endsWith('.gz'))
        .sort()
        .map((f) => path.join(dir, f));
      return remembered('fashion-mnist', dir, files, () => {
        try {
          return fashionMnistIdentity(dir);
        } catch {
          return null; // incomplete folder: reading it fails with the install hint
        }
      });
    }
  }
  return null;
}

/**
 * What of the dataset's identity enters the run id: the Sewer-ML identity's digest; for Fashion-MNIST the digest
 * only when the content is not the published one; nothing for the synthetic data (see the module comment).
 */
export function datasetDigestForRunId(config: RunConfig): string | null {
  if (config.dataset.kind === 'synthetic') return null;
  const identity = datasetIdentityFor(config);
  if (identity === null) return null;
  if (config.dataset.kind === 'fashion-mnist' && isPublishedFashionMnist(identity)) return null;
  return identity.digest;
}
