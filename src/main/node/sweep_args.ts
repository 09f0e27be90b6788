/**
 * The command line of `npm run sweep`: train flags whose values may be comma lists, crossed into
 * one training run per combination, plus the sweep's own flags.
 *
 *   npm run sweep -- --latent 3,5,10,20,200 --algorithm aevb,wake-sleep --samples 3e6 --out runs/fig2
 *
 * Generic over `npm run train`'s flags: a flag the sweep does not know is handed to the train
 * parser (cli_args.ts) as it is, one value at a time, so every train flag (one added later too)
 * can be swept and is checked exactly as `npm run train` checks it. The sweep's own flags:
 *   --out DIR        the sweep directory (required: the same command resumes it)
 *   --samples N      budget: N training samples seen per run, rounded up to whole epochs
 *                    (train's --samples, the ε samples per datapoint L, is --mc-samples here)
 *   --parallel P     runs training at once (default: cores / workers per run)
 *   --workers N      workers per run (default 1)
 *   --quiet          no live progress block (plain lines only)
 * Layer lists (--hidden, --activation): the comma separates runs, as for every flag; within one run
 * the layers are separated by `/` (--hidden 500,512/256 is two runs: one layer of 500, and 512 then
 * 256), which the run's train flags then spell with commas (--hidden 512,256).
 * This file only parses; sweep_plan.ts turns the request into runs.
 */
import os from 'node:os';
import { AevbError, configError } from '../../shared/errors.ts';
import { parseNumber } from './cli_args.ts';
import { CONFIG_FIELDS } from '../../shared/training/config_fields.ts';

/** One swept flag and its values, in the order given. */
export interface SweepAxis {
  /** The flag as the user wrote it (without --), e.g. latent, mc-samples. */
  flag: string;
  values: string[];
}

export interface SweepRequest {
  help: boolean;
  out: string;
  /** Flags with more than one value: the runs are their cartesian product (first flag outermost). */
  axes: SweepAxis[];
  /** Train flags with one value (or none: boolean flags), as train argv, the same for every run. */
  fixed: string[];
  /** Training budget: samples seen per run (rounded up to whole epochs), or null (train's --epochs). */
  budgetSamples: number | null;
  parallel: number;
  /** Explicit --parallel? (otherwise: cores / workers per run, at most the number of runs). */
  parallelGiven: boolean;
  workersPerRun: number;
  quiet: boolean;
}

export const SWEEP_HELP = `aevb sweep: many trainings at once, one per combination of the listed values.

Usage: npm run sweep -- [train flags, values as comma lists] --out DIR [sweep flags]

  e.g. npm run sweep -- --latent 3,5,10,20,200 --algorithm aevb,wake-sleep --samples 3e6 --eval-at log:5 --out runs/fig2

Any flag of npm run train (see npm run train -- --help) may take a comma list (--latent 3,5,10,
--seed 1,2,3, --lr 0.01,0.02, --optimizer adagrad,adam, …); the runs are every combination.
Deeper MLPs: a run's layers are separated by / (--hidden 500,512/256 is one run with one hidden
layer of 500 and one with 512 then 256; --activation tanh,relu/tanh likewise).
Each run writes DIR/<name>/ (metrics.jsonl, checkpoint.aevb, decoder/) exactly as
npm run train -- <its flags> --workers N --out DIR/<name> would; DIR/sweep.json lists the runs,
their full configs, the train command of each and their status.

Sweep flags
  --out DIR             the sweep directory (required). The same command again resumes it: done runs
                        are skipped, stopped runs continue from their checkpoints
  --samples N           budget: N training samples seen per run (e.g. 3e6), rounded up to whole epochs;
                        or give --epochs E. (Train's --samples, ε samples per datapoint, is --mc-samples L here.)
  --mc-samples L        samples of ε per datapoint (train's --samples); may be a list
  --parallel P          runs training at once (default: cores ÷ workers per run)
  --workers N           worker threads per run (default 1). A run's result depends on N only through
                        float rounding; the same N gives bit-equal repeats
  --quiet               no live progress lines (one line per run in a terminal); plain lines only
  -h, --help            this text

Ctrl-C or SIGTERM: every running run saves its current step; start the same command again to go on.
Exit code: 0 all runs done, 1 some failed (the others still ran), 2 a bad command, 130/143 stopped.
`;

