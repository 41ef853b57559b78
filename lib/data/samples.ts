/**
 * Dataset samples for the paper's Figure 1 (defect and normal images) and appendix E's Table 5 (images and
 * counts per defect code, train and validation): seeded picks of records and per-code counts.
 *
 * @example
 *   const train = await readSyntheticSplit(dir, 'train');
 *   const val = await readSyntheticSplit(dir, 'val');
 *   codeCountRows(train, val);                          // [{code:'RB', name:'cracks…', train: 41, val: 12}, …]
 *   pickByLabel(train.records, { defect: 4, normal: 4, seed: 42 }); // 4 defect then 4 normal records
 *   pickByCode(train.records, { perCode: 1, seed: 42 }).get('OS');  // one image carrying OS
 *   await pngDataUrl(await train.loadImage(record, 96), 96);        // 'data:image/png;base64,…'
 */
import sharp from 'sharp';
import { Rng } from './rng';
import { SEWER_CODE_NAMES, SEWER_CODES, type SewerCode } from './sewerml';
import type { DatasetSplit, SewerRecord } from './types';

export interface CodeCounts {
  /** Images carrying each code, in SEWER_CODES order (an image with several codes counts for each). */
  perCode: number[];
  defect: number;
  normal: number;
  total: number;
}

export function codeCounts(records: readonly SewerRecord[]): CodeCounts {
  const perCode = new Array<number>(SEWER_CODES.length).fill(0);
  let defect = 0;
  records.forEach((record, i) => {
    if (record.codes.length !== SEWER_CODES.length) {
      throw new Error(
        `codeCounts: record ${i} (${record.filename}) has ${record.codes.length} code flags, ` +
          `expected ${SEWER_CODES.length}`,
      );
    }
    for (let k = 0; k < perCode.length; k++) perCode[k] += record.codes[k] ? 1 : 0;
    defect += record.defect;
  });
  return { perCode, defect, normal: records.length - defect, total: records.length };
}

export interface CodeCountRow {
  code: string;
  name: string;
  train: number;
  val: number;
}

/** Table 5's counts: one row per code (in SEWER_CODES order), then the defect, normal and total lines. */
export function codeCountRows(
  train: DatasetSplit | readonly SewerRecord[],
  val: DatasetSplit | readonly SewerRecord[],
): CodeCountRow[] {
  const t = codeCounts('records' in train ? train.records : train);
  const v = codeCounts('records' in val ? val.records : val);
  return [
    ...SEWER_CODES.map((code, k) => ({ code, name: SEWER_CODE_NAMES[code], train: t.perCode[k], val: v.perCode[k] })),
    { code: 'Defect', name: 'images with at least one defect', train: t.defect, val: v.defect },
    { code: 'Normal', name: 'images without defects', train: t.normal, val: v.normal },
    { code: 'Total', name: 'all images', train: t.total, val: v.total },
  ];
}

function pick<T>(items: readonly T[], count: number, rng: Rng): T[] {
  const order = rng.permutation(items.length);
  return order.slice(0, Math.min(count, items.length)).map((i) => items[i]);
}

/** `defect` defect records then `normal` normal ones, drawn without replacement from a seeded stream. */
export function pickByLabel(
  records: readonly SewerRecord[],
  options: { defect: number; normal: number; seed: number },
): SewerRecord[] {
  const rng = new Rng(options.seed);
  return [
    ...pick(
      records.filter((r) => r.defect === 1),
      options.defect,
      rng,
    ),
    ...pick(
      records.filter((r) => r.defect === 0),
      options.normal,
      rng,
    ),
  ];
}

/**
 * Up to `perCode` records per code, preferring images that carry that code alone (as appendix E shows one
 * defect type per row); codes no image carries map to an empty list.
 */
export function pickByCode(
  records: readonly SewerRecord[],
  options: { perCode: number; seed: number; codes?: readonly SewerCode[] },
): Map<SewerCode, SewerRecord[]> {
  const rng = new Rng(options.seed);
  const out = new Map<SewerCode, SewerRecord[]>();
  for (const code of options.codes ?? SEWER_CODES) {
    const k = SEWER_CODES.indexOf(code);
    if (k < 0) throw new Error(`pickByCode: unknown code ${JSON.stringify(code)}; codes: ${SEWER_CODES.join(', ')}`);
    const carrying = records.filter((r) => r.codes[k] === 1);
    const alone = carrying.filter((r) => r.codes.reduce((a, b) => a + b, 0) === 1);
    const chosen = pick(alone, options.perCode, rng);
    if (chosen.length < options.perCode)
      chosen.push(
        ...pick(
          carrying.filter((r) => !chosen.includes(r)),
          options.perCode - chosen.length,
          rng,
        ),
      );
    out.set(code, chosen);
  }
  return out;
}

/** An RGB uint8 size×size image as a PNG data URL (for image marks in Vega-Lite figures). */
export async function pngDataUrl(pixels: Uint8Array, size: number): Promise<string> {
  if (pixels.length !== size * size * 3)
    throw new Error(`pngDataUrl: ${pixels.length} bytes is not a ${size}×${size} RGB image (${size * size * 3} bytes)`);
  const png = await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), {
    raw: { width: size, height: size, channels: 3 },
  })
    .png()
    .toBuffer();
  return `data:image/png;base64,${png.toString('base64')}`;
}

/** The codes a record carries, e.g. "OS, FS", or "normal". */
export function codeLabel(record: SewerRecord): string {
  const codes = SEWER_CODES.filter((_, k) => record.codes[k] === 1);
  return codes.length ? codes.join(', ') : record.defect ? 'defect' : 'normal';
}
