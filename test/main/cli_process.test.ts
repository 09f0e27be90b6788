/**
 * The command line as users run it: a child process per case (test/helpers/cli.ts), its exit
 * code, its output and the files it leaves. Runs are tiny (8 hidden units, 10 steps of 900 per
 * epoch) so a case costs little more than the process start and the digits' load.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import { expectOneLine, killLeftoverClis, ROOT, runCli, startCli, TINY } from '../helpers/cli.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-cli-proc-'));
});
afterAll(() => {
  killLeftoverClis();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ckptStep = (dir: string) => decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(dir, 'checkpoint.aevb'))), dir).step;
const metricSteps = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).step as number);

describe('flags refused before any work starts', () => {
  it('a loosely written number (0x10) stops with one line instead of training with latent 16', async () => {
    const out = path.join(tmp, 'hex');
    const line = expectOneLine(await runCli(['--latent', '0x10', '--out', out, '--quiet']));
    expect(line).toMatch(/"latent" got "0x10".*would read it as 16.*plain decimal/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--resume "" stops instead of starting a fresh default run', async () => {
    const line = expectOneLine(await runCli(['--resume', '', '--quiet']));
    expect(line).toMatch(/"resume" was given an empty path/);
  });

  it('--test-fraction with the embedded MNIST is an error, not ignored', async () => {
    expect(expectOneLine(await runCli(['--test-fraction', '0.3', '--quiet']))).toMatch(/embedded MNIST.*--data FILE/);
  });
});

describe('a run owns its directory; SIGTERM saves like Ctrl-C', () => {
  const dir = () => path.join(tmp, 'owned');
  let first: ReturnType<typeof startCli>;

  it('a second run into the same --out stops with one line naming the run that holds it', async () => {
    first = startCli([...TINY, '--epochs', '100000', '--out', dir()]);
    await first.waitFor(/epoch +1\/100000/);
    expect(JSON.parse(fs.readFileSync(path.join(dir(), '.lock'), 'utf8')).pid).toBe(first.child.pid);
    const second = await runCli([...TINY, '--epochs', '1', '--out', dir()]);
    expect(expectOneLine(second)).toMatch(
      new RegExp(`${dir()} is in use by another aevb run \\(pid ${first.child.pid}, started .*\\).*another directory`),
    );
    // So is a resume into it.
    expect(expectOneLine(await runCli(['--resume', dir(), '--quiet']))).toMatch(new RegExp(`pid ${first.child.pid}`));
    expect(first.child.exitCode).toBe(null); // the first run goes on
  });

  it('SIGTERM saves the current step, exits 143 and releases the directory', async () => {
    await first.waitFor(/epoch +2\/100000/);
    first.child.kill('SIGTERM');
    const r = await first.exited;
    expect(r.code).toBe(143);
    const step = Number(/Interrupted \(SIGTERM\) at step (\d+): saved/.exec(r.stdout)?.[1]);
    expect(step).toBeGreaterThanOrEqual(20);
    expect(ckptStep(dir())).toBe(step);
    expect(metricSteps(dir()).every((s) => s <= step)).toBe(true);
    expect(fs.existsSync(path.join(dir(), '.lock'))).toBe(false);
  });

  it('after a kill -9: the stale lock is taken over, temp files removed, metrics trimmed to the checkpoint', async () => {
    const d = dir();
    const step = ckptStep(d);
    // What a kill -9 leaves: a lock naming a dead process, half-written temp files, metrics lines past the checkpoint.
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    fs.writeFileSync(path.join(d, '.lock'), JSON.stringify({ pid: dead, startedAt: '2026-01-01T00:00:00.000Z', host: os.hostname() }));
    fs.writeFileSync(path.join(d, `.checkpoint.aevb.${dead}.deadbeef.tmp`), 'half a checkpoint');
    fs.mkdirSync(path.join(d, 'decoder'), { recursive: true });
    fs.writeFileSync(path.join(d, 'decoder', `.weights.bin.${dead}.0badf00d.tmp`), 'half the weights');
    fs.writeFileSync(path.join(d, 'notes.tmp'), 'not ours: kept');
    const lines = fs.readFileSync(path.join(d, 'metrics.jsonl'), 'utf8').trim().split('\n');
    fs.appendFileSync(
      path.join(d, 'metrics.jsonl'),
      `${lines.at(-1)}\n${JSON.stringify({ epoch: 99, step: step + 1000 })}\n{"epoch": 100, "st`,
    );
    const epochs = Math.floor(step / 10) + 1;
    const r = await runCli(['--resume', d, '--epochs', String(epochs), '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(d, '.lock'))).toBe(false);
    expect(fs.readdirSync(d).filter((f) => f.endsWith('.tmp'))).toEqual(['notes.tmp']);
    expect(fs.readdirSync(path.join(d, 'decoder')).sort()).toEqual(['model.json', 'weights.bin']);
    expect(metricSteps(d)).toEqual(Array.from({ length: epochs }, (_, k) => 10 * (k + 1)));
    expect(ckptStep(d)).toBe(10 * epochs);
  });
});

describe('a diverging run stops', () => {
  it('--optimizer sgd --lr 10: stops after N skipped steps, names the step and the fix, keeps the last good checkpoint', async () => {
    const d = path.join(tmp, 'diverge');
    const r = await runCli([...TINY, '--optimizer', 'sgd', '--lr', '10', '--epochs', '5', '--max-skipped-steps', '5', '--out', d]);
    expect(r.code).toBe(2);
    const err = r.stderr.trim().split('\n');
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(
      /^error: Training diverged: steps (\d+) to (\d+) \(5 in a row\) had a gradient that is not finite .*too large a step size \(--optimizer sgd --lr 10\)/,
    );
    const [, from, to] = /steps (\d+) to (\d+)/.exec(err[0])!.map(Number);
    expect(to - from).toBe(4);
    // The run is stopped, not left going: far fewer steps than 5 epochs.
    expect(to).toBeLessThan(40);
    expect(err[0]).toMatch(/smaller --lr, e\.g\. --lr 1\./);
    // The checkpoint on disk is the last one written before the divergence, still loadable.
    const kept = Number(/\(step (\d+)\), is kept/.exec(err[0])?.[1] ?? -1);
    if (kept >= 0) {
      expect(ckptStep(d)).toBe(kept);
      expect(metricSteps(d).at(-1)).toBe(kept);
    } else expect(fs.existsSync(path.join(d, 'checkpoint.aevb'))).toBe(false);
    expect(fs.existsSync(path.join(d, 'decoder'))).toBe(false);
    expect(fs.existsSync(path.join(d, '.lock'))).toBe(false);
  });

  it('--resume A --out B refuses when B holds a different run, naming both, and leaves B as it was', async () => {
    const a = path.join(tmp, 'owned'),
      b = path.join(tmp, 'diverge');
    const before = fs.readFileSync(path.join(b, 'checkpoint.aevb'));
    const line = expectOneLine(await runCli(['--resume', a, '--out', b, '--quiet']));
    expect(line).toContain(`Cannot resume ${path.join(a, 'checkpoint.aevb')} into ${b}`);
    expect(line).toMatch(/holds a different run.*optimizer.*Pass --out an empty or new directory/);
    expect(fs.readFileSync(path.join(b, 'checkpoint.aevb')).equals(before)).toBe(true);
  });
});

describe('file-system errors: one line naming the path and the fix', () => {
  it('a full disk (ENOSPC) stops the run; checkpoint and metrics agree on the last good epoch', async () => {
    const d = path.join(tmp, 'full');
    const r = await runCli([...TINY, '--epochs', '4', '--out', d], {
      preload: [path.join(ROOT, 'test/helpers/enospc_preload.mjs')],
      env: { AEVB_TEST_ENOSPC_AFTER: '1' },
    });
    const line = expectOneLine(r);
    expect(line).toContain(`Cannot save the checkpoint ${path.join(d, 'checkpoint.aevb')}: the disk is full (ENOSPC)`);
    expect(line).toMatch(/another disk\. The last good checkpoint, .* \(step 10\), is kept\./);
    expect(ckptStep(d)).toBe(10);
    expect(metricSteps(d)).toEqual([10]);
    expect(fs.readdirSync(d).sort()).toEqual(['checkpoint.aevb', 'metrics.jsonl']);
  });

  it('--out naming an existing file', async () => {
    const f = path.join(tmp, 'a-file');
    fs.writeFileSync(f, 'x');
    expect(expectOneLine(await runCli([...TINY, '--out', f]))).toMatch(
      new RegExp(`--out ${f} is a file, not a directory\\. Pass --out a directory`),
    );
  });

  it('a checkpoint.aevb that is a directory, fresh and resumed', async () => {
    const d = path.join(tmp, 'ckdir');
    fs.mkdirSync(path.join(d, 'checkpoint.aevb'), { recursive: true });
    const msg = new RegExp(`${path.join(d, 'checkpoint.aevb')} is a directory, not a checkpoint\\. Move it out of the way`);
    expect(expectOneLine(await runCli(['--resume', d, '--quiet']))).toMatch(msg);
    expect(expectOneLine(await runCli([...TINY, '--out', d]))).toMatch(/is a directory, not a checkpoint/);
  });

  it('--out /proc/x ends with one line instead of hanging', async () => {
    if (!fs.existsSync('/proc/self')) return; // Linux only
    expect(expectOneLine(await runCli([...TINY, '--out', '/proc/x']))).toMatch(
      /Cannot create the directory \/proc\/x: .*\(ENOENT\)\. Pass --out/,
    );
  });
});
