import { strict as assert } from 'assert';
import { stratifiedHalf, resampleToProportion, strataKey } from '../../lib/data/sampling';
import { Rng } from '../../lib/data/rng';
import type { SewerRecord } from '../../lib/data/types';

function makeRecords(nNormal: number, nDefect: number, seed = 1): SewerRecord[] {
  const rng = new Rng(seed);
  const records: SewerRecord[] = [];
  for (let i = 0; i < nNormal + nDefect; i++) {
    const defect = i >= nNormal ? 1 : 0;
    const codes = new Uint8Array(17);
    if (defect) codes[rng.int(0, 4)] = 1; // four defect strata
    records.push({ filename: `${i}.png`, defect, codes, index: i });
  }
  // one singleton stratum, to be dropped
  if (nDefect > 1) {
    records[nNormal].codes.fill(0);
    records[nNormal].codes[16] = 1;
  }
  return records;
}

describe('data/sampling', () => {
  it('stratified half drops singleton strata and halves every stratum', () => {
    const records = makeRecords(1000, 800);
    const { records: half, report } = stratifiedHalf(records, { seed: 42 });
    assert.equal(half.length, Math.round((records.length - 1) * 0.5));
    assert.ok(!half.some((r) => r.codes[16] === 1), 'singleton stratum kept');
    const count = (list: SewerRecord[]) => {
      const m = new Map<string, number>();
      for (const r of list) m.set(strataKey(r), (m.get(strataKey(r)) ?? 0) + 1);
      return m;
    };
    const full = count(records),
      sampled = count(half);
    for (const [key, n] of sampled)
      assert.ok(Math.abs(n - full.get(key)! / 2) <= 1, `stratum ${key}: ${n} of ${full.get(key)}`);
    assert.equal(report.nDefect + report.nNormal, half.length);
    assert.deepEqual(
      stratifiedHalf(records, { seed: 42 }).records.map((r) => r.index),
      half.map((r) => r.index),
    );
    assert.notDeepEqual(
      stratifiedHalf(records, { seed: 7 }).records.map((r) => r.index),
      half.map((r) => r.index),
    );
  });

  it('resamples to the paper formula and reports what it achieved', () => {
    const records = makeRecords(1900, 1500);
    for (const p of [0.01, 0.02, 0.05, 0.15]) {
      const { records: out, report } = resampleToProportion(records, p, { seed: 42 });
      const expectedDefects = Math.floor((1900 * p) / (1 - p) + 1e-9);
      assert.equal(report.nDefect, expectedDefects, `p=${p}`);
      assert.equal(report.nNormal, Math.floor((expectedDefects * (1 - p)) / p + 1e-9));
      assert.equal(out.filter((r) => r.defect === 1).length, report.nDefect);
      assert.ok(Math.abs(report.proportion - p) < 0.005, `p=${p} achieved ${report.proportion}`);
      assert.equal(report.requested, p);
      assert.equal(new Set(out.map((r) => r.index)).size, out.length, 'no duplicates');
    }
    // at p = 0.45 the defects limit: all 1500 used, normals = 1500·0.55/0.45
    const { report } = resampleToProportion(records, 0.45, { seed: 1 });
    assert.equal(report.nDefect, 1500);
    assert.equal(report.nNormal, Math.floor((1500 * 0.55) / 0.45));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const records = makeRecords(500, 500);
    const a = resampleToProportion(records, 0.05, { seed: 3 }).records.map((r) => r.index);
    const b = resampleToProportion(records, 0.05, { seed: 3 }).records.map((r) => r.index);
    const c = resampleToProportion(records, 0.05, { seed: 4 }).records.map((r) => r.index);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('explains unreachable proportions', () => {
    assert.throws(() => resampleToProportion(makeRecords(10, 0), 0.1), /contain no defect/);
    assert.throws(() => resampleToProportion(makeRecords(0, 10), 0.1), /no normal image/);
    assert.throws(
      () => resampleToProportion(makeRecords(50, 10), 0.01),
      /50 normal images allow 0\.505 defects, fewer than one/,
    );
    assert.throws(() => resampleToProportion(makeRecords(50, 10), 1), /strictly between 0 and 1/);
  });
});
