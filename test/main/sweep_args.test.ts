/**
 * The sweep's command line: comma lists crossed into runs, names, the budget in samples turned
 * into whole epochs, and bad flags refused before anything starts, each with the flag and the fix.
 */
import { describe, expect, it } from 'vitest';
import { parseSweep } from '../../src/main/node/sweep_args.ts';
import { planSweep, sharedLoader, trainCommand } from '../../src/main/node/sweep_plan.ts';

const load = sharedLoader(); // the embedded digits: 9,000 training images

describe('sweep flags', () => {
  it('crosses the lists, first flag outermost; single values and switches go to every run', () => {
    const r = parseSweep(['--latent', '3,5', '--seed', '1,2,3', '--hidden', '8', '--binarize', '--out', 'o'], 16);
    expect(r.axes).toEqual([
      { flag: 'latent', values: ['3', '5'] },
      { flag: 'seed', values: ['1', '2', '3'] },
    ]);
    expect(r.fixed).toEqual(['--hidden', '8', '--binarize']);
    expect(r.parallel).toBe(16);
    expect(r.workersPerRun).toBe(1);
    const runs = planSweep(r, load);
    expect(runs.map((x) => x.name)).toEqual(['J3-seed1', 'J3-seed2', 'J3-seed3', 'J5-seed1', 'J5-seed2', 'J5-seed3']);
    expect(runs[4].config).toMatchObject({ latent: 5, seed: 2, hidden: 8, binarize: true, inputSize: 784 });
    expect(runs[4].req.out).toBe('o/J5-seed2');
    expect(runs[4].req.workers).toBe(1);
    expect(trainCommand(runs[4], 'o')).toBe('npm run train -- --hidden 8 --binarize --latent 5 --seed 2 --workers 1 --out o/J5-seed2');
  });

  it("any train flag passes through, one value per run: --algorithm aevb,wake-sleep becomes two runs' --algorithm", () => {
    // Parsed only (the field is another part of issue 10); train's parser checks it per run.
    const r = parseSweep(['--latent', '3,20', '--algorithm', 'aevb,wake-sleep', '--samples', '3e6', '--out', 'runs/fig2']);
    expect(r.axes).toEqual([
      { flag: 'latent', values: ['3', '20'] },
      { flag: 'algorithm', values: ['aevb', 'wake-sleep'] },
    ]);
    expect(r.budgetSamples).toBe(3e6);
  });

  it("names runs by the paper's letters and the values that are words", () => {
    const runs = planSweep(
      parseSweep([
        '--latent',
        '2,20',
        '--activation',
        'tanh,relu',
        '--lr',
        '0.01,1e-3',
        '--mc-samples',
        '1,2',
        '--estimator',
        'A,B',
        '--out',
        'o',
      ]),
      load,
    );
    expect(runs[0].name).toBe('J2-tanh-lr0.01-L1-estA');
    expect(runs.at(-1)!.name).toBe('J20-relu-lr1e-3-L2-estB');
    expect(runs.at(-1)!.config).toMatchObject({ samples: 2, estimator: 'B', lr: 1e-3, activation: 'relu' });
    expect(runs).toHaveLength(32);
  });

  it("sweeps over layer lists: runs by comma, one run's layers by /", () => {
    const r = parseSweep(['--hidden', '500,512/256', '--activation', 'tanh,relu/tanh', '--kernels', 'aevb,tfjs', '--out', 'o']);
    expect(r.axes).toEqual([
      { flag: 'hidden', values: ['500', '512,256'] },
      { flag: 'activation', values: ['tanh', 'relu,tanh'] },
      { flag: 'kernels', values: ['aevb', 'tfjs'] },
    ]);
    // 500 with relu,tanh is two activations for one layer: refused by train's parser, naming the run.
    expect(() => planSweep(r, load)).toThrow(
      /In the run --hidden 500 --activation relu,tanh --kernels aevb: .*2 activations for 1 hidden layer/,
    );
    const runs = planSweep(parseSweep(['--hidden', '500,512/256', '--activation', 'relu', '--kernels', 'aevb,tfjs', '--out', 'o']), load);
    expect(runs.map((x) => x.name)).toEqual(['H500-aevb', 'H500-tfjs', 'H512x256-aevb', 'H512x256-tfjs']);
    expect(runs[2].config).toMatchObject({ hidden: [512, 256], activation: 'relu' });
    expect(runs[3].req.kernels).toBe('tfjs');
    expect(trainCommand(runs[2], 'o')).toBe(
      'npm run train -- --activation relu --hidden 512,256 --kernels aevb --workers 1 --out o/H512x256-aevb',
    );
    const one = planSweep(parseSweep(['--hidden', '64/32', '--activation', 'relu/tanh', '--out', 'o']), load);
    expect(one[0].config).toMatchObject({ hidden: [64, 32], activation: ['relu', 'tanh'] });
    expect(() => parseSweep(['--hidden', '500,512/', '--out', 'o'])).toThrow(
      /"hidden" got "512\/", a layer list with an empty item.*500,512\/256/,
    );
  });

  it('--samples N becomes whole epochs of ⌊n/M⌋·M samples, rounded up, per run', () => {
    const runs = planSweep(parseSweep(['--batch', '100,128', '--samples', '3e6', '--out', 'o']), load);
    // M = 100: 9,000 a epoch → 334 epochs = 3,006,000 samples; M = 128: 70·128 = 8,960 → 335 epochs.
    expect(runs.map((r) => [r.name, r.config.epochs, r.totalSamples])).toEqual([
      ['M100', 334, 3_006_000],
      ['M128', 335, 3_001_600],
    ]);
    expect(runs[0].trainArgs).toContain('334');
    const exact = planSweep(parseSweep(['--samples', '18000', '--out', 'o']), load);
    expect(exact.map((r) => [r.name, r.config.epochs])).toEqual([['run', 2]]);
  });

  const bad: Array<[string[], RegExp]> = [
    [['--latent', '3,5'], /"out" is missing.*Pass --out DIR/],
    [['--latent', '3,,5', '--out', 'o'], /"latent" got "3,,5", a list with an empty item/],
    [['--latent', '3,3', '--out', 'o'], /"latent" lists 3 twice/],
    [['--latent', '3', '--latent', '5', '--out', 'o'], /"latent" was given twice.*one comma list/],
    [['--resume', 'x', '--out', 'o'], /"resume" is not a sweep flag.*same command again/],
    [['--workers', 'auto', '--out', 'o'], /"workers" is auto.*--workers N/],
    [['--parallel', '0', '--out', 'o'], /"parallel" is 0/],
    [['--samples', '3e6', '--epochs', '10', '--out', 'o'], /two budgets.*Give one/],
    [['--samples', '0', '--out', 'o'], /"samples" is 0/],
    [['--samples', 'many', '--out', 'o'], /"samples" got "many"/],
    [['latent', '3', '--out', 'o'], /Unexpected argument "latent"/],
  ];
  for (const [argv, msg] of bad) {
    it(`refuses ${argv.join(' ')}`, () => expect(() => parseSweep(argv)).toThrow(msg));
  }

  it('a bad value in one list is refused before anything runs, naming the run, the flag and the fix', () => {
    expect(() => planSweep(parseSweep(['--latent', '3,0', '--out', 'o']), load)).toThrow(
      /In the run --latent 0: Config field "latent" is 0.*Pass --latent/,
    );
    expect(() => planSweep(parseSweep(['--activation', 'tanh,sigmoid', '--out', 'o']), load)).toThrow(
      /--activation sigmoid.*one of tanh, relu, linear/,
    );
    expect(() => planSweep(parseSweep(['--bogus', '1,2', '--out', 'o']), load)).toThrow(/Unknown option '--bogus'/);
    // One setting written two ways is one run, not two.
    expect(() => planSweep(parseSweep(['--estimator', 'a,A', '--out', 'o']), load)).toThrow(/runs esta and estA would be the same run/);
  });
});
