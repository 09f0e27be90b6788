/**
 * The decoder export (decoder_export.ts, docs/decoder-export.md) read back: model.json and
 * weights.bin → the model's shape and a full parameter vector in the training layout, with the
 * dec.* parameters filled in and the encoder's left at zero (an export has none; only decoding
 * reads this vector). For tools that have a run's decoder but not its checkpoint (the figures).
 */
import { MAX_HIDDEN_LAYERS, type ModelConfig } from '../training/config.ts';
import { checkpointError } from '../errors.ts';
import { buildLayout, view } from '../model/layout.ts';
import { DECODER_FORMAT, DECODER_FORMAT_VERSION } from './decoder_export.ts';

export interface ImportedDecoder {
  cfg: ModelConfig;
  /** θ ∪ φ in buildLayout(cfg)'s order; only dec.* are set. */
  params: Float32Array;
  imageShape?: [number, number];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

export function importDecoder(modelJson: unknown, weightsBin: Uint8Array, source: string): ImportedDecoder {
  const fix = "Export the decoder again (npm run train writes DIR/decoder/ at the end of a run), or use the run's checkpoint.aevb.";
  const fail = (problem: string): never => {
    throw checkpointError(`Decoder export ${source} ${problem}.`, fix);
  };
  if (!isObject(modelJson) || modelJson.format !== DECODER_FORMAT)
    fail(`is not an aevb decoder (model.json's "format" must be "${DECODER_FORMAT}")`);
  const json = modelJson as Record<string, unknown>;
  const m = json.userDefinedMetadata;
  if (!isObject(m)) return fail('has no userDefinedMetadata');
  if (m.formatVersion !== DECODER_FORMAT_VERSION)
    fail(`has formatVersion ${JSON.stringify(m.formatVersion)}; this aevb reads ${DECODER_FORMAT_VERSION}`);
  for (const k of ['latent', 'outputSize'] as const)
    if (!positiveInt(m[k])) fail(`has ${k} ${JSON.stringify(m[k])}; it must be a whole number ≥ 1`);
  // hidden: one width, or one per hidden layer (encoder order); activation: one, or one per hidden layer.
  const widths = Array.isArray(m.hidden) ? m.hidden : [m.hidden];
  if (widths.length < 1 || widths.length > MAX_HIDDEN_LAYERS || !widths.every(positiveInt)) {
    fail(`has hidden ${JSON.stringify(m.hidden)}; it must be a whole number ≥ 1 or a list of 1 to ${MAX_HIDDEN_LAYERS} of them`);
  }
  const acts = Array.isArray(m.activation) ? m.activation : [m.activation];
  if (!acts.every((a) => ['tanh', 'relu', 'linear'].includes(a as string)) || (acts.length !== 1 && acts.length !== widths.length)) {
    fail(`has activation ${JSON.stringify(m.activation)}`);
  }
  if (m.decoder !== 'bernoulli' && m.decoder !== 'gaussian') fail(`has decoder ${JSON.stringify(m.decoder)}`);
  const cfg: ModelConfig = {
    inputSize: m.outputSize as number,
    hidden: m.hidden as ModelConfig['hidden'],
    latent: m.latent as number,
    activation: m.activation as ModelConfig['activation'],
    decoder: m.decoder as ModelConfig['decoder'],
    sigmoidMean: m.sigmoidMean !== false,
    init: 'paper',
  };
  const layout = buildLayout(cfg);
  const specs = layout.specs.filter((s) => s.name.startsWith('dec.'));
  const manifest = json.weightsManifest;
  const weights = Array.isArray(manifest) && isObject(manifest[0]) ? manifest[0].weights : undefined;
  if (!Array.isArray(weights) || weights.length !== specs.length)
    fail(`lists ${Array.isArray(weights) ? weights.length : 'no'} weights; a ${cfg.decoder} decoder has ${specs.length}`);
  (weights as unknown[]).forEach((w, i) => {
    const s = specs[i];
    if (!isObject(w) || w.name !== s.name || JSON.stringify(w.shape) !== JSON.stringify(s.shape) || (w.dtype ?? 'float32') !== 'float32') {
      fail(`lists weight ${i} as ${JSON.stringify(w)}; expected ${s.name} float32 [${s.shape.join(', ')}]`);
    }
  });
  const total = specs.reduce((a, s) => a + s.size, 0);
  if (weightsBin.length !== total * 4) fail(`has ${weightsBin.length} bytes of weights; the manifest needs ${total * 4}`);
  const params = new Float32Array(layout.size);
  const dv = new DataView(weightsBin.buffer, weightsBin.byteOffset, weightsBin.byteLength);
  let off = 0;
  for (const s of specs) {
    const v = view(params, s);
    for (let i = 0; i < s.size; i++, off += 4) {
      v[i] = dv.getFloat32(off, true);
      if (!Number.isFinite(v[i])) fail(`holds ${v[i]} in ${s.name}[${i}]`);
    }
  }
  const shape = m.imageShape;
  const imageShape =
    Array.isArray(shape) && shape.length === 2 && shape.every(positiveInt) && shape[0] * shape[1] === cfg.inputSize
      ? ([shape[0], shape[1]] as [number, number])
      : undefined;
  return { cfg, params, ...(imageShape ? { imageShape } : {}) };
}
