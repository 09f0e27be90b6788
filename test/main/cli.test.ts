import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseCli, HELP } from '../../src/main/node/cli_args.ts';
import { runTraining } from '../../src/main/node/train_run.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { encodeIdx } from '../../src/shared/formats/idx.ts';
import { useBackend } from '../helpers/backend.ts';

/** The bytes of a typed array's own elements (it may be a view into a larger memory). */
const bytesOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('command-line flags', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--latent', '0'], /"latent" is 0; it must be an integer from 1/],
    [['--latent', '2.5'], /"latent" got "2.5", which is not a whole number/],
    [['--hidden', '-3'], /"hidden" is -3/],
    [['--samples', '0'], /"samples"/],
    [['--batch', '0'], /"batch"/],
    [['--epochs', '-1'], /"epochs"/],
    [['--seed', '-1'], /"seed"/],
    [['--eval-samples', '-5'], /"evalSamples"/],
    [['--lr', '0'], /"lr" is 0/],
    [['--lr', 'abc'], /"lr" got "abc", which is not a number/],
    [['--lr', 'NaN'], /"lr" got "NaN"/],
    [['--weight-decay', '-1'], /"weightDecay"/],
    [['--activation', 'sigmoid'], /"activation" is "sigmoid"; it must be one of tanh, relu, linear/],
    [['--decoder', 'poisson'], /"decoder"/],
    [['--init', 'xavier'], /"init"/],
    [['--estimator', 'C'], /"estimator"/],
    [['--optimizer', 'nadam'], /"optimizer" is "nadam"/],
    [['--data', 'x.idx', '--test-fraction', '1.5'], /"test-fraction" is 1.5; it must be > 0 and ≤ 0.5/],
    // One range, checked here: splitDataset would refuse 0.7 later, after the data was read.
    [['--data', 'x.idx', '--test-fraction', '0.7'], /"test-fraction" is 0.7; it must be > 0 and ≤ 0.5/],
    [['--data', 'x.idx', '--test-fraction', '0'], /"test-fraction" is 0/],
    // The embedded MNIST has a fixed split: the flag cannot apply.
    [['--test-fraction', '0.2'], /"test-fraction" was given for the embedded MNIST.*--data FILE/],
    [['--data', 'mnist', '--test-fraction', '0.2'], /"test-fraction" was given for the embedded MNIST/],
    // Empty paths never fall back to a default.
    [['--resume', ''], /"resume" was given an empty path.*--out directory of an earlier run/],
    [['--resume='], /"resume" was given an empty path/],
    [['--out', ''], /"out" was given an empty path/],
    [['--out', '  '], /"out" was given an empty path/],
    [['--data', ''], /"data" was given an empty path/],
    [['--data', 'x.idx', '--labels', ''], /"labels" was given an empty path/],
    [['--workers', '0'], /"workers" is 0/],
    [['--workers', '1.5'], /"workers" got "1.5"/],
    [['--binarize', '--decoder', 'gaussian'], /binarize/],
    [['--labels', 'x.idx'], /"labels" was given without --data FILE/],
    [['--bogus'], /Unknown option '--bogus'.*--help/],
    // Loosely written numbers: Number() reads them all, the flag parser refuses them by name.
    [
      ['--latent', '0x10'],
      /"latent" got "0x10", which is not a whole number in a form aevb accepts \(Number\(\) would read it as 16\).*plain decimal/,
    ],
    [['--hidden', '0b11'], /"hidden" got "0b11".*would read it as 3/],
    [['--epochs', ' 5'], /"epochs" got " 5"/],
    [['--seed', '+3'], /"seed" got "\+3"/],
    [['--lr', '5.'], /"lr" got "5\.".*plain decimal or exponent form/],
    [['--lr', '.5'], /"lr" got "\.5"/],
    [['--batch', '.5'], /"batch" got "\.5"/],
    [['--lr', '0x1p-3'], /"lr" got "0x1p-3"/],
    [['--lr', 'Infinity'], /"lr" got "Infinity"/],
    [['--workers', '1_0'], /"workers" got "1_0"/],
    // Deeper MLPs: layer lists, each width a whole number, as many activations as layers (or one).
    [['--hidden', '512,'], /"hidden" got "512,", a list with an empty item.*--hidden 512,256/],
    [['--hidden', '512,abc'], /"hidden" got "abc", which is not a whole number/],
    [['--hidden', '512,0'], /"hidden" is \[512,0\]/],
    [['--hidden', '1,2,3,4,5,6,7,8,9'], /1 to 8 hidden-layer widths/],
    [['--hidden', '512,256', '--activation', 'relu,tanh,relu'], /3 activations for 2 hidden layers/],
    [['--activation', 'relu,gelu', '--hidden', '4,4'], /"gelu" is not one of tanh, relu, linear/],
    [['--kernels', 'webgpu'], /"kernels" is "webgpu"; it must be one of aevb, tfjs.*--kernels tfjs/],
  ];
  for (const [argv, msg] of bad) {
    it(`rejects ${argv.join(' ')}`, () => {
      expect(() => parseCli(argv)).toThrow(msg);
    });
  }

  it('parses every flag into the config fields', () => {
    const r = parseCli([
      '--latent',
      '2',
      '--hidden',
      '64',
      '--activation',
      'relu',
      '--decoder',
      'gaussian',
      '--no-sigmoid-mean',
      '--init',
      'pytorch',
      '--estimator',
      'a',
      '--samples',
      '3',
      '--batch',
      '50',
      '--epochs',
      '7',
      '--optimizer',
      'adam',
      '--lr',
      '1e-3',
      '--weight-decay',
      '0.0001',
      '--seed',
      '9',
      '--eval-samples',
      '100',
      '--out',
      'o',
      '--quiet',
    ]);
    expect(r.explicit).toEqual({
      latent: 2,
      hidden: 64,
      samples: 3,
      batch: 50,
      epochs: 7,
      seed: 9,
      evalSamples: 100,
      lr: 1e-3,
      weightDecay: 0.0001,
      activation: 'relu',
      decoder: 'gaussian',
      init: 'pytorch',
      estimator: 'A',
      optimizer: 'adam',
      sigmoidMean: false,
    });
    expect(r.out).toBe('o');
    expect(HELP).toContain('--resume DIR');
  });

  it('reads --hidden 512,256 and --activation relu,tanh as one entry per hidden layer, --kernels as the trainer option', () => {
    const r = parseCli(['--hidden', '512,256', '--activation', 'relu,tanh', '--kernels', 'tfjs']);
    expect(r.explicit).toEqual({ hidden: [512, 256], activation: ['relu', 'tanh'] });
    expect(r.kernels).toBe('tfjs');
    expect(parseCli(['--hidden', '500']).explicit).toEqual({ hidden: 500 });
    expect(parseCli(['--hidden', '512,256', '--activation', 'relu']).explicit).toEqual({ hidden: [512, 256], activation: 'relu' });
    expect(parseCli([]).kernels).toBeUndefined();
    expect(HELP).toMatch(/--hidden H\[,H…\][\s\S]*512,256[\s\S]*--kernels K/);
  });

  it("takes --test-fraction for a user's file, up to 0.5", () => {
    expect(parseCli(['--data', 'x.idx', '--test-fraction', '0.5']).testFraction).toBe(0.5);
    expect(parseCli(['--data', 'x.idx']).testFraction).toBe(0.1);
  });

  it('accepts plain decimal and exponent forms', () => {
    expect(
      parseCli(['--lr', '1e-3', '--batch', '1e2', '--latent', '2.0', '--weight-decay', '2.5E-4', '--seed', '0']).explicit,
    ).toMatchObject({ lr: 1e-3, batch: 100, latent: 2, weightDecay: 2.5e-4, seed: 0 });
  });
});

