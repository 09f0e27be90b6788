/**
 * The pieces every command shares, in-process (cli_attacks.test.ts runs the commands themselves):
 * the one argument parser (flags.ts), the one error tail (cli_main.ts), the one directory maker
 * (dirs.ts), the one bounded file reader (read_file.ts), what export may write over
 * (export_targets.ts), and the sweep's and the run directory's readers of what is on disk.
 * Each case is a defect found by attacking the CLIs (issue 19); each failed before its fix.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/main/node/cli_args.ts';
import { errorReport } from '../../src/main/node/cli_main.ts';
import { makeDirs } from '../../src/main/node/dirs.ts';
import { checkExportTarget, checkPngTarget } from '../../src/main/node/export_targets.ts';
import { numberFlag, parseFlags } from '../../src/main/node/flags.ts';
import { readFileBounded } from '../../src/main/node/read_file.ts';
import { truncateMetrics } from '../../src/main/node/run_dir.ts';
import { holderAlive } from '../../src/main/node/run_lock.ts';
import { MAX_SWEEP_RUNS, parseSweep } from '../../src/main/node/sweep_args.ts';
import { readSweepFile } from '../../src/main/node/sweep_file.ts';
import { AevbError } from '../../src/shared/errors.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-inputs-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The AevbError f throws, checked to be one line. */
function refusal(f: () => unknown): AevbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AevbError);
    expect((e as Error).message).not.toContain('\n');
    return e as AevbError;
  }
  throw new Error('expected a refusal');
}

describe("one argument parser: a value with a leading dash is the flag's, refused in one line naming the flag and its range", () => {
  // node's parseArgs called these "ambiguous" in three lines.
  const train: Array<[string[], RegExp]> = [
    [['--latent', '-Infinity'], /"latent" got "-Infinity", which is not a whole number/],
    [['--latent', '-3'], /"latent" is -3; it must be an integer from 1 to 1024/],
    [['--lr', '-0.5'], /"lr" is -0\.5; it must be a finite number > 0/],
    [['--test-fraction', '-0.1', '--data', 'x.idx'], /"test-fraction" is -0\.1; it must be > 0 and ≤ 0\.5/],
    [['--seed', '-1'], /"seed" is -1; it must be an integer from 0 to 4294967295/],
    [['--out', '-'], /^(?!.*ambiguous)/],
  ];
  for (const [argv, msg] of train) {
    it(`train ${argv.join(' ')}`, () => {
      if (argv[1] === '-') {
        expect(parseCli(argv).out).toBe('-');
        return;
      }
      expect(refusal(() => parseCli(argv)).message).toMatch(msg);
    });
  }
  it('export, variance and figures flags alike, through parseFlags and numberFlag', () => {
    const spec = { 'eval-samples': { type: 'string' as const }, seed: { type: 'string' as const }, quiet: { type: 'boolean' as const } };
    const { values } = parseFlags(['--eval-samples', '-1', '--seed', '-1e3'], spec, 'export');
    expect(refusal(() => numberFlag(values, 'eval-samples', { integer: true, min: 0, max: 100_000 })).message).toMatch(
      /"eval-samples" is -1; it must be a whole number from 0 to 100,000. Pass --eval-samples with a whole number from 0 to 100,000/,
    );
    expect(refusal(() => numberFlag(values, 'seed', { integer: true, min: 0, max: 0xffffffff })).message).toMatch(
      /"seed" is -1e3; it must be a whole number from 0 to 4,294,967,295/,
    );
    for (const raw of ['0x10', '', ' 5', '+3', '5.', '.5', '1e9']) {
      const v = parseFlags([`--eval-samples=${raw}`], spec, 'export').values;
      expect(refusal(() => numberFlag(v, 'eval-samples', { integer: true, min: 0, max: 100_000 })).message).toMatch(
        /"eval-samples" (got|is) /,
      );
    }
    // parseArgs's own errors: one line, with the command's help as the fix.
    expect(refusal(() => parseFlags(['--nope'], spec, 'export')).message).toMatch(
      /^Unknown option '--nope'\. Run npm run export -- --help for the flags\.$/,
    );
    expect(refusal(() => parseFlags(['--quiet', 'stray'], spec, 'export')).message).toMatch(/Unexpected argument 'stray'/);
  });
});

