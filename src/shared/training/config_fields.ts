/**
 * The config-field table: one row per TrainConfig field, with everything every part of aevb needs
 * to know about it. Generated from it:
 *   - DEFAULT_CONFIG and the per-field checks of resolveConfig (config.ts);
 *   - the train command's flags, their parsing and their `--help` lines (src/main/node/cli_args.ts);
 *   - the page's settings form (src/main/app/settings_form.ts) and the address (url_settings.ts);
 *   - the wording of an error about a field, on the CLI (flag) and on the page (label):
 *     src/main/node/cli_words.ts and src/main/app/error_words.ts.
 * Rules between fields (binarize only with the bernoulli decoder, one activation per hidden layer,
 * wake-sleep with estimator B) are code, in config.ts next to the checks this table generates.
 *
 * Adding a setting: a field in TrainConfig (config.ts), a row here, and the code that uses it.
 * Help texts may hold {default} (the default, as text) and {choices} (the choices joined by ' | ',
 * each with its `notes` entry).
 */
import type { TrainConfig } from './config.ts';
import { OPTIMIZER_NAMES, optimizerSpec } from './optimizers.ts';

/** How a field's value is checked. 'layers': one value, or a list with one per hidden layer. */
export type FieldType = 'int' | 'real' | 'enum' | 'bool' | 'layers';

/** Sections of `npm run train -- --help`. */
export type HelpGroup = 'data' | 'model' | 'training' | 'evaluation';

export interface CliSpec {
  /** The flag, without its dashes: `lr` is `--lr`. A 'bool' field's flag sets the opposite of its default. */
  flag: string;
  /** The value's name in the help (`--lr η`); none for a switch. */
  value?: string;
  /** The help text, one string per line ({default}, {choices} filled in). */
  help: readonly string[];
  /** Read the value in upper case (`--estimator b` is B). */
  upperCase?: boolean;
  /** The prefix of a swept value in a sweep's run names (latent 3 → J3: the paper's letters where it has them). */
  short?: string;
}

export interface PageSpec {
  /** 'number' (step 1 or any), 'select' (the choices), 'checkbox', or 'list': text, one value or a comma list. */
  control: 'number' | 'select' | 'checkbox' | 'list';
  /** 'number' only: 1 for whole numbers, 'any' for reals. */
  step?: 1 | 'any';
  /** The control's tooltip. */
  help: string;
  /** 'select': a label per choice, in the order shown (choices without one follow, as they are). */
  options?: Readonly<Record<string, string>>;
  /** 'list': values offered as suggestions. */
  suggest?: readonly string[];
  /** Where in the form (smaller first). */
  order: number;
  /** May change while a run exists. */
  live?: boolean;
}

export interface FieldRow<K extends keyof TrainConfig = keyof TrainConfig> {
  field: K;
  /** Its name for people: the page's label for its control, and in the page's error messages. */
  label: string;
  type: FieldType;
  /** 'int', 'real' and a numeric 'layers' item: the range; `openMin`: min itself is excluded. */
  min?: number;
  max?: number;
  openMin?: boolean;
  /** 'enum' and a text 'layers' item: the allowed values. */
  choices?: readonly string[];
  /** Help-text notes per choice (`adagrad: '(paper)'`), for {choices}. */
  notes?: Readonly<Record<string, string>>;
  default: TrainConfig[K];
  /** What the field is, in one line. */
  doc: string;
  group: HelpGroup;
  /** May differ between a checkpoint and the run that resumes it (checkpoint.ts). */
  resumable?: boolean;
  cli?: CliSpec;
  page?: PageSpec;
  /** Its key in the page's address (#latent=2&…). */
  address?: string;
  /**
   * Its own key in a model.safetensors header (pytorch_state.ts), where it has one besides the header's
   * `config` JSON, which names every field as TrainConfig does (and examples/pytorch reads it so).
   */
  pytorch?: string;
}

/** The choices of the enum fields, written once: config.ts's types (Activation, DecoderKind, …) are these lists' members. */
export const ACTIVATIONS = ['tanh', 'relu', 'linear'] as const;
export const DECODERS = ['bernoulli', 'gaussian'] as const;
export const INITS = ['paper', 'pytorch'] as const;
export const ALGORITHMS = ['aevb', 'wake-sleep'] as const;
export const ESTIMATORS = ['A', 'B'] as const;

const row = <K extends keyof TrainConfig>(r: FieldRow<K>): FieldRow => r as unknown as FieldRow;

