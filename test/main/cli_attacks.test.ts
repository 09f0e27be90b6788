/**
 * The defects found by attacking the CLIs (issue 19), each run as a user runs it: the real command
 * (train, sweep, export, variance, figures) as a child process, its exit code, its one line on
 * stderr, and the files it leaves. In-process checks of the shared pieces are in cli_inputs.test.ts.
 * Slow (each case starts a process): run this file alone.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/shared/formats/idx.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/shared/formats/safetensors.ts';
import { expectOneLine, killLeftoverClis, ROOT, runCli, SWEEP_CLI, TINY, type CliExit } from '../helpers/cli.ts';

const script = (name: string) => path.join(ROOT, 'src/main/node', name);
const EXPORT = script('export_cli.ts'),
  VARIANCE = script('variance_cli.ts'),
  FIGURES = script('figures_cli.ts');
const exportCli = (args: string[]) => runCli(args, { script: EXPORT });
const variance = (args: string[]) => runCli(args, { script: VARIANCE });
const figures = (args: string[]) => runCli(args, { script: FIGURES });
const sweep = (args: string[]) => runCli(args, { script: SWEEP_CLI });

/** A refusal: exit 2, one `error:` line, no stack trace, no minified source; returns the line. */
function refused(r: CliExit, msg: RegExp): string {
  const line = expectOneLine(r);
  expect(line.length).toBeLessThan(1000);
  expect(line).toMatch(msg);
  return line;
}

let tmp: string, run: string;
const at = (...p: string[]) => path.join(tmp, ...p);
const bytes = (f: string) => fs.readFileSync(f);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-attack-'));
  run = at('run');
  const r = await runCli([...TINY, '--epochs', '1', '--out', run]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(() => {
  killLeftoverClis();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('1. export never writes over its source or a file of a run', () => {
  it('--to RUN/checkpoint.aevb and --to RUN/metrics.jsonl are refused and leave both as they were', async () => {
    const ckpt = bytes(path.join(run, 'checkpoint.aevb')),
      metrics = bytes(path.join(run, 'metrics.jsonl'));
    refused(
      await exportCli(['--from', run, '--to', path.join(run, 'checkpoint.aevb')]),
      /is the file being exported; export never writes over its source/,
    );
    refused(await exportCli(['--from', run, '--to', path.join(run, 'metrics.jsonl')]), /names a file that a run keeps \(metrics\.jsonl\)/);
    refused(await exportCli(['--from', path.join(run, 'checkpoint.aevb'), '--to', path.join(run, 'decoder', 'model.json')]), /a run keeps/);
    expect(bytes(path.join(run, 'checkpoint.aevb')).equals(ckpt)).toBe(true);
    expect(bytes(path.join(run, 'metrics.jsonl')).equals(metrics)).toBe(true);
    const ok = await exportCli(['--from', run]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fs.existsSync(path.join(run, 'model.safetensors'))).toBe(true);
    // An earlier export is what may be replaced.
    expect((await exportCli(['--from', run])).code).toBe(0);
  });
});

describe('2. no recursive mkdir hangs on /proc', () => {
  it('export --write-idx /proc/x, figures DIR --out /proc/x and variance --out /proc/x each end in one line', async () => {
    refused(await exportCli(['--write-idx', '/proc/aevb-x']), /Cannot create the directory \/proc\/aevb-x: .*Pass --write-idx/);
    const sweepDir = at('fig');
    fs.mkdirSync(sweepDir);
    fs.writeFileSync(
      path.join(sweepDir, 'sweep.json'),
      JSON.stringify({
        version: 1,
        command: [],
        runs: [
          {
            name: 'J2',
            dir: 'J2',
            status: 'pending',
            config: { latent: 2, algorithm: 'aevb', decoder: 'bernoulli' },
            values: {},
            train: [],
            samples: 0,
          },
        ],
      }),
    );
    refused(await figures([sweepDir, '--out', '/proc/aevb-x']), /Cannot create the directory \/proc\/aevb-x/);
    refused(
      await variance(['--run', run, '--out', '/proc/aevb-x', '--points', '1', '--draws', '2']),
      /Cannot create the directory \/proc\/aevb-x/,
    );
  });
});

describe('3. no unbounded reads', () => {
  it('/dev/zero as --data (train, sweep), --from and --evaluate is refused before a byte is read', async () => {
    refused(
      await runCli([...TINY, '--data', '/dev/zero', '--out', at('z')]),
      /\/dev\/zero is a character device, not a file aevb can read\. Pass --data a regular file/,
    );
    refused(await sweep(['--data', '/dev/zero', '--latent', '2,3', '--out', at('zs'), '--quiet']), /\/dev\/zero is a character device/);
    refused(await exportCli(['--from', '/dev/zero']), /\/dev\/zero is a character device.*Pass --from a regular file/);
    refused(await exportCli(['--evaluate', '/dev/zero']), /\/dev\/zero is a character device.*Pass --evaluate a regular file/);
  });
});

describe('4. bounds', () => {
  it('export --eval-samples 1e9 is refused (training caps K at 100,000); a sweep of 10^6 runs is refused at once', async () => {
    refused(
      await exportCli(['--evaluate', run, '--eval-samples', '1e9']),
      /"eval-samples" is 1e9; it must be a whole number from 0 to 100,000/,
    );
    const list = Array.from({ length: 1000 }, (_, i) => String(i + 1)).join(',');
    refused(
      await sweep(['--seed', list, '--batch', list, '--out', at('big')]),
      /1000 × 1000 = 1,000,000 combinations; a sweep runs at most 1,000/,
    );
    expect(fs.existsSync(at('big'))).toBe(false);
  });
});

describe("5. a sweep checks a done run's directory before skipping it", () => {
  it('after rm -r DIR/J3 it trains J3 again; garbage over DIR/J2/checkpoint.aevb fails J2 (exit 1) and is left for the user', async () => {
    const dir = at('sweep');
    const args = ['--latent', '2,3', '--hidden', '8', '--batch', '900', '--epochs', '1', '--out', dir, '--quiet', '--parallel', '1'];
    const first = await sweep(args);
    expect(first.code, first.stderr).toBe(0);
    fs.rmSync(path.join(dir, 'J3'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'J2', 'checkpoint.aevb'), 'garbage');
    const again = await sweep(args);
    expect(again.code, again.stdout + again.stderr).toBe(1);
    expect(again.stdout).toMatch(/\[J3\] was done, but .*J3 is gone: it trains again/);
    expect(again.stdout).toMatch(/\[J2\] failed: It was done, but .*J2\/checkpoint\.aevb cannot be read/);
    expect(again.stdout).toMatch(/1 done, 1 failed \(J2\)/);
    expect(fs.readFileSync(path.join(dir, 'J2', 'checkpoint.aevb'), 'utf8')).toBe('garbage');
    expect(fs.existsSync(path.join(dir, 'J3', 'checkpoint.aevb'))).toBe(true);
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'sweep.json'), 'utf8'));
    expect(file.runs.map((r: { status: string }) => r.status)).toEqual(['failed', 'done']);
  });
});

