/**
 * Procedural "CCTV sewer inspection" dataset in the exact Sewer-ML layout (SewerML_Train.csv, SewerML_Val.csv,
 * images/00000001.png …), the embedded default every notebook runs on. Each of the 17 Sewer-ML codes has its
 * own localised visual signature (see data/README.md for the mapping); frames show a perspective pipe with a
 * vanishing point, joints, water, lighting fall-off, material colour and texture, and camera jitter.
 * Deterministic from a seed: image i of a split depends only on (seed, split, i).
 *
 * @example
 *   import { ensureSyntheticDataset, readSyntheticSplit } from './synthetic';
 *   const info = await ensureSyntheticDataset('data/synthetic-sewer/smoke', 'smoke');   // generates once
 *   const train = await readSyntheticSplit(info.dir, 'train');                          // same reader as Sewer-ML
 */
import * as fs from 'fs';
import * as path from 'path';
import * as crypto from 'crypto';
import sharp from 'sharp';
import { Rng, mixSeed } from './rng';
import {
  SEWER_CODES,
  formatSewerMlCsv,
  readSewerMlSplit,
  SEWER_CSV_NAMES,
  SewerDataError,
  sewerMlIdentity,
} from './sewerml';
import type { DatasetIdentity } from './identity';
import type { DatasetSplit } from './types';
import { SYNTHETIC_GENERATOR_VERSION } from './generator_version';
import { processIsAlive } from '../util/process';

// Bumped when the images a parameter set produces change; the marker file then forces regeneration.
export { SYNTHETIC_GENERATOR_VERSION };
export const SYNTHETIC_MARKER = '.synthetic-sewer.json';

export interface SyntheticParams {
  trainImages: number;
  valImages: number;
  /** Native side length of the PNGs. */
  imageSize: number;
  trainDefectProportion: number;
  valDefectProportion: number;
  seed: number;
}

export const SYNTHETIC_PRESETS: Record<'smoke' | 'default', SyntheticParams> = {
  smoke: {
    trainImages: 480,
    valImages: 260,
    imageSize: 64,
    trainDefectProportion: 0.45,
    valDefectProportion: 0.47,
    seed: 42,
  },
  default: {
    trainImages: 4000,
    valImages: 2000,
    imageSize: 96,
    trainDefectProportion: 0.45,
    valDefectProportion: 0.47,
    seed: 42,
  },
};

/**
 * Share of defect images carrying each code, in SEWER_CODES order. An assumption: the shape of Sewer-ML's
 * class distribution as we remember it from the Sewer-ML paper (surface damage, attached and settled deposits,
 * displaced joints and branch pipes common; production errors, chiselled/drilled connections, intruding
 * sealing and transition profiles rare). The realised frequencies are listed in data/README.md.
 */
export const SYNTHETIC_CODE_FREQUENCY: readonly number[] = [
  0.1, 0.24, 0.02, 0.03, 0.17, 0.03, 0.08, 0.05, 0.16, 0.18, 0.03, 0.2, 0.02, 0.015, 0.05, 0.02, 0.03,
];

const CODE = Object.fromEntries(SEWER_CODES.map((c, i) => [c, i])) as Record<(typeof SEWER_CODES)[number], number>;
const CONNECTIONS = [CODE.GR, CODE.PH, CODE.PB, CODE.OS, CODE.OP, CODE.OK];

/** Extra chance of code b given primary code a (realistic co-occurrence). */
const CO_OCCURRENCE: Array<[number, number, number]> = [
  [CODE.RB, CODE.OB, 0.25],
  [CODE.OB, CODE.RB, 0.1],
  [CODE.DE, CODE.RB, 0.3],
  [CODE.FS, CODE.IS, 0.1],
  [CODE.FS, CODE.RO, 0.15],
  [CODE.FS, CODE.IN, 0.12],
  [CODE.RO, CODE.FS, 0.3],
  [CODE.IN, CODE.FS, 0.25],
  [CODE.AF, CODE.BE, 0.2],
  [CODE.BE, CODE.AF, 0.2],
  [CODE.FO, CODE.AF, 0.2],
  ...CONNECTIONS.flatMap((c): Array<[number, number, number]> => [
    [c, CODE.BE, 0.15],
    [c, CODE.RO, 0.05],
  ]),
];

