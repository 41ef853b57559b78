/**
 * `.safetensors` reading/writing in pure TypeScript, and PyTorch state-dict import/export for our modules.
 *
 * Format: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets: [begin, end]}}
 * (offsets relative to the data section; optional "__metadata__" of strings), then raw little-endian data.
 * Read: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL. Write: F32 (floats) and I64 (integer buffers,
 * as torch stores BatchNorm's num_batches_tracked).
 *
 * Names: ours are torchvision's/timm's by construction. Layout, by tensor rank: rank-4 tensors are conv
 * kernels (torch OIHW ↔ ours HWIO), rank-2 tensors are Linear-like (torch [out, in] ↔ ours [in, out],
 * which also covers weight_norm's weight_g [K, 1] ↔ [1, K]); other ranks are identical
 * (biases, norms, running statistics, pos_embed/cls_token [1, T, D]).
 *
 * @example
 *   loadTorchStateDict(resnet, 'resnet18-torchvision.safetensors');          // strict: exact key set
 *   loadTorchStateDict(vit, 'vit_tiny.safetensors', { strict: false });      // ignores e.g. head.weight
 *   saveTorchStateDict(resnet, 'checkpoint.safetensors');                   // loadable by PyTorch
 */
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { Module } from '../nn/module';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** A decoded tensor: values widened to float32 (floats) or int32 (integers, range-checked). */
export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  values: Float32Array | Int32Array;
}

export interface SafetensorsContents {
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

function decode(
  view: DataView,
  begin: number,
  count: number,
  dtype: SafetensorsDtype,
  where: string,
): Float32Array | Int32Array {
  const isFloat = dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
  const out = isFloat ? new Float32Array(count) : new Int32Array(count);
  const step = BYTES[dtype];
  for (let i = 0; i < count; i++) {
    const at = begin + i * step;
    switch (dtype) {
      case 'F64':
        out[i] = view.getFloat64(at, true);
        break;
      case 'F32':
        out[i] = view.getFloat32(at, true);
        break;
      case 'F16':
        out[i] = halfToFloat(view.getUint16(at, true));
        break;
      case 'BF16':
        out[i] = new Float32Array(new Uint32Array([view.getUint16(at, true) << 16]).buffer)[0];
        break;
      case 'I64': {
        const value = view.getBigInt64(at, true);
        if (value > 2147483647n || value < -2147483648n)
          throw new Error(`${where}: I64 value ${value} does not fit in int32`);
        out[i] = Number(value);
        break;
      }
      case 'I32':
        out[i] = view.getInt32(at, true);
        break;
      case 'I16':
        out[i] = view.getInt16(at, true);
        break;
      case 'I8':
        out[i] = view.getInt8(at);
        break;
      case 'U8':
      case 'BOOL':
        out[i] = view.getUint8(at);
        break;
    }
  }
  return out;
}

/** Parse a .safetensors byte buffer; `source` names it in errors. */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 8) throw new Error(`${source}: too short for a safetensors file (${bytes.byteLength} bytes)`);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > bytes.byteLength - 8)
    throw new Error(`${source}: header length ${headerLength} exceeds the file size ${bytes.byteLength}`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (err) {
    throw new Error(`${source}: header is not valid JSON (${(err as Error).message})`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.byteLength - dataStart;
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const where = `${source}: tensor '${name}'`;
    const {
      dtype,
      shape,
      data_offsets: offsets,
    } = entry as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new Error(`${where}: unsupported dtype ${dtype}`);
    if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2)
      throw new Error(`${where}: malformed header entry`);
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = offsets;
    if (end - begin !== count * BYTES[dtype] || begin < 0 || end > dataLength) {
      throw new Error(
        `${where}: data_offsets [${begin}, ${end}] do not fit shape [${shape}] of ${dtype} in ${dataLength} data bytes`,
      );
    }
    tensors.set(name, { dtype, shape, values: decode(view, dataStart + begin, count, dtype, where) });
  }
  return { tensors, metadata };
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  /** Float32Array is written as F32; Int32Array as I64 (torch's integer buffers are int64). */
  values: Float32Array | Int32Array;
}

/** Serialise tensors (in the given order) to safetensors bytes. */
export function serializeSafetensors(entries: TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const entry of entries) {
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (count !== entry.values.length)
      throw new Error(
        `serializeSafetensors: tensor '${entry.name}' has ${entry.values.length} values for shape [${entry.shape}]`,
      );
    if (entry.name in header) throw new Error(`serializeSafetensors: duplicate tensor name '${entry.name}'`);
    const isFloat = entry.values instanceof Float32Array;
    const size = count * (isFloat ? 4 : 8);
    header[entry.name] = { dtype: isFloat ? 'F32' : 'I64', shape: entry.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const entry of entries) {
    if (entry.values instanceof Float32Array) {
      for (const v of entry.values) {
        view.setFloat32(at, v, true);
        at += 4;
      }
    } else {
      for (const v of entry.values) {
        view.setBigInt64(at, BigInt(v), true);
        at += 8;
      }
    }
  }
  return out;
}

export function readSafetensorsFile(path: string): SafetensorsContents {
  return parseSafetensors(new Uint8Array(fs.readFileSync(path)), path);
}