/** Train flags whose values are paths: never split at commas (a path may hold one). */
const PATH_FLAGS = new Set(['data', 'labels']);
/** Train flags whose one run's value is a list of layers, written with `/` in a sweep (train's comma). */
export const LAYER_FLAGS: ReadonlySet<string> = new Set(CONFIG_FIELDS.filter((r) => r.type === 'layers' && r.cli).map((r) => r.cli!.flag));
/**
 * At most this many runs in one sweep. Each run is a directory, a Trainer and a line of sweep.json;
 * the paper's Figure 2 takes 12. A list that multiplies out to a million runs is a typo, and
 * planning it would take minutes and gigabytes before a single line is printed.
 */
export const MAX_SWEEP_RUNS = 1000;

/** Train flags that make no sense per run in a sweep, and what to do instead. */
const REFUSED: Record<string, string> = {
  resume: 'A sweep resumes by running the same command again (with the same --out).',
};

/** `--flag value`, `--flag=value`, or a bare `--flag` (a switch, when no value follows). */
function tokenize(argv: string[]): Array<{ flag: string; value: string | undefined }> {
  const out: Array<{ flag: string; value: string | undefined }> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h') {
      out.push({ flag: 'help', value: undefined });
      continue;
    }
    if (!a.startsWith('--') || a === '--') {
      throw new AevbError(
        'CONFIG',
        `Unexpected argument ${JSON.stringify(a)}: a sweep takes only flags (--name value).`,
        'Run npm run sweep -- --help for the usage.',
      );
    }
    const eq = a.indexOf('=');
    if (eq > 0) {
      out.push({ flag: a.slice(2, eq), value: a.slice(eq + 1) });
      continue;
    }
    // A following token that is not a flag is this flag's value (negative numbers included).
    const next = argv[i + 1];
    out.push({ flag: a.slice(2), value: next !== undefined && !next.startsWith('--') && next !== '-h' ? argv[++i] : undefined });
  }
  return out;
}

function splitList(flag: string, raw: string): string[] {
  const values = raw.split(',');
  if (values.some((v) => v.trim() === '')) {
    throw configError(
      flag,
      `got ${JSON.stringify(raw)}, a list with an empty item`,
      `Pass --${flag} as values separated by commas, e.g. --${flag} 3,5,10.`,
    );
  }
  const dup = values.find((v, i) => values.indexOf(v) !== i);
  if (dup !== undefined) {
    throw configError(flag, `lists ${dup} twice (${raw}); two runs would be the same`, `List each value once.`);
  }
  return values;
}

/** A run's layer list, `/`-separated in the sweep, as train's comma list. */
function layerValue(flag: string, v: string): string {
  const layers = v.split('/');
  if (layers.some((l) => l.trim() === '')) {
    throw configError(
      flag,
      `got ${JSON.stringify(v)}, a layer list with an empty item`,
      `In a sweep, separate one run's layers with / and the runs with commas, e.g. --${flag} ${flag === 'hidden' ? '500,512/256' : 'tanh,relu/tanh'}.`,
    );
  }
  return layers.join(',');
}

