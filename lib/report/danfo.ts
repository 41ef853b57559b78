/**
 * The results store as a danfo.js DataFrame, beside the arquero view, for readers who think in pandas.
 *
 * danfojs-node brings its own TensorFlow.js 3 (package.json overrides its `@tensorflow/tfjs-node` with plain
 * `@tensorflow/tfjs` 3.21; environment.md says why). Two tfjs-core copies in one process share one engine and one
 * kernel/gradient registry through globals, and loading the second copy re-registers its cpu kernels, its gradients,
 * its platform and a webgl backend over the project's 4.22 ones (with some 330 console warnings). `loadDanfo`
 * therefore loads danfo once, after the project's tfjs, and puts every shared registry back as it was, so the
 * training code keeps running the kernels and gradients of the tfjs it was written and tested against.
 * Load danfo through this module (not `require('danfojs-node')` first in a notebook) for that guarantee.
 *
 * @example
 *   const df = loadResultsDanfo('results');
 *   df.query(df['split'].eq('val')).groupby(['method', 'backbone']).col(['value']).mean().print();
 */
import * as tf from '@tensorflow/tfjs';
import type * as DanfoModule from 'danfojs-node';
import type * as aq from 'arquero';
import type { RunConfig } from '../runs/config';
import type { ResultRow } from '../runs/store';
import { resultsTable } from './runs';
import { NATURAL_PROPORTION, TABLE1_METRICS } from './table1';
import { rowsToTable } from './tidy';

export type Danfo = typeof DanfoModule;
export type DanfoFrame = InstanceType<Danfo['DataFrame']>;

let loaded: Danfo | null = null;

interface TfGlobals {
  _tfGlobals?: Map<string, unknown>;
}

/** What a second tfjs-core overwrites in the shared globals, copied so it can be put back. */
function snapshotTfjs() {
  const globals = (globalThis as TfGlobals)._tfGlobals ?? new Map<string, unknown>();
  const copyMap = (key: string) => {
    const map = globals.get(key) as Map<string, unknown> | undefined;
    return map ? new Map(map) : null;
  };
  const environment = tf.env() as unknown as {
    platform: tf.Platform;
    platformName: string;
    flagRegistry: Record<string, unknown>;
  };
  const engine = tf.engine() as unknown as { registryFactory: Record<string, unknown> };
  return {
    kernels: copyMap('kernelRegistry'),
    gradients: copyMap('gradRegistry'),
    platform: environment.platform,
    platformName: environment.platformName,
    flags: { ...environment.flagRegistry },
    backends: new Set(Object.keys(engine.registryFactory)),
    restore() {
      const restoreMap = (key: string, saved: Map<string, unknown> | null) => {
        const live = globals.get(key) as Map<string, unknown> | undefined;
        if (!live || !saved) return;
        live.clear();
        for (const [k, v] of saved) live.set(k, v);
      };
      restoreMap('kernelRegistry', this.kernels);
      restoreMap('gradRegistry', this.gradients);
      environment.platform = this.platform;
      environment.platformName = this.platformName;
      environment.flagRegistry = this.flags;
      for (const name of Object.keys(engine.registryFactory)) if (!this.backends.has(name)) tf.removeBackend(name);
    },
  };
}

/** danfojs-node, loaded once and isolated from the project's TensorFlow.js (see the module comment). */
export function loadDanfo(): Danfo {
  if (loaded) return loaded;
  const saved = snapshotTfjs();
  const warn = console.warn;
  // The warnings are tfjs 3 announcing each kernel it re-registers, all undone by restore().
  console.warn = () => undefined;
  try {
    loaded = require('danfojs-node') as Danfo;
  } finally {
    saved.restore();
    console.warn = warn;
  }
  return loaded;
}

/** An arquero table as a danfo DataFrame with the same columns, in the same order, and the same rows. */
export function toDanfo(table: aq.ColumnTable): DanfoFrame {
  const dfd = loadDanfo();
  const columns = table.columnNames();
  if (table.numRows() === 0) return new dfd.DataFrame([], { columns });
  return new dfd.DataFrame(Object.fromEntries(columns.map((c) => [c, table.array(c) as unknown[]])), { columns });
}

/** The tidy results rows as a danfo DataFrame (`rowsToTable`'s columns even when there are no rows). */
export function rowsToDanfo(rows: ResultRow[]): DanfoFrame {
  return toDanfo(rowsToTable(rows));
}

/** The tidy table of every finished run in `dir` (only those of `configs` when given) as a danfo DataFrame. */
export function loadResultsDanfo(dir: string, configs?: RunConfig[]): DanfoFrame {
  return toDanfo(resultsTable(dir, configs));
}

/** The columns `table1Danfo` groups by, in Table 1's order. */
export const TABLE1_KEYS = ['metric', 'method', 'backbone', 'trainProportion'] as const;

/**
 * Table 1's first step in danfo's pandas-like verbs: validation rows at the natural proportion, the Table 1
 * metrics, mean over seeds per (metric, method, backbone, train proportion), as column `value_mean`
 * (`study.table1` does the same with arquero, adding n and sd).
 */
export function table1Danfo(df: DanfoFrame, metrics: readonly string[] = TABLE1_METRICS): DanfoFrame {
  const dfd = loadDanfo();
  const atNatural = df['split']
    .eq('val')
    .and(df['evalProportion'].ge(NATURAL_PROPORTION - 1e-9))
    .and(df['evalProportion'].le(NATURAL_PROPORTION + 1e-9));
  const wanted = metrics.map((m) => df['metric'].eq(m)).reduce((a, b) => a.or(b));
  const selected = df.query(atNatural.and(wanted));
  if (selected.shape[0] === 0) return new dfd.DataFrame([], { columns: [...TABLE1_KEYS, 'value_mean'] });
  return selected
    .groupby([...TABLE1_KEYS])
    .col(['value'])
    .mean()
    .sortValues('trainProportion');
}

export interface Table1Agreement {
  /** Cells of the arquero Table 1. */
  cells: number;
  /** Of those, how many the danfo frame has, by (metric, method, backbone, train proportion). */
  matched: number;
  /** Largest |danfo − arquero| over the matched cells. */
  maxAbsDiff: number;
  sentence: string;
}

/**
 * How `table1Danfo`'s means compare with arquero's `study.table1` (columns metric, method, backbone,
 * trainProportion, value).
 */
export function compareTable1(danfoMeans: DanfoFrame, arqueroTable1: aq.ColumnTable): Table1Agreement {
  const key = (r: Record<string, unknown>) => TABLE1_KEYS.map((k) => String(r[k])).join('|');
  const danfo = new Map<string, number>();
  for (const r of loadDanfo().toJSON(danfoMeans) as Array<Record<string, unknown>>)
    danfo.set(key(r), Number(r.value_mean));
  let matched = 0;
  let maxAbsDiff = 0;
  const ours = arqueroTable1.objects() as Array<Record<string, unknown>>;
  for (const r of ours) {
    const other = danfo.get(key(r));
    if (other === undefined) continue;
    matched += 1;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(other - Number(r.value)));
  }
  const agree = matched === ours.length && danfo.size === ours.length && maxAbsDiff < 1e-12;
  const sentence = agree
    ? `danfo and arquero agree on all ${ours.length} cells of Table 1 (largest difference ` +
      `${maxAbsDiff.toExponential(1)}).`
    : `danfo and arquero disagree: ${matched} of ${ours.length} arquero cells found among ${danfo.size} danfo ` +
      `rows, largest difference ${maxAbsDiff.toExponential(1)}.`;
  return { cells: ours.length, matched, maxAbsDiff, sentence };
}