/** Draw the code set of one defect image: a primary code by frequency, then co-occurring ones. */
export function sampleDefectCodes(rng: Rng): Uint8Array {
  const codes = new Uint8Array(SEWER_CODES.length);
  const primary = rng.weighted(SYNTHETIC_CODE_FREQUENCY);
  codes[primary] = 1;
  for (let k = 0; k < codes.length; k++) {
    if (k === primary) continue;
    let p = 0.25 * SYNTHETIC_CODE_FREQUENCY[k];
    for (const [a, b, boost] of CO_OCCURRENCE) if (a === primary && b === k) p += boost;
    if (rng.bernoulli(p)) codes[k] = 1;
  }
  return codes;
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

const TAU = Math.PI * 2;
function wrapAngle(a: number): number {
  a = (a + Math.PI) % TAU;
  if (a < 0) a += TAU;
  return a - Math.PI;
}
function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.min(Math.max((x - e0) / (e1 - e0), 0), 1);
  return t * t * (3 - 2 * t);
}
function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** Tileable value noise on a small random grid. */
class ValueNoise {
  private readonly grid: Float32Array;
  constructor(
    rng: Rng,
    private readonly n = 32,
  ) {
    this.grid = new Float32Array(n * n);
    for (let i = 0; i < this.grid.length; i++) this.grid[i] = rng.next();
  }
  /** Smooth noise in [0, 1) at (x, y), periodic with period n. */
  at(x: number, y: number): number {
    const n = this.n;
    const xf = Math.floor(x),
      yf = Math.floor(y);
    const tx = x - xf,
      ty = y - yf;
    const x0 = ((xf % n) + n) % n,
      y0 = ((yf % n) + n) % n;
    const x1 = (x0 + 1) % n,
      y1 = (y0 + 1) % n;
    const sx = tx * tx * (3 - 2 * tx),
      sy = ty * ty * (3 - 2 * ty);
    const g = this.grid;
    const a = g[y0 * n + x0] + (g[y0 * n + x1] - g[y0 * n + x0]) * sx;
    const b = g[y1 * n + x0] + (g[y1 * n + x1] - g[y1 * n + x0]) * sx;
    return a + (b - a) * sy;
  }
  fractal(x: number, y: number): number {
    return 0.55 * this.at(x, y) + 0.3 * this.at(2.03 * x + 7, 2.03 * y + 3) + 0.15 * this.at(4.1 * x + 1, 4.1 * y + 11);
  }
}

/** Per-pixel geometry of the rendered frame, shared by the defect painters. */
interface Frame {
  size: number;
  rgb: Float32Array;
  /** 0 wall, 1 water / floor, 2 far darkness */
  surface: Uint8Array;
  theta: Float32Array;
  depth: Float32Array;
  /** floor coordinate across the pipe (water pixels) */
  across: Float32Array;
  cx: number;
  cy: number;
  radius: number;
  roll: number;
  jointSpacing: number;
  jointPhase: number;
  light: (z: number) => number;
  /** image position of wall point (theta, depth) */
  project: (theta: number, z: number) => [number, number];
}

const MATERIALS: Array<[number, number, number]> = [
  [0.56, 0.53, 0.47], // concrete
  [0.62, 0.43, 0.3], // vitrified clay
  [0.68, 0.66, 0.6], // PVC / PE
  [0.5, 0.52, 0.55], // liner
  [0.5, 0.4, 0.33], // old brick-ish
];

interface Painter {
  code: number;
  paint(frame: Frame, rng: Rng, severity: number): void;
}

/** Darken/tint a wall pixel: rgb ← rgb·(1−a) + colour·a. */
function mix(frame: Frame, p: number, colour: [number, number, number], amount: number): void {
  const o = 3 * p;
  const a = clamp01(amount);
  frame.rgb[o] += (colour[0] - frame.rgb[o]) * a;
  frame.rgb[o + 1] += (colour[1] - frame.rgb[o + 1]) * a;
  frame.rgb[o + 2] += (colour[2] - frame.rgb[o + 2]) * a;
}
function scale(frame: Frame, p: number, factor: number): void {
  const o = 3 * p;
  frame.rgb[o] *= factor;
  frame.rgb[o + 1] *= factor;
  frame.rgb[o + 2] *= factor;
}

/** A wall location that is visible: upper/side wall, near enough to be resolved. */
function wallSpot(
  rng: Rng,
  frame: Frame,
  severity: number,
  band: [number, number] = [-Math.PI, Math.PI * 0.15],
): { theta: number; z: number } {
  const theta = rng.uniform(band[0], band[1]);
  // subtle defects sit deeper in the pipe, where they are smaller and darker
  const z = rng.uniform(1.05, 1.35) + (1 - severity) * rng.uniform(0.2, 0.8);
  return { theta, z };
}

/** Distance in wall units (arc length, depth) from pixel p to (theta0, z0). */
function wallDelta(frame: Frame, p: number, theta0: number, z0: number): [number, number] {
  return [wrapAngle(frame.theta[p] - theta0), frame.depth[p] - z0];
}

function nearestJoint(frame: Frame, z: number): number {
  const k = Math.round((z - frame.jointPhase) / frame.jointSpacing);
  return Math.max(
    frame.jointPhase + k * frame.jointSpacing,
    frame.jointPhase + Math.ceil((1.2 - frame.jointPhase) / frame.jointSpacing) * frame.jointSpacing,
  );
}

function distToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax,
    dy = by - ay;
  const len2 = dx * dx + dy * dy || 1e-12;
  const t = Math.min(Math.max(((px - ax) * dx + (py - ay) * dy) / len2, 0), 1);
  const ex = px - ax - t * dx,
    ey = py - ay - t * dy;
  return Math.sqrt(ex * ex + ey * ey);
}