describe('6. optimizer state that cannot train', () => {
  it('train --resume of a safetensors whose Adagrad optimizer.sum.* is -1e30 is refused in one line', async () => {
    const src = path.join(run, 'model.safetensors');
    if (!fs.existsSync(src)) expect((await exportCli(['--from', run])).code).toBe(0);
    const f = decodeSafetensors(new Uint8Array(fs.readFileSync(src)), src);
    const tensors = f.tensors.map((t) =>
      t.name.startsWith('optimizer.sum.') ? { ...t, data: new Float32Array(t.data.length).fill(-1e30) } : t,
    );
    const bad = at('bad-state.safetensors');
    fs.writeFileSync(bad, encodeSafetensors(tensors, f.metadata));
    refused(
      await runCli([...TINY, '--resume', bad, '--epochs', '3', '--out', at('bad-run')]),
      /holds the Adagrad accumulator G .* of -1\.0\d*e\+30 at parameter 0; it is a sum of squares and cannot be negative/,
    );
    expect(fs.existsSync(path.join(at('bad-run'), 'checkpoint.aevb'))).toBe(false);
  });
});

describe('8. raw errors become one line', () => {
  it('export and variance file errors: a missing directory, a directory, a path below a file, a checkpoint.aevb that is a directory, a 300-character name', async () => {
    fs.writeFileSync(at('afile'), 'x');
    refused(
      await exportCli(['--from', run, '--to', at('missing', 'm.safetensors')]),
      /Cannot write .*missing\/m\.safetensors: .*\(ENOENT\)\. Pass --to/,
    );
    fs.mkdirSync(at('adir.safetensors'));
    refused(await exportCli(['--from', run, '--to', at('adir.safetensors')]), /is a directory; export writes a file/);
    refused(await exportCli(['--from', run, '--to', at('afile', 'm.safetensors')]), /\(ENOTDIR\)/);
    fs.mkdirSync(at('dirckpt', 'checkpoint.aevb'), { recursive: true });
    refused(await exportCli(['--from', at('dirckpt')]), /checkpoint\.aevb is a directory, not a file aevb can read/);
    refused(await exportCli(['--write-idx', at('afile')]), /--write-idx .*afile is a file, not a directory/);
    refused(await variance(['--run', at('afile')]), /--run .*afile is a file, not a run directory/);
    refused(await exportCli(['--from', run, '--to', at(`${'n'.repeat(300)}.safetensors`)]), /\(ENAMETOOLONG\)/);
  });

  it('after the WASM backend has loaded: --png unwritable, an .aevb on data of another width, variance --out FILE (was exit 7 and 36 KB of minified tfjs)', async () => {
    refused(
      await exportCli(['--evaluate', run, '--png', '/proc/aevb-x/samples.png']),
      /Cannot write \/proc\/aevb-x\/samples\.png: .*Pass --png/,
    );
    const idx = at('d6.idx');
    fs.writeFileSync(idx, encodeIdx('float32', [20, 2, 3], new Float32Array(120).fill(0.5)));
    refused(
      await exportCli(['--evaluate', run, '--data', idx]),
      /holds a model of 784 inputs; the data \(d6\.idx test\) has 6 values per datapoint/,
    );
    refused(
      await variance(['--run', run, '--out', at('afile'), '--points', '1', '--draws', '2']),
      /--out .*afile is a file, not a directory/,
    );
  });

  it('train --resume of a safetensors asking for D = 2^20, H = 8192, J = 1024 is refused before allocating (was RangeError)', async () => {
    const src = path.join(run, 'model.safetensors');
    if (!fs.existsSync(src)) expect((await exportCli(['--from', run])).code).toBe(0);
    const f = decodeSafetensors(new Uint8Array(fs.readFileSync(src)), src);
    const big = at('big.safetensors');
    fs.writeFileSync(
      big,
      encodeSafetensors(f.tensors, {
        ...f.metadata,
        config: JSON.stringify({ ...JSON.parse(f.metadata.config), inputSize: 2 ** 20, hidden: 8192, latent: 1024 }),
      }),
    );
    refused(
      await runCli(['--resume', big, '--out', at('big-run'), '--quiet']),
      /a model of 17,\d{3},\d{3},\d{3} parameters; at most 67,108,864 fit/,
    );
  });

  it('a sweep.json whose runs hold null, and a metrics line null on resume, are named', async () => {
    const dir = at('damaged');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ version: 1, command: [], runs: [null] }));
    refused(await sweep(['--latent', '2,3', '--out', dir, '--quiet']), /sweep\.json is damaged: its run 1 \(null\) is not an object/);
    const copy = at('nullmetrics');
    fs.cpSync(run, copy, { recursive: true });
    fs.appendFileSync(path.join(copy, 'metrics.jsonl'), 'null\n');
    const r = await runCli(['--resume', copy, '--epochs', '1', '--workers', '2', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(copy, 'metrics.jsonl'), 'utf8')).not.toMatch(/null/);
  });
});

