/**
 * Train one run exactly as `ssl-ad train` does while recording what its online probe sees at every step: the
 * detached features of each view and the batch's labels. The probe is detached from the backbone, so the recorded
 * run is the run (same id, same weights); replay.py then tries probe variants on the stream without retraining.
 *
 *   PROBE_STREAM=/tmp/dino.stream npx tsx scripts/probe-replay/record.ts train --method dino --backbone vit_tiny \
 *     --proportion 0.45 --scale default --results /tmp/replay-runs
 *
 * Stream format, per step: int32 [step, views, batch, featureDim], float32 labels[batch], then each view's
 * float32 features[batch × featureDim], row-major, little-endian.
 */
import * as fs from 'fs';
import { Stepper } from '../../lib/train/step';
import { main } from '../../lib/cli/index';

const streamPath = process.env.PROBE_STREAM;
if (!streamPath) {
  console.error('record.ts: set PROBE_STREAM to the file the probe inputs go to');
  process.exit(2);
}
const fd = fs.openSync(streamPath, 'w');
type StepFn = Stepper['lossAndGradients'];
const original: StepFn = Stepper.prototype.lossAndGradients;
Stepper.prototype.lossAndGradients = function (this: Stepper, ...args: Parameters<StepFn>) {
  const [batch, state] = args;
  const labels = Float32Array.from(batch.labels.dataSync());
  const result = original.apply(this, args);
  const [rows, width] = result.features[0].shape;
  fs.writeSync(fd, new Uint8Array(new Int32Array([state.step, result.features.length, rows, width]).buffer));
  fs.writeSync(fd, new Uint8Array(labels.buffer));
  for (const f of result.features) fs.writeSync(fd, new Uint8Array(Float32Array.from(f.dataSync()).buffer));
  return result;
};
main(process.argv.slice(2)).then((code) => {
  fs.closeSync(fd);
  process.exit(code);
});
