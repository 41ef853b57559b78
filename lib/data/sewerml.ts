/**
 * Sewer-ML reader for the real on-disk format (docs/reference.md §1): `SewerML_Train.csv` / `SewerML_Val.csv`
 * (columns `Filename`, the 17 codes, `VA`, `ND`, `Defect`, `WaterLevel`; extra columns are ignored) plus a
 * flat folder of PNG files named by `Filename`. The synthetic generator writes the same layout.
 *
 * @example
 *   import { readSewerMlSplit, SEWER_CODES, SEWER_CIW } from './sewerml';
 *   const train = await readSewerMlSplit({ dir: '/data/sewer-ml', split: 'train' });
 *   // or with separate paths and skipping bad images:
 *   const val = await readSewerMlSplit({ csvPath: 'a/SewerML_Val.csv', imageDir: 'a/images', onBadImage: 'skip' });
 *   val.skippedImages.length;   // how many were skipped, each with its file name and reason
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { BadImage, DatasetSplit, SewerRecord, SkippedRow } from './types';
import { identityDigest, imageListing, realDir, sha256Hex, type DatasetIdentity, type SplitIdentity } from './identity';

/** The 17 Sewer-ML defect codes, in the dataset's column order. */
export const SEWER_CODES = [
  'RB',
  'OB',
  'PF',
  'DE',
  'FS',
  'IS',
  'RO',
  'IN',
  'AF',
  'BE',
  'FO',
  'GR',
  'PH',
  'PB',
  'OS',
  'OP',
  'OK',
] as const;
export type SewerCode = (typeof SEWER_CODES)[number];

/** Class-importance weights, normalised so RB = 1 (Sewer-ML `calculate_results.py`), in SEWER_CODES order. */
export const SEWER_CIW: readonly number[] = [
  1.0, 0.5518, 0.2896, 0.1622, 0.6419, 0.1847, 0.3559, 0.3131, 0.0811, 0.2275, 0.2477, 0.0901, 0.4167, 0.4167, 0.9009,
  0.3829, 0.4396,
];

/** Per-channel RGB mean and std used to normalise Sewer-ML images (P and SML). */
export const SEWER_MEAN: readonly [number, number, number] = [0.523, 0.453, 0.345];
export const SEWER_STD: readonly [number, number, number] = [0.21, 0.199, 0.154];

/** Short descriptions of the codes (Sewer-ML paper, Danish inspection standard). */
export const SEWER_CODE_NAMES: Record<SewerCode, string> = {
  RB: 'cracks, breaks and collapses',
  OB: 'surface damage',
  PF: 'production error',
  DE: 'deformation',
  FS: 'displaced joint',
  IS: 'intruding sealing material',
  RO: 'roots',
  IN: 'infiltration',
  AF: 'settled deposits',
  BE: 'attached deposits',
  FO: 'obstacle',
  GR: 'branch pipe',
  PH: 'chiseled connection',
  PB: 'drilled connection',
  OS: 'lateral reinstatement cuts',
  OP: 'connection with transition profile',
  OK: 'connection with construction changes',
};

export const SEWER_CSV_NAMES: Record<string, string> = {
  train: 'SewerML_Train.csv',
  val: 'SewerML_Val.csv',
  test: 'SewerML_Test.csv',
};

/** Columns the reader requires (VA and ND are required by the format although the study does not use them). */
export const SEWER_REQUIRED_COLUMNS = ['Filename', ...SEWER_CODES, 'VA', 'ND', 'Defect', 'WaterLevel'] as const;

/** Raised for any problem with the annotation file or the images; the message names file, line and field. */
export class SewerDataError extends Error {
  constructor(
    message: string,
    readonly badImages: BadImage[] = [],
  ) {
    super(message);
    this.name = 'SewerDataError';
  }
}

