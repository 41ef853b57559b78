import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';
import { readFashionMnistSplit, FASHION_MNIST_DIR } from '../../lib/data/fashion_mnist';

describe('data/fashion_mnist', () => {
  it('reads IDX .gz files into records with one defect class and code RB', async function () {
    if (!fs.existsSync(path.join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz'))) this.skip();
    const val = readFashionMnistSplit({ split: 'val', defectClass: 9, limit: 500 });
    assert.equal(val.records.length, 500);
    const labels = zlib
      .gunzipSync(fs.readFileSync(path.join(FASHION_MNIST_DIR, 't10k-labels-idx1-ubyte.gz')))
      .subarray(8, 508);
    assert.deepEqual(
      val.records.map((r) => r.defect),
      Array.from(labels, (l) => (l === 9 ? 1 : 0)),
    );
    for (const r of val.records) {
      assert.equal(r.codes[0], r.defect);
      assert.equal(
        r.codes.reduce((a, b) => a + b, 0),
        r.defect,
      );
    }
    const pixels = await val.loadImage(val.records[0], 28);
    const raw = zlib
      .gunzipSync(fs.readFileSync(path.join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz')))
      .subarray(16, 16 + 784);
    assert.deepEqual(
      Array.from({ length: 784 }, (_, i) => pixels[3 * i]),
      Array.from(raw),
    );
    assert.equal((await val.loadImage(val.records[1], 32)).length, 32 * 32 * 3);
  });

  it('names the Debian package when the files are missing', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'fmnist-'));
    try {
      assert.throws(
        () => readFashionMnistSplit({ split: 'train', dir: empty }),
        /apt-get install dataset-fashion-mnist/,
      );
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