/** Generic lateral-connection hole on the wall, with a rim painter hook. */
function paintHole(
  frame: Frame,
  rng: Rng,
  severity: number,
  options: {
    radius: number;
    jagged: number;
    rim: (p: number, edge: number, angle: number) => void;
    inner?: (p: number, rel: number) => void;
  },
): void {
  const spot = wallSpot(rng, frame, severity, [-Math.PI * 0.95, -Math.PI * 0.05]);
  const radius = options.radius;
  const noise = new ValueNoise(rng, 16);
  const { rgb, size } = frame;
  for (let p = 0; p < size * size; p++) {
    if (frame.surface[p] !== 0) continue;
    const [da, dz] = wallDelta(frame, p, spot.theta, spot.z);
    const d = Math.hypot(da, dz);
    if (d > radius * 1.8) continue;
    const angle = Math.atan2(dz, da);
    const boundary = radius * (1 + options.jagged * (noise.at(4 + 3 * Math.cos(angle), 4 + 3 * Math.sin(angle)) - 0.5));
    const rel = d / boundary;
    if (rel < 1) {
      const depthShade = 0.05 + 0.12 * rel * frame.light(frame.depth[p]);
      rgb[3 * p] = depthShade;
      rgb[3 * p + 1] = depthShade * 0.95;
      rgb[3 * p + 2] = depthShade * 0.9;
      options.inner?.(p, rel);
    } else {
      options.rim(p, rel - 1, angle);
    }
  }
}