/** Every TrainConfig field, in the order of DEFAULT_CONFIG (and of the checks). */
export const CONFIG_FIELDS: readonly FieldRow[] = Object.freeze([
  row({
    field: 'inputSize',
    label: 'Input size D',
    type: 'int',
    min: 1,
    max: 1 << 20,
    default: 784,
    doc: 'D: values per datapoint (784 for 28x28 images); set from the data',
    group: 'data',
  }),
  row({
    field: 'hidden',
    label: 'Hidden units H',
    type: 'layers',
    min: 1,
    max: 8192,
    default: 500,
    doc: 'H: hidden units of each MLP; a list is a deeper MLP, one width per layer from the input on',
    group: 'model',
    cli: {
      flag: 'hidden',
      short: 'H',
      value: 'H[,H…]',
      help: [
        "hidden units per MLP (default {default}: the paper's one layer); a comma list",
        'is a deeper MLP, widths from the input on: 512,256 is D→512→256→J, the decoder',
        'J→256→512→D (1 to 8 layers)',
      ],
    },
    page: {
      control: 'list',
      suggest: ['500', '200', '512,256', '400,200,100'],
      help: 'Units in the hidden layer of the encoder and of the decoder (the paper: one layer of 500); a comma list is a deeper MLP, widths from the input on (512,256: the decoder runs 256 then 512)',
      order: 2,
    },
    address: 'hidden',
  }),
  row({
    field: 'latent',
    label: 'Latent size J',
    type: 'int',
    min: 1,
    max: 1024,
    default: 20,
    doc: 'J: latent dimensions',
    group: 'model',
    cli: { flag: 'latent', short: 'J', value: 'J', help: ['latent dimensions (default {default})'] },
    page: { control: 'number', step: 1, help: 'Dimensions of z; 2 shows the learned manifold', order: 1 },
    address: 'latent',
  }),
  row({
    field: 'activation',
    label: 'Activation',
    type: 'layers',
    choices: ACTIVATIONS,
    notes: { tanh: '(paper)' },
    default: 'tanh',
    doc: 'hidden-layer nonlinearity: one for every hidden layer, or one per layer',
    group: 'model',
    cli: {
      flag: 'activation',
      value: 'A[,A…]',
      help: [
        '{choices} (default {default}); one for every hidden layer,',
        'or one per layer in the order of the hidden widths (relu,tanh)',
      ],
    },
    page: {
      control: 'list',
      suggest: ['tanh', 'relu', 'linear', 'relu,tanh'],
      help: 'Hidden-layer nonlinearity: tanh (the paper), relu or linear; one for every layer, or one per hidden layer in the order of Hidden units (relu,tanh)',
      order: 3,
    },
    address: 'activation',
  }),
  row({
    field: 'decoder',
    label: 'Decoder p(x|z)',
    type: 'enum',
    choices: DECODERS,
    default: 'bernoulli',
    doc: 'p(x|z): Bernoulli for binary or grey-value data in [0, 1], Gaussian for continuous data',
    group: 'model',
    cli: {
      flag: 'decoder',
      value: 'P',
      help: ['bernoulli (grey/binary data) | gaussian (continuous data) (default {default})'],
    },
    page: {
      control: 'select',
      help: 'Bernoulli for grey values in [0, 1]; Gaussian for continuous data',
      options: { bernoulli: 'Bernoulli', gaussian: 'Gaussian' },
      order: 4,
    },
    address: 'decoder',
  }),
  row({
    field: 'sigmoidMean',
    label: 'Sigmoid mean',
    type: 'bool',
    default: true,
    doc: 'Gaussian decoder only: squash the mean through a sigmoid',
    group: 'model',
    cli: { flag: 'no-sigmoid-mean', help: ['gaussian decoder: do not squash the mean through a sigmoid'] },
  }),
  row({
    field: 'init',
    label: 'Initialisation',
    type: 'enum',
    choices: INITS,
    default: 'paper',
    doc: "initial weights: 'paper' N(0, 0.01²), 'pytorch' U(±1/√fan_in)",
    group: 'model',
    cli: { flag: 'init', value: 'I', help: ['paper: N(0, 0.01²) | pytorch: U(±1/√fan_in) (default {default})'] },
  }),
  row({
    field: 'algorithm',
    label: 'Algorithm',
    type: 'enum',
    choices: ALGORITHMS,
    default: 'aevb',
    doc: 'the learning algorithm: AEVB (the SGVB gradient) or wake-sleep',
    group: 'training',
    cli: {
      flag: 'algorithm',
      value: 'A',
      help: [
        'aevb (the SGVB gradient) | wake-sleep (Hinton et al. 1995: the same model, its ELBO',
        "evaluated with its recognition model as AEVB's is) (default {default})",
      ],
    },
    page: {
      control: 'select',
      help: 'AEVB (the SGVB gradient of the bound) or wake-sleep (Hinton et al. 1995) for the same model; both report the bound of their recognition model',
      options: { aevb: 'AEVB', 'wake-sleep': 'Wake-sleep' },
      order: 5,
    },
    address: 'algorithm',
  }),
  row({
    field: 'estimator',
    label: 'Estimator',
    type: 'enum',
    choices: ESTIMATORS,
    default: 'B',
    doc: 'SGVB estimator: A (eq. 7, Monte Carlo KL) or B (eq. 10, analytic KL)',
    group: 'training',
    cli: {
      flag: 'estimator',
      short: 'est',
      value: 'E',
      help: ['A (eq. 7, Monte Carlo KL) | B (eq. 10, analytic KL) (default {default})'],
      upperCase: true,
    },
    page: {
      control: 'select',
      help: 'SGVB estimator: B uses the analytic KL (eq. 10), A a Monte Carlo one (eq. 7)',
      options: { B: 'B: analytic KL', A: 'A: sampled KL' },
      order: 6,
    },
    address: 'estimator',
  }),
  row({
    field: 'samples',
    label: 'Samples L',
    type: 'int',
    min: 1,
    max: 1000,
    default: 1,
    doc: 'L: samples of ε per datapoint per step',
    group: 'training',
    cli: { flag: 'samples', short: 'L', value: 'L', help: ['samples of ε per datapoint (default {default})'] },
    page: { control: 'number', step: 1, help: 'Draws of ε per datapoint per step (the paper: 1)', order: 7 },
    address: 'samples',
  }),
  row({
    field: 'batch',
    label: 'Minibatch M',
    type: 'int',
    min: 1,
    max: 100_000,
    default: 100,
    doc: 'M: minibatch size',
    group: 'training',
    cli: { flag: 'batch', short: 'M', value: 'M', help: ['minibatch size (default {default})'] },
    page: { control: 'number', step: 1, help: 'Datapoints per step, split across the workers (the paper: 100)', order: 8 },
    address: 'batch',
  }),
  row({
    field: 'epochs',
    label: 'Epochs',
    type: 'int',
    min: 0,
    max: 1_000_000,
    default: 10,
    doc: 'passes over the training set',
    group: 'training',
    resumable: true,
    cli: { flag: 'epochs', short: 'E', value: 'N', help: ['total passes over the training set (default {default})'] },
    page: {
      control: 'number',
      step: 1,
      help: 'Passes over the training set; may change during a run (it applies when you resume)',
      order: 14,
      live: true,
    },
    address: 'epochs',
  }),
  row({
    field: 'optimizer',
    label: 'Optimizer',
    type: 'enum',
    choices: OPTIMIZER_NAMES,
    notes: { adagrad: '(paper)' },
    default: 'adagrad',
    doc: 'the update rule applied to the gradient of the minibatch ELBO',
    group: 'training',
    cli: { flag: 'optimizer', value: 'O', help: ['{choices} (default {default})'] },
    page: {
      control: 'select',
      help: 'Update rule (the paper: Adagrad)',
      // The registry's labels, the paper's Adagrad first.
      options: Object.fromEntries(
        ['adagrad' as const, ...OPTIMIZER_NAMES.filter((k) => k !== 'adagrad')].map((k) => [k, optimizerSpec(k).label]),
      ),
      order: 9,
    },
    address: 'optimizer',
    pytorch: 'optimizer',
  }),
  row({
    field: 'lr',
    label: 'Learning rate',
    type: 'real',
    min: 0,
    max: 10,
    openMin: true,
    default: 0.01,
    doc: 'the global step size',
    group: 'training',
    cli: { flag: 'lr', short: 'lr', value: 'η', help: ['step size (default {default})'] },
    page: { control: 'number', step: 'any', help: 'Step size (the paper: Adagrad with 0.01 to 0.1)', order: 10 },
    address: 'lr',
  }),
  row({
    field: 'weightDecay',
    label: 'Weight decay λ',
    type: 'real',
    min: 0,
    max: 1,
    default: 0,
    doc: 'λ: a Gaussian prior N(0, 1/(λN)) on the parameters; 0 turns it off',
    group: 'training',
    cli: {
      flag: 'weight-decay',
      short: 'wd',
      value: 'λ',
      help: ["prior N(0, 1/(λN)) on the parameters; 1/N is the paper's N(0, I) (default {default})"],
    },
    page: {
      control: 'number',
      step: 'any',
      help: "1/N is the paper's N(0, I) prior on the weights; 0 turns it off",
      order: 11,
    },
    address: 'weightDecay',
  }),
  row({
    field: 'binarize',
    label: 'Binarise each minibatch',
    type: 'bool',
    default: false,
    doc: 'a fresh binary image x ~ Bernoulli(pixels) for every minibatch (dynamic binarisation)',
    group: 'data',
    cli: { flag: 'binarize', help: ['dynamic binarisation: a fresh Bernoulli draw of each image every minibatch'] },
    page: { control: 'checkbox', help: 'A fresh Bernoulli draw of every image at every step', order: 17 },
    address: 'binarize',
  }),
  row({
    field: 'seed',
    label: 'Seed',
    type: 'int',
    min: 0,
    max: 0xffffffff,
    default: 1,
    doc: 'seeds initialisation, the epoch permutations, ε and binarisation',
    group: 'training',
    cli: { flag: 'seed', short: 'seed', value: 'S', help: ['seeds initialisation, minibatches, ε and binarisation (default {default})'] },
    page: { control: 'number', step: 1, help: 'Seeds the initial weights, the minibatch order and the noise', order: 13 },
    address: 'seed',
    pytorch: 'seed',
  }),
  row({
    field: 'evalSamples',
    label: 'IS samples K',
    type: 'int',
    min: 0,
    max: 100_000,
    default: 0,
    doc: 'K: importance samples for the log p(x) estimate at each evaluation; 0 skips it',
    group: 'evaluation',
    resumable: true,
    cli: {
      flag: 'eval-samples',
      short: 'K',
      value: 'K',
      help: [
        'importance samples for the IS estimate of log p(x) (a stochastic lower bound) on',
        'the test set at each evaluation point (default {default}: off)',
      ],
    },
  }),
  row({
    field: 'evalElboSamples',
    label: 'ELBO draws S',
    type: 'int',
    min: 1,
    max: 1000,
    default: 2,
    doc: 'S: draws of ε per datapoint for the evaluated ELBO; S ≥ 2 gives its Monte Carlo standard error',
    group: 'evaluation',
    resumable: true,
    cli: {
      flag: 'eval-elbo-samples',
      value: 'S',
      help: ['draws of ε per datapoint for the evaluated ELBO; S ≥ 2 gives its standard error', '(default {default})'],
    },
    page: {
      control: 'number',
      step: 1,
      help: 'Draws of ε per datapoint for the evaluated ELBO; 2 or more give its standard error (±)',
      order: 12,
    },
    address: 'evalElboSamples',
  }),
  row({
    field: 'earlyStop',
    label: 'Early stop after',
    type: 'int',
    min: 0,
    max: 1_000_000,
    default: 0,
    doc: 'N: stop after N evaluations in a row without a better test ELBO, keeping the best state; 0 is off',
    group: 'evaluation',
    resumable: true,
    cli: {
      flag: 'early-stop',
      value: 'N',
      help: [
        'stop after N evaluations in a row without a better test ELBO; the best state is kept',
        'in DIR/best.aevb (default {default}: off)',
      ],
    },
    page: {
      control: 'number',
      step: 1,
      help: 'Evaluations in a row without a better test ELBO after which training stops, keeping the best state (0: never)',
      order: 14.5,
    },
    address: 'earlyStop',
  }),
]);

/** The row of `field`, or undefined for a name that is not a config field. */
export function fieldRow(field: string): FieldRow | undefined {
  return CONFIG_FIELDS.find((r) => r.field === field);
}

/** A row's help text with {default} and {choices} filled in. */
export function helpLines(r: FieldRow): string[] {
  const choices = (r.choices ?? []).map((c) => (r.notes?.[c] ? `${c} ${r.notes[c]}` : c)).join(' | ');
  return (r.cli?.help ?? []).map((l) => l.replaceAll('{default}', String(r.default)).replaceAll('{choices}', choices));
}

/** A select's options, [value, label], in the order shown: the labelled choices first, then the rest. */
export function pageOptions(r: FieldRow): [string, string][] {
  const choices = r.choices ?? [];
  const labelled = Object.keys(r.page?.options ?? {}).filter((c) => choices.includes(c));
  return [...labelled, ...choices.filter((c) => !labelled.includes(c))].map((c) => [c, r.page?.options?.[c] ?? c]);
}
