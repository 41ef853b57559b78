import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ensureSyntheticDataset,
  readSyntheticSplit,
  renderSewerFrame,
  sampleDefectCodes,
  SYNTHETIC_MARKER,
  type SyntheticParams,
} from '../../lib/data/synthetic';
import { readSewerMlSplit, SEWER_CODES } from '../../lib/data/sewerml';
import { Rng } from '../../lib/data/rng';

const TINY: SyntheticParams = {
  trainImages: 40,
  valImages: 30,
  imageSize: 32,
  trainDefectProportion: 0.45,
  valDefectProportion: 0.47,
  seed: 5,
};

describe('data/synthetic', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'synthetic-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes the Sewer-ML layout, read back unchanged by the Sewer-ML reader', async () => {
    const info = await ensureSyntheticDataset(dir, TINY);
    assert.equal(info.generated, true);
    for (const name of ['SewerML_Train.csv', 'SewerML_Val.csv', SYNTHETIC_MARKER])
      assert.ok(fs.existsSync(path.join(dir, name)), name);
    const pngs = fs.readdirSync(path.join(dir, 'images')).sort();
    assert.equal(pngs.length, 70);
    assert.equal(pngs[0], '00000001.png');
    assert.equal(pngs[69], '00000070.png');
    // the plain reader, as a user pointing at real Sewer-ML would call it, with full decoding
    const train = await readSewerMlSplit({ dir, split: 'train', checkImages: 'decode' });
    const val = await readSewerMlSplit({ dir, split: 'val', checkImages: 'decode' });
    assert.equal(train.records.length, 40);
    assert.equal(val.records.length, 30);
    assert.equal(train.records.filter((r) => r.defect).length, Math.round(0.45 * 40));
    assert.equal(val.records.filter((r) => r.defect).length, Math.round(0.47 * 30));
    for (const r of [...train.records, ...val.records]) {
      assert.equal(r.defect, r.codes.some((c) => c === 1) ? 1 : 0, `${r.filename}: Defect must equal any(code)`);
      assert.ok(r.waterLevel !== undefined && r.waterLevel >= 0 && r.waterLevel <= 100);
    }
    const pixels = await train.loadImage(train.records[0], 32);
    assert.equal(pixels.length, 32 * 32 * 3);
    const header = fs.readFileSync(path.join(dir, 'SewerML_Train.csv'), 'utf8').split('\n')[0];
    assert.equal(header, ['Filename', ...SEWER_CODES, 'VA', 'ND', 'Defect', 'WaterLevel'].join(','));
  });

  it('does not regenerate when the marker matches, and is deterministic from the seed', async () => {
    const before = fs.readFileSync(path.join(dir, 'SewerML_Train.csv'), 'utf8');
    const again = await ensureSyntheticDataset(dir, TINY);
    assert.equal(again.generated, false);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'synthetic-'));
    try {
      await ensureSyntheticDataset(other, TINY, { concurrency: 1 });
      assert.equal(fs.readFileSync(path.join(other, 'SewerML_Train.csv'), 'utf8'), before);
      assert.ok(
        fs
          .readFileSync(path.join(other, 'images', '00000007.png'))
          .equals(fs.readFileSync(path.join(dir, 'images', '00000007.png'))),
      );
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
    const split = await readSyntheticSplit(dir, 'val');
    assert.match(split.datasetId, /^synthetic-sewer-/);
  });

  it(
    'records what it generated; a replaced image is an error naming the split, ' +
      'a marker from before identities adopts the folder',
    async () => {
      const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'synthetic-tamper-'));
      try {
        await ensureSyntheticDataset(copy, TINY, { concurrency: 1 });
        const marker = JSON.parse(fs.readFileSync(path.join(copy, SYNTHETIC_MARKER), 'utf8'));
        assert.equal(marker.identity.kind, 'synthetic');
        assert.equal(marker.identity.splits.train.images.count, 40);
        const first = await readSyntheticSplit(copy, 'train');
        assert.equal(first.identity!.images.digest, marker.identity.splits.train.images.digest);
        // A marker written before identities existed: the folder is adopted as it is now.
        delete marker.identity;
        fs.writeFileSync(path.join(copy, SYNTHETIC_MARKER), JSON.stringify(marker));
        await readSyntheticSplit(copy, 'val');
        assert.ok(
          JSON.parse(fs.readFileSync(path.join(copy, SYNTHETIC_MARKER), 'utf8')).identity,
          'identity recorded on first read',
        );
        await new Promise((r) => setTimeout(r, 20));
        const image = path.join(copy, 'images', '00000003.png');
        fs.copyFileSync(path.join(copy, 'images', '00000004.png'), image); // another frame under the same name
        await assert.rejects(
          readSyntheticSplit(copy, 'train'),
          new RegExp(
            'the synthetic dataset differs from what the generator wrote .*' +
              'train images were replaced, touched, added or removed.*Delete ',
          ),
        );
        assert.equal(
          (await ensureSyntheticDataset(copy, TINY)).generated,
          false,
          'the marker still matches: nothing regenerates behind the user',
        );
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    },
  );

  it(
    'two callers on a fresh folder at once: ' + 'one generates, the other waits for it and reads the same data',
    async () => {
      const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'synthetic-race-'));
      try {
        const [a, b] = await Promise.all([ensureSyntheticDataset(fresh, TINY), ensureSyntheticDataset(fresh, TINY)]);
        assert.deepEqual([a.generated, b.generated].sort(), [false, true]);
        const split = await readSyntheticSplit(fresh, 'train'); // the recorded identity matches what is on disk
        assert.equal(split.records.length, 40);
        assert.equal(fs.existsSync(`${fresh}.generating`), false, 'the generation lock is released');
      } finally {
        fs.rmSync(fresh, { recursive: true, force: true });
      }
    },
  );

  it('gives every code its own visible, localised signature', () => {
    for (let k = 0; k < 17; k++) {
      const codes = new Uint8Array(17);
      const clean = renderSewerFrame(64, codes, 100 + k).pixels;
      codes[k] = 1;
      const defect = renderSewerFrame(64, codes, 100 + k).pixels;
      let changed = 0;
      for (let p = 0; p < 64 * 64; p++) {
        const d =
          Math.abs(defect[3 * p] - clean[3 * p]) +
          Math.abs(defect[3 * p + 1] - clean[3 * p + 1]) +
          Math.abs(defect[3 * p + 2] - clean[3 * p + 2]);
        if (d > 24) changed++;
      }
      const fraction = changed / (64 * 64);
      // deformation (DE) reshapes the pipe and may touch much of the frame; all others stay local
      assert.ok(fraction > 0.001, `${SEWER_CODES[k]} left no mark`);
      if (SEWER_CODES[k] !== 'DE')
        assert.ok(fraction < 0.35, `${SEWER_CODES[k]} changed ${(100 * fraction).toFixed(1)} % of the frame`);
    }
  });

  it('code frequencies follow the configured shape, with co-occurrence', () => {
    const rng = new Rng(1);
    const counts = new Array(17).fill(0);
    let multi = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const codes = sampleDefectCodes(rng);
      codes.forEach((c, k) => (counts[k] += c));
      if (codes.reduce((a, b) => a + b, 0) > 1) multi++;
    }
    const share = (code: string) => counts[SEWER_CODES.indexOf(code as (typeof SEWER_CODES)[number])] / n;
    assert.ok(share('OB') > share('PF') * 4, 'surface damage should be far more common than production errors');
    assert.ok(share('GR') > 0.1 && share('PB') < 0.05);
    assert.ok(multi / n > 0.2 && multi / n < 0.7, `multi-code share ${multi / n}`);
  });
});
