/**
 * The --eval-at flag's text, `epochs`, `log` or `log:P`, to the library's evaluateAt schedule and
 * back (the sweep's summary writes it). CLI parsing: the library takes the schedule as an object.
 */
import { configError } from '../../shared/errors.ts';
import { DEFAULT_PER_DECADE, EPOCHS_SCHEDULE, MAX_PER_DECADE, type EvalSchedule } from '../../shared/training/eval_schedule.ts';

/** `epochs`, `log` or `log:P`; an error names the flag (the CLI words it as --eval-at). */
export function parseEvalSchedule(raw: string, flag = 'eval-at'): EvalSchedule {
  if (raw === 'epochs') return EPOCHS_SCHEDULE;
  const m = /^log(?::(\d+))?$/.exec(raw);
  const p = m ? Number(m[1] ?? DEFAULT_PER_DECADE) : NaN;
  if (!m || !(p >= 1 && p <= MAX_PER_DECADE)) {
    throw configError(
      flag,
      `is ${JSON.stringify(raw)}; it must be epochs, log or log:P with P from 1 to ${MAX_PER_DECADE} points per decade`,
      `Use epochs (after every epoch) or e.g. log:${DEFAULT_PER_DECADE} (a log grid of samples seen, as in Figure 2).`,
      { id: 'eval-schedule', value: DEFAULT_PER_DECADE },
    );
  }
  return { kind: 'log', perDecade: p };
}

export function formatEvalSchedule(s: EvalSchedule): string {
  return s.kind === 'epochs' ? 'epochs' : `log:${s.perDecade}`;
}
