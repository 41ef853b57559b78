import { strict as assert } from 'assert';
import sharp from 'sharp';
import { codeCountRows, codeCounts, codeLabel, pickByCode, pickByLabel, pngDataUrl } from '../../lib/data/samples';
import { SEWER_CODES } from '../../lib/data/sewerml';
import type { SewerRecord } from '../../lib/data/types';

function record(index: number, codes: string[]): SewerRecord {
  const flags = new Uint8Array(17);
  for (const c of codes) flags[SEWER_CODES.indexOf(c as (typeof SEWER_CODES)[number])] = 1;
  return { filename: `${index}.png`, defect: codes.length ? 1 : 0, codes: flags, index };
}

const TRAIN = [
  record(0, ['RB']),
  record(1, ['RB', 'OS']),
  record(2, []),
  record(3, []),
  record(4, ['OS']),
  record(5, ['FS']),
];
const VAL = [record(0, ['OS']), record(1, [])];

describe('dataset samples and per-code counts', () => {
  it('counts images per code (multi-code images count for each), defects and normals', () => {
    const c = codeCounts(TRAIN);
    assert.equal(c.perCode[SEWER_CODES.indexOf('RB')], 2);
    assert.equal(c.perCode[SEWER_CODES.indexOf('OS')], 2);
    assert.equal(c.perCode[SEWER_CODES.indexOf('FS')], 1);
    assert.deepEqual([c.defect, c.normal, c.total], [4, 2, 6]);
    const rows = codeCountRows(TRAIN, VAL);
    assert.equal(rows.length, 20);
    assert.deepEqual(
      rows.find((r) => r.code === 'OS'),
      { code: 'OS', name: 'lateral reinstatement cuts', train: 2, val: 1 },
    );
    assert.deepEqual(
      rows.slice(-3).map((r) => [r.code, r.train, r.val]),
      [
        ['Defect', 4, 1],
        ['Normal', 2, 1],
        ['Total', 6, 2],
      ],
    );
    assert.throws(() => codeCounts([{ ...TRAIN[0], codes: new Uint8Array(3) }]), /record 0 \(0.png\) has 3 code flags/);
  });

  it('picks are seeded, labelled as asked and prefer single-code images', () => {
    const picked = pickByLabel(TRAIN, { defect: 2, normal: 5, seed: 1 });
    assert.deepEqual(
      picked.map((r) => r.defect),
      [1, 1, 0, 0],
    );
    assert.deepEqual(pickByLabel(TRAIN, { defect: 2, normal: 5, seed: 1 }), picked);
    const byCode = pickByCode(TRAIN, { perCode: 1, seed: 3 });
    assert.deepEqual(
      byCode.get('RB')!.map((r) => r.index),
      [0],
    ); // record 1 also has OS
    assert.deepEqual(
      byCode.get('OS')!.map((r) => r.index),
      [4],
    );
    assert.deepEqual(
      pickByCode(TRAIN, { perCode: 2, seed: 3 })
        .get('RB')!
        .map((r) => r.index),
      [0, 1],
    );
    assert.deepEqual(byCode.get('PB'), []);
    assert.equal(codeLabel(TRAIN[1]), 'RB, OS');
    assert.equal(codeLabel(TRAIN[2]), 'normal');
    assert.throws(() => pickByCode(TRAIN, { perCode: 1, seed: 1, codes: ['XX' as never] }), /unknown code "XX"/);
  });

  it('encodes RGB pixels as a PNG data URL that decodes back to the same pixels', async () => {
    const pixels = new Uint8Array(4 * 4 * 3).map((_, i) => (i * 7) % 256);
    const url = await pngDataUrl(pixels, 4);
    assert.match(url, /^data:image\/png;base64,/);
    const decoded = await sharp(Buffer.from(url.split(',')[1], 'base64'))
      .raw()
      .toBuffer();
    assert.deepEqual(new Uint8Array(decoded), pixels);
    await assert.rejects(pngDataUrl(pixels, 5), /not a 5×5 RGB image/);
  });
});
