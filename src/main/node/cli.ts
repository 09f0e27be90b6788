/**
 * `npm run train -- [flags]`: the Node command line. Parses flags, runs the training, and turns
 * our errors into one readable line (and a non-zero exit) instead of a stack trace.
 */
import { isAevbError } from '../../shared/errors.ts';
import { HELP, parseCli } from './cli_args.ts';
import { runTraining } from './train_run.ts';

async function main(argv: string[]): Promise<number> {
  try {
    const req = parseCli(argv);
    if (req.help) { process.stdout.write(HELP); return 0; }
    const result = await runTraining(req);
    return result.interrupted ? 130 : 0;
  } catch (e) {
    if (isAevbError(e)) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
