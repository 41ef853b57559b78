/**
 * torchvision's ResNet-18 without the classifier: returns the 512-d globally average-pooled feature.
 *
 * Names match torchvision's state dict (`conv1.weight`, `layer2.0.downsample.1.running_var`, …) and the
 * init matches torchvision (kaiming_normal fan_out convs, BN weight 1 / bias 0). 11,176,512 parameters.
 *
 * @example
 *   const net = new ResNet18({ seed: 42 });
 *   const feats = tf.tidy(() => net.forward(images));   // images [N, H, W, 3] → [N, 512]
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';
import { SeedStream } from '../nn/init';
import { BatchNorm, Conv2d, ModuleList, maxPool2d } from '../nn/layers';
import { Backbone } from './backbone';

/** downsample = Sequential(conv1x1, BN), children '0' and '1' as in torchvision. */
class Downsample extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm;

  constructor(inPlanes: number, planes: number, stride: number, seeds: SeedStream) {
    super();
    this.conv = this.register(
      '0',
      new Conv2d(inPlanes, planes, 1, { seeds, stride, bias: false, init: 'kaiming_fan_out' }),
    );
    this.bn = this.register('1', new BatchNorm(planes));
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.bn.forward(this.conv.forward(x)) as tf.Tensor4D);
  }
}

export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm;
  readonly downsample: Downsample | null;

  constructor(inPlanes: number, planes: number, stride: number, seeds: SeedStream) {
    super();
    this.conv1 = this.register(
      'conv1',
      new Conv2d(inPlanes, planes, 3, { seeds, stride, padding: 1, bias: false, init: 'kaiming_fan_out' }),
    );
    this.bn1 = this.register('bn1', new BatchNorm(planes));
    this.conv2 = this.register(
      'conv2',
      new Conv2d(planes, planes, 3, { seeds, padding: 1, bias: false, init: 'kaiming_fan_out' }),
    );
    this.bn2 = this.register('bn2', new BatchNorm(planes));
    this.downsample =
      stride !== 1 || inPlanes !== planes
        ? this.register('downsample', new Downsample(inPlanes, planes, stride, seeds))
        : null;
  }

  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let out = tf.relu(this.bn1.forward(this.conv1.forward(x)));
      out = this.bn2.forward(this.conv2.forward(out));
      const identity = this.downsample ? this.downsample.forward(x) : x;
      return tf.relu(tf.add(out, identity)) as tf.Tensor4D;
    });
  }
}

export interface ResNet18Options {
  seed: number;
}

export class ResNet18 extends Backbone {
  readonly featureDim = 512;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm;
  readonly stages: Array<ModuleList<BasicBlock>>;

  constructor(options: ResNet18Options) {
    super();
    const seeds = new SeedStream(options.seed);
    this.conv1 = this.register(
      'conv1',
      new Conv2d(3, 64, 7, { seeds, stride: 2, padding: 3, bias: false, init: 'kaiming_fan_out' }),
    );
    this.bn1 = this.register('bn1', new BatchNorm(64));
    this.stages = [];
    let inPlanes = 64;
    [64, 128, 256, 512].forEach((planes, i) => {
      const stride = i === 0 ? 1 : 2;
      const stage = new ModuleList([
        new BasicBlock(inPlanes, planes, stride, seeds),
        new BasicBlock(planes, planes, 1, seeds),
      ]);
      this.stages.push(this.register(`layer${i + 1}`, stage));
      inPlanes = planes;
    });
  }

  forward(x: tf.Tensor4D): tf.Tensor2D {
    if (x.rank !== 4 || x.shape[3] !== 3)
      throw new Error(`ResNet18: expected NHWC RGB images [N, H, W, 3], got [${x.shape}]`);
    return tf.tidy(() => {
      let h = tf.relu(this.bn1.forward(this.conv1.forward(x))) as tf.Tensor4D;
      h = maxPool2d(h, 3, 2, 1);
      for (const stage of this.stages) for (const block of stage.items) h = block.forward(h);
      return tf.mean(h, [1, 2]) as tf.Tensor2D;
    });
  }
}
