/**
 * `npm run sweep` as a child process: stopped by SIGTERM midway and started again with the same
 * command, it ends with what an uninterrupted sweep ends with (bit-equal models, the same metrics
 * but for timings). Tiny runs (8 hidden units, 10 steps an epoch) on the embedded digits.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import { expectOneLine, killLeftoverClis, runCli, startCli, SWEEP_CLI } from '../helpers/cli.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-sweep-proc-'));
});
afterAll(() => {
  killLeftoverClis();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const RUNS = ['J2', 'J3', 'J4'];
const args = (out: string) => [
  '--latent',
  '2,3,4',
  '--hidden',
  '8',
  '--batch',
  '900',
  '--epochs',
  '6',
  '--eval-at',
  'log:2',
  '--parallel',
  '2',
  '--quiet',
  '--out',
  out,
];
const TIMINGS = ['samplesPerSecond', 'trainSeconds', 'evalSeconds'];
const metrics = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => Object.fromEntries(Object.entries(JSON.parse(l)).filter(([k]) => !TIMINGS.includes(k))));
const checkpoint = (dir: string) => decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(dir, 'checkpoint.aevb'))), dir);
const statuses = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8')).runs.map((r: { status: string }) => r.status);

describe('a sweep stopped by SIGTERM and started again', () => {
  const whole = () => path.join(tmp, 'whole'),
    split = () => path.join(tmp, 'split');

  it('uninterrupted: every run done, exit 0', async () => {
    const r = await runCli(args(whole()), { script: SWEEP_CLI });
    expect(r.code, r.stderr).toBe(0);
    expect(statuses(whole())).toEqual(['done', 'done', 'done']);
  });

  it('SIGTERM: the running runs save their current step, the next run never starts, exit 143', async () => {
    const p = startCli(args(split()), { script: SWEEP_CLI });
    // Both running runs are past their first grid point (step 1 of 60).
    await p.waitFor(/\[J2\] samples 900 /);
    await p.waitFor(/\[J3\] samples 900 /);
    p.child.kill('SIGTERM');
    const r = await p.exited;
    expect(r.code, r.stderr).toBe(143);
    expect(statuses(split())).toEqual(['running', 'running', 'pending']);
    expect(fs.existsSync(path.join(split(), 'J4'))).toBe(false);
    for (const n of ['J2', 'J3']) {
      const d = path.join(split(), n),
        step = checkpoint(d).step;
      expect(step).toBeGreaterThanOrEqual(1);
      expect(step).toBeLessThan(60);
      // Never a metrics line ahead of the checkpoint.
      expect(metrics(d).every((m) => (m.step as number) <= step)).toBe(true);
      expect(fs.existsSync(path.join(d, '.lock'))).toBe(false);
    }
    expect(fs.existsSync(path.join(split(), '.lock'))).toBe(false);
    expect(r.stdout).toMatch(/2 stopped with their current step saved, 1 not started\. Start the same command again to go on\./);
  });

  it('a different command over it is refused in one line', async () => {
    const other = args(split()).map((a) => (a === '6' ? '7' : a));
    expect(expectOneLine(await runCli(other, { script: SWEEP_CLI }))).toMatch(
      /trained with --epochs 6, this command asks for --epochs 7.*Run the command that made it/,
    );
  });

  it('the same command again finishes it: bit-equal models and the same metrics as the uninterrupted sweep', async () => {
    const r = await runCli(args(split()), { script: SWEEP_CLI });
    expect(r.code, r.stderr).toBe(0);
    expect(statuses(split())).toEqual(['done', 'done', 'done']);
    for (const n of RUNS) {
      const a = checkpoint(path.join(whole(), n)),
        b = checkpoint(path.join(split(), n));
      expect(b.step).toBe(60);
      expect(
        Buffer.from(b.params.buffer, b.params.byteOffset, b.params.byteLength).equals(
          Buffer.from(a.params.buffer, a.params.byteOffset, a.params.byteLength),
        ),
      ).toBe(true);
      const mw = metrics(path.join(whole(), n)),
        ms = metrics(path.join(split(), n));
      expect(ms).toEqual(mw);
      // 2 points a decade at M = 900: ⌈round(10^(i/2))/900⌉ = 1 (up to 900 samples), 2 (1,000), 4 (3,162),
      // 12 (10,000), 36 (31,623), and the last step, 60.
      expect(mw.map((m) => [m.step, m.samplesSeen])).toEqual([
        [1, 900],
        [2, 1800],
        [4, 3600],
        [12, 10_800],
        [36, 32_400],
        [60, 54_000],
      ]);
    }
  });
});
