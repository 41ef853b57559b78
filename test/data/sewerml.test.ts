import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import {
  readSewerMlSplit,
  parseSewerMlCsv,
  SEWER_CODES,
  SEWER_CIW,
  SewerDataError,
  sewerMlIdentity,
} from '../../lib/data/sewerml';
import { ImageCache } from '../../lib/data/loader';

const HEADER = ['Filename', ...SEWER_CODES, 'VA', 'ND', 'Defect', 'WaterLevel'];

function row(filename: string, codes: number[], defect: number, water = '5', extra: string[] = []): string {
  const flags = SEWER_CODES.map((_, k) => (codes.includes(k) ? '1' : '0'));
  return [filename, ...flags, '0', String(1 - defect), String(defect), water, ...extra].join(',');
}

async function writePng(file: string, value: number): Promise<void> {
  await sharp(Buffer.alloc(8 * 6 * 3, value), { raw: { width: 8, height: 6, channels: 3 } })
    .png()
    .toFile(file);
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
      [
        '1',
        'x',
        '00000001.png',
        ...SEWER_CODES.map((c) => (c === 'FS' || c === 'RO' ? '1' : '0')),
        '0',
        '0',
        '10',
        'PVC',
      ].join(','),
      ['0', 'y', '00000002.png', ...SEWER_CODES.map(() => '0'), '0', '1', '', 'PVC'].join(','),
    ];
    writeCsv(lines, header);
    const split = await readSewerMlSplit({ dir, split: 'train' });
    assert.equal(split.records.length, 2);
    const [a, b] = split.records;
    assert.equal(a.filename, '00000001.png');
    assert.equal(a.defect, 1);
    assert.deepEqual(
      Array.from(a.codes)
        .map((v, k) => (v ? SEWER_CODES[k] : ''))
        .filter(Boolean),
      ['FS', 'RO'],
    );
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
    assert.throws(
      () => parseSewerMlCsv(header.join(',') + '\n', 'Train.csv'),
      (err: Error) => {
        assert.ok(err instanceof SewerDataError);
        assert.match(err.message, /Train\.csv: missing column IN/);
        return true;
      },
    );
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
      assert.deepEqual(
        err.badImages.map((b) => b.filename),
        ['00000003.png', '00000009.png'],
      );
      return true;
    });
  });

  it("skips and counts bad images with onBadImage: 'skip'", async () => {
    fs.writeFileSync(path.join(dir, 'images', '00000003.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    writeCsv(
      [
        row('00000001.png', [], 0),
        row('00000002.png', [0], 1),
        row('00000003.png', [1], 1),
        row('00000007.png', [2], 1),
      ],
      HEADER,
      'SewerML_Val.csv',
    );
    const split = await readSewerMlSplit({ dir, split: 'val', onBadImage: 'skip' });
    assert.deepEqual(
      split.records.map((r) => r.filename),
      ['00000001.png', '00000002.png'],
    );
    assert.equal(split.skippedImages.length, 2);
    assert.equal(split.rowCount, 4);
    assert.deepEqual(
      split.records.map((r) => r.index),
      [0, 1],
    );
  });

  it('rejects a row with more fields than the header, naming the line, as it does one with fewer', () => {
    // An unquoted comma in the file name: read by position this shifted IN=1/Defect=1 to AF=1/Defect=0.
    const shifted = row('0000,0002.png', [SEWER_CODES.indexOf('IN')], 1);
    const text = [HEADER.join(','), row('00000001.png', [0], 1), shifted].join('\n');
    assert.throws(
      () => parseSewerMlCsv(text, 'Train.csv'),
      /Train\.csv: line 3: 23 fields, header has 22 \(too many\)/,
    );
    const short = row('00000002.png', [], 0).split(',').slice(0, -1).join(',');
    assert.throws(
      () => parseSewerMlCsv([HEADER.join(','), short].join('\n'), 'Train.csv'),
      /Train\.csv: line 2: 21 fields, header has 22 \(too few\)/,
    );
  });

  it('rejects a row whose Defect disagrees with its 17 codes, naming the line and the rule', () => {
    const normalWithCode = row('00000002.png', [SEWER_CODES.indexOf('RO')], 0);
    const text = [HEADER.join(','), row('00000001.png', [0], 1), normalWithCode].join('\n');
    assert.throws(
      () => parseSewerMlCsv(text, 'Train.csv'),
      (err: Error) => {
        assert.ok(err instanceof SewerDataError);
        assert.match(err.message, /Train\.csv: line 3 \(00000002\.png\): Defect = 0 but RO = 1/);
        assert.match(
          err.message,
          /Defect is 1 exactly when at least one of the 17 defect codes is 1 \(VA and ND are not defect codes\)/,
        );
        return true;
      },
    );
    const defectWithoutCode = row('00000003.png', [], 1);
    const both = [HEADER.join(','), normalWithCode, row('00000001.png', [0], 1), defectWithoutCode].join('\n');
    assert.throws(() => parseSewerMlCsv(both, 'Val.csv'), /line 2 .*; 2 rows break it in all \(lines 2, 4\)/);
    assert.throws(
      () => parseSewerMlCsv([HEADER.join(','), defectWithoutCode].join('\n'), 'Val.csv'),
      /line 2 \(00000003\.png\): Defect = 1 but none of the 17 codes is 1/,
    );
  });

  it("drops and lists rows whose Defect disagrees with the codes with onInconsistentDefect: 'skip'", async () => {
    writeCsv([row('00000001.png', [], 0), row('00000002.png', [3], 0), row('00000003.png', [], 1)]);
    const split = await readSewerMlSplit({ dir, split: 'train', onInconsistentDefect: 'skip' });
    assert.deepEqual(
      split.records.map((r) => r.filename),
      ['00000001.png'],
    );
    assert.deepEqual(
      split.skippedRows?.map((r) => [r.line, r.filename]),
      [
        [3, '00000002.png'],
        [4, '00000003.png'],
      ],
    );
    assert.match(split.skippedRows![0].reason, /Defect = 0 but DE = 1/);
  });

  it('a header-only annotation file names the file that has no rows', async () => {
    writeCsv([]);
    await assert.rejects(
      readSewerMlSplit({ dir, split: 'train' }),
      /SewerML_Train\.csv: no data rows \(the file has only a header\)/,
    );
  });

  it(
    'keys the split on the images too: replacing an image changes the fingerprint, ' +
      'and the cache serves the new pixels',
    async () => {
      writeCsv([row('00000001.png', [], 0), row('00000002.png', [0], 1)]);
      const cacheDir = path.join(dir, 'cache');
      const before = await readSewerMlSplit({ dir, split: 'train' });
      const cache = await ImageCache.open(before, { resolution: 4, cacheDir });
      assert.ok((await cache.images([1]))[0].every((v) => v === 80));
      await new Promise((r) => setTimeout(r, 20)); // a new mtime even on coarse clocks
      await writePng(path.join(dir, 'images', '00000002.png'), 0); // every pixel black
      const after = await readSewerMlSplit({ dir, split: 'train' });
      assert.notEqual(after.fingerprint, before.fingerprint);
      assert.notEqual(after.identity!.images.digest, before.identity!.images.digest);
      assert.equal(after.identity!.annotationSha256, before.identity!.annotationSha256);
      const reopened = await ImageCache.open(after, { resolution: 4, cacheDir });
      assert.ok(
        (await reopened.images([1]))[0].every((v) => v === 0),
        'the cache decoded the new image instead of serving the old pixels',
      );
    },
  );

  it(
    'gives a folder an identity that changes with its folder, annotation rows and images, ' +
      'and refuses a folder that does not exist',
    async () => {
      writeCsv([row('00000001.png', [], 0), row('00000002.png', [0], 1)]);
      writeCsv([row('00000003.png', [1], 1)], HEADER, 'SewerML_Val.csv');
      const a = sewerMlIdentity(dir);
      assert.equal(sewerMlIdentity(dir).digest, a.digest, 'same data, same identity');
      assert.equal(a.splits.train.images.count, 2);
      writeCsv([row('00000001.png', [], 0)]); // the train CSV cut to fewer rows
      const cut = sewerMlIdentity(dir);
      assert.notEqual(cut.digest, a.digest);
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'sewerml-copy-'));
      try {
        fs.cpSync(dir, copy, { recursive: true, preserveTimestamps: true });
        assert.notEqual(sewerMlIdentity(copy).digest, cut.digest, 'another folder is another dataset');
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
      assert.throws(() => sewerMlIdentity(path.join(dir, 'nope')), /nope: dataset folder does not exist/);
    },
  );

  it('reports a missing annotation file', async () => {
    await assert.rejects(readSewerMlSplit({ dir, split: 'val' }), /SewerML_Val\.csv: annotation file not found/);
  });
});
