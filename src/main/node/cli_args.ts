/**
 * The command line of `npm run train`: flags → a checked request. Every flag's value is parsed
 * and range-checked here or by resolveConfig, so a typo fails before any work starts, with the
 * flag's name and the fix. The config fields' flags, their parsing and their help come from the
 * field table (config_fields.ts); the flags of the command itself (data, output, workers) are here.
 */
import { resolveConfig, type TrainConfig } from '../../shared/training/config.ts';
import { CONFIG_FIELDS, helpLines, type FieldRow, type HelpGroup } from '../../shared/training/config_fields.ts';
import { configError } from '../../shared/errors.ts';
import type { KernelChoice } from '../../shared/runtime/protocol.ts';
import { parseFlags, parseNumber, type FlagSpec } from './flags.ts';
import { DEFAULT_MAX_SKIPPED_STEPS } from './divergence.ts';
import { DEFAULT_TEST_FRACTION, MAX_TEST_FRACTION } from '../../shared/data/mnist_split.ts';
import { DEFAULT_PER_DECADE, EPOCHS_SCHEDULE, type EvalSchedule } from '../../shared/training/eval_schedule.ts';
import { parseEvalSchedule } from './eval_at_flag.ts';
import { MAX_WORKERS } from '../api_checks.ts';

const PATH_FLAGS = ['data', 'labels', 'out', 'resume'] as const;
const PATH_FLAG_WHAT: Record<(typeof PATH_FLAGS)[number], string> = {
  data: 'mnist or the path of an IDX images file',
  labels: 'the path of an IDX labels file',
  out: 'the directory to write the run to',
  resume: 'the --out directory of an earlier run',
};

export interface CliRequest {
  help: boolean;
  /** Config fields the user set explicitly (the rest come from defaults or the checkpoint). */
  explicit: Partial<TrainConfig>;
  /** 'mnist' for the embedded digits, or a path to an IDX image file. */
  data: string;
  labels?: string;
  /** Share of a user's IDX file held out as the test set. */
  testFraction: number;
  out?: string;
  resume?: string;
  /** Stop after this many consecutive skipped (non-finite) steps. */
  maxSkippedSteps: number;
  /** The step's kernels (--kernels); undefined: the trainer's default. */
  kernels?: KernelChoice;
  /** Workers training: a count, or 'auto' (the default): measured, see worker_count_tuner.ts. */
  workers: number | 'auto';
  /** When to evaluate, checkpoint and write a metrics line: every epoch, or a log grid of samples seen. */
  evalAt: EvalSchedule;
  quiet: boolean;
}

/** Flags of the train command that are not config fields, as help lines (the table's rows add theirs). */
const OWN_HELP: Readonly<Record<HelpGroup, { before: string; after: string }>> = {
  data: {
    before: `  --data SRC            mnist (the embedded 10,000 digits; default) or a path to an IDX image file (.gz ok)
  --labels FILE         IDX labels for --data FILE (optional; used to colour plots)
  --test-fraction F     share of --data FILE held out for testing, > 0 and ≤ 0.5 (default 0.1; every k-th image)
`,
    after: '',
  },
  model: { before: '', after: '' },
  training: { before: '', after: '' },
  evaluation: {
    before: '',
    after: `  --eval-at epochs|log[:P]  evaluate, save the checkpoint and write a metrics line after every epoch
                        (default), or on a log grid of training samples seen, P points per decade
                        (default ${DEFAULT_PER_DECADE}; rounded up to whole minibatches), as in Figure 2
  --out DIR             write DIR/metrics.jsonl, DIR/checkpoint.aevb and DIR/decoder/ (default runs/<time>);
                        one run at a time owns DIR (DIR/.lock)
  --resume DIR|FILE     continue the run saved in DIR (writes there unless --out is given; that --out must
                        be empty or hold an earlier point of the same run), or start from a
                        model.safetensors (from npm run export or PyTorch: docs/safetensors.md)
  --max-skipped-steps N  stop (diverged) after N steps in a row with a non-finite gradient (default ${DEFAULT_MAX_SKIPPED_STEPS})
  --kernels K           aevb (default: aevb's own WASM SIMD kernels) | tfjs (TensorFlow.js, the reference)
  --workers N|auto      worker threads training the model together (default auto: one per core, and
                        the count that measures fastest trains; re-checked every minute). Any count
                        gives the same model up to float rounding; give N for bit-exact repeats
  --quiet               no progress bar
  -h, --help            this text
`,
  },
};

