/**
 * `--algorithm` from the command line: parsed and checked, a wake-sleep run trains, is evaluated with
 * its recognition model exactly as an AEVB run is, saves its algorithm in the checkpoint and resumes
 * with it; a run of the other algorithm cannot continue it.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCli, HELP } from '../../src/main/node/cli_args.ts';
import { cliMessage } from '../../src/main/node/cli_words.ts';
import type { AevbError } from '../../src/shared/errors.ts';
import { runTraining } from '../../src/main/node/train_run.ts';
import { readRunCheckpoint } from '../../src/main/node/run_dir.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { useBackend } from '../helpers/backend.ts';

const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('--algorithm', () => {
  it('parses aevb and wake-sleep, and defaults to aevb', () => {
    expect(parseCli(['--algorithm', 'wake-sleep']).explicit).toEqual({ algorithm: 'wake-sleep' });
    expect(parseCli(['--algorithm=aevb']).explicit).toEqual({ algorithm: 'aevb' });
    expect(parseCli([]).explicit.algorithm).toBeUndefined();
    expect(HELP).toMatch(/--algorithm A +aevb .*\| wake-sleep/);
  });

  // The library's error is neutral; the CLI says it with the flags (cli_words.ts), as its error line does.
  const said = (argv: string[]) => {
    try {
      parseCli(argv);
    } catch (e) {
      return cliMessage(e as AevbError);
    }
    throw new Error('expected a refusal');
  };

  it('refuses another value, naming the setting, the choices and the flag', () => {
    expect(said(['--algorithm', 'sleep'])).toMatch(/"algorithm" is "sleep"; it must be one of aevb, wake-sleep.*--algorithm/);
    expect(() => parseCli(['--algorithm', 'AEVB'])).toThrow(/"algorithm" is "AEVB"/);
    expect(() => parseCli(['--algorithm', ''])).toThrow(/"algorithm" is ""/);
  });

  it('refuses --estimator A with wake-sleep, which has no SGVB estimator', () => {
    expect(said(['--algorithm', 'wake-sleep', '--estimator', 'A'])).toMatch(
      /"estimator" is A with the wake-sleep algorithm.*--algorithm aevb/,
    );
    expect(parseCli(['--algorithm', 'wake-sleep', '--estimator', 'B']).explicit).toEqual({ algorithm: 'wake-sleep', estimator: 'B' });
  });
});

describe('a wake-sleep run from the command line', () => {
  let tmp: string;
  const logs: string[] = [];
  const log = (s: string) => {
    logs.push(s);
  };
  const small = ['--hidden', '32', '--latent', '4', '--batch', '300', '--workers', '2', '--quiet'];
  beforeAll(async () => {
    await useBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-ws-cli-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("trains, saves its algorithm, and its ELBO is the recognition model's bound, computed as for AEVB", async () => {
    const out = path.join(tmp, 'ws');
    const r = await runTraining(parseCli([...small, '--algorithm', 'wake-sleep', '--epochs', '1', '--out', out]), log);
    expect(r.config.algorithm).toBe('wake-sleep');
    expect(logs.some((l) => /wake-sleep L=1 M=300/.test(l))).toBe(true);
    const line = JSON.parse(fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim());
    expect(line.samplesSeen).toBe(30 * 300);
    expect(Number.isFinite(line.testElbo) && line.testElbo < 0).toBe(true);
    const ckpt = readRunCheckpoint(out)!;
    expect(ckpt.config.algorithm).toBe('wake-sleep');
    // The same parameters, evaluated by an AEVB trainer in this thread: the same bound (the
    // evaluation depends on the model, never on the algorithm that trained it).
    const data = loadEmbeddedMnist();
    const asAevb = new LocalTrainer({ ...ckpt.config, algorithm: 'aevb' }, data, {
      params: ckpt.params,
      slots: ckpt.optimizer.slots,
      step: ckpt.step,
      samplesSeen: ckpt.samplesSeen,
    });
    const ev = asAevb.evaluate(0);
    asAevb.dispose();
    expect(line.testElbo).toBeCloseTo(ev.testElbo, 3);
    expect(line.trainElbo).toBeCloseTo(ev.trainElbo, 3);
    // And it is not the AEVB run of the same seed.
    const aevb = await runTraining(parseCli([...small, '--epochs', '1', '--out', path.join(tmp, 'aevb')]), log);
    expect(aevb.config.algorithm).toBe('aevb');
    expect(aevb.metrics[0].testElbo).not.toBe(line.testElbo);
  });

  it("resumes as wake-sleep (from the checkpoint) to the uninterrupted run's bits; --algorithm aevb cannot continue it", async () => {
    const whole = await runTraining(
      parseCli([...small, '--algorithm', 'wake-sleep', '--epochs', '2', '--out', path.join(tmp, 'whole')]),
      log,
    );
    const dir = path.join(tmp, 'split');
    await runTraining(parseCli([...small, '--algorithm', 'wake-sleep', '--epochs', '1', '--out', dir]), log);
    await expect(runTraining(parseCli(['--resume', dir, '--algorithm', 'aevb', '--epochs', '2', '--quiet']), log)).rejects.toThrow(
      /config field "algorithm" is "wake-sleep" in the checkpoint but "aevb" in this run/,
    );
    const resumed = await runTraining(parseCli(['--resume', dir, '--epochs', '2', '--workers', '2', '--quiet']), log);
    expect(resumed.config.algorithm).toBe('wake-sleep');
    expect(bytesOf(resumed.state.params).equals(bytesOf(whole.state.params))).toBe(true);
  });
});
