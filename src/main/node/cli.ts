/**
 * `npm run train -- [flags]`: the Node command line. Parses flags, runs the training, and turns
 * our errors into one readable line (and exit code 2) instead of a stack trace. A run stopped by
 * Ctrl-C exits 130, by SIGTERM 143 (128 + the signal), after saving its current step.
 */
import { isAevbError } from '../../shared/errors.ts';
import { HELP, parseCli } from './cli_args.ts';
import { isErrno } from './file_errors.ts';
import { runTraining } from './train_run.ts';

async function main(argv: string[]): Promise<number> {
  try {
    const req = parseCli(argv);
    if (req.help) { process.stdout.write(HELP); return 0; }
    const result = await runTraining(req);
    return result.interrupted === 'SIGTERM' ? 143 : result.interrupted === 'SIGINT' ? 130 : 0;
  } catch (e) {
    if (isAevbError(e)) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    // A file-system error we did not foresee still gets one line (with its path), not a stack trace.
    if (isErrno(e)) { process.stderr.write(`error: ${e.message}. Check the path and the disk.\n`); return 2; }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
