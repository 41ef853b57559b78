/**
 * Run ids: a short hash of a run's config and of what it computes beyond the config, so reruns find finished work
 * and never reuse work computed the old way or on other data.
 */
import { createHash } from 'crypto';
import { PAPER_LARS_ETA, type RunConfig } from './config';
import { datasetDigestForRunId } from './dataset';
import { SYNTHETIC_GENERATOR_VERSION } from '../data/generator_version';

/** A stable JSON form (sorted keys) for hashing run ids. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Revision of what a run computes beyond its config (trainer semantics). It enters the run id, so a change of
 * semantics never silently reuses results computed the old way. 2: the online probe is exempt from LARS's
 * trust ratio.
 */
export const TRAINER_REVISION = 2;
/**
 * Revision of the MAE encoder (2: the paper's 12 attention heads; 1 was built with the ViT fallback of 3 because an
 * undefined `numHeads` overrode the default). Head count changes no tensor shape, so only the run id tells them apart.
 */
export const MAE_ENCODER_REVISION = 2;
/** Revision of the online probe's rule inside AdamW (2: momentum SGD; 1: Adam with betas (0.9, 0)). */
export const ADAMW_PROBE_RULE = 2;

/**
 * Run id: a short hash of the canonical config, the trainer revision, (for the synthetic data) the generator
 * version and the dataset's identity (lib/runs/dataset.ts), so reruns find finished work and never reuse work
 * computed the old way or on other data. Throws, naming the folder, for a Sewer-ML folder that does not exist.
 */
export function runId(config: RunConfig): string {
  const versions: Record<string, number | string> = { trainerRevision: TRAINER_REVISION };
  if (config.dataset.kind === 'synthetic') versions.syntheticGenerator = SYNTHETIC_GENERATOR_VERSION;
  // Hashed only where it is not implied by the config (as the synthetic data is by the generator version and the
  // preset, and the published Fashion-MNIST by its name), so finished runs on those keep their ids.
  const datasetDigest = datasetDigestForRunId(config);
  if (datasetDigest !== null) versions.datasetIdentity = datasetDigest;
  // Only runs whose probe sits in AdamW changed when its probe became momentum SGD; keyed on them alone so that
  // finished runs the change did not touch (supervised, the LARS methods) keep their ids and are reused.
  if (config.optimizer.kind === 'adamw' && config.method !== 'supervised') versions.adamwProbeRule = ADAMW_PROBE_RULE;
  if (config.method === 'mae') versions.maeEncoder = MAE_ENCODER_REVISION;
  // A plain probe hashes as before the field existed, so finished runs of the paper's probe keep their ids; likewise
  // a probe without the Gauss–Newton step, and the paper's LARS trust coefficient.
  const { standardize, gaussNewton, ...plainProbe } = config.probe;
  const { eta, ...paperEtaOptimizer } = config.optimizer;
  const hashed = {
    ...config,
    probe: gaussNewton ? config.probe : standardize ? { ...plainProbe, standardize } : plainProbe,
    optimizer: eta === PAPER_LARS_ETA ? paperEtaOptimizer : config.optimizer,
  };
  const hash = createHash('sha256')
    .update(canonicalJson({ config: hashed, ...versions }))
    .digest('hex')
    .slice(0, 12);
  const p = String(Math.round(config.trainProportion * 100)).padStart(2, '0');
  return `${config.method}-${config.backbone}-p${p}-s${config.seed}-${hash}`;
}
