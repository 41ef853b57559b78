/**
 * How long a dataset identity takes, and what content digests would cost instead (data/README.md, "Dataset
 * identity"). Creates N small files (default 100 000, ~40 KB apart in content size is irrelevant for stat) in a
 * temporary folder, then times:
 *   - the identity's image listing (stat + name/size/mtime digest), files/s;
 *   - a SHA-256 of every file's bytes, files/s (per-file cost: open, read, close);
 *   - a SHA-256 of one 256 MB file from the page cache, MB/s (hashing throughput; a cold disk is slower still).
 * and extrapolates to Sewer-ML's 1.3 million images.
 *
 *   npx tsx bench/identity.ts [N] [imageKiB]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileSha256, imageListing } from '../lib/data/identity';

const n = Number(process.argv[2] ?? 100_000);
const imageKiB = Number(process.argv[3] ?? 4);
const SEWER_ML_IMAGES = 1_300_000;

function seconds(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-identity-bench-'));
try {
  const names = Array.from({ length: n }, (_, i) => `${String(i + 1).padStart(8, '0')}.png`);
  const body = Buffer.alloc(imageKiB * 1024, 7);
  const create = seconds(() => names.forEach((name) => fs.writeFileSync(path.join(dir, name), body)));
  const listing = seconds(() => imageListing(dir, names));
  const listingAgain = seconds(() => imageListing(dir, names));
  const contents = seconds(() => names.forEach((name) => fileSha256(path.join(dir, name))));
  const big = path.join(dir, 'big.bin');
  fs.writeFileSync(big, Buffer.alloc(256 << 20, 3));
  fileSha256(big); // into the page cache
  const bigSeconds = seconds(() => fileSha256(big));
  const mbPerSecond = 256 / bigSeconds;
  const listRate = n / Math.min(listing, listingAgain);
  const contentRate = n / contents;
  console.log(`${n} files of ${imageKiB} KiB created in ${create.toFixed(1)} s`);
  console.log(
    `image listing (stat + digest): ${listing.toFixed(2)} s, again ${listingAgain.toFixed(2)} s ` +
      `→ ${Math.round(listRate)} files/s`,
  );
  console.log(
    `content SHA-256 of every file: ${contents.toFixed(2)} s → ${Math.round(contentRate)} files/s ` +
      `(${((n * imageKiB) / 1024 / contents).toFixed(0)} MB/s)`,
  );
  console.log(`SHA-256 of one 256 MB file (page cache): ${bigSeconds.toFixed(2)} s → ${mbPerSecond.toFixed(0)} MB/s`);
  console.log(`extrapolated to ${SEWER_ML_IMAGES} images:`);
  console.log(`  listing: ${(SEWER_ML_IMAGES / listRate).toFixed(1)} s`);
  for (const kib of [50, 150]) {
    const perFile = SEWER_ML_IMAGES / contentRate;
    const bytes = (SEWER_ML_IMAGES * kib) / 1024;
    const hashing = bytes / mbPerSecond;
    console.log(
      `  content digests at ${kib} KiB/image (${(bytes / 1024).toFixed(0)} GB): ` +
        `≥ ${(perFile + hashing).toFixed(0)} s from the page cache ` +
        `(per-file ${perFile.toFixed(0)} s + hashing ${hashing.toFixed(0)} s), plus the disk read`,
    );
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
