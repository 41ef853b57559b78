/**
 * The record interface every dataset adapter (Sewer-ML, synthetic sewer, Fashion-MNIST) produces, and the
 * split object the loader consumes.
 *
 * @example
 *   const split: DatasetSplit = await readSewerMlSplit({ dir, split: 'train' });
 *   split.records[0].defect;            // 0 | 1
 *   split.records[0].codes;             // Uint8Array(17), order SEWER_CODES
 *   await split.loadImage(split.records[0], 64);   // Uint8Array(64*64*3), RGB, row-major
 */
import type { SplitIdentity } from './identity';

/** One annotated image. */
export interface SewerRecord {
  /** Image file name as written in the annotation file (e.g. `00000001.png`). */
  filename: string;
  /** Binary label: 1 = defect. */
  defect: 0 | 1;
  /** The 17 code flags in `SEWER_CODES` order (0/1), kept for F2_CIW. */
  codes: Uint8Array;
  /** Water level in percent when the annotation has one. */
  waterLevel?: number;
  /** 0-based row of the record in its split (stable key for caching and resuming). */
  index: number;
}

/** A split of a dataset: its records plus how to get pixels for any record. */
export interface DatasetSplit {
  /** Stable identifier of the dataset, used in cache keys (e.g. `synthetic-sewer-default`). */
  datasetId: string;
  /** Split name (`train`, `val`, `test`). */
  split: string;
  /** Records in file order; `records[i].index` is their row in the split. */
  records: SewerRecord[];
  /** Number of rows in the split file (≥ records.length when bad images were skipped). */
  rowCount: number;
  /** Changes whenever the annotation content changes; the loader's cache checks it. */
  fingerprint: string;
  /** Images that were skipped (only with `onBadImage: 'skip'`). */
  skippedImages: BadImage[];
  /** Annotation rows that were dropped, with why (Sewer-ML with `onInconsistentDefect: 'skip'`). */
  skippedRows?: SkippedRow[];
  /** What the split was read from (annotation digest, image names/sizes/mtimes digest), when the reader knows. */
  identity?: SplitIdentity;
  /** Decode one record's image, resized (no aspect preservation) to size×size, RGB uint8 row-major. */
  loadImage(record: SewerRecord, size: number): Promise<Uint8Array>;
}

/** An annotation row that was not used, with why. */
export interface SkippedRow {
  /** 1-based line in the annotation file (header = line 1). */
  line: number;
  filename: string;
  reason: string;
}

/** An image that could not be used, with why. */
export interface BadImage {
  filename: string;
  /** 1-based line in the annotation file (header = line 1), when known. */
  line?: number;
  reason: string;
}
