/**
 * The model as a list of layers: the one description from which the parameter layout (layout.ts),
 * the names in checkpoints, safetensors and the decoder export, and every forward and backward pass
 * (the tfjs reference and aevb's own kernels) are derived.
 *
 * The paper's model (appendix C) has one hidden layer in each MLP:
 *   encoder  h = act(W3 x + b3);  μ = W4 h + b4;  log σ² = W5 h + b5
 *   decoder  h' = act(W1 z + b1); Bernoulli: ℓ = W2 h' + b2  |  Gaussian: μₓ = W4' h' + b4', log σₓ² = W5' h' + b5'
 * A deeper MLP has hidden widths H₁ … H_n (and an activation each). The encoder runs
 * D → H₁ → … → H_n → J, the decoder mirrors it, J → H_n → … → H₁ → D, as is usual for autoencoders.
 *
 * Names. Layer k = 1 keeps the paper's names (enc.W3, dec.W1); layers k ≥ 2 of the same MLP are
 * enc.W3_k / enc.b3_k (encoder, counted from the input) and dec.W1_k / dec.b1_k (decoder, counted
 * from z). So the paper's model has exactly its old names and order, and old checkpoints load as
 * they are.
 */
import type { Activation, DecoderKind } from '../training/config.ts';

/** y = act(W x + b), W [out, in], b [out]. */
export interface DenseLayer {
  readonly W: string;
  readonly b: string;
  readonly in: number;
  readonly out: number;
  readonly activation: Activation;
}

/** The decoder's output layer(s), reading the last decoder hidden layer. */
export type DecoderHeadLayers =
  | { readonly kind: 'bernoulli'; readonly logits: DenseLayer }
  | { readonly kind: 'gaussian'; readonly mean: DenseLayer; readonly logvar: DenseLayer };

export interface ModelLayers {
  readonly encoder: {
    /** D → H₁ → … → H_n, each with its activation. */
    readonly hidden: readonly DenseLayer[];
    /** The Gaussian head of q(z|x): μ and log σ², both H_n → J, linear. */
    readonly mu: DenseLayer;
    readonly logvar: DenseLayer;
  };
  readonly decoder: {
    /** J → H_n → … → H₁. */
    readonly hidden: readonly DenseLayer[];
    readonly head: DecoderHeadLayers;
  };
}

/** The settings that fix the layers. `hidden` and `activation` may be one value or one per hidden layer. */
export interface LayerConfig {
  inputSize: number;
  hidden: number | readonly number[];
  latent: number;
  decoder: DecoderKind;
  activation?: Activation | readonly Activation[];
}

/** H₁ … H_n (encoder order). */
export function hiddenWidths(cfg: Pick<LayerConfig, 'hidden'>): number[] {
  return typeof cfg.hidden === 'number' ? [cfg.hidden] : [...cfg.hidden];
}

/** One activation per hidden layer (encoder order): a single value applies to every layer. */
export function hiddenActivations(cfg: Pick<LayerConfig, 'hidden' | 'activation'>): Activation[] {
  const n = hiddenWidths(cfg).length,
    a = cfg.activation ?? 'tanh';
  if (typeof a === 'string') return Array(n).fill(a);
  if (a.length === 1) return Array(n).fill(a[0]);
  return [...a];
}

const dense = (W: string, b: string, inDim: number, out: number, activation: Activation): DenseLayer =>
  Object.freeze({ W, b, in: inDim, out, activation });

/** Layer k (1-based) of an MLP whose first layer is called `W`/`b` (enc.W3 → enc.W3_2, …). */
const nth = (name: string, k: number) => (k === 1 ? name : `${name}_${k}`);

export function modelLayers(cfg: LayerConfig): ModelLayers {
  const H = hiddenWidths(cfg),
    act = hiddenActivations(cfg),
    D = cfg.inputSize,
    J = cfg.latent,
    n = H.length;
  const encHidden = H.map((h, i) => dense(nth('enc.W3', i + 1), nth('enc.b3', i + 1), i === 0 ? D : H[i - 1], h, act[i]));
  // Decoder layer k reads layer k − 1 (z for k = 1) and has the width of encoder layer n − k + 1.
  const decHidden = H.map((_, k) => {
    const e = n - 1 - k;
    return dense(nth('dec.W1', k + 1), nth('dec.b1', k + 1), k === 0 ? J : H[e + 1], H[e], act[e]);
  });
  const last = H[0];
  const head: DecoderHeadLayers =
    cfg.decoder === 'bernoulli'
      ? { kind: 'bernoulli', logits: dense('dec.W2', 'dec.b2', last, D, 'linear') }
      : { kind: 'gaussian', mean: dense('dec.W4', 'dec.b4', last, D, 'linear'), logvar: dense('dec.W5', 'dec.b5', last, D, 'linear') };
  return Object.freeze({
    encoder: Object.freeze({
      hidden: Object.freeze(encHidden),
      mu: dense('enc.W4', 'enc.b4', H[n - 1], J, 'linear'),
      logvar: dense('enc.W5', 'enc.b5', H[n - 1], J, 'linear'),
    }),
    decoder: Object.freeze({ hidden: Object.freeze(decHidden), head: Object.freeze(head) }),
  });
}

/** The decoder's output layers in layout order (one for Bernoulli, mean then log-variance for Gaussian). */
export function headLayers(head: DecoderHeadLayers): DenseLayer[] {
  return head.kind === 'bernoulli' ? [head.logits] : [head.mean, head.logvar];
}

/**
 * Every parameter in layout order: [name, shape, fan-in]. The paper's order is kept for one hidden
 * layer: enc.W3, enc.b3, (deeper encoder layers), enc.W4, enc.W5, enc.b4, enc.b5 (the μ and log σ²
 * weights adjacent: one [2J, H] block), dec.W1, dec.b1, (deeper decoder layers), then the head:
 * dec.W2, dec.b2 | dec.W4, dec.W5, dec.b4, dec.b5.
 */
export function parameterList(layers: ModelLayers): Array<[string, number[], number]> {
  const out: Array<[string, number[], number]> = [];
  const wb = (l: DenseLayer) => {
    out.push([l.W, [l.out, l.in], l.in], [l.b, [l.out], l.in]);
  };
  layers.encoder.hidden.forEach(wb);
  const { mu, logvar } = layers.encoder;
  out.push([mu.W, [mu.out, mu.in], mu.in], [logvar.W, [logvar.out, logvar.in], logvar.in]);
  out.push([mu.b, [mu.out], mu.in], [logvar.b, [logvar.out], logvar.in]);
  layers.decoder.hidden.forEach(wb);
  const heads = headLayers(layers.decoder.head);
  if (heads.length === 1) wb(heads[0]);
  else {
    for (const l of heads) out.push([l.W, [l.out, l.in], l.in]);
    for (const l of heads) out.push([l.b, [l.out], l.in]);
  }
  return out;
}
