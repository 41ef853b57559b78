import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { readSewerMlSplit, parseSewerMlCsv, SEWER_CODES, SEWER_CIW, SewerDataError } from '../../lib/data/sewerml';

const HEADER = ['Filename', ...SEWER_CODES, 'VA', 'ND', 'Defect', 'WaterLevel'];

function row(filename: string, codes: number[], defect: number, water = '5', extra: string[] = []): string {
  const flags = SEWER_CODES.map((_, k) => (codes.includes(k) ? '1' : '0'));
  return [filename, ...flags, '0', String(1 - defect), String(defect), water, ...extra].join(',');
}

async function writePng(file: string, value: number): Promise<void> {
  await sharp(Buffer.alloc(8 * 6 * 3, value), { raw: { width: 8, height: 6, channels: 3 } }).png().toFile(file);
}

describe('data/sewerml reader', () => {
  let dir: string;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sewerml-'));
    fs.mkdirSync(path.join(dir, 'images'));
    for (let i = 1; i <= 3; i++) await writePng(path.join(dir, 'images', `0000000${i}.png`), 40 * i);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeCsv(lines: string[], header = HEADER, name = 'SewerML_Train.csv'): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, [header.join(','), ...lines].join('\n') + '\n');
    return file;
  }

  it('exports the 17 codes and CIW weights in order', () => {
    assert.equal(SEWER_CODES.length, 17);
    assert.equal(SEWER_CODES[0], 'RB');
    assert.equal(SEWER_CODES[16], 'OK');
    assert.equal(SEWER_CIW.length, 17);
    assert.equal(SEWER_CIW[SEWER_CODES.indexOf('OS')], 0.9009);
  });

  it('reads records by column name, ignoring extra and reordered columns, and decodes images', async () => {
    const header = ['Defect', 'Extra', ...HEADER.filter((h) => h !== 'Defect'), 'Material'];
    const lines = [
      ['1', 'x', '00000001.png', ...SEWER_CODES.map((c) => (c === 'FS' || c === 'RO' ? '1' : '0')), '0', '0', '10', 'PVC'].join(','),
      ['0', 'y', '00000002.png', ...SEWER_CODES.map(() => '0'), '0', '1', '', 'PVC'].join(','),
    ];
    writeCsv(lines, header);
    const split = await readSewerMlSplit({ dir, split: 'train' });
    assert.equal(split.records.length, 2);
    const [a, b] = split.records;
    assert.equal(a.filename, '00000001.png');
    assert.equal(a.defect, 1);
    assert.deepEqual(Array.from(a.codes).map((v, k) => (v ? SEWER_CODES[k] : '')).filter(Boolean), ['FS', 'RO']);
    assert.equal(a.waterLevel, 10);
    assert.equal(b.defect, 0);
    assert.equal(b.waterLevel, undefined);
    assert.equal(b.index, 1);
    const pixels = await split.loadImage(b, 4);
    assert.equal(pixels.length, 4 * 4 * 3);
    assert.ok(pixels.every((v) => v === 80));
  });

  it('names the file and the missing column', () => {
    const header = HEADER.filter((h) => h !== 'IN');
    assert.throws(() => parseSewerMlCsv(header.join(',') + '\n', 'Train.csv'), (err: Error) => {
      assert.ok(err instanceof SewerDataError);
      assert.match(err.message, /Train\.csv: missing column IN/);
      return true;
    });
  });

  it('names the file, the 1-based line and the field of a bad value', () => {
    const bad = row('00000002.png', [], 0).split(',');
    bad[HEADER.indexOf('OB')] = '2';
    const text = [HEADER.join(','), row('00000001.png', [0], 1), bad.join(',')].join('\n');
    assert.throws(() => parseSewerMlCsv(text, 'Val.csv'), /Val\.csv: line 3, field OB: expected 0 or 1, got "2"/);
    const badDefect = [HEADER.join(','), row('00000001.png', [0], 1).replace(/,1,5$/, ',yes,5')].join('\n');
    assert.throws(() => parseSewerMlCsv(badDefect, 'Val.csv'), /line 2, field Defect/);
    const badWater = [HEADER.join(','), row('00000001.png', [0], 1, 'deep')].join('\n');
    assert.throws(() => parseSewerMlCsv(badWater, 'Val.csv'), /line 2, field WaterLevel/);
  });

  it('stops with the full list of missing and undecodable images by default', async () => {
    fs.writeFileSync(path.join(dir, 'images', '00000003.png'), 'not a png at all');
    writeCsv([row('00000001.png', [], 0), row('00000003.png', [1], 1), row('00000009.png', [2], 1)]);
    await assert.rejects(readSewerMlSplit({ dir, split: 'train' }), (err: SewerDataError) => {
      assert.match(err.message, /2 images missing or undecodable/);
      assert.match(err.message, /00000003\.png \(line 3\)/);
      assert.match(err.message, /00000009\.png \(line 4\): file not found/);
      assert.deepEqual(err.badImages.map((b) => b.filename), ['00000003.png', '00000009.png']);
      return true;
    });
  });

  it("skips and counts bad images with onBadImage: 'skip'", async () => {
    fs.writeFileSync(path.join(dir, 'images', '00000003.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    writeCsv([row('00000001.png', [], 0), row('00000002.png', [0], 1), row('00000003.png', [1], 1), row('00000007.png', [2], 1)], HEADER, 'SewerML_Val.csv');
    const split = await readSewerMlSplit({ dir, split: 'val', onBadImage: 'skip' });
    assert.deepEqual(split.records.map((r) => r.filename), ['00000001.png', '00000002.png']);
    assert.equal(split.skippedImages.length, 2);
    assert.equal(split.rowCount, 4);
    assert.deepEqual(split.records.map((r) => r.index), [0, 1]);
  });

  it('reports a missing annotation file', async () => {
    await assert.rejects(readSewerMlSplit({ dir, split: 'val' }), /SewerML_Val\.csv: annotation file not found/);
  });
});