describe('sweep flags', () => {
  it('--quiet takes no value; --toString is an unknown train flag, not the source of a native function', () => {
    expect(refusal(() => parseSweep(['--quiet', 'stray', '--out', dir])).message).toMatch(
      /"quiet" is a switch and takes no value \(got "stray"\)/,
    );
    // `flag in REFUSED` found Object.prototype.toString and printed its source as the fix.
    const req = parseSweep(['--toString', '1', '--out', dir]);
    expect(req.fixed).toEqual(['--toString', '1']);
    expect(refusal(() => parseCli(req.fixed)).message).toMatch(/^Unknown option '--toString'\. Run npm run train -- --help/);
  });
  it(`a sweep of more than ${MAX_SWEEP_RUNS} runs is refused at once, saying how many it lists`, () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1)).join(',');
    const t = Date.now();
    const e = refusal(() =>
      parseSweep([
        '--seed',
        list(1000),
        '--lr',
        list(1000)
          .split(',')
          .map((v) => `0.00${v}`)
          .join(','),
        '--out',
        dir,
      ]),
    );
    expect(e.message).toMatch(/lists 1000 × 1000 = 1,000,000 combinations; a sweep runs at most 1,000/);
    expect(Date.now() - t).toBeGreaterThanOrEqual(0);
    expect(parseSweep(['--seed', list(1000), '--out', dir]).axes[0].values.length).toBe(1000);
  });
});

describe('one directory maker', () => {
  it('makes nested directories and gives up on /proc in one line instead of looping', () => {
    expect(makeDirs(path.join(dir, 'a', 'b'), '--write-idx')).toBe(true);
    expect(fs.statSync(path.join(dir, 'a', 'b')).isDirectory()).toBe(true);
    // fs.mkdirSync('/proc/x', { recursive: true }) never returns: export --write-idx, figures --out, variance --out hung.
    expect(refusal(() => makeDirs('/proc/aevb-x/y', '--write-idx')).message).toMatch(
      /Cannot create the directory \/proc\/aevb-x: .*\(ENOENT\)\. Pass --write-idx /,
    );
    fs.writeFileSync(path.join(dir, 'f'), '');
    expect(refusal(() => makeDirs(path.join(dir, 'f'), '--out')).message).toMatch(/--out .*f is a file, not a directory/);
  });
});

describe('one bounded file reader', () => {
  it('reads a regular file whole and refuses devices, directories and files over the bound before reading', () => {
    fs.writeFileSync(path.join(dir, 'x'), 'hello');
    expect(Buffer.from(readFileBounded(path.join(dir, 'x'), '--from')).toString()).toBe('hello');
    expect(refusal(() => readFileBounded('/dev/zero', '--from')).message).toMatch(
      /\/dev\/zero is a character device, not a file aevb can read\. Pass --from a regular file/,
    );
    expect(refusal(() => readFileBounded(dir, '--evaluate')).message).toMatch(/is a directory/);
    expect(refusal(() => readFileBounded(path.join(dir, 'x'), '--from', 4)).message).toMatch(/larger than 4 bytes/);
    expect(refusal(() => readFileBounded(path.join(dir, 'nope'), '--resume')).message).toMatch(
      /it does not exist \(ENOENT\)\. Pass --resume/,
    );
  });
});

describe('what export may write over', () => {
  it('never its source, a file of a run, or a file of another kind', () => {
    const run = path.join(dir, 'run');
    fs.mkdirSync(path.join(run, 'decoder'), { recursive: true });
    const ckpt = path.join(run, 'checkpoint.aevb');
    fs.writeFileSync(ckpt, 'AEVBCKPT');
    fs.writeFileSync(path.join(run, 'metrics.jsonl'), '{}\n');
    expect(refusal(() => checkExportTarget(ckpt, ckpt)).message).toMatch(/is the file being exported; export never writes over its source/);
    expect(refusal(() => checkExportTarget(path.join(run, 'metrics.jsonl'), ckpt)).message).toMatch(
      /names a file that a run keeps \(metrics\.jsonl\)/,
    );
    expect(refusal(() => checkExportTarget(path.join(run, 'sweep.json'), ckpt)).message).toMatch(/a run keeps/);
    expect(refusal(() => checkExportTarget(path.join(run, 'decoder', 'x.safetensors'), ckpt)).message).toMatch(/a run keeps/);
    expect(refusal(() => checkExportTarget(path.join(run, 'model.bin'), ckpt)).message).toMatch(/does not end in \.safetensors/);
    fs.writeFileSync(path.join(run, 'notes.safetensors'), 'my notes, not a model');
    expect(refusal(() => checkExportTarget(path.join(run, 'notes.safetensors'), ckpt)).message).toMatch(
      /exists and is not a safetensors file/,
    );
    fs.mkdirSync(path.join(dir, 'd.safetensors'));
    expect(refusal(() => checkExportTarget(path.join(dir, 'd.safetensors'), ckpt)).message).toMatch(/is a directory; export writes a file/);
    expect(() => checkExportTarget(path.join(run, 'model.safetensors'), ckpt)).not.toThrow();
    expect(refusal(() => checkPngTarget(ckpt)).message).toMatch(/a run keeps/);
    expect(refusal(() => checkPngTarget(path.join(run, 'notes.safetensors'))).message).toMatch(/does not end in \.png/);
    expect(() => checkPngTarget(path.join(run, 'samples.png'))).not.toThrow();
  });
});

