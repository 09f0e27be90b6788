/**
 * `npm run variance -- --run DIR [--points K] [--out DIR2] [--draws R] [--batch M] [--seed S] [--samples 1,2,5]`:
 * the estimator-variance study (variance_study.ts). Our errors become one line and exit code 2.
 */
import { parseArgs } from 'node:util';
import { AevbError, configError, isAevbError } from '../../shared/errors.ts';
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

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw configError(flag, `got ${JSON.stringify(v)}, which is not a whole number`, `Pass --${flag} as a whole number, e.g. 4.`);
  return Number(v);
}

async function main(argv: string[]): Promise<number> {
  try {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({ args: argv, strict: true, options: {
        help: { type: 'boolean', short: 'h' }, run: { type: 'string' }, out: { type: 'string' }, points: { type: 'string' },
        draws: { type: 'string' }, batch: { type: 'string' }, samples: { type: 'string' }, seed: { type: 'string' },
        data: { type: 'string' }, 'test-fraction': { type: 'string' },
      } }));
    } catch (e) {
      throw new AevbError('CONFIG', `${(e as Error).message.replace(/\.$/, '')}.`, 'Run npm run variance -- --help for the flags.');
    }
    if (values.help) { process.stdout.write(VARIANCE_HELP); return 0; }
    if (!values.run) throw configError('run', 'is missing', 'Pass --run DIR, the --out directory of a run of npm run train.');
    const samples = typeof values.samples === 'string' ? values.samples.split(',').map((s) => int('samples', s.trim())!) : undefined;
    await runVarianceStudy({
      run: values.run as string, out: values.out as string | undefined, points: int('points', values.points as string | undefined),
      draws: int('draws', values.draws as string | undefined), batch: int('batch', values.batch as string | undefined),
      seed: int('seed', values.seed as string | undefined), samples, data: values.data as string | undefined,
      testFraction: values['test-fraction'] === undefined ? undefined : Number(values['test-fraction']),
    });
    return 0;
  } catch (e) {
    if (isAevbError(e)) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
