/**
 * Batched, seeded image augmentations with torchvision's semantics (docs/reference.md §3): RandomResizedCrop,
 * ColorJitter (random order per image), RandomHorizontalFlip, Normalize; plus the evaluation transform
 * (resize + normalize). Inputs are float32 NHWC tensors in [0, 1].
 *
 * Sampling the random parameters (`sampleAugmentParams`) is separate from applying them (`applyAugment`), so
 * tests can fix parameters and compare with torchvision's functional ops.
 *
 * Resampling: the crop is resized with the exact torch kernels (`interpolate`, align_corners=False, no
 * antialias), bicubic by default as in the paper, bilinear on request. It is done as two separable passes of
 * gathers with per-image indices and weights, so each image can have its own crop (tf.image.cropAndResize was
 * not used: its sample positions cannot reproduce torch's edge clamping, and it has no bicubic kernel).
 *
 * @example
 *   import { Rng } from './rng';
 *   import { augmentBatch, evalTransform, DEFAULT_AUGMENT } from './augment';
 *   const rng = new Rng(7);
 *   const view = augmentBatch(images, rng, { ...DEFAULT_AUGMENT, outSize: 64 });   // caller disposes `view`
 *   const evalView = evalTransform(images, { outSize: 64 });
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from './rng';
import { SEWER_MEAN, SEWER_STD } from './sewerml';

export type Interpolation = 'bilinear' | 'bicubic';

/** Crop box in pixels of the input image. */
export interface CropParams {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** ColorJitter parameters for one image; a null factor means that op is switched off (torchvision: None). */
export interface JitterParams {
  /** Order of the four ops: 0 brightness, 1 contrast, 2 saturation, 3 hue (torch.randperm(4)). */
  order: number[];
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  hue: number | null;
}

export interface AugmentParams {
  crop: CropParams;
  jitter: JitterParams;
  flip: boolean;
}

export interface AugmentConfig {
  /** Output side length (square). */
  outSize: number;
  /** RandomResizedCrop scale = (minScale, 1). */
  minScale: number;
  /** RandomResizedCrop aspect-ratio range. */
  ratio: [number, number];
  /** ColorJitter strength t: brightness = contrast = saturation = t, hue = t/2. */
  jitterStrength: number;
  flipProbability: number;
  interpolation: Interpolation;
  /** Normalisation; null leaves pixels in [0, 1]. */
  mean: readonly number[] | null;
  std: readonly number[] | null;
}

/** The paper's settings (min_scale 0.395, t = 0.275, bicubic, Sewer-ML mean/std); set `outSize` per run. */
export const DEFAULT_AUGMENT: AugmentConfig = {
  outSize: 224,
  minScale: 0.395,
  ratio: [3 / 4, 4 / 3],
  jitterStrength: 0.275,
  flipProbability: 0.5,
  interpolation: 'bicubic',
  mean: SEWER_MEAN,
  std: SEWER_STD,
};

// ---------------------------------------------------------------------------------------------------------
// Parameter sampling (torchvision's get_params logic, on our seeded stream)

/** torchvision RandomResizedCrop.get_params: 10 attempts, then the centre-crop fallback. */
export function sampleCropParams(
  rng: Rng,
  height: number,
  width: number,
  scale: [number, number],
  ratio: [number, number],
): CropParams {
  const area = height * width;
  const logRatio: [number, number] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = Math.round(Math.sqrt(targetArea * aspect));
    const h = Math.round(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return { top: rng.int(0, height - h + 1), left: rng.int(0, width - w + 1), height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < Math.min(...ratio)) {
    w = width;
    h = Math.round(w / Math.min(...ratio));
  } else if (inRatio > Math.max(...ratio)) {
    h = height;
    w = Math.round(h * Math.max(...ratio));
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** torchvision ColorJitter.get_params for brightness = contrast = saturation = t, hue = t/2. */
export function sampleJitterParams(rng: Rng, strength: number): JitterParams {
  const order = rng.permutation(4);
  const factor = (t: number): number | null => (t > 0 ? rng.uniform(Math.max(0, 1 - t), 1 + t) : null);
  const brightness = factor(strength);
  const contrast = factor(strength);
  const saturation = factor(strength);
  const hueRange = Math.min(strength / 2, 0.5);
  const hue = hueRange > 0 ? rng.uniform(-hueRange, hueRange) : null;
  return { order, brightness, contrast, saturation, hue };
}

/** Parameters for a batch of n images of height×width. */
export function sampleAugmentParams(
  rng: Rng,
  n: number,
  height: number,
  width: number,
  config: AugmentConfig,
): AugmentParams[] {
  const out: AugmentParams[] = [];
  for (let i = 0; i < n; i++) {
    const crop = sampleCropParams(rng, height, width, [config.minScale, 1], config.ratio);
    const jitter = sampleJitterParams(rng, config.jitterStrength);
    const flip = rng.next() < config.flipProbability;
    out.push({ crop, jitter, flip });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Resampling with torch's interpolate kernels

const CUBIC_A = -0.75;
function cubicNear(x: number): number {
  return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
}
function cubicFar(x: number): number {
  return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
}

/** Source indices (relative to the crop) and weights for one axis, torch align_corners=False. */
export function resizeTaps(
  inSize: number,
  outSize: number,
  interpolation: Interpolation,
): { indices: Int32Array[]; weights: Float32Array[] } {
  const scale = inSize / outSize;
  if (interpolation === 'bilinear') {
    const i0 = new Int32Array(outSize),
      i1 = new Int32Array(outSize);
    const w0 = new Float32Array(outSize),
      w1 = new Float32Array(outSize);
    for (let o = 0; o < outSize; o++) {
      const src = Math.max(scale * (o + 0.5) - 0.5, 0);
      const low = Math.min(Math.floor(src), inSize - 1);
      const lambda = src - low;
      i0[o] = low;
      i1[o] = low < inSize - 1 ? low + 1 : low;
      w1[o] = lambda;
      w0[o] = 1 - lambda;
    }
    return { indices: [i0, i1], weights: [w0, w1] };
  }
  const indices = [0, 1, 2, 3].map(() => new Int32Array(outSize));
  const weights = [0, 1, 2, 3].map(() => new Float32Array(outSize));
  for (let o = 0; o < outSize; o++) {
    const real = scale * (o + 0.5) - 0.5;
    const base = Math.floor(real);
    const t = real - base;
    const coeffs = [cubicFar(t + 1), cubicNear(t), cubicNear(1 - t), cubicFar(2 - t)];
    for (let k = 0; k < 4; k++) {
      indices[k][o] = Math.min(Math.max(base - 1 + k, 0), inSize - 1);
      weights[k][o] = coeffs[k];
    }
  }
  return { indices, weights };
}

/**
 * Crop each image to its box and resize to outHeight×outWidth (torchvision `resized_crop` on tensors, no
 * antialias); `flips[i]` mirrors image i horizontally afterwards (`hflip`). Returns a new tensor.
 */
export function resizedCrop(
  images: tf.Tensor4D,
  crops: CropParams[],
  outHeight: number,
  outWidth: number,
  interpolation: Interpolation = 'bicubic',
  flips?: boolean[],
): tf.Tensor4D {
  const [n, height, width, channels] = images.shape;
  if (crops.length !== n) throw new Error(`resizedCrop: ${crops.length} crops for a batch of ${n}`);
  for (const [i, c] of crops.entries()) {
    if (
      c.top < 0 ||
      c.left < 0 ||
      c.height < 1 ||
      c.width < 1 ||
      c.top + c.height > height ||
      c.left + c.width > width
    ) {
      throw new Error(`resizedCrop: crop ${i} ${JSON.stringify(c)} is outside the ${height}×${width} image`);
    }
  }
  const taps = interpolation === 'bilinear' ? 2 : 4;
  const rowIndex = Array.from({ length: taps }, () => new Int32Array(n * outHeight));
  const rowWeight = Array.from({ length: taps }, () => new Float32Array(n * outHeight));
  const colIndex = Array.from({ length: taps }, () => new Int32Array(n * outWidth));
  const colWeight = Array.from({ length: taps }, () => new Float32Array(n * outWidth));
  for (let i = 0; i < n; i++) {
    const c = crops[i];
    const rows = resizeTaps(c.height, outHeight, interpolation);
    const cols = resizeTaps(c.width, outWidth, interpolation);
    const flip = flips?.[i] ?? false;
    for (let k = 0; k < taps; k++) {
      for (let o = 0; o < outHeight; o++) {
        rowIndex[k][i * outHeight + o] = i * height + c.top + rows.indices[k][o];
        rowWeight[k][i * outHeight + o] = rows.weights[k][o];
      }
      for (let o = 0; o < outWidth; o++) {
        const source = flip ? outWidth - 1 - o : o;
        colIndex[k][i * outWidth + o] = i * width + c.left + cols.indices[k][source];
        colWeight[k][i * outWidth + o] = cols.weights[k][source];
      }
    }
  }
  return tf.tidy(() => {
    const byRow = images.reshape([n * height, width * channels]);
    let vertical: tf.Tensor | null = null;
    for (let k = 0; k < taps; k++) {
      const term = tf.mul(
        tf.gather(byRow, tf.tensor1d(rowIndex[k], 'int32')),
        tf.tensor2d(rowWeight[k], [n * outHeight, 1]),
      );
      vertical = vertical ? tf.add(vertical, term) : term;
    }
    const byColumn = vertical!
      .reshape([n, outHeight, width, channels])
      .transpose([0, 2, 1, 3])
      .reshape([n * width, outHeight * channels]);
    let horizontal: tf.Tensor | null = null;
    for (let k = 0; k < taps; k++) {
      const term = tf.mul(
        tf.gather(byColumn, tf.tensor1d(colIndex[k], 'int32')),
        tf.tensor2d(colWeight[k], [n * outWidth, 1]),
      );
      horizontal = horizontal ? tf.add(horizontal, term) : term;
    }
    return horizontal!.reshape([n, outWidth, outHeight, channels]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
  });
}

/** torchvision `hflip` on a batch (every image). */
export function hflip(images: tf.Tensor4D): tf.Tensor4D {
  return tf.reverse(images, 2);
}

// ---------------------------------------------------------------------------------------------------------
// Colour ops, torchvision tensor formulas, one factor per image

function perImage(factors: number[]): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from(factors), [factors.length, 1, 1, 1]);
}

/** 0.2989 R + 0.587 G + 0.114 B, shape [n, h, w, 1]. */
export function rgbToGrayscale(images: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [r, g, b] = tf.split(images, 3, 3);
    return tf.add(tf.add(tf.mul(r, 0.2989), tf.mul(g, 0.587)), tf.mul(b, 0.114)) as tf.Tensor4D;
  });
}

/** torchvision `_blend`: (ratio·a + (1 − ratio)·b) clamped to [0, 1]. */
function blend(a: tf.Tensor, b: tf.Tensor, ratio: tf.Tensor): tf.Tensor4D {
  return tf.clipByValue(tf.add(tf.mul(ratio, a), tf.mul(tf.sub(1, ratio), b)), 0, 1) as tf.Tensor4D;
}

export function adjustBrightness(images: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  return tf.tidy(() => tf.clipByValue(tf.mul(perImage(factors), images), 0, 1) as tf.Tensor4D);
}

export function adjustContrast(images: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  return tf.tidy(() => {
    const mean = tf.mean(rgbToGrayscale(images), [1, 2, 3], true);
    return blend(images, mean, perImage(factors));
  });
}

export function adjustSaturation(images: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  return tf.tidy(() => blend(images, rgbToGrayscale(images), perImage(factors)));
}

/** torchvision `adjust_hue` for float images: RGB → HSV, h ← (h + factor) mod 1, HSV → RGB. */
export function adjustHue(images: tf.Tensor4D, factors: number[]): tf.Tensor4D {
  for (const f of factors)
    if (!(f >= -0.5 && f <= 0.5)) throw new Error(`adjustHue: hue factor ${f} is not in [-0.5, 0.5]`);
  return tf.tidy(() => {
    const [r, g, b] = tf.split(images, 3, 3);
    const maxc = tf.max(images, 3, true);
    const minc = tf.min(images, 3, true);
    const equalMaxMin = tf.equal(maxc, minc);
    const chroma = tf.sub(maxc, minc);
    const ones = tf.onesLike(maxc);
    const saturation = tf.div(chroma, tf.where(equalMaxMin, ones, maxc));
    const chromaDivisor = tf.where(equalMaxMin, ones, chroma);
    const rc = tf.div(tf.sub(maxc, r), chromaDivisor);
    const gc = tf.div(tf.sub(maxc, g), chromaDivisor);
    const bc = tf.div(tf.sub(maxc, b), chromaDivisor);
    const isR = tf.equal(maxc, r);
    const notR = tf.logicalNot(isR);
    const isG = tf.equal(maxc, g);
    const hr = tf.mul(tf.cast(isR, 'float32'), tf.sub(bc, gc));
    const hg = tf.mul(tf.cast(tf.logicalAnd(isG, notR), 'float32'), tf.add(tf.sub(rc, bc), 2));
    const hb = tf.mul(tf.cast(tf.logicalAnd(tf.logicalNot(isG), notR), 'float32'), tf.add(tf.sub(gc, rc), 4));
    let hue = tf.mod(tf.add(tf.div(tf.add(tf.add(hr, hg), hb), 6), 1), 1);
    hue = tf.mod(tf.add(hue, perImage(factors)), 1);
    const value = maxc;
    const sector = tf.floor(tf.mul(hue, 6));
    const fraction = tf.sub(tf.mul(hue, 6), sector);
    const sectorIndex = tf.mod(tf.cast(sector, 'int32'), 6);
    const p = tf.clipByValue(tf.mul(value, tf.sub(1, saturation)), 0, 1);
    const q = tf.clipByValue(tf.mul(value, tf.sub(1, tf.mul(saturation, fraction))), 0, 1);
    const t = tf.clipByValue(tf.mul(value, tf.sub(1, tf.mul(saturation, tf.sub(1, fraction)))), 0, 1);
    const masks = [0, 1, 2, 3, 4, 5].map((k) => tf.cast(tf.equal(sectorIndex, k), 'float32'));
    const pick = (choices: tf.Tensor[]): tf.Tensor =>
      choices.map((c, k) => tf.mul(masks[k], c)).reduce((acc, term) => tf.add(acc, term));
    const red = pick([value, q, p, p, t, value]);
    const green = pick([t, value, value, q, p, p]);
    const blue = pick([p, p, t, value, value, q]);
    return tf.concat([red, green, blue], 3) as tf.Tensor4D;
  });
}

/** (x − mean) / std per channel. */
export function normalize(images: tf.Tensor4D, mean: readonly number[], std: readonly number[]): tf.Tensor4D {
  return tf.tidy(
    () => tf.div(tf.sub(images, tf.tensor1d(mean as number[])), tf.tensor1d(std as number[])) as tf.Tensor4D,
  );
}

const JITTER_OPS = [adjustBrightness, adjustContrast, adjustSaturation, adjustHue];
const JITTER_KEYS = ['brightness', 'contrast', 'saturation', 'hue'] as const;

/**
 * ColorJitter with a per-image order. At each of the four steps the batch is split by which op each image
 * applies, each group gets its op, and the groups are gathered back into batch order, so every image pays
 * for exactly its four ops.
 */
export function colorJitter(images: tf.Tensor4D, params: JitterParams[]): tf.Tensor4D {
  const n = images.shape[0];
  if (params.length !== n) throw new Error(`colorJitter: ${params.length} parameter sets for a batch of ${n}`);
  return tf.tidy(() => {
    let current = images;
    for (let step = 0; step < 4; step++) {
      const parts: tf.Tensor4D[] = [];
      const positions: number[] = [];
      const untouched: number[] = [];
      for (let op = 0; op < 4; op++) {
        const members: number[] = [];
        const factors: number[] = [];
        for (let i = 0; i < n; i++) {
          const factor = params[i][JITTER_KEYS[op]];
          if (params[i].order[step] !== op) continue;
          if (factor === null) untouched.push(i);
          else {
            members.push(i);
            factors.push(factor);
          }
        }
        if (members.length === 0) continue;
        const group =
          members.length === n ? current : (tf.gather(current, tf.tensor1d(members, 'int32')) as tf.Tensor4D);
        parts.push(JITTER_OPS[op](group, factors));
        positions.push(...members);
      }
      if (parts.length === 0) continue;
      if (untouched.length > 0) {
        parts.push(tf.gather(current, tf.tensor1d(untouched, 'int32')) as tf.Tensor4D);
        positions.push(...untouched);
      }
      const stacked = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor4D);
      const inverse = new Int32Array(n);
      positions.forEach((batchIndex, row) => (inverse[batchIndex] = row));
      const isIdentity = positions.every((batchIndex, row) => batchIndex === row);
      current = isIdentity ? stacked : (tf.gather(stacked, tf.tensor1d(inverse, 'int32')) as tf.Tensor4D);
    }
    return current === images ? (tf.clone(images) as tf.Tensor4D) : current;
  });
}

// ---------------------------------------------------------------------------------------------------------
// The training path. On the wasm backend gathers and the many small colour kernels cost ~15 ms per 64-px image,
// so `applyAugment` runs the same formulas in plain JS over the pixel array (~1 ms per image) and uploads the
// result once. The tensor ops above remain the readable reference; both are tested against torchvision.

function resizedCropPixels(
  src: Float32Array,
  height: number,
  width: number,
  crop: CropParams,
  outSize: number,
  interpolation: Interpolation,
  flip: boolean,
  out: Float32Array,
  outOffset: number,
): void {
  const rows = resizeTaps(crop.height, outSize, interpolation);
  const cols = resizeTaps(crop.width, outSize, interpolation);
  const taps = rows.indices.length;
  const rowLength = width * 3;
  const vertical = new Float64Array(outSize * rowLength);
  for (let o = 0; o < outSize; o++) {
    const target = o * rowLength;
    for (let k = 0; k < taps; k++) {
      const weight = rows.weights[k][o];
      const source = (crop.top + rows.indices[k][o]) * rowLength;
      for (let j = 0; j < rowLength; j++) vertical[target + j] += weight * src[source + j];
    }
  }
  for (let o = 0; o < outSize; o++) {
    for (let q = 0; q < outSize; q++) {
      const from = flip ? outSize - 1 - q : q;
      let r = 0,
        g = 0,
        b = 0;
      for (let k = 0; k < taps; k++) {
        const weight = cols.weights[k][from];
        const at = o * rowLength + (crop.left + cols.indices[k][from]) * 3;
        r += weight * vertical[at];
        g += weight * vertical[at + 1];
        b += weight * vertical[at + 2];
      }
      const t = outOffset + (o * outSize + q) * 3;
      out[t] = r;
      out[t + 1] = g;
      out[t + 2] = b;
    }
  }
}

const clampUnit = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);

function hueShiftPixel(px: Float32Array, i: number, shift: number): void {
  const r = px[i],
    g = px[i + 1],
    b = px[i + 2];
  const maxc = Math.max(r, g, b),
    minc = Math.min(r, g, b);
  const equal = maxc === minc;
  const chroma = maxc - minc;
  const s = chroma / (equal ? 1 : maxc);
  const divisor = equal ? 1 : chroma;
  const rc = (maxc - r) / divisor,
    gc = (maxc - g) / divisor,
    bc = (maxc - b) / divisor;
  let h = maxc === r ? bc - gc : maxc === g ? 2 + rc - bc : 4 + gc - rc;
  h = (((h / 6 + 1) % 1) + 1) % 1;
  h = (((h + shift) % 1) + 1) % 1;
  const v = maxc;
  const sector6 = Math.floor(h * 6);
  const f = h * 6 - sector6;
  const sector = ((sector6 % 6) + 6) % 6;
  const p = clampUnit(v * (1 - s)),
    q = clampUnit(v * (1 - s * f)),
    t = clampUnit(v * (1 - s * (1 - f)));
  const table = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][sector];
  px[i] = table[0];
  px[i + 1] = table[1];
  px[i + 2] = table[2];
}