const PAINTERS: Painter[] = [
  {
    code: CODE.RB, // crack (random-walk dark line), breaks add a dark gap
    paint(frame, rng, severity) {
      const spot = wallSpot(rng, frame, severity);
      const points: Array<[number, number]> = [[spot.theta, spot.z]];
      const heading0 = rng.uniform(0, TAU);
      let heading = heading0;
      for (let i = 0; i < 9; i++) {
        heading += rng.normal(0, 0.6);
        const [a, z] = points[points.length - 1];
        points.push([a + 0.09 * Math.cos(heading), z + 0.12 * Math.sin(heading)]);
      }
      // version 3: at least about one pixel wide at the 32 px of the CPU scale (version 2's were a third of one)
      const width = 0.02 + 0.035 * severity;
      const strength = 0.5 + 0.45 * severity;
      const broken = severity > 0.8;
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0) continue;
        const a = frame.theta[p],
          z = frame.depth[p];
        let best = Infinity;
        for (let i = 0; i + 1 < points.length; i++) {
          const ax = wrapAngle(points[i][0] - a),
            bx = wrapAngle(points[i + 1][0] - a);
          best = Math.min(best, distToSegment(0, z, ax, points[i][1], bx, points[i + 1][1]));
        }
        // widths are in wall units; the perspective makes deep cracks thin automatically
        const w = broken ? width * 2.2 : width;
        if (best < w) scale(frame, p, 1 - strength * (1 - best / w));
      }
    },
  },
  {
    code: CODE.OB, // surface damage: rough, speckled, aggregate-coloured patch
    paint(frame, rng, severity) {
      const spot = wallSpot(rng, frame, severity);
      const r = 0.18 + 0.25 * severity;
      const noise = new ValueNoise(rng, 16);
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0) continue;
        const [da, dz] = wallDelta(frame, p, spot.theta, spot.z);
        const d = Math.hypot(da, dz * 0.8) / r + 0.5 * (noise.at(da * 12 + 5, dz * 12 + 5) - 0.5);
        if (d > 1) continue;
        const grain = noise.at(da * 60 + 3, dz * 60 + 9) - 0.5;
        const amount = (0.5 + 0.45 * severity) * (1 - smoothstep(0.7, 1, d));
        // exposed aggregate: pale stones in dark pitted cement, coarse enough to read at 32 px (version 3)
        const pit = noise.at(da * 25 + 7, dz * 25 + 1) < 0.45 ? 0.45 : 1.1;
        const l = frame.light(frame.depth[p]) * pit;
        mix(frame, p, [0.72 * l + grain * 0.5, 0.64 * l + grain * 0.45, 0.45 * l + grain * 0.4], amount);
      }
    },
  },
  {
    code: CODE.PF, // production error: a longitudinal ridge (bright side / dark side)
    paint(frame, rng, severity) {
      const theta0 = rng.uniform(-Math.PI, 0);
      const z0 = rng.uniform(1.2, 1.8),
        z1 = z0 + rng.uniform(0.8, 2.5);
      const w = 0.06 + 0.08 * severity;
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0 || frame.depth[p] < z0 || frame.depth[p] > z1) continue;
        const da = wrapAngle(frame.theta[p] - theta0);
        if (Math.abs(da) > w) continue;
        scale(frame, p, da > 0 ? 1 + 0.5 * severity : 1 - 0.45 * severity);
      }
    },
  },
  {
    code: CODE.DE, // deformation is geometric (set before rendering); here: a crease line where the wall buckles
    paint(frame, rng, severity) {
      const theta0 = (frame as Frame & { deformAngle?: number }).deformAngle ?? 0;
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0) continue;
        const da = Math.abs(wrapAngle(frame.theta[p] - theta0));
        if (da < 0.05 + 0.04 * severity) scale(frame, p, 1 - 0.3 * severity);
      }
    },
  },
  {
    code: CODE.FS, // displaced joint: a dark crescent gap and bright lip at one joint
    paint(frame, rng, severity) {
      const zj = nearestJoint(frame, rng.uniform(1.2, 1.8 + (1 - severity) * 0.8));
      const phi = rng.uniform(0, TAU);
      const gap = 0.06 + 0.22 * severity;
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0) continue;
        const g = gap * Math.max(0, Math.cos(frame.theta[p] - phi));
        const dz = zj - frame.depth[p];
        if (dz > 0 && dz < g) scale(frame, p, 0.15 + 0.4 * (1 - severity));
        else if (dz <= 0 && dz > -0.04 && g > 0.02) scale(frame, p, 1.35);
      }
    },
  },
  {
    code: CODE.IS, // intruding sealing ring: a black rubber band hanging into the pipe at a joint
    paint(frame, rng, severity) {
      const zj = nearestJoint(frame, rng.uniform(1.2, 2.0));
      const phi = rng.uniform(-Math.PI, Math.PI),
        span = 0.5 + 1.4 * severity;
      const rJoint = 1 / zj,
        thickness = (0.05 + 0.12 * severity) * rJoint;
      for (let p = 0; p < frame.size * frame.size; p++) {
        const x = p % frame.size,
          y = Math.floor(p / frame.size);
        const dx = (x + 0.5 - frame.cx) / frame.radius,
          dy = (y + 0.5 - frame.cy) / frame.radius;
        const r = Math.hypot(dx, dy),
          a = Math.atan2(dy, dx) - frame.roll;
        if (Math.abs(wrapAngle(a - phi)) > span / 2) continue;
        const sag = thickness * (0.6 + 0.4 * Math.sin(a * 7));
        if (r < rJoint && r > rJoint - sag) mix(frame, p, [0.08, 0.08, 0.09], 0.9);
      }
    },
  },
  {
    code: CODE.RO, // roots: pale fibrous strands growing from a joint towards the pipe centre
    paint(frame, rng, severity) {
      const zj = nearestJoint(frame, rng.uniform(1.2, 1.8));
      const theta0 = rng.uniform(-Math.PI, Math.PI * 0.1);
      const [sx, sy] = frame.project(theta0, zj);
      const strands = 3 + Math.round(12 * severity);
      const colour: [number, number, number] = [0.78, 0.66, 0.48];
      for (let s = 0; s < strands; s++) {
        let x = sx + rng.normal(0, 1.5),
          y = sy + rng.normal(0, 1.5);
        let heading = Math.atan2(frame.cy - y, frame.cx - x) + rng.normal(0, 0.7);
        const length = frame.size * (0.06 + 0.22 * severity) * rng.uniform(0.5, 1);
        for (let t = 0; t < length; t += 0.5) {
          heading += rng.normal(0, 0.25);
          x += 0.5 * Math.cos(heading);
          y += 0.5 * Math.sin(heading);
          const xi = Math.round(x),
            yi = Math.round(y);
          if (xi < 0 || yi < 0 || xi >= frame.size || yi >= frame.size) break;
          // a brush two native pixels wide, so a strand survives the downscale to the training resolution
          for (const [ox, oy] of [
            [0, 0],
            [1, 0],
            [0, 1],
            [1, 1],
          ]) {
            if (xi + ox < frame.size && yi + oy < frame.size) {
              mix(
                frame,
                (yi + oy) * frame.size + xi + ox,
                colour.map((c) => c * frame.light(zj)) as [number, number, number],
                0.6 + 0.3 * severity,
              );
            }
          }
        }
      }
    },
  },
  {
    code: CODE.IN, // infiltration: a glistening wet streak running down the wall from a joint
    paint(frame, rng, severity) {
      const zj = nearestJoint(frame, rng.uniform(1.2, 1.9));
      const theta0 = rng.uniform(-Math.PI * 0.8, -Math.PI * 0.2);
      const side = rng.bernoulli(0.5) ? 1 : -1;
      const width = 0.06 + 0.08 * severity;
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0) continue;
        const da = wrapAngle(frame.theta[p] - theta0) * side;
        if (da < 0 || da > Math.PI * 0.7) continue;
        const dz = frame.depth[p] - zj - 0.05 * Math.sin(da * 9);
        if (Math.abs(dz) > width) continue;
        const sparkle = Math.sin(da * 40 + dz * 80) > 0.6 ? 0.35 : 0;
        mix(frame, p, [0.85, 0.88, 0.9], (0.4 + 0.4 * severity) * (sparkle + 0.5));
      }
    },
  },
  {
    code: CODE.AF, // settled deposits: a granular sand/gravel bank on the pipe floor, emerging from the water
    paint(frame, rng, severity) {
      const z0 = rng.uniform(1.1, 1.6),
        length = 0.6 + 2 * severity;
      const halfWidth = 0.25 + 0.35 * severity;
      const noise = new ValueNoise(rng, 16);
      for (let p = 0; p < frame.size * frame.size; p++) {
        const z = frame.depth[p];
        if (z < z0 || z > z0 + length || frame.surface[p] === 2) continue;
        const across = frame.surface[p] === 1 ? frame.across[p] : Math.cos(frame.theta[p]);
        const below = frame.surface[p] === 1 || Math.sin(frame.theta[p]) > 0.75;
        if (!below || Math.abs(across) > halfWidth * (0.8 + 0.4 * noise.at(z * 4, 3))) continue;
        const grain = noise.at(across * 50, z * 50) - 0.5;
        const l = frame.light(z);
        // version 3: paler sand with coarser grain, so the bank stands out from dark water at 32 px
        mix(frame, p, [(0.78 + 1.4 * grain) * l, (0.68 + 1.4 * grain) * l, (0.46 + grain) * l], 0.92);
      }
    },
  },
  {
    code: CODE.BE, // attached deposits: blotchy encrustation (grease / calcite) along the wall
    paint(frame, rng, severity) {
      const theta0 = rng.uniform(-Math.PI, Math.PI * 0.3),
        z0 = rng.uniform(1.1, 1.6);
      const spanA = 0.4 + 0.8 * severity,
        spanZ = 0.5 + 1.5 * severity;
      const noise = new ValueNoise(rng, 16);
      const grease = rng.bernoulli(0.5);
      const colour: [number, number, number] = grease ? [0.3, 0.3, 0.2] : [0.8, 0.79, 0.72];
      for (let p = 0; p < frame.size * frame.size; p++) {
        if (frame.surface[p] !== 0) continue;
        const [da, dz] = wallDelta(frame, p, theta0, z0);
        if (Math.abs(da) > spanA || dz < 0 || dz > spanZ) continue;
        const blob = noise.fractal(da * 9 + 2, dz * 9 + 2);
        if (blob < 0.55 - 0.1 * severity) continue;
        mix(
          frame,
          p,
          colour.map((c) => c * frame.light(frame.depth[p])) as [number, number, number],
          0.45 + 0.4 * severity,
        );
      }
    },
  },
  {
    code: CODE.FO, // obstacle: a shaded foreign object (stone, brick, wood) lying in the pipe
    paint(frame, rng, severity) {
      const z = rng.uniform(1.2, 1.9);
      const x = rng.uniform(-0.4, 0.4);
      const floorY = 0.8;
      const [px, py] = [frame.cx + (frame.radius * x) / z, frame.cy + (frame.radius * floorY) / z];
      const r = (frame.radius * (0.18 + 0.3 * severity)) / z;
      const palette: Array<[number, number, number]> = [
        [0.55, 0.25, 0.18],
        [0.45, 0.45, 0.43],
        [0.42, 0.3, 0.18],
      ];
      const colour = palette[rng.int(0, palette.length)];
      const lobes = [rng.uniform(0, 0.3), rng.uniform(0, 0.3), rng.uniform(0, TAU)];
      for (let p = 0; p < frame.size * frame.size; p++) {
        const dx = (p % frame.size) + 0.5 - px,
          dy = Math.floor(p / frame.size) + 0.5 - (py - r * 0.5);
        const a = Math.atan2(dy, dx);
        const bound = r * (1 + lobes[0] * Math.cos(3 * a + lobes[2]) + lobes[1] * Math.sin(5 * a));
        const d = Math.hypot(dx, dy * 1.3);
        if (d > bound) continue;
        const shade = (0.7 - 0.5 * (dy / r)) * frame.light(z);
        const o = 3 * p;
        frame.rgb[o] = colour[0] * shade;
        frame.rgb[o + 1] = colour[1] * shade;
        frame.rgb[o + 2] = colour[2] * shade;
        frame.surface[p] = 3;
      }
    },
  },
  {
    code: CODE.GR, // branch pipe: clean elliptical dark opening with a slightly lighter rim
    paint(frame, rng, severity) {
      paintHole(frame, rng, severity, {
        radius: 0.16 + 0.16 * severity,
        jagged: 0.05,
        rim: (p, edge) => edge < 0.12 && scale(frame, p, 1.15),
      });
    },
  },
  {
    code: CODE.PH, // chiselled connection: jagged opening with chipped dark specks around it
    paint(frame, rng, severity) {
      const chips = new ValueNoise(rng, 32);
      paintHole(frame, rng, severity, {
        radius: 0.14 + 0.14 * severity,
        jagged: 0.9,
        rim: (p, edge) => {
          if (edge < 0.4 && chips.at(frame.theta[p] * 40, frame.depth[p] * 40) > 0.62) scale(frame, p, 0.5);
        },
      });
    },
  },
  {
    code: CODE.PB, // drilled connection: small perfect circle with a bright cut ring
    paint(frame, rng, severity) {
      paintHole(frame, rng, severity, {
        radius: 0.08 + 0.08 * severity,
        jagged: 0,
        rim: (p, edge) => edge < 0.18 && mix(frame, p, [0.9, 0.88, 0.82], 0.6),
      });
    },
  },
  {
    code: CODE.OS, // lateral reinstatement cut in a liner: opening with a frayed cream liner margin
    paint(frame, rng, severity) {
      const fray = new ValueNoise(rng, 16);
      paintHole(frame, rng, severity, {
        radius: 0.13 + 0.14 * severity,
        jagged: 0.35,
        rim: (p, edge) => {
          const margin = 0.25 + 0.35 * fray.at(frame.theta[p] * 20, frame.depth[p] * 20);
          if (edge < margin) mix(frame, p, [0.86, 0.8, 0.62], 0.55 * frame.light(frame.depth[p]) + 0.2);
        },
      });
    },
  },
  {
    code: CODE.OP, // connection with transition profile: an inner pipe ring of another material in the opening
    paint(frame, rng, severity) {
      paintHole(frame, rng, severity, {
        radius: 0.14 + 0.14 * severity,
        jagged: 0.05,
        rim: () => undefined,
        inner: (p, rel) => {
          if (rel > 0.55) mix(frame, p, [0.78, 0.45, 0.18], 0.75 * frame.light(frame.depth[p]));
        },
      });
    },
  },
  {
    code: CODE.OK, // connection with construction changes: grey mortar collar around the opening
    paint(frame, rng, severity) {
      const rough = new ValueNoise(rng, 16);
      paintHole(frame, rng, severity, {
        radius: 0.12 + 0.12 * severity,
        jagged: 0.15,
        rim: (p, edge) => {
          if (edge < 0.55)
            mix(
              frame,
              p,
              [0.62 + 0.2 * (rough.at(frame.theta[p] * 30, frame.depth[p] * 30) - 0.5), 0.62, 0.6].map(
                (c) => c * frame.light(frame.depth[p]),
              ) as [number, number, number],
              0.8,
            );
        },
      });
    },
  },
];

