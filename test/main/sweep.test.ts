/**
 * Sweeps in this process (sweep.ts over runTraining, real workers, the embedded digits), on tiny
 * models: a sweep's run equals the same run trained alone, the log grid's points, sweep.json,
 * a refused different command, a failing run beside a good one, one set of signal handlers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/main/node/cli_args.ts';
import { StopSignal } from '../../src/main/node/stop_signal.ts';
import { runSweep } from '../../src/main/node/sweep.ts';
import { parseSweep } from '../../src/main/node/sweep_args.ts';
import { SweepProgress } from '../../src/main/node/sweep_progress.ts';
import { runTraining } from '../../src/main/node/train_run.ts';
import { decodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import { createTrainer, loadEmbeddedMnist } from '../../src/main/node/index.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-sweep-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** 8 hidden units, 10 steps of 900 an epoch, a log grid with 2 points per decade. */
const TINY = ['--hidden', '8', '--batch', '900', '--eval-at', 'log:2'];
const TIMINGS = ['samplesPerSecond', 'trainSeconds', 'evalSeconds'];

const lines: string[] = [];
const sink = {
  write: (s: string) => {
    lines.push(s);
    return true;
  },
};
const quietView = (names: string[]) => new SweepProgress(names, sink, sink, false);

async function sweep(argv: string[], stop = new StopSignal(), progress = quietView) {
  return runSweep(parseSweep(argv), { argv, stop, progress });
}
const metrics = (dir: string) =>
  fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
const withoutTimings = (ms: Array<Record<string, unknown>>) =>
  ms.map((m) => Object.fromEntries(Object.entries(m).filter(([k]) => !TIMINGS.includes(k))));
