/**
 * `npm run figures -- DIR [--out DIR/figures]`: Figures 2, 4, 5 and the variance figure of a
 * sweep, as SVG and PNG (figures_run.ts; docs/figures.md). Our errors print as one line, exit 2.
 */
import { configError } from '../../shared/errors.ts';
import { runMain } from './cli_main.ts';
import { numberFlag, parseFlags, type FlagSpec } from './flags.ts';
import { writeFigures } from './figures_run.ts';

export const FIGURES_HELP = `npm run figures -- DIR [flags]: the paper's figures from a sweep directory (docs/figures.md)

  DIR                   a sweep directory: DIR/sweep.json and one directory per run (npm run sweep -- --out DIR)
  --out DIR             where the figures go (default DIR/figures)
  --manifold N          Figure 4: an N × N grid of latent points (default 20)
  --samples N           Figure 5: samples per panel, 10 to a row (default 100)
  -h, --help            this text

Writes figure2 (lower bound against samples, AEVB and wake-sleep, one panel per J), figure4 (the 2-D
manifold of each J = 2 run), figure5 (samples for J = 2, 5, 10, 20) and variance (DIR/variance.json),
each as .svg and .png; a figure whose runs are missing is skipped with a line saying so.
`;

const FIGURES_FLAGS: FlagSpec = {
  help: { type: 'boolean', short: 'h' },
  out: { type: 'string' },
  manifold: { type: 'string' },
  samples: { type: 'string' },
};

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, FIGURES_FLAGS, 'figures', true);
  if (values.help) {
    process.stdout.write(FIGURES_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw configError('DIR', `was given ${positionals.length} times; pass exactly one sweep directory`, 'Run npm run figures -- --help.');
  }
  if (positionals[0].trim() === '' || (typeof values.out === 'string' && values.out.trim() === '')) {
    throw configError(positionals[0].trim() === '' ? 'DIR' : 'out', 'was given an empty path', 'Pass a path.');
  }
  await writeFigures({
    dir: positionals[0],
    out: values.out as string | undefined,
    manifold: numberFlag(values, 'manifold', { integer: true, min: 2, max: 60 }),
    samples: numberFlag(values, 'samples', { integer: true, min: 1, max: 400 }),
  });
  return 0;
}

await runMain(main);