function jitterPixels(px: Float32Array, offset: number, count: number, params: JitterParams): void {
  const end = offset + 3 * count;
  for (const op of params.order) {
    if (op === 0 && params.brightness !== null) {
      const f = params.brightness;
      for (let i = offset; i < end; i++) px[i] = clampUnit(f * px[i]);
    } else if (op === 1 && params.contrast !== null) {
      const f = params.contrast;
      let sum = 0;
      for (let i = offset; i < end; i += 3) sum += 0.2989 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
      const mean = sum / count;
      for (let i = offset; i < end; i++) px[i] = clampUnit(f * px[i] + (1 - f) * mean);
    } else if (op === 2 && params.saturation !== null) {
      const f = params.saturation;
      for (let i = offset; i < end; i += 3) {
        const grey = (1 - f) * (0.2989 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2]);
        px[i] = clampUnit(f * px[i] + grey);
        px[i + 1] = clampUnit(f * px[i + 1] + grey);
        px[i + 2] = clampUnit(f * px[i + 2] + grey);
      }
    } else if (op === 3 && params.hue !== null) {
      for (let i = offset; i < end; i += 3) hueShiftPixel(px, i, params.hue);
    }
  }
}

/** Apply given parameters to raw NHWC RGB pixels in [0, 1]; returns the augmented pixels (outSize², NHWC). */
export function augmentPixels(
  pixels: Float32Array,
  n: number,
  height: number,
  width: number,
  params: AugmentParams[],
  config: AugmentConfig,
): Float32Array {
  if (params.length !== n) throw new Error(`augmentPixels: ${params.length} parameter sets for a batch of ${n}`);
  if (pixels.length !== n * height * width * 3)
    throw new Error(`augmentPixels: ${pixels.length} values, expected ${n}×${height}×${width}×3`);
  const size = config.outSize;
  const out = new Float32Array(n * size * size * 3);
  for (let i = 0; i < n; i++) {
    const c = params[i].crop;
    if (
      c.top < 0 ||
      c.left < 0 ||
      c.height < 1 ||
      c.width < 1 ||
      c.top + c.height > height ||
      c.left + c.width > width
    ) {
      throw new Error(`augmentPixels: crop ${i} ${JSON.stringify(c)} is outside the ${height}×${width} image`);
    }
    const image = pixels.subarray(i * height * width * 3, (i + 1) * height * width * 3);
    resizedCropPixels(image, height, width, c, size, config.interpolation, params[i].flip, out, i * size * size * 3);
    jitterPixels(out, i * size * size * 3, size * size, params[i].jitter);
  }
  if (config.mean && config.std) {
    const mean = config.mean,
      std = config.std;
    for (let i = 0; i < out.length; i += 3) {
      out[i] = (out[i] - mean[0]) / std[0];
      out[i + 1] = (out[i + 1] - mean[1]) / std[1];
      out[i + 2] = (out[i + 2] - mean[2]) / std[2];
    }
  }
  return out;
}