describe('training runs from the command line', () => {
  let tmp: string;
  const logs: string[] = [];
  const log = (s: string) => {
    logs.push(s);
  };
  const small = ['--hidden', '32', '--latent', '4', '--batch', '300', '--workers', '2', '--quiet'];
  beforeAll(async () => {
    await useBackend('wasm');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-cli-'));
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes metrics, a checkpoint and the decoder export', async () => {
    const out = path.join(tmp, 'a');
    const r = await runTraining(parseCli([...small, '--epochs', '1', '--out', out]), log);
    const lines = fs
      .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    for (const k of ['epoch', 'samplesSeen', 'trainElbo', 'testElbo', 'samplesPerSecond']) expect(Number.isFinite(lines[0][k])).toBe(true);
    expect(lines[0].samplesSeen).toBe(30 * 300);
    expect(fs.existsSync(path.join(out, 'checkpoint.aevb'))).toBe(true);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'decoder', 'model.json'), 'utf8')).format).toBe('aevb-decoder');
    expect(r.metrics[0].testElbo).toBeLessThan(0);
  });

  it('a resumed run ends with exactly the parameters of an uninterrupted one', async () => {
    const whole = await runTraining(parseCli([...small, '--epochs', '2', '--out', path.join(tmp, 'whole')]), log);
    const dir = path.join(tmp, 'split');
    await runTraining(parseCli([...small, '--epochs', '1', '--out', dir]), log);
    const resumed = await runTraining(parseCli(['--resume', dir, '--epochs', '2', '--workers', '2', '--quiet']), log);
    expect(resumed.state.step).toBe(whole.state.step);
    expect(bytesOf(resumed.state.params).equals(bytesOf(whole.state.params))).toBe(true);
    expect(bytesOf(resumed.state.slots[0]).equals(bytesOf(whole.state.slots[0]))).toBe(true);
    expect(resumed.metrics[0].testElbo).toBe(whole.metrics[1].testElbo);
  });

  it('refuses to start over a directory that holds a checkpoint', async () => {
    await expect(runTraining(parseCli([...small, '--epochs', '1', '--out', path.join(tmp, 'a')]), log)).rejects.toThrow(
      /already holds a checkpoint.*--resume/,
    );
  });

  it('a failed resume leaves the good checkpoint untouched', async () => {
    const file = path.join(tmp, 'a', 'checkpoint.aevb');
    const before = fs.readFileSync(file);
    await expect(runTraining(parseCli(['--resume', path.join(tmp, 'a'), '--hidden', '64', '--quiet']), log)).rejects.toThrow(
      /model shape.*H32.*H64/,
    );
    await expect(runTraining(parseCli(['--resume', path.join(tmp, 'a'), '--optimizer', 'adam', '--quiet']), log)).rejects.toThrow(
      /optimizer/,
    );
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });

  it('a bad IDX file stops the run before anything is written', async () => {
    const bad = path.join(tmp, 'bad.idx');
    const good = encodeIdx('ubyte', [20, 4, 4], new Uint8Array(320));
    fs.writeFileSync(bad, good.subarray(0, good.length - 7)); // truncated
    const out = path.join(tmp, 'never');
    await expect(runTraining(parseCli(['--data', bad, '--out', out, '--quiet']), log)).rejects.toThrow(/truncated/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('resume mid-epoch through the checkpoint format', () => {
  it('stopping at step 37 and resuming gives the uninterrupted parameters bit for bit', async () => {
    await useBackend('wasm');
    const full = loadEmbeddedMnist();
    const data = {
      train: { ...full.train, n: 1000, x: full.train.x.subarray(0, 1000 * 784) },
      test: { ...full.test, n: 100, x: full.test.x.subarray(0, 100 * 784) },
    };
    const cfg = resolveConfig({
      hidden: 24,
      latent: 3,
      batch: 20,
      optimizer: 'adam',
      lr: 1e-3,
      estimator: 'A',
      samples: 2,
      binarize: true,
    });
    const a = new LocalTrainer(cfg, data);
    for (let i = 0; i < 80; i++) a.step();
    const b = new LocalTrainer(cfg, data);
    for (let i = 0; i < 37; i++) b.step();
    const bytes = encodeCheckpoint({
      format: 'aevb-checkpoint',
      version: 1,
      config: cfg,
      step: b.state.step,
      samplesSeen: b.state.samplesSeen,
      params: b.state.params,
      optimizer: { kind: 'adam', slots: b.state.slots },
      data: { name: 't', n: 1000, d: 784, fingerprint: '0' },
      createdAt: '',
    });
    const c = decodeCheckpoint(bytes, 'memory');
    const r = new LocalTrainer(cfg, data, { params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen });
    for (let i = 37; i < 80; i++) r.step();
    expect(bytesOf(r.state.params).equals(bytesOf(a.state.params))).toBe(true);
    [a, b, r].forEach((t) => t.dispose());
  });
});