export interface ReadSewerMlOptions {
  /** Folder holding the CSVs (and, by default, the images). Either this or `csvPath`. */
  dir?: string;
  /** Split to read from `dir` (`train` → SewerML_Train.csv, `val` → SewerML_Val.csv). */
  split?: string;
  /** Annotation file, overriding `dir` + `split`. */
  csvPath?: string;
  /** Image folder; default: `dir/images` when it exists, else `dir` (or the CSV's folder). */
  imageDir?: string;
  /** What to do with missing / undecodable images: stop with the full list (default) or skip and count them. */
  onBadImage?: 'error' | 'skip';
  /**
   * How hard to check images up front: `header` (default; sharp reads the header — cheap, catches missing and
   * non-image files), `decode` (full decode; slow on the real 1 M images), `exists`, or `none`. Images that fail
   * later, at decode time in the loader, are still reported by file name.
   */
  checkImages?: 'none' | 'exists' | 'header' | 'decode';
  /** Dataset identifier for cache keys; default `sewerml:<absolute csv path>`. */
  datasetId?: string;
  /** Parallel image checks. */
  concurrency?: number;
  /**
   * Rows whose Defect disagrees with the codes: stop naming them (default) or drop and list them in
   * `split.skippedRows`.
   */
  onInconsistentDefect?: 'error' | 'skip';
}

/** Minimal CSV line splitter: commas, optional double quotes with "" escapes. */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(field);
      field = '';
    } else field += ch;
  }
  out.push(field);
  return out;
}

function parseFlag(raw: string, file: string, line: number, column: string): 0 | 1 {
  const value = raw.trim();
  if (value === '0' || value === '0.0') return 0;
  if (value === '1' || value === '1.0') return 1;
  throw new SewerDataError(`${file}: line ${line}, field ${column}: expected 0 or 1, got ${JSON.stringify(raw)}`);
}

function parseWaterLevel(raw: string, file: string, line: number): number | undefined {
  const value = raw.trim().replace(/%$/, '');
  if (value === '') return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) {
    throw new SewerDataError(`${file}: line ${line}, field WaterLevel: expected a number, got ${JSON.stringify(raw)}`);
  }
  return number;
}

/**
 * A row whose `Defect` disagrees with its 17 codes. Sewer-ML's binary label is 1 exactly when at least one of the
 * 17 defect codes is 1: VA (water level) and ND (no defect) are the annotation's two non-defect columns, and the
 * official loaders take the 17 defect classes as every column except those two (Haurum & Moeslund, CVPR 2021;
 * docs/reference.md §1). A row breaking that rule cannot be trusted for either the binary label or F2_CIW.
 */
export interface InconsistentRow {
  /** 1-based line in the annotation file (header = line 1). */
  line: number;
  filename: string;
  defect: 0 | 1;
  /** The codes set on the row (empty when Defect = 1 with no code). */
  codes: SewerCode[];
}

export interface ParseSewerMlOptions {
  /**
   * Rows whose Defect disagrees with the codes: stop naming them (default), or drop them and list them in
   * `inconsistentRows` of the result (`readSewerMlSplit` reports them in `split.inconsistentRows`).
   */
  onInconsistentDefect?: 'error' | 'skip';
}

/** The rule a row must follow, as the error states it. */
export const DEFECT_RULE =
  "Sewer-ML's Defect is 1 exactly when at least one of the 17 defect codes is 1 (VA and ND are not defect codes)";

function describeInconsistent(row: InconsistentRow): string {
  return row.defect === 0
    ? `Defect = 0 but ${row.codes.map((c) => `${c} = 1`).join(', ')}`
    : 'Defect = 1 but none of the 17 codes is 1';
}

