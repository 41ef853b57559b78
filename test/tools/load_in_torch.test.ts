/**
 * tools/load_in_torch.py rebuilds a run's backbone and classifier in PyTorch (torchvision's resnet18, a minimal
 * ViT with timm's names) from the files alone and matches the project's forward on the saved reference batch.
 * Needs Debian's python3-torch and python3-torchvision; skipped, saying so, without them.
 */
import { strict as assert } from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeRunConfig } from '../../lib/methods/config';
import { type RunConfig } from '../../lib/runs/config';
import { runId } from '../../lib/runs/id';
import { ARCHITECTURE_FORMAT } from '../../lib/models/describe';
import { readSafetensorsFile, writeSafetensorsFile } from '../../lib/models/safetensors';
import { BACKBONE_FILE, CLASSIFIER_FILE, REFERENCE_BATCH_FILE, runExperiment } from '../../lib/train/run';

const PYTHON = '/usr/bin/python3';
const SCRIPT = path.resolve(__dirname, '..', '..', 'tools', 'load_in_torch.py');

function torchMissing(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
  return probe.status === 0
    ? null
    : `${PYTHON} cannot import torch/torchvision (${probe.stderr.trim().split('\n').pop()})`;
}

interface Report {
  ok: boolean;
  kind: string;
  architecture: Record<string, unknown>;
  features: { maxAbsDiff: number; ok: boolean; shape: number[] };
  logits: { maxAbsDiff: number; ok: boolean; shape: number[] };
}

function loadInTorch(args: string[]): { status: number | null; report: Report | null; stderr: string } {
  const result = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8' });
  const line = result.stdout.trim().split('\n').pop();
  return { status: result.status, report: line ? (JSON.parse(line) as Report) : null, stderr: result.stderr };
}

describe('tools/load_in_torch.py', function () {
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sslad-torch-'));
  const small = { trainProportion: 0.15, evalProportions: [0.15, 0.45], epochs: 1, batchSize: 8, monitorSamples: 16 };
  const runs: Array<{ name: string; config: RunConfig; heads?: number }> = [
    {
      name: 'ResNet-18 (supervised, its own classifier)',
      config: makeRunConfig({ method: 'supervised', backbone: 'resnet18', ...small }, 'smoke'),
    },
    {
      name: 'ViT-Tiny (SimCLR, standardising Gauss–Newton probe, as the default scale trains it)',
      config: makeRunConfig(
        { method: 'simclr', backbone: 'vit_tiny', ...small, probe: { gaussNewton: true } },
        'smoke',
      ),
      heads: 3,
    },
  ];

  before(function () {
    const missing = torchMissing();
    if (missing) {
      console.log(`      skipped: ${missing}; install with apt-get install -y python3-torch python3-torchvision`);
      this.skip();
    }
  });

  after(() => fs.rmSync(resultsDir, { recursive: true, force: true }));

  for (const { name, config, heads } of runs) {
    it(`rebuilds a smoke-scale ${name} from its files and agrees to 1e-4`, async () => {
      const status = await runExperiment(config, { resultsDir, quiet: true });
      assert.equal(status.state, 'done', status.reason);
      const dir = path.join(resultsDir, runId(config));
      for (const file of [BACKBONE_FILE, CLASSIFIER_FILE, REFERENCE_BATCH_FILE])
        assert.ok(fs.existsSync(path.join(dir, file)), file);
      const { status: code, report, stderr } = loadInTorch([dir]);
      assert.equal(code, 0, `load_in_torch failed: ${stderr}\n${JSON.stringify(report)}`);
      assert.ok(report!.ok);
      assert.equal(report!.kind, config.backbone);
      assert.equal(report!.architecture.architectureFormat, ARCHITECTURE_FORMAT);
      assert.equal(report!.architecture.imageSize, config.imageSize);
      if (heads !== undefined) assert.equal(report!.architecture.numHeads, heads);
      assert.ok(report!.features.maxAbsDiff < 1e-4 && report!.logits.maxAbsDiff < 1e-4, JSON.stringify(report));
      assert.equal(report!.features.shape[0], 4);
    });
  }

  it('fails when the metadata names the wrong head count: the recorded architecture is what rebuilds the ViT', () => {
    const dir = path.join(resultsDir, runId(runs[1].config));
    const { tensors, metadata } = readSafetensorsFile(path.join(dir, BACKBONE_FILE));
    assert.equal(metadata.numHeads, '3');
    const wrong = path.join(resultsDir, 'wrong-heads.safetensors');
    writeSafetensorsFile(
      wrong,
      [...tensors].map(([n, t]) => ({ name: n, shape: t.shape, values: t.values })),
      { ...metadata, numHeads: '6' },
    );
    const { status, report } = loadInTorch([
      '--backbone',
      wrong,
      '--classifier',
      path.join(dir, CLASSIFIER_FILE),
      '--reference',
      path.join(dir, REFERENCE_BATCH_FILE),
    ]);
    assert.equal(status, 1);
    assert.equal(report!.ok, false);
    assert.ok(report!.features.maxAbsDiff > 1e-3, `features should disagree: ${JSON.stringify(report!.features)}`);
  });

  it('names the missing metadata of a file written before it', () => {
    const dir = path.join(resultsDir, runId(runs[0].config));
    const { tensors } = readSafetensorsFile(path.join(dir, BACKBONE_FILE));
    const old = path.join(resultsDir, 'old.safetensors');
    writeSafetensorsFile(
      old,
      [...tensors].map(([n, t]) => ({ name: n, shape: t.shape, values: t.values })),
      { format: 'pt', runId: 'x', method: 'supervised' },
    );
    const { status, stderr } = loadInTorch(['--backbone', old]);
    assert.equal(status, 2);
    assert.match(stderr, /old\.safetensors: metadata has no 'kind'/);
  });
});
