/**
 * `npm run figures -- DIR [--out DIR/figures]`: Figures 2, 4, 5 and the variance figure of a
 * sweep, as SVG and PNG (figures_run.ts; docs/figures.md). Our errors print as one line, exit 2.
 */
import { parseArgs } from 'node:util';
import { configError, isAevbError } from '../../shared/errors.ts';
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

function count(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isInteger(n) || n < min || n > max) {
    throw configError(flag, `is ${JSON.stringify(v)}; it must be a whole number from ${min} to ${max}`, `Pass --${flag} with a number in that range.`);
  }
  return n;
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: {
      help: { type: 'boolean', short: 'h' }, out: { type: 'string' }, manifold: { type: 'string' }, samples: { type: 'string' },
    } });
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message} Run npm run figures -- --help.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) { process.stdout.write(FIGURES_HELP); return 0; }
  if (positionals.length !== 1) {
    process.stderr.write(`error: pass exactly one sweep directory (got ${positionals.length}). Run npm run figures -- --help.\n`);
    return 2;
  }
  try {
    await writeFigures({
      dir: positionals[0], out: values.out as string | undefined,
      manifold: count('manifold', values.manifold as string | undefined, 2, 60), samples: count('samples', values.samples as string | undefined, 1, 400),
    });
    return 0;
  } catch (e) {
    if (isAevbError(e)) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
