/**
 * Export of the generative model p_θ(x|z) alone, in TF.js's own weights format (a model.json
 * with a weightsManifest plus one weights.bin), so that another app can sample digits from a
 * trained model with @tensorflow/tfjs and nothing of ours: tf.io.decodeWeights reads the file
 * and four tensor ops evaluate the decoder (docs/decoder-export.md has the example).
 *
 * Only the dec.* parameters are exported, in the layout's order and with its [out, in] weight
 * shapes (a deeper decoder adds dec.W1_k, dec.b1_k for its hidden layers k ≥ 2, model/layers.ts);
 * the architecture (J, H, D, activation, likelihood) and the exact formula travel in
 * userDefinedMetadata, because this is not a Layers or Graph model that tf.loadLayersModel runs.
 */
import type { io } from '@tensorflow/tfjs-core';
import { hiddenText, type Activation, type DecoderKind, type ModelConfig } from '../training/config.ts';
import { checkpointError } from '../errors.ts';
import { buildLayout, view, type ParamSpec } from '../model/layout.ts';
import { modelLayers } from '../model/layers.ts';

export const DECODER_FORMAT = 'aevb-decoder';
export const DECODER_FORMAT_VERSION = 1;
export const DECODER_WEIGHTS_FILE = 'weights.bin';

/** What a consumer needs to rebuild the decoder's forward pass. */
export interface DecoderMetadata {
  formatVersion: number;
  /** J: size of z. */
  latent: number;
  /**
   * H: hidden units, as in the training config: one number (the paper's one hidden layer) or one width per
   * hidden layer in the ENCODER's order; the decoder runs them reversed (J → H_n → … → H_1 → D), as `math` spells out.
   */
  hidden: number | number[];
  /** D: values per generated datapoint. */
  outputSize: number;
  /** act() in the formula: one for every hidden layer, or one per hidden layer in `hidden`'s (encoder) order. */
  activation: Activation | Activation[];
  /** 'bernoulli': the output is the mean of p(x|z); 'gaussian': a mean and a log-variance per value. */
  decoder: DecoderKind;
  /** Gaussian only: whether the mean goes through a sigmoid (ignored for Bernoulli, whose mean always does). */
  sigmoidMean: boolean;
  /** [rows, cols] when the datapoints are images (row-major). */
  imageShape?: [number, number];
  /** The forward pass in one line, in the exported names. */
  math: string;
}

/** tf.io's ModelJSON, with our metadata typed (an interface has no index signature, hence the Omit). */
export interface DecoderModelJson extends Omit<io.ModelJSON, 'userDefinedMetadata'> {
  format: typeof DECODER_FORMAT;
  generatedBy: string;
  weightsManifest: [{ paths: [typeof DECODER_WEIGHTS_FILE]; weights: io.WeightsManifestEntry[] }];
  userDefinedMetadata: DecoderMetadata;
}

export interface DecoderExport {
  modelJson: DecoderModelJson;
  /** float32 LE values of the manifest's weights, back to back; owns its whole buffer. */
  weightsBin: Uint8Array;
}

/**
 * The decoder's forward pass in the exported names. One hidden layer keeps the line it always had;
 * a deeper decoder lists its layers in the order they run, each with its activation.
 */
function mathLine(cfg: ModelConfig): string {
  const tail = `weights are [out, in], z is a column of length ${cfg.latent}`;
  const { decoder } = modelLayers(cfg);
  if (decoder.hidden.length === 1) {
    const a = decoder.hidden[0].activation;
    const act = a === 'linear' ? 'act(a) = a' : `act = ${a}`;
    if (cfg.decoder === 'bernoulli') {
      return `y = sigmoid(dec.W2 · act(dec.W1 · z + dec.b1) + dec.b2) is the Bernoulli mean p(x_d = 1 | z); ${act}; ${tail}`;
    }
    const mean = cfg.sigmoidMean ? 'sigmoid(dec.W4 · h + dec.b4)' : 'dec.W4 · h + dec.b4';
    return `h = act(dec.W1 · z + dec.b1); mean = ${mean}; logvar = dec.W5 · h + dec.b5 (x ~ N(mean, exp(logvar))); ${act}; ${tail}`;
  }
  // h1 = tanh(dec.W1 · z + dec.b1); h2 = relu(dec.W1_2 · h1 + dec.b1_2); …
  const hidden = decoder.hidden
    .map((l, k) => {
      const affine = `${l.W} · ${k === 0 ? 'z' : `h${k}`} + ${l.b}`;
      return `h${k + 1} = ${l.activation === 'linear' ? affine : `${l.activation}(${affine})`}`;
    })
    .join('; ');
  const h = `h${decoder.hidden.length}`;
  if (cfg.decoder === 'bernoulli') {
    return `${hidden}; y = sigmoid(dec.W2 · ${h} + dec.b2) is the Bernoulli mean p(x_d = 1 | z); ${tail}`;
  }
  const mean = cfg.sigmoidMean ? `sigmoid(dec.W4 · ${h} + dec.b4)` : `dec.W4 · ${h} + dec.b4`;
  return `${hidden}; mean = ${mean}; logvar = dec.W5 · ${h} + dec.b5 (x ~ N(mean, exp(logvar))); ${tail}`;
}