/** Apply given parameters: crop + resize (+ flip), colour jitter, normalise. Returns a new tensor. */
export function applyAugment(images: tf.Tensor4D, params: AugmentParams[], config: AugmentConfig): tf.Tensor4D {
  const [n, height, width, channels] = images.shape;
  if (channels !== 3) throw new Error(`applyAugment: expected RGB images, got ${channels} channels`);
  const out = augmentPixels(images.dataSync() as Float32Array, n, height, width, params, config);
  return tf.tensor4d(out, [n, config.outSize, config.outSize, 3]);
}

/** The same as applyAugment, with tensor ops only (reference implementation; slower on wasm). */
export function applyAugmentTensor(images: tf.Tensor4D, params: AugmentParams[], config: AugmentConfig): tf.Tensor4D {
  return tf.tidy(() => {
    const cropped = resizedCrop(
      images,
      params.map((p) => p.crop),
      config.outSize,
      config.outSize,
      config.interpolation,
      params.map((p) => p.flip),
    );
    const jittered = colorJitter(
      cropped,
      params.map((p) => p.jitter),
    );
    return config.mean && config.std ? normalize(jittered, config.mean, config.std) : jittered;
  });
}

/** Sample parameters from `rng` and apply them (one training view). */
export function augmentBatch(images: tf.Tensor4D, rng: Rng, config: AugmentConfig): tf.Tensor4D {
  const [n, height, width] = images.shape;
  return applyAugment(images, sampleAugmentParams(rng, n, height, width, config), config);
}

/** Evaluation transform: resize to outSize (skipped when already that size) and normalise. */
export function evalTransform(
  images: tf.Tensor4D,
  options: {
    outSize: number;
    mean?: readonly number[] | null;
    std?: readonly number[] | null;
    interpolation?: Interpolation;
  },
): tf.Tensor4D {
  const [n, height, width] = images.shape;
  const mean = options.mean === undefined ? SEWER_MEAN : options.mean;
  const std = options.std === undefined ? SEWER_STD : options.std;
  return tf.tidy(() => {
    const sized =
      height === options.outSize && width === options.outSize
        ? images
        : resizedCrop(
            images,
            Array.from({ length: n }, () => ({ top: 0, left: 0, height, width })),
            options.outSize,
            options.outSize,
            options.interpolation ?? 'bicubic',
          );
    return mean && std ? normalize(sized, mean, std) : (tf.clone(sized) as tf.Tensor4D);
  });
}