/** Render one frame with the given code flags; returns RGB uint8 and the water level in percent. */
export function renderSewerFrame(
  size: number,
  codes: Uint8Array,
  seed: number,
): { pixels: Uint8Array; waterLevel: number } {
  const rng = new Rng(seed);
  const n = size * size;
  const cx = size / 2 + rng.normal(0, 0.05 * size);
  const cy = size / 2 + rng.normal(0, 0.05 * size);
  const roll = rng.normal(0, 0.12);
  const radius = size * rng.uniform(0.55, 0.72);
  const brightness = rng.uniform(0.85, 1.12);
  const base = MATERIALS[rng.int(0, MATERIALS.length)].map((c) => c * brightness * (1 + rng.normal(0, 0.03)));
  const texture = new ValueNoise(rng, 32);
  const stains = new ValueNoise(rng, 16);
  const textureAmp = rng.uniform(0.06, 0.16);
  const jointSpacing = rng.uniform(0.9, 1.8);
  const jointPhase = rng.uniform(1.1, 1.1 + jointSpacing);
  const waterLevel = 5 * Math.round(Math.max(0, rng.normal(0.1, 0.1)) * 20);
  const waterFraction = Math.min(waterLevel, 45) / 100;
  const plane = 1 - 2 * waterFraction; // water surface height below the axis, pipe radius 1
  const waterColour = [rng.uniform(0.2, 0.32), rng.uniform(0.22, 0.3), rng.uniform(0.14, 0.22)];
  const falloff = rng.uniform(1.2, 2.4);
  const exposure = rng.uniform(0.85, 1.25);
  const light = (z: number): number => exposure / (1 + ((z - 1) / falloff) ** 2);
  const deformAmount = codes[CODE.DE] ? rng.uniform(0.08, 0.2) : rng.uniform(0, 0.025);
  const deformAngle = rng.uniform(0, Math.PI);
  const farDepth = rng.uniform(9, 14);

  const frame: Frame & { deformAngle: number } = {
    size,
    rgb: new Float32Array(3 * n),
    surface: new Uint8Array(n),
    theta: new Float32Array(n),
    depth: new Float32Array(n),
    across: new Float32Array(n),
    cx,
    cy,
    radius,
    roll,
    jointSpacing,
    jointPhase,
    light,
    deformAngle,
    project: (theta, z) => {
      const a = theta + roll;
      return [cx + (radius * Math.cos(a)) / z, cy + (radius * Math.sin(a)) / z];
    },
  };
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      const dx = (x + 0.5 - cx) / radius,
        dy = (y + 0.5 - cy) / radius;
      const cosR = Math.cos(-roll),
        sinR = Math.sin(-roll);
      const u = dx * cosR - dy * sinR,
        v = dx * sinR + dy * cosR;
      const r = Math.hypot(u, v);
      const theta = Math.atan2(v, u);
      const rWall = r * (1 + deformAmount * Math.cos(2 * (theta - deformAngle)));
      const z = 1 / Math.max(rWall, 1e-4);
      frame.theta[p] = theta;
      let colour: number[];
      if (waterFraction > 0 && v > 0 && v > plane * rWall) {
        const zp = plane / v;
        frame.surface[p] = zp > farDepth ? 2 : 1;
        frame.depth[p] = zp;
        frame.across[p] = u * zp;
        const ripple =
          0.08 * Math.sin(zp * 14 + 3 * texture.at(u * zp * 6, zp * 2)) +
          0.06 * (texture.at(u * zp * 20, zp * 8) - 0.5);
        const glint = Math.abs(u * zp) < 0.1 && texture.at(zp * 5, 1) > 0.8 ? 0.08 : 0;
        const l = light(zp);
        colour = waterColour.map((c) => (c + ripple + glint) * l);
      } else if (z > farDepth) {
        frame.surface[p] = 2;
        frame.depth[p] = farDepth;
        colour = [0.02, 0.02, 0.02];
      } else {
        frame.depth[p] = z;
        const tu = ((theta + Math.PI) / TAU) * 32,
          tz = z * 3;
        const grain = texture.fractal(tu, tz) - 0.5 + 0.5 * (texture.at(tu * 5.3, tz * 5.3) - 0.5);
        const stain = stains.at(tu / 4, z * 0.8) > 0.72 ? -0.12 : 0;
        const jointDistance =
          Math.abs(((((z - jointPhase) % jointSpacing) + jointSpacing) % jointSpacing) - 0.5 * jointSpacing) -
          0.5 * jointSpacing;
        const joint = jointDistance > -0.025 ? -0.35 : jointDistance > -0.05 ? 0.12 : 0;
        const l = light(z);
        colour = base.map((c) => c * (1 + 2 * textureAmp * grain + stain + joint) * l);
      }
      frame.rgb[3 * p] = colour[0];
      frame.rgb[3 * p + 1] = colour[1];
      frame.rgb[3 * p + 2] = colour[2];
    }
  }
  for (let k = 0; k < codes.length; k++) {
    if (!codes[k]) continue;
    // 15 % of defects are subtle: smaller and lower contrast (version 1 had a third, deeper in the pipe, and
    // version 2 a fifth, which with sub-pixel cracks and roots left many invisible at the 32 px of the CPU scale)
    const severity = rng.bernoulli(0.15) ? rng.uniform(0.35, 0.6) : rng.uniform(0.6, 1);
    PAINTERS[k].paint(frame, new Rng(mixSeed(seed, 'defect', k)), severity);
  }
  const pixels = new Uint8Array(3 * n);
  for (let i = 0; i < 3 * n; i++) pixels[i] = Math.round(255 * clamp01(frame.rgb[i] + rng.normal(0, 0.012)));
  return { pixels, waterLevel };
}

