/**
 * The run directory's rules in-process (the CLI cases in cli_process.test.ts run them end to end):
 * the lock, which checkpoints a resumed run may write over, the metrics trim and the temp-file sweep.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireRunLock, checkNotHeld } from '../../src/main/node/run_lock.ts';
import { checkRunDir, cleanStaleTemps, makeRunDir, truncateMetrics, type RunStart } from '../../src/main/node/run_dir.ts';
import { datasetFingerprint, encodeCheckpoint, type Checkpoint } from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { createSlots } from '../../src/shared/training/training_state.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-rundir-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const data = { n: 2, d: 6, fingerprint: datasetFingerprint(new Float32Array(12), 2, 6) };
function checkpoint(step: number, over: Partial<TrainConfig> = {}): Checkpoint {
  const config = resolveConfig({ inputSize: 6, hidden: 4, latent: 2, optimizer: 'adam', ...over });
  const n = buildLayout(config).size;
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step,
    samplesSeen: step,
    params: new Float32Array(n).fill(0.1),
    optimizer: { kind: 'adam', slots: createSlots('adam', n) },
    data: { name: 'toy', ...data },
    createdAt: '',
  };
}
function saveIn(d: string, c: Checkpoint): string {
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'checkpoint.aevb'), encodeCheckpoint(c));
  return path.join(d, 'checkpoint.aevb');
}
const resumeOf = (file: string, c: Checkpoint): RunStart => ({ source: { file, checkpoint: c }, config: c.config, data });

describe('the run lock', () => {
  it('is exclusive, names its holder, and is gone after release', () => {
    const lock = acquireRunLock(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, '.lock'), 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname() });
    expect(() => acquireRunLock(dir)).toThrow(new RegExp(`is in use by another aevb run \\(pid ${process.pid}, started `));
    expect(() => checkNotHeld(dir)).toThrow(/in use/);
    lock.release();
    expect(fs.readdirSync(dir)).toEqual([]);
    acquireRunLock(dir).release();
  });

  it('takes over the lock of a dead process, but not one of another host or an unreadable one', () => {
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: dead, startedAt: 'then', host: os.hostname() }));
    checkNotHeld(dir);
    const lock = acquireRunLock(dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, '.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    fs.writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: dead, startedAt: 'then', host: 'elsewhere' }));
    expect(() => acquireRunLock(dir)).toThrow(/pid \d+ on elsewhere.*delete .*\.lock/);
    fs.writeFileSync(path.join(dir, '.lock'), '');
    expect(() => acquireRunLock(dir)).toThrow(/its lock file cannot be read/);
    expect(fs.readdirSync(dir)).toEqual(['.lock']); // no temp file left behind
  });

  it('a reused pid (same pid, another start time) is stale', () => {
    fs.writeFileSync(path.join(dir, '.lock'), JSON.stringify({ pid: process.pid, startedAt: 'then', host: os.hostname(), procStart: '1' }));
    if (fs.existsSync('/proc/self/stat')) acquireRunLock(dir).release();
  });
});

describe('which directory a run may write to', () => {
  it('a resumed run may write into an empty directory, its own, or an earlier point of the same run', () => {
    const a = saveIn(path.join(dir, 'a'), checkpoint(30));
    checkRunDir(path.join(dir, 'new'), resumeOf(a, checkpoint(30)));
    checkRunDir(path.join(dir, 'a'), resumeOf(a, checkpoint(30)));
    saveIn(path.join(dir, 'b'), checkpoint(10, { epochs: 3 })); // epochs may differ: same run
    checkRunDir(path.join(dir, 'b'), resumeOf(a, checkpoint(30)));
  });

  it('refuses a directory with another run, or the same run further on, naming both', () => {
    const a = saveIn(path.join(dir, 'a'), checkpoint(30));
    saveIn(path.join(dir, 'seed'), checkpoint(10, { seed: 2 }));
    expect(() => checkRunDir(path.join(dir, 'seed'), resumeOf(a, checkpoint(30)))).toThrow(
      new RegExp(`Cannot resume ${a} into ${path.join(dir, 'seed')}: .* holds a different run.*"seed" is 2 in the checkpoint but 1`),
    );
    saveIn(path.join(dir, 'later'), checkpoint(50));
    expect(() => checkRunDir(path.join(dir, 'later'), resumeOf(a, checkpoint(30)))).toThrow(
      /same run further on \(step 50; .* step 30\).*--resume/,
    );
    fs.writeFileSync(path.join(dir, 'later', 'checkpoint.aevb'), 'garbage');
    expect(() => checkRunDir(path.join(dir, 'later'), resumeOf(a, checkpoint(30)))).toThrow(/holds a checkpoint\.aevb that cannot be read/);
    fs.mkdirSync(path.join(dir, 'm'));
    fs.writeFileSync(path.join(dir, 'm', 'metrics.jsonl'), '{"step":10}\n');
    expect(() => checkRunDir(path.join(dir, 'm'), resumeOf(a, checkpoint(30)))).toThrow(/metrics\.jsonl of another run/);
    expect(() => checkRunDir(path.join(dir, 'm'), { config: checkpoint(0).config, data })).toThrow(
      /metrics\.jsonl of an earlier run but no checkpoint/,
    );
  });
});

describe('leftovers', () => {
  it('truncateMetrics keeps the lines the checkpoint includes, once each, up to a torn line', () => {
    const lines = [10, 20, 20, 30, 40].map((step) => JSON.stringify({ step }));
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), `${lines.join('\n')}\n{"step": 5`);
    expect(truncateMetrics(dir, 30)).toBe(3);
    expect(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')).toBe(`${lines[0]}\n${lines[1]}\n${lines[3]}\n`);
    expect(truncateMetrics(dir, 30)).toBe(0);
  });

  it("cleanStaleTemps removes only the temp files of aevb's atomic writes", () => {
    const names = ['.checkpoint.aevb.123.deadbeef.tmp', '.metrics.jsonl.9.tmp', 'keep.tmp', '.checkpoint.aevb.tmp', 'checkpoint.aevb'];
    names.forEach((n) => fs.writeFileSync(path.join(dir, n), 'x'));
    expect(
      cleanStaleTemps(dir)
        .map((f) => path.basename(f))
        .sort(),
    ).toEqual(['.checkpoint.aevb.123.deadbeef.tmp', '.metrics.jsonl.9.tmp']);
    expect(fs.readdirSync(dir).sort()).toEqual(['.checkpoint.aevb.tmp', 'checkpoint.aevb', 'keep.tmp']);
  });

  it('makeRunDir creates nested directories and refuses a file in the way', () => {
    expect(makeRunDir(path.join(dir, 'x', 'y'))).toBe(true);
    expect(makeRunDir(path.join(dir, 'x', 'y'))).toBe(false);
    fs.writeFileSync(path.join(dir, 'f'), '');
    expect(() => makeRunDir(path.join(dir, 'f', 'y'))).toThrow(/Cannot create the directory .*f\/y: a part of the path is a file/);
  });
});
