import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createBackbone } from '../../lib/models';
import { ByolMlp } from '../../lib/models/heads';
import {
  loadTorchStateDict,
  parseSafetensors,
  saveTorchStateDict,
  serializeSafetensors,
  torchStateDictBytes,
} from '../../lib/models/safetensors';

describe('safetensors I/O', () => {
  it('round-trips a module (floats and int64 BN counters) through a file', () => {
    const a = new ByolMlp({ inDim: 6, hiddenDim: 10, outDim: 4, seed: 1 });
    const b = new ByolMlp({ inDim: 6, hiddenDim: 10, outDim: 4, seed: 2 });
    tf.tidy(() => {
      a.train();
      a.forward(tf.randomNormal([5, 6], 0, 1, 'float32', 3) as tf.Tensor2D);
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'st-')), 'head.safetensors');
    saveTorchStateDict(a, file);
    const parsed = parseSafetensors(new Uint8Array(fs.readFileSync(file)));
    assert.deepEqual(parsed.tensors.get('0.weight')!.shape, [10, 6], 'Linear weight stored [out, in] as torch');
    assert.equal(parsed.tensors.get('1.num_batches_tracked')!.dtype, 'I64');
    loadTorchStateDict(b, file);
    for (const [x, y] of a.stateDict().map((p, i) => [p.variable, b.stateDict()[i].variable])) {
      assert.deepEqual(Array.from(y.dataSync()), Array.from(x.dataSync()));
    }
    assert.equal(
      b
        .stateDict()
        .find((p) => p.name === '1.num_batches_tracked')!
        .variable.dataSync()[0],
      1,
    );
    a.dispose();
    b.dispose();
  });

  it('names missing tensors, shape mismatches (both shapes) and unexpected keys', () => {
    const head = new ByolMlp({ inDim: 6, hiddenDim: 10, outDim: 4, seed: 1 });
    const good = parseSafetensors(torchStateDictBytes(head));
    const entries = [...good.tensors]
      .filter(([n]) => n !== '3.bias')
      .map(([name, t]) => ({ name, shape: t.shape, values: t.values }));
    entries.push({ name: 'head.weight', shape: [1], values: new Float32Array(1) });
    const bad = entries.map((e) => (e.name === '0.weight' ? { ...e, shape: [6, 10] } : e));
    assert.throws(
      () => loadTorchStateDict(head, serializeSafetensors(bad)),
      (err: Error) =>
        /missing tensor '3\.bias'/.test(err.message) &&
        /'0\.weight': checkpoint shape \[6,10\] but model expects torch shape \[10,6\]/.test(err.message) &&
        /unexpected keys: head\.weight/.test(err.message),
    );
    const onlyUnexpected = serializeSafetensors(
      [...good.tensors]
        .map(([name, t]) => ({ name, shape: t.shape, values: t.values }))
        .concat([{ name: 'head.weight', shape: [1], values: new Float32Array(1) }]),
    );
    assert.deepEqual(loadTorchStateDict(head, onlyUnexpected, { strict: false }).unexpected, ['head.weight']);
    assert.throws(() => parseSafetensors(new Uint8Array([1, 2, 3]), 'x.safetensors'), /x\.safetensors: too short/);
    head.dispose();
  });
});

describe('createBackbone', () => {
  for (const config of [
    { kind: 'resnet18' as const, imageSize: 32 },
    { kind: 'vit_tiny' as const, imageSize: 32, patchSize: 8, depth: 1 },
    { kind: 'mae_vit_tiny' as const, imageSize: 32, patchSize: 8, depth: 1 },
  ]) {
    it(`${config.kind}: same seed → same weights; forward+backward at smoke size without leaks`, () => {
      const net = createBackbone(config, 7);
      const twin = createBackbone(config, 7);
      assert.deepEqual(Array.from(twin.parameters()[0].dataSync()), Array.from(net.parameters()[0].dataSync()));
      twin.dispose();
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => {
        const f = net.forward(x);
        assert.deepEqual(f.shape, [2, net.featureDim]);
        return tf.mean(tf.square(f)) as tf.Scalar;
      });
      assert.equal(Object.keys(grads).length, net.parameters().length);
      const total = tf.tidy(() => tf.addN(Object.values(grads).map((g) => tf.sum(tf.abs(g)))).dataSync()[0]);
      assert.ok(Number.isFinite(total) && total > 0);
      tf.dispose([value, ...Object.values(grads)]);
      assert.equal(tf.memory().numTensors, before);
      x.dispose();
      net.dispose();
    });
  }
  it('rejects an unknown kind', () => {
    assert.throws(() => createBackbone({ kind: 'vgg' as never, imageSize: 32 }, 1), /unknown kind 'vgg'/);
  });
});