describe('9. nothing is accepted silently', () => {
  it('sweep --quiet stray; export --eval-samples 0x10 or "", --test-fraction with the embedded digits, --png without --evaluate; variance --seed 2^33; export with nothing to do', async () => {
    refused(
      await sweep(['--latent', '2,3', '--quiet', 'stray', '--out', at('q')]),
      /"quiet" is a switch and takes no value \(got "stray"\)/,
    );
    refused(
      await exportCli(['--evaluate', run, '--eval-samples', '0x10']),
      /"eval-samples" got "0x10", which is not a whole number in a form aevb accepts \(Number\(\) would read it as 16\)/,
    );
    refused(await exportCli(['--evaluate', run, '--eval-samples', '']), /"eval-samples" got "", which is not a whole number/);
    refused(await exportCli(['--evaluate', run, '--test-fraction', '0.2']), /"test-fraction" was given for the embedded MNIST/);
    refused(await exportCli(['--from', run, '--png', at('s.png')]), /"png" was given without --evaluate/);
    refused(
      await variance(['--run', run, '--seed', '8589934592']),
      /"seed" is 8589934592; it must be a whole number from 0 to 4,294,967,295/,
    );
    const none = await exportCli([]);
    refused(none, /"from" is missing, and so are --write-idx and --evaluate: there is nothing to do/);
    expect(none.stdout).toBe('');
  });
});

describe('10. negative numbers: one line naming the flag and its range (was three lines, "ambiguous")', () => {
  it('train --latent -Infinity, export --eval-samples -1 and --test-fraction -0.1, variance --seed -1', async () => {
    refused(await runCli(['--latent', '-Infinity', '--quiet']), /"latent" got "-Infinity", which is not a whole number/);
    refused(
      await exportCli(['--evaluate', run, '--eval-samples', '-1']),
      /"eval-samples" is -1; it must be a whole number from 0 to 100,000/,
    );
    refused(
      await exportCli(['--evaluate', run, '--data', at('d6.idx'), '--test-fraction', '-0.1']),
      /"test-fraction" is -0\.1; it must be > 0 and ≤ 0\.5/,
    );
    refused(await variance(['--run', run, '--seed', '-1']), /"seed" is -1; it must be a whole number from 0 to 4,294,967,295/);
  });
});

describe('11. a Gaussian-decoder run on data with a 3e38 pixel', () => {
  it('is refused before training, naming the datapoint and pixel (was exit 0 with a non-finite ELBO)', async () => {
    const x = new Float32Array(40 * 4).fill(0.25);
    x[5] = 3e38;
    const idx = at('huge.idx');
    fs.writeFileSync(idx, encodeIdx('float32', [40, 2, 2], x));
    refused(
      await runCli([
        '--data',
        idx,
        '--decoder',
        'gaussian',
        '--hidden',
        '4',
        '--latent',
        '2',
        '--batch',
        '10',
        '--epochs',
        '1',
        '--workers',
        '1',
        '--quiet',
        '--out',
        at('g'),
      ]),
      /datapoint 1, pixel 1 .* is 3\.\d+e\+38, beyond ±1e\+6: a Gaussian decoder's \(x − μ\)²\/σ² overflows float32/,
    );
  });
});
