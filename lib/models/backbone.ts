/**
 * The contract every backbone meets: NHWC images in, one feature vector per image out.
 *
 * @example
 *   const feats = tf.tidy(() => backbone.forward(images));   // [N, backbone.featureDim]
 */
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';

export abstract class Backbone extends Module {
  /** Width of the feature `forward` returns (512 for ResNet-18, 192 for ViT-Tiny). */
  abstract readonly featureDim: number;
  abstract forward(x: tf.Tensor4D): tf.Tensor2D;
}