export function writeSafetensorsFile(path: string, entries: TensorToWrite[], metadata?: Record<string, string>): void {
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, serializeSafetensors(entries, metadata));
  fs.renameSync(tmp, path);
}

/** Our shape → torch's shape for the same tensor. */
export function torchShape(shape: number[]): number[] {
  if (shape.length === 4) return [shape[3], shape[2], shape[0], shape[1]];
  if (shape.length === 2) return [shape[1], shape[0]];
  return [...shape];
}

/** Torch-layout values → a tensor in our layout. */
function fromTorchLayout(values: Float32Array | Int32Array, torchDims: number[], dtype: tf.DataType): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(values, torchDims, dtype);
    if (torchDims.length === 4) return tf.transpose(t, [2, 3, 1, 0]);
    if (torchDims.length === 2) return tf.transpose(t);
    return t;
  });
}

/** A tensor in our layout → torch-layout values. */
export function toTorchLayout(tensor: tf.Tensor): Float32Array | Int32Array {
  const torchLayout = tf.tidy(() => {
    if (tensor.rank === 4) return tf.transpose(tensor, [3, 2, 0, 1]);
    if (tensor.rank === 2) return tf.transpose(tensor);
    return tensor.clone();
  });
  try {
    return torchLayout.dataSync() as Float32Array | Int32Array;
  } finally {
    torchLayout.dispose();
  }
}

export interface LoadOptions {
  /** Unexpected checkpoint keys are an error (default true); otherwise they are returned. */
  strict?: boolean;
  /** Only keys starting with this prefix are considered, with the prefix removed (e.g. 'backbone.'). */
  prefix?: string;
  /** Model tensors that may be absent from the checkpoint (they keep their values). */
  allowMissing?: (name: string) => boolean;
}

export interface LoadReport {
  loaded: string[];
  unexpected: string[];
  missingAllowed: string[];
}

/**
 * Copy a torch-named, torch-layout state dict into `module`. Everything is validated before anything is
 * assigned: a missing tensor or a shape mismatch is an error naming the tensor and both shapes.
 */
export function applyTorchStateDict(
  module: Module,
  contents: SafetensorsContents,
  options: LoadOptions = {},
  source = '<state dict>',
): LoadReport {
  const prefix = options.prefix ?? '';
  const available = new Map<string, StoredTensor>();
  for (const [name, stored] of contents.tensors)
    if (name.startsWith(prefix)) available.set(name.slice(prefix.length), stored);
  const targets = module.stateDict();
  const problems: string[] = [];
  const missingAllowed: string[] = [];
  const plan: Array<{ name: string; variable: tf.Variable; stored: StoredTensor }> = [];
  for (const { name, variable } of targets) {
    const stored = available.get(name);
    const expected = torchShape(variable.shape);
    if (!stored) {
      if (options.allowMissing?.(name)) missingAllowed.push(name);
      else problems.push(`missing tensor '${name}' (model expects torch shape [${expected}])`);
      continue;
    }
    if (stored.shape.length !== expected.length || stored.shape.some((d, i) => d !== expected[i])) {
      problems.push(
        `tensor '${name}': checkpoint shape [${stored.shape}] ` +
          `but model expects torch shape [${expected}] (ours [${variable.shape}])`,
      );
      continue;
    }
    plan.push({ name, variable, stored });
  }
  const known = new Set(targets.map((t) => t.name));
  const unexpected = [...available.keys()].filter((k) => !known.has(k));
  if ((options.strict ?? true) && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
  if (problems.length) throw new Error(`${source}: cannot load state dict:\n  ${problems.join('\n  ')}`);
  for (const { variable, stored } of plan) {
    const value = fromTorchLayout(stored.values, stored.shape, variable.dtype);
    variable.assign(value);
    value.dispose();
  }
  return { loaded: plan.map((p) => p.name), unexpected, missingAllowed };
}

/** Load a torchvision/timm-named `.safetensors` file (or its bytes) into `module`. */
export function loadTorchStateDict(module: Module, file: string | Uint8Array, options: LoadOptions = {}): LoadReport {
  const source = typeof file === 'string' ? file : '<safetensors bytes>';
  const contents = typeof file === 'string' ? readSafetensorsFile(file) : parseSafetensors(file, source);
  return applyTorchStateDict(module, contents, options, source);
}

/** The module's parameters and buffers, torch-named and in torch layout, as safetensors bytes. */
export function torchStateDictBytes(
  module: Module,
  options: { prefix?: string; metadata?: Record<string, string> } = {},
): Uint8Array {
  const entries: TensorToWrite[] = module.stateDict(options.prefix ?? '').map(({ name, variable }) => ({
    name,
    shape: torchShape(variable.shape),
    values: toTorchLayout(variable),
  }));
  return serializeSafetensors(entries, { format: 'pt', ...options.metadata });
}

/** Write the module's state dict as a PyTorch-loadable `.safetensors` file. */
export function saveTorchStateDict(
  module: Module,
  file: string,
  options: { prefix?: string; metadata?: Record<string, string> } = {},
): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, torchStateDictBytes(module, options));
  fs.renameSync(tmp, file);
}