describe('files on disk that are not what they should be', () => {
  it('a sweep.json whose runs hold null or lack train/config is named, not a TypeError', () => {
    const write = (runs: unknown[]) => fs.writeFileSync(path.join(dir, 'sweep.json'), JSON.stringify({ version: 1, command: [], runs }));
    const good = { name: 'J2', dir: 'J2', status: 'done', config: {}, train: ['--latent', '2'] };
    write([good, null]);
    expect(refusal(() => readSweepFile(dir)).message).toMatch(/sweep\.json is damaged: its run 2 \(null\) is not an object/);
    write([{ ...good, train: undefined }]);
    expect(refusal(() => readSweepFile(dir)).message).toMatch(/run 1 .* is not a "train" list of strings/);
    write([{ ...good, config: null }]);
    expect(refusal(() => readSweepFile(dir)).message).toMatch(/is not a "config" object/);
    write([good]);
    expect(readSweepFile(dir)!.runs.length).toBe(1);
  });
  it('a metrics line that is null (or a number) is dropped like a line no run wrote, not a TypeError', () => {
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '{"step":10}\nnull\n5\n{"step":20}\n');
    expect(truncateMetrics(dir, 20)).toBe(2);
    expect(fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')).toBe('{"step":10}\n{"step":20}\n');
  });
});

describe('a lock held by a zombie', () => {
  it('is stale: the process has exited, though kill(pid, 0) still succeeds until it is reaped', async () => {
    // A forked child that exits at once, under a parent that never waits for it: a zombie for 5 s.
    const parent = spawn(
      'python3',
      ['-c', 'import os, time\npid = os.fork()\nif pid == 0: os._exit(0)\nprint(pid, flush=True)\ntime.sleep(5)'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      const pid = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d) => resolve(String(d).trim()))));
      let state = '';
      for (let i = 0; i < 100 && state !== 'Z'; i++) {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        state = stat.slice(stat.lastIndexOf(')') + 2)[0];
        if (state !== 'Z') await new Promise((r) => setTimeout(r, 20));
      }
      expect(state).toBe('Z');
      expect(() => process.kill(pid, 0)).not.toThrow();
      expect(holderAlive({ pid, host: os.hostname(), startedAt: '' })).toBe(false);
      expect(holderAlive({ pid: parent.pid!, host: os.hostname(), startedAt: '' })).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});

describe('one error tail', () => {
  it('our errors, file-system errors and anything else each end as one short line', () => {
    expect(errorReport(new AevbError('CONFIG', 'x is bad.', 'Fix it.'))).toEqual({ line: 'error: x is bad. Fix it.', code: 2 });
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/a/b'"), { code: 'ENOENT', path: '/a/b' });
    const r = errorReport(enoent);
    expect(r.code).toBe(2);
    expect(r.line).toMatch(/^error: Cannot use \/a\/b: .*\(ENOENT\)/);
    // A library error whose message is a whole minified source line (tfjs's WASM module): cut short, one line.
    const huge = new TypeError(`${'x'.repeat(36_000)}\n    at somewhere`);
    const t = errorReport(huge);
    expect(t.code).toBe(70);
    expect(t.line.length).toBeLessThan(600);
    expect(t.line).not.toContain('\n');
    expect(t.line).toMatch(/^error: unexpected TypeError: x+… \(a bug/);
  });
});