export function parseSweep(argv: string[], cores = os.availableParallelism()): SweepRequest {
  const seen = new Set<string>();
  const axes: SweepAxis[] = [];
  const fixed: string[] = [];
  let out: string | undefined,
    budgetSamples: number | null = null,
    parallel: number | undefined,
    workersPerRun = 1;
  let help = false,
    quiet = false,
    epochsGiven = false;
  const need = (flag: string, value: string | undefined, what: string): string => {
    if (value === undefined || value.trim() === '') throw configError(flag, 'was given without a value', `Pass --${flag} ${what}.`);
    return value;
  };
  for (const { flag, value } of tokenize(argv)) {
    if (flag === 'help') {
      help = true;
      continue;
    }
    if (seen.has(flag)) {
      throw configError(flag, 'was given twice', `Give it once, with its values as one comma list: --${flag} a,b,c.`);
    }
    seen.add(flag);
    // Own properties only: `flag in REFUSED` also finds toString, constructor, … of every object.
    if (Object.hasOwn(REFUSED, flag)) throw configError(flag, 'is not a sweep flag', REFUSED[flag]);
    switch (flag) {
      case 'out':
        out = need(flag, value, 'the sweep directory');
        continue;
      case 'quiet':
        if (value !== undefined)
          throw configError(flag, `is a switch and takes no value (got ${JSON.stringify(value)})`, 'Pass --quiet alone.');
        quiet = true;
        continue;
      case 'samples': {
        budgetSamples = parseNumber(flag, need(flag, value, 'the training samples per run, e.g. 3e6'), true);
        if (budgetSamples < 1)
          throw configError(flag, `is ${budgetSamples}; the budget must be at least 1 sample`, 'Pass e.g. --samples 3e6.');
        continue;
      }
      case 'parallel': {
        parallel = parseNumber(flag, need(flag, value, 'the number of runs at once'), true);
        if (parallel < 1 || parallel > 1024)
          throw configError(flag, `is ${parallel}; it must be from 1 to 1024`, `Pass e.g. --parallel ${cores}.`);
        continue;
      }
      case 'workers': {
        const v = need(flag, value, 'the worker threads per run');
        if (v === 'auto') {
          throw configError(
            flag,
            'is auto, which measures the fastest count for one run alone; in a sweep the runs share the cores',
            'Pass --workers N (worker threads per run; default 1), and --parallel P for the runs at once.',
          );
        }
        workersPerRun = parseNumber(flag, v, true);
        if (workersPerRun < 1 || workersPerRun > 256)
          throw configError(flag, `is ${workersPerRun}; it must be from 1 to 256`, 'Pass e.g. --workers 1.');
        continue;
      }
    }
    // A train flag: ε samples under its sweep name; epochs noted against the sample budget.
    const trainFlag = flag === 'mc-samples' ? 'samples' : flag;
    if (flag === 'epochs') epochsGiven = true;
    if (value === undefined) {
      fixed.push(`--${trainFlag}`);
      continue;
    }
    let values = PATH_FLAGS.has(flag) ? [value] : splitList(flag, value);
    // One run's layer list: 512/256 → train's 512,256.
    if (LAYER_FLAGS.has(flag)) values = values.map((v) => layerValue(flag, v));
    if (values.length === 1) fixed.push(`--${trainFlag}`, values[0]);
    else axes.push({ flag, values });
  }
  const runs = axes.reduce((n, a) => n * a.values.length, 1);
  if (runs > MAX_SWEEP_RUNS) {
    throw configError(
      axes.map((a) => a.flag).join(', '),
      `lists ${axes.map((a) => a.values.length).join(' × ')} = ${runs.toLocaleString('en-US')} combinations; a sweep runs at most ${MAX_SWEEP_RUNS.toLocaleString('en-US')}`,
      'Shorten the lists, or split the sweep into several with their own --out.',
    );
  }
  if (help) return { help, out: out ?? '', axes, fixed, budgetSamples, parallel: 1, parallelGiven: false, workersPerRun, quiet };
  if (out === undefined) {
    throw configError(
      'out',
      'is missing: a sweep needs its directory',
      'Pass --out DIR (e.g. --out runs/fig2); the same command with the same --out resumes it.',
    );
  }
  if (budgetSamples !== null && epochsGiven) {
    throw configError(
      'samples',
      'and --epochs were both given: two budgets',
      'Give one: --samples N (samples seen per run) or --epochs E.',
    );
  }
  const byDefault = Math.max(1, Math.floor(cores / workersPerRun));
  return {
    help,
    out,
    axes,
    fixed,
    budgetSamples,
    parallel: parallel ?? byDefault,
    parallelGiven: parallel !== undefined,
    workersPerRun,
    quiet,
  };
}

/** The flag as train's parser knows it (the sweep calls train's --samples --mc-samples). */
export function trainFlagOf(flag: string): string {
  return flag === 'mc-samples' ? 'samples' : flag;
}
