/**
 * exportDecoder as the package declares it: the same function, typed without TensorFlow.js's
 * declarations (an app that never imports tfjs should not type-check tfjs-core's .d.ts files).
 * The assignment below is checked at compile time, so this type cannot drift from the real one.
 */
import type { ModelConfig } from '../shared/training/config.ts';
import { exportDecoder as exportDecoderImpl, type DecoderMetadata } from '../shared/formats/decoder_export.ts';

/** tf.io's model.json (modelTopology, weightsManifest) with our metadata: load it with tf.io.decodeWeights, or any JSON reader. */
export interface DecoderModelJson {
  format: 'aevb-decoder';
  generatedBy: string;
  modelTopology: Record<string, never> | ArrayBuffer;
  weightsManifest: [{ paths: ['weights.bin']; weights: Array<{ name: string; shape: number[]; dtype: string }> }];
  userDefinedMetadata: DecoderMetadata;
}

export interface DecoderExport {
  modelJson: DecoderModelJson;
  /** float32 LE values of the manifest's weights, back to back; owns its whole buffer. */
  weightsBin: Uint8Array;
}

/** The decoder alone in TF.js's weights format (docs/decoder-export.md): model.json + weights.bin. */
export const exportDecoder: (
  cfg: ModelConfig,
  params: Float32Array,
  options?: { imageShape?: readonly [number, number]; generatedBy?: string },
) => DecoderExport = exportDecoderImpl;

export type { DecoderMetadata };
