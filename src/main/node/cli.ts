/**
 * `npm run train -- [flags]`: the Node command line. Parses flags, runs the training, and turns
 * our errors into one readable line (and exit code 2) instead of a stack trace. A run stopped by
 * Ctrl-C exits 130, by SIGTERM 143 (128 + the signal), after saving its current step.
 */
import { HELP, parseCli } from './cli_args.ts';
import { runMain } from './cli_main.ts';
import { runTraining } from './train_run.ts';

async function main(argv: string[]): Promise<number> {
  const req = parseCli(argv);
  if (req.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const result = await runTraining(req);
  return result.interrupted === 'SIGTERM' ? 143 : result.interrupted === 'SIGINT' ? 130 : 0;
}

// Errors: one line and exit 2 (ours and file-system errors), never a stack trace (cli_main.ts).
await runMain(main);