const checkpoint = (dir: string) => decodeCheckpoint(new Uint8Array(fs.readFileSync(path.join(dir, 'checkpoint.aevb'))), dir);
const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('a sweep of two runs', () => {
  const dir = () => path.join(tmp, 'two');
  const argv = () => ['--latent', '2,3', ...TINY, '--epochs', '2', '--parallel', '2', '--out', dir()];
  let alone: string;

  it('trains both at once, one handler per signal and one exit hook however many runs', async () => {
    const before = { int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM'), exit: process.listenerCount('exit') };
    const seen: Array<{ int: number; term: number; exit: number }> = [];
    const running = new Set<string>();
    class Watch extends SweepProgress {
      override progress(name: string, p: Parameters<SweepProgress['progress']>[1]) {
        running.add(name);
        seen.push({ int: process.listenerCount('SIGINT'), term: process.listenerCount('SIGTERM'), exit: process.listenerCount('exit') });
        super.progress(name, p);
      }
    }
    const r = await sweep(argv(), new StopSignal(), (names) => new Watch(names, sink, sink, false));
    expect(r.interrupted).toBe(false);
    expect(r.runs).toEqual([
      { name: 'J2', status: 'done' },
      { name: 'J3', status: 'done' },
    ]);
    expect(running).toEqual(new Set(['J2', 'J3']));
    // The runs do not listen to the process's signals themselves (the sweep's caller does, once),
    // and three locks (the sweep's, two runs') share one exit hook.
    for (const s of seen) expect(s).toEqual({ int: before.int, term: before.term, exit: before.exit + 1 });
    expect(process.listenerCount('exit')).toBe(before.exit);
    for (const n of ['J2', 'J3'])
      expect(fs.readdirSync(path.join(dir(), n)).sort()).toEqual(['checkpoint.aevb', 'decoder', 'metrics.jsonl']);
    expect(fs.readdirSync(dir()).sort()).toEqual(['J2', 'J3', 'sweep.json']);
  });

  it('its run equals the same run trained alone: bit-equal parameters and optimizer state, equal metrics', async () => {
    alone = path.join(tmp, 'alone-J3');
    const cmd = JSON.parse(fs.readFileSync(path.join(dir(), 'sweep.json'), 'utf8')).runs[1].train as string[];
    await runTraining(parseCli([...cmd, '--quiet', '--out', alone]), () => undefined);
    const a = checkpoint(path.join(dir(), 'J3')),
      b = checkpoint(alone);
    expect(a.step).toBe(20);
    expect(b.step).toBe(20);
    expect(bytes(a.params).equals(bytes(b.params))).toBe(true);
    a.optimizer.slots.forEach((s, i) => expect(bytes(s).equals(bytes(b.optimizer.slots[i]))).toBe(true));
    expect(a.config).toEqual(b.config);
    expect(withoutTimings(metrics(path.join(dir(), 'J3')))).toEqual(withoutTimings(metrics(alone)));
    // …and the other run is another model.
    expect(bytes(checkpoint(path.join(dir(), 'J2')).params).equals(bytes(a.params))).toBe(false);
  });

  it('evaluates on the log grid: a line at each point, at the samples seen there', () => {
    // M = 900, 2 points a decade: round(10^(i/2)) samples = 1, 3, 10, …, 1000, 3162, 10000, 31623
    // → steps ⌈g/900⌉ = 1, 2, 4, 12, (36 > 20); and the last step, 20, ends the run.
    const m = metrics(path.join(dir(), 'J3'));
    expect(m.map((x) => [x.step, x.samplesSeen, x.point, x.epoch])).toEqual([
      [1, 900, 'grid', 0],
      [2, 1800, 'grid', 0],
      [4, 3600, 'grid', 0],
      [12, 10_800, 'grid', 1],
      [20, 18_000, 'epoch', 2],
    ]);
    for (const x of m) for (const k of ['trainElbo', 'testElbo', 'testRecon', 'testKl']) expect(Number.isFinite(x[k])).toBe(true);
    expect(m.at(-1).testElbo).toBeGreaterThan(m[0].testElbo);
  });

  it('writes sweep.json: every run with its directory, full config, status, values and train flags', () => {
    const s = JSON.parse(fs.readFileSync(path.join(dir(), 'sweep.json'), 'utf8'));
    expect(s).toMatchObject({ version: 1, evalAt: 'log:2', budgetSamples: null, workersPerRun: 1 });
    expect(s.command).toEqual(argv().filter((a, i, all) => a !== '--parallel' && all[i - 1] !== '--parallel'));
    expect(s.runs.map((r: { name: string; dir: string; status: string }) => [r.name, r.dir, r.status])).toEqual([
      ['J2', 'J2', 'done'],
      ['J3', 'J3', 'done'],
    ]);
    for (const r of s.runs) {
      expect(r.config).toEqual(checkpoint(path.join(dir(), r.dir)).config);
      expect(r.samples).toBe(18_000);
    }
    expect(s.runs[0].values).toEqual({ latent: '2' });
    expect(s.runs[0].train).toEqual([...TINY, '--epochs', '2', '--latent', '2', '--workers', '1']);
  });

  it('the same command again skips the done runs and changes nothing', async () => {
    const before = fs.readFileSync(path.join(dir(), 'J3', 'checkpoint.aevb'));
    // --parallel may differ: it does not change the runs.
    const r = await sweep(['--latent', '2,3', ...TINY, '--epochs', '2', '--parallel', '1', '--out', dir()]);
    expect(r.runs.map((x) => x.status)).toEqual(['done', 'done']);
    expect(fs.readFileSync(path.join(dir(), 'J3', 'checkpoint.aevb')).equals(before)).toBe(true);
    expect(metrics(path.join(dir(), 'J3'))).toHaveLength(5);
  });

  it('a different command over the sweep is refused, naming the difference and the fix; nothing changes', async () => {
    const file = path.join(dir(), 'sweep.json');
    const before = fs.readFileSync(file, 'utf8');
    await expect(sweep(['--latent', '2,3,5', ...TINY, '--epochs', '2', '--out', dir()])).rejects.toThrow(
      /holds another sweep .*sweep\.json\): this command adds the run J5\. Run the command that made it to continue it \(npm run sweep -- --latent 2,3 .*\), or pass --out a new directory/,
    );
    await expect(sweep(['--latent', '2,3', ...TINY, '--epochs', '2', '--lr', '0.02', '--out', dir()])).rejects.toThrow(
      /its run J2 was trained with no --lr, this command asks for --lr 0\.02/,
    );
    await expect(sweep(['--latent', '2,3', ...TINY, '--epochs', '3', '--out', dir()])).rejects.toThrow(
      /trained with --epochs 2, this command asks for --epochs 3/,
    );
    await expect(sweep(['--latent', '2', ...TINY, '--epochs', '2', '--out', dir()])).rejects.toThrow(
      /adds the run run and leaves out J2, J3/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });

  it('a directory that is not a sweep is refused', async () => {
    await expect(sweep(['--latent', '2,3', ...TINY, '--out', path.join(dir(), 'J2')])).rejects.toThrow(
      /is not empty and holds no sweep\.json.*Pass --out a new or empty directory/,
    );
  });

  it('train alone stopped at a grid point inside an epoch resumes there and ends as the uninterrupted run', async () => {
    const d = path.join(tmp, 'stopped-at-grid');
    const flags = ['--latent', '3', ...TINY, '--epochs', '2', '--workers', '1', '--quiet'];
    const stop = new StopSignal();
    const first = await runTraining(
      parseCli([...flags, '--out', d]),
      (s) => {
        if (/\(step 4\)/.test(s)) stop.stop('SIGINT');
      },
      { stop },
    );
    expect(first.interrupted).toBe('SIGINT');
    expect(checkpoint(d).step).toBe(4);
    expect(metrics(d).map((m) => m.step)).toEqual([1, 2, 4]);
    await runTraining(parseCli([...flags, '--resume', d]), () => undefined);
    expect(withoutTimings(metrics(d))).toEqual(withoutTimings(metrics(alone)));
    expect(bytes(checkpoint(d).params).equals(bytes(checkpoint(alone).params))).toBe(true);
  });
});

describe('a failing run', () => {
  it('is marked failed with its error; the other run trains to the end', async () => {
    const dir = path.join(tmp, 'one-fails');
    const r = await sweep(['--batch', '900,20000', '--hidden', '8', '--epochs', '1', '--parallel', '2', '--out', dir]);
    expect(r.runs.map((x) => [x.name, x.status])).toEqual([
      ['M900', 'done'],
      ['M20000', 'failed'],
    ]);
    expect(r.runs[1].error).toMatch(/"batch" is 20000, larger than the 9000 training datapoints/);
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8'));
    expect(s.runs[1]).toMatchObject({ status: 'failed', error: r.runs[1].error });
    expect(checkpoint(path.join(dir, 'M900')).step).toBe(10);
    expect(lines.join('')).toMatch(/\[M20000\] failed: .*larger than the 9000/);
  });
});

describe('progress', () => {
  it('in a terminal: one line per run, redrawn in place; log lines above them', () => {
    const out: string[] = [];
    const tty = {
      isTTY: true,
      columns: 200,
      rows: 30,
      write: (s: string) => {
        out.push(s);
        return true;
      },
    };
    const p = new SweepProgress(['J3-aevb', 'J20-aevb'], tty, tty, true);
    p.status('J3-aevb', 'running');
    p.progress('J3-aevb', { step: 45, totalSteps: 90, epoch: 4, epochs: 10, samplesSeen: 4500, samplesPerSecond: 1234, elbo: -150.25 });
    p.log('[J3-aevb] a line');
    p.status('J20-aevb', 'failed', 'Training diverged');
    const text = out.join('');
    expect(p.render('J3-aevb')).toMatch(
      /^J3-aevb   running  █{12}░{12}  50%  epoch 5\/10  4,500 samples  1,234 samples\/s  minibatch ELBO -150\.3$/,
    );
    expect(p.render('J20-aevb')).toMatch(/^J20-aevb  failed   Training diverged$/);
    // The log line is written after the live lines were erased (cursor up 2, clear), then they are drawn again.
    expect(text).toContain('\x1b[2F\x1b[J[J3-aevb] a line\n');
    expect(text.split('[J3-aevb] a line\n')[1]).toMatch(/^J3-aevb .*\n.*J20-aevb/);
  });

  it('elsewhere: the log lines only', () => {
    const out: string[] = [];
    const file = {
      isTTY: false,
      write: (s: string) => {
        out.push(s);
        return true;
      },
    };
    const p = new SweepProgress(['a'], file, file, true);
    p.status('a', 'running');
    p.progress('a', { step: 1, totalSteps: 2, epoch: 0, epochs: 1, samplesSeen: 9, samplesPerSecond: 1 });
    p.log('[a] hello');
    p.close();
    expect(out).toEqual(['[a] hello\n']);
  });
});

describe('the library option evaluateAt', () => {
  it('is checked at the boundary, with the fix', async () => {
    const data = loadEmbeddedMnist();
    for (const bad of [{ kind: 'log', perDecade: 0 }, { kind: 'log' }, { kind: 'grid' }, 'log:5']) {
      await expect(createTrainer({ data, evaluateAt: bad as never })).rejects.toThrow(
        /option "evaluateAt" is .*\{ kind: 'log', perDecade: P \}/,
      );
    }
  });
});
