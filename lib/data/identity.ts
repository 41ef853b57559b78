/**
 * What a dataset is, cheaply but honestly: digests of the files a run reads, so a run id or a cache key changes
 * whenever the data does.
 *
 * - Annotation files: a SHA-256 of their bytes (they are small: Sewer-ML's train CSV is ~1 M lines, ~70 MB).
 * - Images: a SHA-256 over each referenced file's name, size and modification time, in annotation order. Reading
 *   every image's bytes instead would cost a full pass over the dataset (Sewer-ML: 1.3 M images) each time a run id
 *   is computed; `data/README.md` ("Dataset identity") has the measured rates of both.
 *
 * @example
 *   const images = imageListing('/data/sewer-ml/images', ['00000001.png', '00000002.png']);
 *   images.digest; // changes when a file is replaced, resized, touched, added or removed
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** The image files of one split, summarised. */
export interface ImageListing {
  /** Folder the names are relative to (absolute, symlinks resolved). */
  dir: string;
  count: number;
  /** Total bytes of the files that exist. */
  bytes: number;
  /** Files named by the annotations but absent (counted in the digest as absent). */
  missing: number;
  /** SHA-256 (hex, 16 characters) over `name size mtime` lines. */
  digest: string;
}

/** The identity of one split: its annotation file and its images. */
export interface SplitIdentity {
  /** Annotation file (absolute path). */
  annotation: string;
  /** SHA-256 of the annotation file's bytes (hex, 16 characters). */
  annotationSha256: string;
  images: ImageListing;
}

/** The identity of a dataset as a run reads it. */
export interface DatasetIdentity {
  kind: string;
  /** The folder it was read from, absolute with symlinks resolved. */
  dir: string;
  splits: Record<string, SplitIdentity>;
  /** The synthetic generator's version (synthetic data only). */
  generatorVersion?: number;
  /** A short hash of everything above: what run ids and cache keys include. */
  digest: string;
}

export function sha256Hex(data: string | Buffer, length = 16): string {
  return crypto.createHash('sha256').update(data).digest('hex').slice(0, length);
}

/** SHA-256 of a file's bytes, read in chunks (hex, 16 characters). */
export function fileSha256(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Name, size and modification time of every file in `filenames` (relative to `dir`), digested. */
export function imageListing(dir: string, filenames: readonly string[]): ImageListing {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  let missing = 0;
  for (const name of filenames) {
    const stat = fs.statSync(path.join(dir, name), { throwIfNoEntry: false });
    if (!stat) {
      missing++;
      hash.update(`${name}\t-\t-\n`);
      continue;
    }
    bytes += stat.size;
    hash.update(`${name}\t${stat.size}\t${Math.trunc(stat.mtimeMs)}\n`);
  }
  return { dir: realDir(dir), count: filenames.length, bytes, missing, digest: hash.digest('hex').slice(0, 16) };
}

/** `dir` made absolute with symlinks resolved (as given when it cannot be resolved). */
export function realDir(dir: string): string {
  try {
    return fs.realpathSync(path.resolve(dir));
  } catch {
    return path.resolve(dir);
  }
}

/** The identity's digest: a hash of its kind, folder, per-split digests and generator version. */
export function identityDigest(identity: Omit<DatasetIdentity, 'digest'>): string {
  const splits = Object.keys(identity.splits)
    .sort()
    .map((name) => {
      const s = identity.splits[name];
      return `${name}:${s.annotation}:${s.annotationSha256}:${s.images.dir}:${s.images.count}:${s.images.digest}`;
    });
  return sha256Hex([identity.kind, identity.dir, identity.generatorVersion ?? '', ...splits].join('\n'));
}

/** A one-line description for `ssl-ad status`: kind, folder, digest, image count. */
export function describeIdentity(identity: DatasetIdentity): string {
  const images = Object.values(identity.splits).reduce((n, s) => n + s.images.count, 0);
  const version = identity.generatorVersion !== undefined ? ` v${identity.generatorVersion}` : '';
  return `${identity.kind}${version} ${identity.dir} #${identity.digest.slice(0, 8)} (${images} images)`;
}