const GROUP_TITLES: Readonly<Record<HelpGroup, string>> = {
  data: 'Data',
  model: 'Model',
  training: 'Training',
  evaluation: 'Evaluation and output',
};

/** The rows of the field table that have a flag. */
const FLAG_ROWS = CONFIG_FIELDS.filter((r) => r.cli !== undefined);

/** A config field's help: `  --flag VALUE` in a column of 22, its first line beside it, the rest below. */
function fieldHelp(r: FieldRow): string {
  const left = `--${r.cli!.flag}${r.cli!.value ? ` ${r.cli!.value}` : ''}`;
  const [first, ...rest] = helpLines(r);
  const lines = [`  ${left.length >= 22 ? `${left}  ` : left.padEnd(22)}${first}`, ...rest.map((l) => `${' '.repeat(24)}${l}`)];
  return `${lines.join('\n')}\n`;
}

/** One section of the help: its title, the command's own flags, the fields' flags in the table's order. */
const section = (g: HelpGroup) =>
  `${GROUP_TITLES[g]}\n${OWN_HELP[g].before}${FLAG_ROWS.filter((r) => r.group === g)
    .map(fieldHelp)
    .join('')}${OWN_HELP[g].after}`;

export const HELP = `aevb: train a variational autoencoder by AEVB (Kingma & Welling, 2013), or by wake-sleep, on the CPU.

Usage: npm run train -- [flags]

${(Object.keys(GROUP_TITLES) as HelpGroup[]).map(section).join('')}`;

/**
 * --hidden and --activation: one value, or a comma list with one per hidden layer. One value stays a
 * value (the paper's model, as before); a list becomes an array that resolveConfig checks (count, range).
 */
function parseLayerList(r: FieldRow, raw: string): number | number[] | string | string[] {
  const flag = r.cli!.flag,
    numeric = r.choices === undefined;
  const items = raw.split(',');
  if (items.some((v) => v.trim() === '')) {
    throw configError(
      r.field,
      `got ${JSON.stringify(raw)}, a list with an empty item`,
      `Pass --${flag} as one value or one per hidden layer separated by commas, e.g. --${flag} ${numeric ? '512,256' : 'relu,tanh'}.`,
    );
  }
  const values = numeric ? items.map((v) => parseNumber(flag, v.trim(), true)) : items.map((v) => v.trim());
  return values.length === 1 ? values[0] : (values as number[] | string[]);
}

const KERNELS: readonly KernelChoice[] = ['aevb', 'tfjs'];

export { parseNumber } from './flags.ts';

