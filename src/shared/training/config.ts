/**
 * The training configuration: one typed object, a comment per field, defaults from the paper's
 * MNIST setting (Kingma & Welling 2013, section 5 and appendix C), and one validator that names
 * the field and the fix for anything out of range. Each field's type, range, default and names
 * (flag, label, address key) are a row of the field table, config_fields.ts, which generates the
 * defaults and the per-field checks here; the rules between fields are written out below.
 */
import { configError } from '../errors.ts';
import { checkModelSize } from '../model/model_size.ts';
import {
  ACTIVATIONS,
  type ALGORITHMS,
  CONFIG_FIELDS,
  type DECODERS,
  type ESTIMATORS,
  type INITS,
  fieldRow,
  type FieldRow,
} from './config_fields.ts';
import type { OptimizerKind } from './optimizers.ts';

// The enum fields' values are the field table's choices (config_fields.ts), written once there.
export type Activation = (typeof ACTIVATIONS)[number];
export type DecoderKind = (typeof DECODERS)[number];
export type InitKind = (typeof INITS)[number];
export type EstimatorKind = (typeof ESTIMATORS)[number];
export type { OptimizerKind } from './optimizers.ts';
/** 'aevb': Algorithm 1 with the SGVB estimator. 'wake-sleep': Hinton et al. 1995 for the same model (docs/method.md). */
export type AlgorithmKind = (typeof ALGORITHMS)[number];

export interface ModelConfig {
  /** D: values per datapoint (784 for 28x28 images). Set from the data. */
  inputSize: number;
  /**
   * H: hidden units of each MLP (paper: one layer, 500 for MNIST, 200 for Frey Face). A list is a deeper
   * MLP, one width per hidden layer from the encoder's input on: [512, 256] is D → 512 → 256 → J, and the
   * decoder mirrors it, J → 256 → 512 → D (src/shared/model/layers.ts). 1 to 8 layers of 1 to 8192 units;
   * a one-element list is the same model as its number (resolveConfig stores the number).
   */
  hidden: number | number[];
  /** J: latent dimensions (paper: 3, 5, 10, 20, 200 for MNIST). */
  latent: number;
  /**
   * Hidden-layer nonlinearity: tanh as in the paper; relu as in pytorch/examples; linear for tests. One for
   * every hidden layer, or a list with one per hidden layer in the encoder's order (the decoder's layer of
   * the same width has the same one).
   */
  activation: Activation | Activation[];
  /** Bernoulli for binary or grey-value data in [0, 1]; Gaussian for continuous data. */
  decoder: DecoderKind;
  /** Gaussian decoder only: squash the mean through a sigmoid to keep it in (0, 1), as the paper does. */
  sigmoidMean: boolean;
  /** 'paper': every weight and bias from N(0, 0.01²). 'pytorch': U(±1/√fan_in) for weights and biases. */
  init: InitKind;
}

export interface TrainConfig extends ModelConfig {
  /**
   * The learning algorithm: 'aevb' (the SGVB gradient of the ELBO) or 'wake-sleep' (the wake phase
   * trains the decoder on z ~ q(z|x), the sleep phase the encoder on dreams z ~ p(z), x ~ p(x|z)).
   * Same model, data, minibatches, optimizer and initialisation either way.
   */
  algorithm: AlgorithmKind;
  /** SGVB estimator: 'A' (eq. 7, Monte Carlo KL) or 'B' (eq. 10, analytic KL; the paper's choice). */
  estimator: EstimatorKind;
  /** L: samples of ε per datapoint per step (paper: 1). */
  samples: number;
  /** M: minibatch size (paper: 100). */
  batch: number;
  /** Passes over the training set. */
  epochs: number;
  /** Update rule applied to the gradient of the minibatch ELBO. */
  optimizer: OptimizerKind;
  /** Global step size (paper: Adagrad with one of 0.01, 0.02, 0.1). */
  lr: number;
  /**
   * λ in g = −(1/M) Σ ∇ℒ(x) + λθ: the gradient of a Gaussian prior N(0, 1/(λN)) on θ, per datapoint.
   * λ = 1/N is the paper's N(0, I) prior. 0 turns it off.
   */
  weightDecay: number;
  /** Draw a fresh binary image x ~ Bernoulli(pixels) for every minibatch (dynamic binarisation). */
  binarize: boolean;
  /** Seeds initialisation, the epoch permutations, ε and binarisation. */
  seed: number;
  /** K: importance samples for the log p(x) estimate at the end of each epoch; 0 skips it. */
  evalSamples: number;
  /**
   * S: draws of ε per datapoint for the evaluated ELBO (encoder once, decoder S times). S ≥ 2 gives
   * the ELBO's Monte Carlo standard error; S = 1 reports none.
   */
  evalElboSamples: number;
  /**
   * N: stop after N evaluations in a row without a better test ELBO, keeping the state of the best
   * (early_stop.ts); 0 is off.
   */
  earlyStop: number;
}

