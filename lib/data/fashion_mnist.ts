/**
 * Fashion-MNIST as a real-image sanity check, behind the same record interface as Sewer-ML. Reads the gzipped
 * IDX files of Debian's `dataset-fashion-mnist` package (/usr/share/datasets/fashion-mnist). One class is the
 * "defect", all others are normal. Its records carry code RB (index 0) for the defect class and no code
 * otherwise, so F2_CIW stays defined and equals the F2 of that single code.
 * Splits: `train` = the 60 000 training images, `val` = the 10 000 test images (optionally the first `limit`).
 *
 * @example
 *   import { readFashionMnistSplit } from './fashion_mnist';
 *   const train = readFashionMnistSplit({ split: 'train', defectClass: 6, limit: 5000 });  // 6 = Shirt
 *   const pixels = await train.loadImage(train.records[0], 32);   // RGB 32×32, grey replicated
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import sharp from 'sharp';
import type { DatasetSplit, SewerRecord } from './types';
import { identityDigest, realDir, sha256Hex, type DatasetIdentity, type SplitIdentity } from './identity';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

const FILES = {
  train: { images: 'train-images-idx3-ubyte.gz', labels: 'train-labels-idx1-ubyte.gz' },
  val: { images: 't10k-images-idx3-ubyte.gz', labels: 't10k-labels-idx1-ubyte.gz' },
} as const;

/**
 * SHA-256 (first 16 hex characters) of the decompressed IDX files of the published Fashion-MNIST (the same bytes in
 * Zalando's release and in Debian's `dataset-fashion-mnist`, whose gzip files differ). Runs on exactly these keep
 * the run ids they had before dataset identities existed; any other content enters the id.
 */
export const FASHION_MNIST_CONTENT_SHA256: Record<string, string> = {
  'train-images-idx3-ubyte.gz': 'c59f468a2f672dc8',
  'train-labels-idx1-ubyte.gz': 'bad3541b69d91243',
  't10k-images-idx3-ubyte.gz': '5b4141f0afbad91e',
  't10k-labels-idx1-ubyte.gz': '0402a96d92fd2663',
};

function readIdx(file: string): { dims: number[]; data: Uint8Array; sha256: string } {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} not found: install Debian's Fashion-MNIST package (apt-get install dataset-fashion-mnist) or pass dir`,
    );
  }
  const raw = zlib.gunzipSync(fs.readFileSync(file));
  if (raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 0x08)
    throw new Error(`${file}: not an unsigned-byte IDX file (magic ${raw.readUInt32BE(0).toString(16)})`);
  const rank = raw[3];
  const dims = Array.from({ length: rank }, (_, i) => raw.readUInt32BE(4 + 4 * i));
  const start = 4 + 4 * rank;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (raw.length - start !== expected)
    throw new Error(`${file}: ${raw.length - start} data bytes, header says ${expected}`);
  return { dims, data: new Uint8Array(raw.buffer, raw.byteOffset + start, expected), sha256: sha256Hex(raw) };
}

export interface FashionMnistOptions {
  split: 'train' | 'val';
  /** Class index (0–9) treated as defect; default 6 (Shirt, the class most confused with the others). */
  defectClass?: number;
  /** Use only the first `limit` images. */
  limit?: number;
  dir?: string;
}

function splitIdentity(
  dir: string,
  files: { images: string; labels: string },
  imagesSha: string,
  labelsSha: string,
  count: number,
): SplitIdentity {
  const imageFile = path.join(dir, files.images);
  return {
    annotation: path.resolve(dir, files.labels),
    annotationSha256: labelsSha,
    images: { dir: realDir(dir), count, bytes: fs.statSync(imageFile).size, missing: 0, digest: imagesSha },
  };
}

/** The identity of a Fashion-MNIST folder: content digests of its four decompressed IDX files. */
export function fashionMnistIdentity(dir: string = FASHION_MNIST_DIR): DatasetIdentity {
  const splits: Record<string, SplitIdentity> = {};
  for (const split of ['train', 'val'] as const) {
    const files = FILES[split];
    const images = readIdx(path.join(dir, files.images));
    const labels = readIdx(path.join(dir, files.labels));
    splits[split] = splitIdentity(dir, files, images.sha256, labels.sha256, images.dims[0]);
  }
  const base = { kind: 'fashion-mnist', dir: realDir(dir), splits };
  return { ...base, digest: identityDigest(base) };
}

/** Whether an identity is the published Fashion-MNIST's content (wherever it lies). */
export function isPublishedFashionMnist(identity: DatasetIdentity): boolean {
  return (['train', 'val'] as const).every((split) => {
    const s = identity.splits[split];
    return (
      s !== undefined &&
      s.annotationSha256 === FASHION_MNIST_CONTENT_SHA256[FILES[split].labels] &&
      s.images.digest === FASHION_MNIST_CONTENT_SHA256[FILES[split].images]
    );
  });
}

export function readFashionMnistSplit(options: FashionMnistOptions): DatasetSplit {
  const dir = options.dir ?? FASHION_MNIST_DIR;
  const defectClass = options.defectClass ?? 6;
  if (!(Number.isInteger(defectClass) && defectClass >= 0 && defectClass <= 9))
    throw new Error(`readFashionMnistSplit: defectClass must be 0–9, got ${defectClass}`);
  const files = FILES[options.split];
  if (!files) throw new Error(`readFashionMnistSplit: unknown split ${JSON.stringify(options.split)} (train or val)`);
  const images = readIdx(path.join(dir, files.images));
  const labels = readIdx(path.join(dir, files.labels));
  const [count, height, width] = images.dims;
  if (labels.dims[0] !== count) throw new Error(`${dir}: ${count} images but ${labels.dims[0]} labels`);
  const n = Math.min(count, options.limit ?? count);
  const records: SewerRecord[] = [];
  for (let i = 0; i < n; i++) {
    const defect = labels.data[i] === defectClass ? 1 : 0;
    const codes = new Uint8Array(17);
    codes[0] = defect;
    records.push({ filename: `${options.split}-${String(i).padStart(5, '0')}`, defect, codes, index: i });
  }
  const pixelsPerImage = height * width;
  return {
    datasetId: 'fashion-mnist', // pixels do not depend on the defect class, so the cache is shared
    split: options.split,
    records,
    rowCount: n,
    fingerprint: `${count}x${height}x${width}-limit${n}-${images.sha256}-${labels.sha256}`,
    skippedImages: [],
    identity: splitIdentity(dir, files, images.sha256, labels.sha256, n),
    async loadImage(record, size) {
      const grey = images.data.subarray(record.index * pixelsPerImage, (record.index + 1) * pixelsPerImage);
      const resized = await sharp(Buffer.from(grey), { raw: { width, height, channels: 1 } })
        .resize(size, size, { fit: 'fill' })
        .raw()
        .toBuffer({ resolveWithObject: true });
      const step = resized.info.channels;
      const out = new Uint8Array(size * size * 3);
      for (let i = 0; i < size * size; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = resized.data[i * step];
      return out;
    },
  };
}
