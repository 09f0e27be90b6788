/**
 * A sweep run's decoder for Figures 4 and 5: from its checkpoint.aevb (decodeCheckpoint), or from
 * its decoder export (decoder/model.json + weights.bin) when there is no checkpoint, and the
 * decoder's means p(x|z) at given z, computed with the model's own forward pass (model.ts decode)
 * on the Node main thread. A figure decodes a few hundred points: no worker pool is needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { decodeCheckpoint } from '../../shared/formats/checkpoint.ts';
import type { ModelConfig } from '../../shared/training/config.ts';
import { checkpointError } from '../../shared/errors.ts';
import { importDecoder } from '../../shared/formats/decoder_import.ts';
import { DECODER_WEIGHTS_FILE } from '../../shared/formats/decoder_export.ts';
import { buildLayout } from '../../shared/model/layout.ts';
import { decode, disposeParams, paramTensors } from '../../shared/model/model.ts';
import { CHECKPOINT_FILE, DECODER_DIR } from './checkpoint_files.ts';
import { readFileBounded, readTextBounded } from './read_file.ts';

export interface RunDecoder {
  cfg: ModelConfig;
  params: Float32Array;
  /** [rows, cols] of one datapoint as a picture, or null when its size says nothing (D not a square). */
  imageShape: [number, number] | null;
  /** The file the decoder was read from. */
  source: string;
  /** The training data's name, from a checkpoint (a decoder export does not record it). */
  dataName?: string;
}

/** 784 values are MNIST's 28 × 28; any other perfect square a square picture; else no picture. */
function guessImageShape(d: number): [number, number] | null {
  const s = Math.round(Math.sqrt(d));
  return s * s === d ? [s, s] : null;
}

const readBytes = (file: string) => {
  const b = readFileBounded(file, 'DIR');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

/** The run's decoder, or null when the run has written neither a checkpoint nor a decoder export. */
export function loadRunDecoder(runDir: string): RunDecoder | null {
  const ckpt = path.join(runDir, CHECKPOINT_FILE);
  if (fs.existsSync(ckpt)) {
    const c = decodeCheckpoint(readBytes(ckpt), ckpt);
    return { cfg: c.config, params: c.params, imageShape: guessImageShape(c.config.inputSize), source: ckpt, dataName: c.data.name };
  }
  const json = path.join(runDir, DECODER_DIR, 'model.json');
  if (fs.existsSync(json)) {
    let model: unknown;
    const text = readTextBounded(json, 'DIR');
    try {
      model = JSON.parse(text);
    } catch (e) {
      throw checkpointError(
        `Decoder export ${json} is not valid JSON (${(e as Error).message}).`,
        "Export the decoder again, or use the run's checkpoint.aevb.",
      );
    }
    const d = importDecoder(model, readBytes(path.join(runDir, DECODER_DIR, DECODER_WEIGHTS_FILE)), json);
    return { cfg: d.cfg, params: d.params, imageShape: d.imageShape ?? guessImageShape(d.cfg.inputSize), source: json };
  }
  return null;
}

/** Decoder means at n latent points z (rows [n, J]): rows [n, D]. Needs a TF.js backend set up. */
export function decoderMeans(m: RunDecoder, z: Float32Array, n: number): Float32Array {
  const J = m.cfg.latent,
    D = m.cfg.inputSize;
  const cols = new Float32Array(J * n); // the model works in columns: z is [J, n]
  for (let i = 0; i < n; i++) for (let j = 0; j < J; j++) cols[j * n + i] = z[i * J + j];
  const p = paramTensors(m.params, buildLayout(m.cfg));
  try {
    const mean = tf.tidy(() => decode(m.cfg, p, tf.tensor2d(cols, [J, n])).mean.dataSync() as Float32Array); // [D, n]
    const rows = new Float32Array(n * D);
    for (let d = 0; d < D; d++) for (let i = 0; i < n; i++) rows[i * D + d] = mean[d * n + i];
    return rows;
  } finally {
    disposeParams(p);
  }
}
