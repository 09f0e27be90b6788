/**
 * `npm run variance -- --run DIR [--points K] [--out DIR2] [--draws R] [--batch M] [--seed S] [--samples 1,2,5]`:
 * the estimator-variance study (variance_study.ts). Our errors become one line and exit code 2.
 */
import { configError } from '../../shared/errors.ts';
import { runMain } from './cli_main.ts';
import { numberFlag, parseFlags, parseNumber, type FlagSpec } from './flags.ts';
import { runVarianceStudy } from './variance_study.ts';

export const VARIANCE_HELP = `npm run variance -- --run DIR [flags]: the variance of the minibatch gradient under
estimators A and B (L = 1, 2, 5) at several points of a run; writes variance.json and variance.md

  --run DIR             a run directory of npm run train (its checkpoint.aevb)
  --points K            points of the run on a log grid of steps, the last the checkpoint (default 4);
                        the earlier ones are retrained from the run's config and seed on one thread
  --out DIR2            where to write variance.json and variance.md (default DIR)
  --draws R             independent minibatches and ε draws per variance (default 200)
  --batch M             minibatch size (default 100)
  --samples L,L,…       values of L (default 1,2,5)
  --seed S              seed of the study's draws (default 1)
  --data SRC            mnist (default) or the IDX image file the run was trained on
  --test-fraction F     with --data FILE, as in training (default 0.1)
  -h, --help            this text
`;

const VARIANCE_FLAGS: FlagSpec = {
  help: { type: 'boolean', short: 'h' },
  run: { type: 'string' },
  out: { type: 'string' },
  points: { type: 'string' },
  draws: { type: 'string' },
  batch: { type: 'string' },
  samples: { type: 'string' },
  seed: { type: 'string' },
  data: { type: 'string' },
  'test-fraction': { type: 'string' },
};

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, VARIANCE_FLAGS, 'variance');
  if (values.help) {
    process.stdout.write(VARIANCE_HELP);
    return 0;
  }
  if (!values.run) throw configError('run', 'is missing', 'Pass --run DIR, the --out directory of a run of npm run train.');
  for (const flag of ['run', 'out', 'data'] as const) {
    if (typeof values[flag] === 'string' && (values[flag] as string).trim() === '')
      throw configError(flag, 'was given an empty path', `Pass --${flag} a path, or leave it out.`);
  }
  const whole = (flag: string, min: number, max: number) => numberFlag(values, flag, { integer: true, min, max });
  const samples =
    typeof values.samples === 'string'
      ? values.samples.split(',').map((s) => {
          const L = parseNumber('samples', s, true);
          if (L < 1 || L > 1000)
            throw configError('samples', `lists ${L}; each L must be a whole number from 1 to 1,000`, 'Pass e.g. --samples 1,2,5.');
          return L;
        })
      : undefined;
  let testFraction: number | undefined;
  if (values['test-fraction'] !== undefined) {
    if ((values.data ?? 'mnist') === 'mnist')
      throw configError(
        'test-fraction',
        'was given for the embedded MNIST, whose split is fixed',
        'Pass --test-fraction only with --data FILE.',
      );
    testFraction = parseNumber('test-fraction', values['test-fraction'] as string, false);
    if (!(testFraction > 0 && testFraction <= 0.5))
      throw configError(
        'test-fraction',
        `is ${testFraction}; it must be > 0 and ≤ 0.5`,
        'Pass the --test-fraction the run was trained with.',
      );
  }
  await runVarianceStudy({
    run: values.run as string,
    out: values.out as string | undefined,
    points: whole('points', 1, 100),
    draws: whole('draws', 2, 1_000_000),
    batch: whole('batch', 1, 1_000_000),
    seed: whole('seed', 0, 0xffffffff),
    samples,
    data: values.data as string | undefined,
    testFraction,
  });
  return 0;
}

await runMain(main);