// ---------------------------------------------------------------------------------------------------------
// Dataset layout

export interface SyntheticDatasetInfo {
  dir: string;
  params: SyntheticParams;
  /** True when this call generated the files; false when the marker showed they were already there. */
  generated: boolean;
  /** Identifier for cache keys, stable for a parameter set. */
  datasetId: string;
}

function paramsHash(params: SyntheticParams): string {
  return crypto
    .createHash('sha1')
    .update(JSON.stringify({ v: SYNTHETIC_GENERATOR_VERSION, ...params }))
    .digest('hex')
    .slice(0, 10);
}

export function syntheticDatasetId(params: SyntheticParams): string {
  return `synthetic-sewer-${paramsHash(params)}`;
}

/** Defect flags for a split: exactly round(p·n) defects at seeded positions, with their code sets. */
function splitLabels(n: number, proportion: number, rng: Rng): Uint8Array[] {
  const nDefect = Math.round(proportion * n);
  const isDefect = rng.shuffle(Array.from({ length: n }, (_, i) => i < nDefect));
  return isDefect.map((d) => (d ? sampleDefectCodes(rng) : new Uint8Array(SEWER_CODES.length)));
}

/** Write the dataset into `dir` (CSV files, `images/`, marker last). Overwrites what is there. */
export async function generateSyntheticDataset(
  dir: string,
  params: SyntheticParams,
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<SyntheticDatasetInfo> {
  const imageDir = path.join(dir, 'images');
  fs.mkdirSync(imageDir, { recursive: true });
  fs.rmSync(path.join(dir, SYNTHETIC_MARKER), { force: true });
  const splits: Array<{ name: 'train' | 'val'; count: number; proportion: number; first: number }> = [
    { name: 'train', count: params.trainImages, proportion: params.trainDefectProportion, first: 1 },
    { name: 'val', count: params.valImages, proportion: params.valDefectProportion, first: 1 + params.trainImages },
  ];
  const total = params.trainImages + params.valImages;
  let done = 0;
  for (const split of splits) {
    const labels = splitLabels(split.count, split.proportion, new Rng(mixSeed(params.seed, 'labels', split.name)));
    const rows: Array<{ filename: string; codes: Uint8Array; defect: 0 | 1; waterLevel: number; va: 0 | 1 }> =
      new Array(split.count);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < split.count) {
        const i = next++;
        const codes = labels[i];
        const filename = `${String(split.first + i).padStart(8, '0')}.png`;
        const { pixels, waterLevel } = renderSewerFrame(
          params.imageSize,
          codes,
          mixSeed(params.seed, 'image', split.name, i),
        );
        await sharp(Buffer.from(pixels.buffer, pixels.byteOffset, pixels.length), {
          raw: { width: params.imageSize, height: params.imageSize, channels: 3 },
        })
          .blur(0.5) // CCTV optics are soft
          .png({ compressionLevel: 6 })
          .toFile(path.join(imageDir, filename));
        const defect = codes.some((c) => c === 1) ? 1 : 0;
        // VA: the water-level observation flag; we set it from 30 % upwards (an assumption, unused by the study)
        rows[i] = { filename, codes, defect, waterLevel, va: waterLevel >= 30 ? 1 : 0 };
        done++;
        if (options.onProgress && done % 250 === 0) options.onProgress(done, total);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
    fs.writeFileSync(path.join(dir, SEWER_CSV_NAMES[split.name]), formatSewerMlCsv(rows));
  }
  const datasetId = syntheticDatasetId(params);
  // What the generator wrote (annotation digests, image names/sizes/mtimes), so a later change is noticed.
  const identity = sewerMlIdentity(dir, { kind: 'synthetic', generatorVersion: SYNTHETIC_GENERATOR_VERSION });
  writeMarker(dir, {
    generatorVersion: SYNTHETIC_GENERATOR_VERSION,
    datasetId,
    params,
    createdAt: new Date().toISOString(),
    identity,
  });
  return { dir, params, generated: true, datasetId };
}

export interface SyntheticMarker {
  generatorVersion: number;
  datasetId: string;
  params: SyntheticParams;
  createdAt?: string;
  /** The dataset as the generator left it; absent in markers written before identities existed. */
  identity?: DatasetIdentity;
}

function writeMarker(dir: string, marker: SyntheticMarker): void {
  const file = path.join(dir, SYNTHETIC_MARKER);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(marker, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/**
 * The identity of a generated dataset, checked against the one its marker recorded when it was generated: a file
 * replaced, touched, added or removed since is an error naming the split, so a run never trains on changed data under
 * the id of the generated one. A marker from before identities were recorded adopts the folder as it is now.
 */
export function syntheticIdentity(dir: string): DatasetIdentity {
  const marker = readSyntheticMarker(dir);
  if (!marker) throw new SewerDataError(`${dir}: no ${SYNTHETIC_MARKER}; run ensureSyntheticDataset first`);
  const now = sewerMlIdentity(dir, { kind: 'synthetic', generatorVersion: marker.generatorVersion });
  if (!marker.identity) {
    try {
      writeMarker(dir, { ...marker, identity: now });
    } catch {
      /* a read-only dataset folder: adopted for this process only, checked from the next marker written */
    }
    return now;
  }
  if (now.digest !== marker.identity.digest) {
    const changed = Object.keys(now.splits).flatMap((name) => {
      const a = marker.identity!.splits[name];
      const b = now.splits[name];
      const what: string[] = [];
      if (!a || a.annotationSha256 !== b.annotationSha256) what.push(`${path.basename(b.annotation)} was edited`);
      if (!a || a.images.digest !== b.images.digest)
        what.push(`${name} images were replaced, touched, added or removed`);
      if (a && a.images.dir !== b.images.dir) what.push(`the folder moved from ${a.images.dir}`);
      return what;
    });
    const written = marker.createdAt ? ` on ${marker.createdAt}` : '';
    throw new SewerDataError(
      `${dir}: the synthetic dataset differs from what the generator wrote${written} ` +
        `(${changed.join('; ') || 'identity changed'}). ` +
        `Delete ${dir} to regenerate it, or copy it elsewhere and train on the copy ` +
        'as dataset.kind "sewerml" with dataset.dir',
    );
  }
  return now;
}

/** Read the marker of a generated dataset, or null. */
export function readSyntheticMarker(dir: string): SyntheticMarker | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, SYNTHETIC_MARKER), 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Generate the dataset into `dir` unless a marker with the same generator version and parameters is already
 * there. `preset` is `smoke`, `default`, or explicit parameters.
 */
export async function ensureSyntheticDataset(
  dir: string,
  preset: keyof typeof SYNTHETIC_PRESETS | SyntheticParams = 'default',
  options: { concurrency?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<SyntheticDatasetInfo> {
  const params = typeof preset === 'string' ? SYNTHETIC_PRESETS[preset] : preset;
  if (!params)
    throw new Error(`ensureSyntheticDataset: unknown preset ${JSON.stringify(preset)} (use smoke or default)`);
  const current = (): SyntheticDatasetInfo | null => {
    const marker = readSyntheticMarker(dir);
    if (
      marker &&
      marker.generatorVersion === SYNTHETIC_GENERATOR_VERSION &&
      JSON.stringify(marker.params) === JSON.stringify(params)
    ) {
      return { dir, params, generated: false, datasetId: marker.datasetId };
    }
    return null;
  };
  const ready = current();
  if (ready) return ready;
  // Two workers of a sweep on a fresh machine both find no dataset: one generates, the other waits for it.
  return withGenerationLock(dir, async () => current() ?? generateSyntheticDataset(dir, params, options));
}

/** Run `fn` holding `<dir>.generating` (a folder: mkdir is atomic), breaking it when its owner is gone. */
async function withGenerationLock<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${path.resolve(dir)}.generating`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = 0;
      try {
        pid = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
      } catch {
        pid = 0; // being created right now, or its creator died before writing the pid
      }
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if ((pid > 0 && !processIsAlive(pid)) || (pid === 0 && age > 60_000))
        fs.rmSync(lock, { recursive: true, force: true });
      else await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** Read a split of a generated dataset through the Sewer-ML reader, with a stable cache id. */
export async function readSyntheticSplit(
  dir: string,
  split: 'train' | 'val',
  options: { checkImages?: 'none' | 'exists' | 'header' | 'decode' } = {},
): Promise<DatasetSplit> {
  const marker = readSyntheticMarker(dir);
  if (!marker) throw new Error(`${dir}: no ${SYNTHETIC_MARKER}; run ensureSyntheticDataset first`);
  const identity = syntheticIdentity(dir);
  const read = await readSewerMlSplit({
    dir,
    split,
    datasetId: marker.datasetId,
    checkImages: options.checkImages ?? 'exists',
  });
  const expected = identity.splits[split];
  if (
    read.identity &&
    (read.identity.annotationSha256 !== expected.annotationSha256 ||
      read.identity.images.digest !== expected.images.digest)
  ) {
    throw new SewerDataError(`${dir}: the ${split} split changed while it was read; rerun`);
  }
  return read;
}
