/**
 * `npm run sweep -- [flags]`: many trainings at once (sweep.ts). Our errors become one line and
 * exit code 2; a sweep in which some run failed exits 1 (the other runs still trained); a sweep
 * stopped by Ctrl-C exits 130, by SIGTERM 143, after every running run saved its current step.
 */
import { runMain } from './cli_main.ts';
import { StopSignal, stopOnSignals } from './stop_signal.ts';
import { runSweep } from './sweep.ts';
import { parseSweep, SWEEP_HELP } from './sweep_args.ts';

async function main(argv: string[]): Promise<number> {
  const stop = new StopSignal();
  const off = stopOnSignals(stop);
  try {
    const req = parseSweep(argv);
    if (req.help) {
      process.stdout.write(SWEEP_HELP);
      return 0;
    }
    const result = await runSweep(req, { argv, stop });
    if (result.interrupted) return result.interrupted === 'SIGTERM' ? 143 : 130;
    return result.runs.some((r) => r.status === 'failed') ? 1 : 0;
  } finally {
    off();
  }
}

await runMain(main);