export function parseCli(rawArgv: string[]): CliRequest {
  const options = {
    help: { type: 'boolean', short: 'h' },
    data: { type: 'string' },
    labels: { type: 'string' },
    'test-fraction': { type: 'string' },
    kernels: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'string' },
    workers: { type: 'string' },
    'eval-at': { type: 'string' },
    'max-skipped-steps': { type: 'string' },
    quiet: { type: 'boolean' },
    // The config fields' flags, from the field table: a switch for a 'bool' field, a value for the rest.
    ...Object.fromEntries(FLAG_ROWS.map((r) => [r.cli!.flag, { type: r.type === 'bool' ? 'boolean' : 'string' }])),
  } as const;
  const { values } = parseFlags(rawArgv, options as FlagSpec, 'train');
  const explicit: Partial<TrainConfig> = {};
  const set = explicit as Record<string, unknown>;
  for (const r of FLAG_ROWS) {
    const flag = r.cli!.flag,
      v = values[flag];
    if (v === undefined) continue;
    if (r.type === 'bool') {
      if (v) set[r.field] = !r.default; // --binarize turns on, --no-sigmoid-mean turns off
    } else if (r.type === 'layers') set[r.field] = parseLayerList(r, v as string);
    else if (r.type === 'int' || r.type === 'real') set[r.field] = parseNumber(flag, v as string, r.type === 'int');
    else set[r.field] = r.cli!.upperCase ? (v as string).toUpperCase() : v;
  }
  // Range checks now, on the explicit values over the defaults, so a bad flag fails at once.
  resolveConfig({ ...explicit, ...(explicit.binarize && !explicit.decoder ? { decoder: 'bernoulli' } : {}) });

  // Paths: an empty value (`--resume ""`, an unset shell variable) must not mean "the default".
  for (const flag of PATH_FLAGS) {
    if (typeof values[flag] === 'string' && (values[flag] as string).trim() === '') {
      throw configError(flag, 'was given an empty path', `Pass --${flag} ${PATH_FLAG_WHAT[flag]}, or leave the flag out.`);
    }
  }
  const onEmbedded = values.data === undefined || values.data === 'mnist';
  let testFraction = DEFAULT_TEST_FRACTION;
  if (values['test-fraction'] !== undefined) {
    if (onEmbedded) {
      throw configError(
        'test-fraction',
        'was given for the embedded MNIST, whose split is fixed (9,000 train / 1,000 test)',
        'Pass --test-fraction only with --data FILE.',
      );
    }
    // The one range, the one splitDataset enforces: every k-th sample to test needs k ≥ 2.
    testFraction = parseNumber('test-fraction', values['test-fraction'] as string, false);
    if (!(testFraction > 0 && testFraction <= MAX_TEST_FRACTION)) {
      throw configError(
        'test-fraction',
        `is ${testFraction}; it must be > 0 and ≤ ${MAX_TEST_FRACTION}`,
        'Pass e.g. --test-fraction 0.1 (every 10th sample held out for testing).',
      );
    }
  }
  let workers: number | 'auto' = 'auto';
  if (values.workers !== undefined && values.workers !== 'auto') {
    workers = parseNumber('workers', values.workers as string, true);
    if (workers < 1 || workers > MAX_WORKERS) {
      throw configError(
        'workers',
        `is ${workers}; it must be from 1 to ${MAX_WORKERS}`,
        'Pass --workers N, e.g. the number of cores, or --workers auto.',
      );
    }
  }
  const kernels = values.kernels as KernelChoice | undefined;
  if (kernels !== undefined && !KERNELS.includes(kernels)) {
    throw configError(
      'kernels',
      `is ${JSON.stringify(kernels)}; it must be one of ${KERNELS.join(', ')}`,
      "Pass --kernels aevb (aevb's own kernels, the default) or --kernels tfjs (the TensorFlow.js reference).",
    );
  }
  let maxSkippedSteps = DEFAULT_MAX_SKIPPED_STEPS;
  if (values['max-skipped-steps'] !== undefined) {
    maxSkippedSteps = parseNumber('max-skipped-steps', values['max-skipped-steps'] as string, true);
    if (maxSkippedSteps < 1) {
      throw configError(
        'max-skipped-steps',
        `is ${maxSkippedSteps}; it must be at least 1`,
        `Pass e.g. --max-skipped-steps ${DEFAULT_MAX_SKIPPED_STEPS}.`,
      );
    }
  }
  const evalAt = values['eval-at'] === undefined ? EPOCHS_SCHEDULE : parseEvalSchedule(values['eval-at'] as string);
  if (values.labels && onEmbedded) {
    throw configError('labels', 'was given without --data FILE', 'The embedded MNIST has its labels; pass --labels only with --data FILE.');
  }
  return {
    help: Boolean(values.help),
    explicit,
    data: (values.data as string | undefined) ?? 'mnist',
    labels: values.labels as string | undefined,
    testFraction,
    out: values.out as string | undefined,
    resume: values.resume as string | undefined,
    workers,
    maxSkippedSteps,
    evalAt,
    quiet: Boolean(values.quiet),
    ...(kernels ? { kernels } : {}),
  };
}