/** A config's list copied (a resolved config's lists are frozen; the metadata is the caller's to change). */
const copy = <T>(v: T | readonly T[]): T | T[] => (Array.isArray(v) ? [...v] : (v as T));

function metadata(cfg: ModelConfig, imageShape?: readonly [number, number]): DecoderMetadata {
  const meta: DecoderMetadata = {
    formatVersion: DECODER_FORMAT_VERSION,
    latent: cfg.latent,
    hidden: copy(cfg.hidden),
    outputSize: cfg.inputSize,
    activation: copy(cfg.activation),
    decoder: cfg.decoder,
    sigmoidMean: cfg.sigmoidMean,
    math: mathLine(cfg),
  };
  if (imageShape) meta.imageShape = [imageShape[0], imageShape[1]];
  return meta;
}

/** The dec.* specs in layout order, checking that params fits the layout and is finite. */
function decoderSpecs(cfg: ModelConfig, params: Float32Array): ParamSpec[] {
  const layout = buildLayout(cfg);
  if (params.length !== layout.size) {
    throw checkpointError(
      `Cannot export the decoder: got ${params.length} parameters, the model ${cfg.inputSize}-${hiddenText(cfg.hidden)}-${cfg.latent} (${cfg.decoder}) has ${layout.size}.`,
      'Export with the config the parameters were trained with.',
    );
  }
  const specs = layout.specs.filter((s) => s.name.startsWith('dec.'));
  for (const s of specs) {
    const i = view(params, s).findIndex((v) => !Number.isFinite(v));
    if (i >= 0) {
      throw checkpointError(
        `Cannot export the decoder: ${s.name}[${i}] is ${view(params, s)[i]}.`,
        'Training diverged; export from an earlier checkpoint.',
      );
    }
  }
  return specs;
}

/**
 * Build model.json and weights.bin for p_θ(x|z). `imageShape` is recorded for consumers that
 * draw the output; `generatedBy` names the producer.
 */
export function exportDecoder(
  cfg: ModelConfig,
  params: Float32Array,
  options: { imageShape?: readonly [number, number]; generatedBy?: string } = {},
): DecoderExport {
  const specs = decoderSpecs(cfg, params);
  const total = specs.reduce((a, s) => a + s.size, 0);
  const weightsBin = new Uint8Array(total * 4);
  const dv = new DataView(weightsBin.buffer);
  let off = 0;
  for (const s of specs) {
    // DataView with littleEndian = true: the file is LE whatever the host, as tf.io expects.
    for (const v of view(params, s)) {
      dv.setFloat32(off, v, true);
      off += 4;
    }
  }
  const modelJson: DecoderModelJson = {
    // tf.io requires the key; there is no Layers/Graph topology, the formula is in userDefinedMetadata.
    modelTopology: {},
    format: DECODER_FORMAT,
    generatedBy: options.generatedBy ?? `aevb (decoder export v${DECODER_FORMAT_VERSION})`,
    convertedBy: null,
    weightsManifest: [
      {
        paths: [DECODER_WEIGHTS_FILE],
        weights: specs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: 'float32' as const })),
      },
    ],
    userDefinedMetadata: metadata(cfg, options.imageShape),
  };
  return { modelJson, weightsBin };
}