/** The defaults, from the field table (config_fields.ts). */
export const DEFAULT_CONFIG: Readonly<TrainConfig> = Object.freeze(
  Object.fromEntries(CONFIG_FIELDS.map((r) => [r.field, r.default])) as unknown as TrainConfig,
);

/** The neutral fix of each per-field check (front ends word them: cli_words.ts, error_words.ts). */
const FIXES = {
  range: 'Use a value in that range.',
  'whole-range': 'Use a whole number in that range.',
  choice: 'Use one of those values.',
  switch: 'Use true or false.',
} as const;

const valueError = (field: string, problem: string, id: keyof typeof FIXES) => configError(field, problem, FIXES[id], { id });

function checkInt(v: unknown, field: string, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw valueError(field, `is ${JSON.stringify(v)}; it must be an integer from ${min} to ${max}`, 'whole-range');
  }
}

function checkReal(v: unknown, field: string, min: number, max: number, openMin = false): void {
  const below = typeof v === 'number' && (openMin ? v <= min : v < min);
  if (typeof v !== 'number' || !Number.isFinite(v) || below || v > max) {
    throw valueError(field, `is ${JSON.stringify(v)}; it must be a finite number ${openMin ? '>' : '≥'} ${min} and ≤ ${max}`, 'range');
  }
}

function checkEnum(v: unknown, field: string, allowed: readonly unknown[]): void {
  if (!allowed.includes(v)) throw valueError(field, `is ${JSON.stringify(v)}; it must be one of ${allowed.join(', ')}`, 'choice');
}

/** One field's value against its row of the table ('layers' rows are checked by checkLayers). */
export function checkField(r: FieldRow, v: unknown): void {
  if (r.type === 'int') checkInt(v, r.field, r.min!, r.max!);
  else if (r.type === 'real') checkReal(v, r.field, r.min!, r.max!, r.openMin);
  else if (r.type === 'enum') checkEnum(v, r.field, r.choices!);
  else if (r.type === 'bool' && typeof v !== 'boolean')
    throw valueError(r.field, `is ${JSON.stringify(v)}; it must be true or false`, 'switch');
}

/** The most hidden layers an MLP may have. */
export const MAX_HIDDEN_LAYERS = 8;

/**
 * `hidden` (a width or a list of 1 to MAX_HIDDEN_LAYERS widths) and `activation` (one, or one per hidden
 * layer): the rule between them is the count. Returns them normalised: a one-element list becomes its
 * value, so [500] and 500 are one model (one modelKey, one checkpoint header), and so does a list of one
 * activation repeated; lists are copied and frozen so a caller's array cannot change a resolved config.
 */
function checkLayers(cfg: Record<string, unknown>): { hidden: number | number[]; activation: Activation | Activation[] } {
  const h = cfg.hidden,
    a = cfg.activation;
  const { min, max } = fieldRow('hidden')! as { min: number; max: number };
  const widthOk = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
  let hidden: number | number[];
  if (Array.isArray(h)) {
    if (h.length < 1 || h.length > MAX_HIDDEN_LAYERS || !h.every(widthOk)) {
      throw configError(
        'hidden',
        `is ${JSON.stringify(h)}; it must be 1 to ${MAX_HIDDEN_LAYERS} hidden-layer widths, each a whole number from ${min} to ${max}`,
        'Use one width (500) or a list, one per layer from the input on ([512, 256]).',
        { id: 'layer-widths' },
      );
    }
    hidden = h.length === 1 ? (h[0] as number) : (Object.freeze([...h]) as number[]);
  } else {
    checkInt(h, 'hidden', min, max);
    hidden = h as number;
  }
  const layers = typeof hidden === 'number' ? 1 : hidden.length;
  let activation: Activation | Activation[];
  if (Array.isArray(a)) {
    const bad = a.find((v) => !ACTIVATIONS.includes(v as Activation));
    if (a.length < 1 || bad !== undefined) {
      throw configError(
        'activation',
        `is ${JSON.stringify(a)}; ${a.length < 1 ? 'an empty list' : `${JSON.stringify(bad)} is not one of ${ACTIVATIONS.join(', ')}`}`,
        `Use one of ${ACTIVATIONS.join(', ')}, or a list with one per hidden layer.`,
        { id: 'layer-activations' },
      );
    }
    if (a.length !== 1 && a.length !== layers) {
      throw configError(
        'activation',
        `lists ${a.length} activations for ${layers} hidden layer${layers === 1 ? '' : 's'} (hidden ${JSON.stringify(hidden)})`,
        `Pass one activation for every layer, or exactly ${layers}, one per hidden layer in the encoder's order.`,
      );
    }
    // One value for every layer is written as that value (relu,relu is relu): one model, one way to write it.
    activation = a.every((v) => v === a[0]) ? (a[0] as Activation) : (Object.freeze([...a]) as Activation[]);
  } else {
    checkEnum(a, 'activation', ACTIVATIONS);
    activation = a as Activation;
  }
  return { hidden, activation };
}