/** Parse the rows of an annotation file, with the line each record came from and the rows dropped. */
function parseRows(
  text: string,
  file: string,
  options: ParseSewerMlOptions = {},
): { records: SewerRecord[]; lines: number[]; inconsistentRows: InconsistentRow[]; filenames: string[] } {
  const lines = text.split(/\r?\n/);
  if (lines.length === 0 || lines[0].trim() === '')
    throw new SewerDataError(`${file}: empty annotation file (no header)`);
  const header = splitCsvLine(lines[0].replace(/^\uFEFF/, '')).map((name) => name.trim());
  const columnOf = new Map<string, number>();
  header.forEach((name, i) => {
    if (!columnOf.has(name)) columnOf.set(name, i);
  });
  const missing = SEWER_REQUIRED_COLUMNS.filter((name) => !columnOf.has(name));
  if (missing.length > 0) {
    throw new SewerDataError(
      `${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (header: ${header.join(',')})`,
    );
  }
  const filenameCol = columnOf.get('Filename')!;
  const codeCols = SEWER_CODES.map((code) => columnOf.get(code)!);
  const defectCol = columnOf.get('Defect')!;
  const waterCol = columnOf.get('WaterLevel')!;
  const vaCol = columnOf.get('VA')!;
  const ndCol = columnOf.get('ND')!;
  const records: SewerRecord[] = [];
  const recordLines: number[] = [];
  const inconsistent: InconsistentRow[] = [];
  const filenames: string[] = [];
  let dataRows = 0;
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() === '') continue;
    dataRows++;
    const line = i + 1;
    const fields = splitCsvLine(text);
    // Too many fields shifts nothing here (columns are found by name) but means the row is not what its writer
    // meant, e.g. an unquoted comma in a file name: as untrustworthy as too few.
    if (fields.length !== header.length) {
      throw new SewerDataError(
        `${file}: line ${line}: ${fields.length} fields, header has ${header.length} ` +
          `(${fields.length > header.length ? 'too many' : 'too few'})`,
      );
    }
    const filename = fields[filenameCol].trim();
    if (filename === '') throw new SewerDataError(`${file}: line ${line}, field Filename: empty`);
    filenames.push(filename);
    const codes = new Uint8Array(SEWER_CODES.length);
    for (let k = 0; k < SEWER_CODES.length; k++) codes[k] = parseFlag(fields[codeCols[k]], file, line, SEWER_CODES[k]);
    parseFlag(fields[vaCol], file, line, 'VA');
    parseFlag(fields[ndCol], file, line, 'ND');
    const defect = parseFlag(fields[defectCol], file, line, 'Defect');
    const waterLevel = parseWaterLevel(fields[waterCol], file, line);
    const anyCode = codes.some((c) => c === 1) ? 1 : 0;
    if (defect !== anyCode) {
      inconsistent.push({ line, filename, defect, codes: SEWER_CODES.filter((_, k) => codes[k] === 1) });
      continue;
    }
    const record: SewerRecord = { filename, defect, codes, index: records.length };
    if (waterLevel !== undefined) record.waterLevel = waterLevel;
    records.push(record);
    recordLines.push(line);
  }
  if (inconsistent.length > 0 && (options.onInconsistentDefect ?? 'error') === 'error') {
    const first = inconsistent[0];
    const more =
      inconsistent.length > 1
        ? `; ${inconsistent.length} rows break it in all (lines ${inconsistent
            .slice(0, 10)
            .map((r) => r.line)
            .join(', ')}${inconsistent.length > 10 ? ', …' : ''})`
        : '';
    throw new SewerDataError(
      `${file}: line ${first.line} (${first.filename}): ${describeInconsistent(first)}; ${DEFECT_RULE}${more}. ` +
        `Fix the file, or pass onInconsistentDefect: 'skip' to drop such rows and count them`,
    );
  }
  if (dataRows === 0) throw new SewerDataError(`${file}: no data rows (the file has only a header)`);
  if (records.length === 0)
    throw new SewerDataError(`${file}: no usable rows (all ${dataRows} break the rule: ${DEFECT_RULE})`);
  return { records, lines: recordLines, inconsistentRows: inconsistent, filenames };
}

/** Parse a Sewer-ML annotation file's text into records (no image checks). */
export function parseSewerMlCsv(text: string, file: string, options: ParseSewerMlOptions = {}): SewerRecord[] {
  return parseRows(text, file, options).records;
}

