/**
 * Training kernels the wasm backend lacks or runs slowly, registered from JS.
 * Each kernel builds on wasm's own XNNPACK-served kernels (Conv2D, BatchMatMul, Transpose, …).
 *
 * Registration only touches the global kernel registry, so it works before `tf.setBackend('wasm')`;
 * a replaced kernel keeps wasm's setup function so that the original stays callable as a fallback.
 *
 * @example
 *   require('@tensorflow/tfjs-backend-wasm');
 *   registerWasmTrainingKernels();   // ['Conv2DBackpropFilter', …, 'Identity', 'SsladBatchNormTrain', …]
 *   await tf.setBackend('wasm');
 */
import * as tf from '@tensorflow/tfjs';
import { batchMatMulKernel } from './batch_matmul';
import { conv2dBackpropFilterKernel, conv2dBackpropInputKernel } from './conv2d_backprop';
import { batchNormTrainGradKernel, batchNormTrainKernel, BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD } from './batch_norm';
import { maxPoolGradKernel } from './max_pool_grad';
import { conv2dKernel } from './conv2d_forward';
import { layerNormGradKernel, layerNormKernel, LAYER_NORM, LAYER_NORM_GRAD } from './layer_norm';
import { splitVKernel, sumKernel } from './split_sum';
import { NATIVE_KERNELS, NATIVE_ONLY_KERNELS, useNativeAddon } from './native';
import { concatKernel, identityKernel, rememberOriginal, sliceKernel } from './wasm_calls';
import type { NativeAddon } from '../native';

const PROJECT_KERNELS: Array<{ kernelName: string; kernelFunc: unknown }> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2dBackpropFilterKernel },
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2dBackpropInputKernel },
  { kernelName: 'BatchMatMul', kernelFunc: batchMatMulKernel },
  { kernelName: 'Slice', kernelFunc: sliceKernel },
  { kernelName: 'Concat', kernelFunc: concatKernel },
  { kernelName: 'Identity', kernelFunc: identityKernel },
  { kernelName: 'MaxPoolGrad', kernelFunc: maxPoolGradKernel },
  { kernelName: 'Conv2D', kernelFunc: conv2dKernel },
  { kernelName: 'SplitV', kernelFunc: splitVKernel },
  { kernelName: 'Sum', kernelFunc: sumKernel },
  { kernelName: BATCH_NORM_TRAIN, kernelFunc: batchNormTrainKernel },
  { kernelName: BATCH_NORM_TRAIN_GRAD, kernelFunc: batchNormTrainGradKernel },
  { kernelName: LAYER_NORM, kernelFunc: layerNormKernel },
  { kernelName: LAYER_NORM_GRAD, kernelFunc: layerNormGradKernel },
];

let registered: string[] | null = null;

/** Whether `kernelName` on wasm is the project's registration (e.g. a MaxPoolGrad that can be trusted). */
export function isProjectWasmKernel(kernelName: string): boolean {
  return registered !== null && registered.includes(kernelName);
}

/**
 * Register every project kernel on the wasm backend (idempotent); returns the kernel names registered.
 * With the native addon, the kernels it implements are registered in its version, which falls back per
 * call to the wasm kernel listed here.
 */
export function registerWasmTrainingKernels(native: NativeAddon | null = null): string[] {
  if (registered) return registered.slice();
  useNativeAddon(native);
  const names: string[] = [];
  for (const { kernelName, kernelFunc: wasmFunc } of PROJECT_KERNELS) {
    const kernelFunc = native && NATIVE_KERNELS[kernelName] ? NATIVE_KERNELS[kernelName] : wasmFunc;
    const original = rememberOriginal(kernelName);
    if (original) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: kernelFunc as tf.KernelFunc,
      setupFunc: original?.setupFunc,
    });
    names.push(kernelName);
  }
  if (native) {
    for (const [kernelName, kernelFunc] of Object.entries(NATIVE_ONLY_KERNELS)) {
      if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
      tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as tf.KernelFunc });
      names.push(kernelName);
    }
  }
  registered = names;
  return names.slice();
}