/** Fill defaults, reject unknown fields and anything out of range. Returns a frozen, complete config. */
export function resolveConfig(partial: Partial<TrainConfig> = {}): Readonly<TrainConfig> {
  if (typeof partial !== 'object' || partial === null || Array.isArray(partial)) {
    throw configError(
      'config',
      `is ${Array.isArray(partial) ? 'an array' : JSON.stringify(partial)}; it must be an object of settings`,
      'Pass an object such as { latent: 2 }, or leave it out for the defaults.',
    );
  }
  for (const key of Object.keys(partial)) {
    // An own-property check: `key in DEFAULT_CONFIG` would also accept the names every object
    // inherits (toString, constructor, __proto__, …), which a JSON file or a form can carry.
    if (!Object.hasOwn(DEFAULT_CONFIG, key)) {
      throw configError(key, 'is not a known setting', `Remove it; the settings are: ${Object.keys(DEFAULT_CONFIG).join(', ')}.`);
    }
  }
  const cfg = { ...DEFAULT_CONFIG, ...partial } as TrainConfig;
  const c = cfg as unknown as Record<string, unknown>;
  // Each field against its row, in the table's order; the layer lists together, where hidden's row is.
  for (const r of CONFIG_FIELDS) {
    if (r.field === 'hidden') Object.assign(cfg, checkLayers(c));
    else if (r.type !== 'layers') checkField(r, c[r.field]);
  }
  // Rules between fields.
  if (cfg.binarize && cfg.decoder !== 'bernoulli') {
    throw configError(
      'binarize',
      'is on with a Gaussian decoder',
      'Binarisation draws binary targets for a Bernoulli decoder: use the bernoulli decoder or turn binarize off.',
      { id: 'binarize-decoder' },
    );
  }
  if (cfg.algorithm === 'wake-sleep' && cfg.estimator !== 'B') {
    // Wake-sleep has no SGVB estimator: it reports estimator B's ELBO, and A would be silently ignored.
    throw configError(
      'estimator',
      `is ${cfg.estimator} with the wake-sleep algorithm, which uses no SGVB estimator (it reports estimator B's ELBO)`,
      'Use estimator B (or leave it out) with the wake-sleep algorithm, or use the aevb algorithm.',
      { id: 'wake-sleep-estimator' },
    );
  }
  checkModelSize(cfg); // model_size.ts: every field in range can still multiply out to more than memory holds
  return Object.freeze(cfg);
}

/**
 * The fields that fix the shape of the parameter vector: two configs with equal keys share a layout.
 * One hidden layer keeps its old key (D784-H500-J20-bernoulli); a deeper MLP lists its widths (H512x256).
 */
export function modelKey(cfg: Pick<ModelConfig, 'inputSize' | 'hidden' | 'latent' | 'decoder'>): string {
  return `D${cfg.inputSize}-H${hiddenText(cfg.hidden, 'x')}-J${cfg.latent}-${cfg.decoder}`;
}

/** The hidden widths as text, joined by `sep`: 500, or 512,256 with ','. */
export function hiddenText(hidden: number | readonly number[], sep = ','): string {
  return typeof hidden === 'number' ? String(hidden) : hidden.join(sep);
}

/** The activation(s) as text: tanh, or relu,tanh. */
export function activationText(activation: Activation | readonly Activation[], sep = ','): string {
  return typeof activation === 'string' ? activation : activation.join(sep);
}
