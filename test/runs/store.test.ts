/** The results store's writes: every byte or nothing, never a torn file, and no temporary files left behind. */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { makeRunConfig } from '../../lib/methods/config';
import { atomicWriteFs, openRun, removeOrphanedTmpFiles, writeFileAtomic } from '../../lib/runs/store';
import { tempDir } from '../experiments/helpers';

describe('results store writes', () => {
  const saved = { ...atomicWriteFs };
  afterEach(() => Object.assign(atomicWriteFs, saved));

  it('writes every byte when the system writes only a few bytes per call', () => {
    const file = path.join(tempDir('store-short'), 'rows.json');
    const data = Buffer.from(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ i, v: i / 7 }))));
    let calls = 0;
    atomicWriteFs.writeSync = (fd, buffer, offset, length) => {
      calls++;
      return fs.writeSync(fd, buffer, offset, Math.min(length, 7));
    };
    writeFileAtomic(file, data);
    assert.ok(calls > 100, `${calls} write calls`);
    assert.ok(fs.readFileSync(file).equals(data), 'the whole content arrived');
  });

  it('on a full disk keeps the previous version, removes its temporary file and names the file', () => {
    const dir = tempDir('store-enospc');
    const file = path.join(dir, 'status.json');
    writeFileAtomic(file, '{"state":"running"}');
    atomicWriteFs.writeSync = (fd, buffer, offset, length) => {
      if (offset > 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return fs.writeSync(fd, buffer, offset, Math.ceil(length / 2));
    };
    assert.throws(
      () => writeFileAtomic(file, '{"state":"done","rows":12345}'),
      (err: NodeJS.ErrnoException) => {
        assert.equal(err.code, 'ENOSPC');
        assert.match(
          err.message,
          /cannot write .*status\.json \(ENOSPC: .*\); the previous version, if any, is unchanged/,
        );
        return true;
      },
    );
    assert.equal(fs.readFileSync(file, 'utf8'), '{"state":"running"}');
    assert.deepEqual(fs.readdirSync(dir), ['status.json']);
  });

  it('a write that makes no progress is an error, not a silent truncation', () => {
    const file = path.join(tempDir('store-zero'), 'a.json');
    atomicWriteFs.writeSync = () => 0;
    assert.throws(() => writeFileAtomic(file, 'hello'), /write made no progress after 0 of 5 bytes/);
    assert.equal(fs.existsSync(file), false);
  });

  it('opening a run folder removes temporary files of writers that are gone, and keeps a live one', () => {
    const results = tempDir('store-orphans');
    const config = makeRunConfig({ method: 'supervised', backbone: 'resnet18' }, 'smoke');
    const run = openRun(results, config);
    fs.mkdirSync(run.checkpointDir, { recursive: true });
    const host = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');
    const dead = 2 ** 22 + 12345; // above the default pid_max: no such process
    const orphans = [
      path.join(run.dir, `status.json.tmp-${host}-${dead}-abc`),
      path.join(run.checkpointDir, `checkpoint.safetensors.tmp-${host}-${dead}-def`),
      path.join(run.dir, `rows.json.tmp-${dead}-1700000000000`), // the name written before hosts were in it
    ];
    const live = path.join(run.dir, `log.jsonl.tmp-${host}-${process.pid}-ghi`);
    for (const f of [...orphans, live]) fs.writeFileSync(f, 'partial');
    openRun(results, config);
    for (const f of orphans) assert.equal(fs.existsSync(f), false, `${path.basename(f)} removed`);
    assert.ok(fs.existsSync(live), 'a live writer keeps its temporary file');
    assert.deepEqual(removeOrphanedTmpFiles(run.dir), []);
  });
});