/** Check images with bounded parallelism; returns those that fail. */
async function findBadImages(
  records: SewerRecord[],
  lines: number[],
  imageDir: string,
  mode: 'exists' | 'header' | 'decode',
  concurrency: number,
): Promise<BadImage[]> {
  const bad: BadImage[] = [];
  let next = 0;
  async function worker(): Promise<void> {
    while (next < records.length) {
      const record = records[next++];
      const file = path.join(imageDir, record.filename);
      try {
        if (!fs.existsSync(file)) throw new Error('file not found');
        if (mode === 'header') {
          const meta = await sharp(file).metadata();
          if (!meta.width || !meta.height) throw new Error('no image dimensions');
        } else if (mode === 'decode') {
          await sharp(file).raw().toBuffer();
        }
      } catch (err) {
        bad.push({
          filename: record.filename,
          line: lines[record.index],
          reason: (err as Error).message.split('\n')[0],
        });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  bad.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return bad;
}

/** Decode a PNG (or any sharp-readable image) to RGB uint8, resized to size×size without keeping the aspect. */
export async function decodeImageFile(file: string, size: number): Promise<Uint8Array> {
  try {
    const buffer = await sharp(file)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(size, size, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (buffer.info.channels === 3)
      return new Uint8Array(buffer.data.buffer, buffer.data.byteOffset, buffer.data.length);
    // grey PNGs come back with one channel: expand to RGB
    const grey = buffer.data;
    const out = new Uint8Array(size * size * 3);
    for (let i = 0; i < size * size; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = grey[i * buffer.info.channels];
    return out;
  } catch (err) {
    throw new SewerDataError(`${file}: cannot decode image (${(err as Error).message.split('\n')[0]})`);
  }
}

/** Read one Sewer-ML split: annotation file, checked images, and a pixel loader. */
export async function readSewerMlSplit(options: ReadSewerMlOptions): Promise<DatasetSplit> {
  const split = options.split ?? 'train';
  let csvPath = options.csvPath;
  if (!csvPath) {
    if (!options.dir) throw new SewerDataError('readSewerMlSplit: give `dir` (with `split`) or `csvPath`');
    const name = SEWER_CSV_NAMES[split];
    if (!name)
      throw new SewerDataError(`readSewerMlSplit: unknown split ${JSON.stringify(split)} (use train, val or test)`);
    csvPath = path.join(options.dir, name);
  }
  if (!fs.existsSync(csvPath)) throw new SewerDataError(`${csvPath}: annotation file not found`);
  const baseDir = options.dir ?? path.dirname(csvPath);
  const imageDir = options.imageDir ?? defaultImageDir(baseDir);
  if (!fs.statSync(imageDir, { throwIfNoEntry: false })?.isDirectory())
    throw new SewerDataError(`${imageDir}: image folder not found (for ${csvPath})`);
  const bytes = fs.readFileSync(csvPath);
  const text = bytes.toString('utf8');
  const parsed = parseRows(text, csvPath, { onInconsistentDefect: options.onInconsistentDefect });
  const all = parsed.records;
  const mode = options.checkImages ?? 'header';
  const bad = mode === 'none' ? [] : await findBadImages(all, parsed.lines, imageDir, mode, options.concurrency ?? 8);
  let records = all;
  if (bad.length > 0) {
    if ((options.onBadImage ?? 'error') === 'error') {
      const list = bad.map((b) => `  ${b.filename} (line ${b.line}): ${b.reason}`).join('\n');
      throw new SewerDataError(
        `${csvPath}: ${bad.length} image${bad.length > 1 ? 's' : ''} missing or undecodable in ${imageDir}:\n` +
          `${list}\n` +
          `(pass onBadImage: 'skip' to skip and count them)`,
        bad,
      );
    }
    const badNames = new Set(bad.map((b) => b.filename));
    records = all.filter((r) => !badNames.has(r.filename));
  }
  // The decoded-image cache is keyed on the annotation bytes and on every image's name, size and mtime, so
  // replacing images (not only editing the CSV) gives a fresh cache.
  const identity: SplitIdentity = {
    annotation: path.resolve(csvPath),
    annotationSha256: sha256Hex(bytes),
    images: imageListing(imageDir, parsed.filenames),
  };
  const skippedRows: SkippedRow[] = parsed.inconsistentRows.map((r) => ({
    line: r.line,
    filename: r.filename,
    reason: `${describeInconsistent(r)}; ${DEFECT_RULE}`,
  }));
  return {
    datasetId: options.datasetId ?? `sewerml:${path.resolve(csvPath)}`,
    split,
    records,
    rowCount: all.length,
    fingerprint: sha256Hex(`${identity.annotationSha256}:${identity.images.digest}`),
    skippedImages: bad,
    skippedRows,
    identity,
    loadImage: (record, size) => decodeImageFile(path.join(imageDir, record.filename), size),
  };
}

/** The folder `readSewerMlSplit` reads images from when none is given: `dir/images` if it exists, else `dir`. */
export function defaultImageDir(dir: string): string {
  return fs.existsSync(path.join(dir, 'images')) ? path.join(dir, 'images') : dir;
}

/** The `Filename` of every data row (no other checks: those come when the split is read). */
function annotatedFilenames(text: string, file: string): string[] {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine((lines[0] ?? '').replace(/^\uFEFF/, '')).map((name) => name.trim());
  const column = header.indexOf('Filename');
  if (column < 0) throw new SewerDataError(`${file}: missing column Filename (header: ${header.join(',')})`);
  const names: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    names.push((splitCsvLine(lines[i])[column] ?? '').trim());
  }
  return names;
}

/**
 * The identity of a Sewer-ML-layout folder (lib/data/identity.ts): its resolved path, a digest of each annotation
 * file and of its images' names, sizes and mtimes. A folder that does not exist, or lacks an annotation file, is an
 * error naming it.
 */
export function sewerMlIdentity(
  dir: string,
  options: { kind?: string; splits?: string[]; generatorVersion?: number } = {},
): DatasetIdentity {
  const stat = fs.statSync(dir, { throwIfNoEntry: false });
  if (!stat) throw new SewerDataError(`${path.resolve(dir)}: dataset folder does not exist`);
  if (!stat.isDirectory())
    throw new SewerDataError(
      `${path.resolve(dir)}: not a folder ` +
        `(expected a dataset folder with ${SEWER_CSV_NAMES.train} and ${SEWER_CSV_NAMES.val})`,
    );
  const imageDir = defaultImageDir(dir);
  const splits: Record<string, SplitIdentity> = {};
  for (const split of options.splits ?? ['train', 'val']) {
    const csvPath = path.join(dir, SEWER_CSV_NAMES[split]);
    if (!fs.existsSync(csvPath)) throw new SewerDataError(`${csvPath}: annotation file not found`);
    const bytes = fs.readFileSync(csvPath);
    splits[split] = {
      annotation: path.resolve(csvPath),
      annotationSha256: sha256Hex(bytes),
      images: imageListing(imageDir, annotatedFilenames(bytes.toString('utf8'), csvPath)),
    };
  }
  const base = {
    kind: options.kind ?? 'sewerml',
    dir: realDir(dir),
    splits,
    ...(options.generatorVersion !== undefined ? { generatorVersion: options.generatorVersion } : {}),
  };
  return { ...base, digest: identityDigest(base) };
}

/** Format records as a Sewer-ML annotation file (used by the synthetic generator and tests). */
export function formatSewerMlCsv(
  rows: Array<{ filename: string; codes: ArrayLike<number>; defect: 0 | 1; waterLevel: number; va: 0 | 1 }>,
): string {
  const header = SEWER_REQUIRED_COLUMNS.join(',');
  const lines = rows.map((row) =>
    [
      row.filename,
      ...Array.from(row.codes, (c) => String(c)),
      String(row.va),
      String(1 - row.defect),
      String(row.defect),
      String(row.waterLevel),
    ].join(','),
  );
  return [header, ...lines].join('\n') + '\n';
}
