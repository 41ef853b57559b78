import { strict as assert } from 'assert';
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../lib/backend';

describe('backend', () => {
  it('chooses an engine and records why', () => {
    const info = backendInfo();
    assert.ok(info, 'initBackend ran in the root hook');
    assert.equal(tf.getBackend(), info.tfBackend);
    assert.ok(info.reason.length > 10);
  });
});
