/**
 * `npm run export -- …`: moving a model to PyTorch and back (docs/safetensors.md).
 *
 *   --from RUN [--to FILE]       RUN/checkpoint.aevb (or a .aevb file) → FILE (default RUN/model.safetensors)
 *   --write-idx DIR              the embedded MNIST split as IDX files, for examples/pytorch/train.py
 *   --evaluate MODEL             test ELBO (and log p(x) with --eval-samples K) of a .aevb or .safetensors
 *                                model on --data, and a grid of samples as a PNG (--png FILE)
 *
 * Kept apart from `npm run train`'s flags on purpose: none of this trains.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { deflateSync } from 'node:zlib';
import { crc32 } from '../../shared/checkpoint.ts';
import type { DataSplit } from '../../shared/dataset.ts';
import { AevbError, configError, isAevbError } from '../../shared/errors.ts';
import { estimateLogLikelihood, evaluateElbo } from '../../shared/evaluate.ts';
import { encodeIdx } from '../../shared/idx.ts';
import { splitDataset } from '../../shared/mnist_split.ts';
import { decode, disposeParams, paramTensors } from '../../shared/model.ts';
import { buildLayout } from '../../shared/layout.ts';
import { exportSafetensors, readCheckpointBytes } from '../../shared/pytorch_state.ts';
import { CounterRng, Stream } from '../../shared/rng.ts';
import { CHECKPOINT_FILE, writeFileAtomic } from './checkpoint_files.ts';
import { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
import { setupNodeBackend } from './tfjs_node.ts';
import * as tf from '@tensorflow/tfjs-core';

export const EXPORT_HELP = `npm run export -- [flags]: move a model to PyTorch and back (docs/safetensors.md)

  --from RUN            a run directory (its checkpoint.aevb) or a .aevb file to export
  --to FILE             where to write the safetensors (default RUN/model.safetensors)
  --write-idx DIR       write the embedded MNIST split (9,000 train / 1,000 test) as IDX files in DIR
  --evaluate MODEL      a .aevb or .safetensors model: print its test ELBO on --data
  --data SRC            mnist (default) or an IDX image file, split by --test-fraction (default 0.1)
  --eval-samples K      also estimate log p(x) with K importance samples
  --png FILE            with --evaluate: write 64 samples from the model as an 8×8 PNG grid
  -h, --help            this text
`;

function readModel(file: string): Uint8Array {
  const p = fs.existsSync(file) && fs.statSync(file).isDirectory() ? path.join(file, CHECKPOINT_FILE) : file;
  if (!fs.existsSync(p)) throw new AevbError('CHECKPOINT', `${p} does not exist.`, 'Pass a run directory, a checkpoint.aevb or a model.safetensors.');
  return new Uint8Array(fs.readFileSync(p));
}

async function exportRun(from: string, to: string | undefined): Promise<void> {
  const { checkpoint, imported } = readCheckpointBytes(readModel(from), from);
  if (imported) throw configError('from', `is already a safetensors file (${from})`, 'Pass the run directory or its checkpoint.aevb.');
  const out = to ?? path.join(fs.statSync(from).isDirectory() ? from : path.dirname(from), 'model.safetensors');
  const bytes = exportSafetensors(checkpoint);
  await writeFileAtomic(out, path.dirname(out), bytes);
  console.log(`Wrote ${out}: ${checkpoint.config.optimizer} model at step ${checkpoint.step}, ${bytes.length.toLocaleString('en-US')} bytes.`);
}

/** IDX files of the embedded split, named like MNIST's own; float32 images hold the exact values we train on. */
function writeIdx(dir: string): void {
  const split = loadEmbeddedMnist();
  fs.mkdirSync(dir, { recursive: true });
  for (const [prefix, ds] of [['train', split.train], ['t10k', split.test]] as const) {
    fs.writeFileSync(path.join(dir, `${prefix}-images-idx3-float`), encodeIdx('float32', [ds.n, 28, 28], ds.x));
    fs.writeFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`), encodeIdx('ubyte', [ds.n], ds.labels!));
    console.log(`Wrote ${path.join(dir, `${prefix}-images-idx3-float`)} and its labels: ${ds.n} digits.`);
  }
}

/** A grey PNG (8-bit, one channel): signature, IHDR, one IDAT, IEND. */
export function encodePng(grey: Uint8Array, width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(parseInt(crc32(body), 16));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4); ihdr[8] = 8; ihdr[9] = 0;
  const raw = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(grey.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

async function evaluateModel(file: string, data: DataSplit, K: number, png: string | undefined): Promise<void> {
  const { checkpoint: c, imported } = readCheckpointBytes(readModel(file), file, { inputSize: data.test.d });
  await setupNodeBackend('wasm');
  const cfg = c.config;
  // The noise of the checkpoint's step, as the trainer's evaluation at that step draws it.
  const e = evaluateElbo(cfg, c.params, data.test, cfg.seed, { split: 'test', draw: c.step });
  const se = (v: number | null) => (v === null ? ' (no SE: S=1)' : ` ± ${v.toFixed(6)}`);
  console.log(`${file} (${imported ? 'safetensors' : 'aevb checkpoint'}, ${cfg.decoder} D=${cfg.inputSize} H=${cfg.hidden} J=${cfg.latent}, step ${c.step}): ` +
    `test ELBO ${e.elbo.toFixed(6)}${se(e.se)} (S=${e.samples}; recon ${e.recon.toFixed(6)}, KL ${e.kl.toFixed(6)}) on ${data.test.n} ${data.test.name} digits`);
  if (K > 0) {
    const ll = estimateLogLikelihood(cfg, c.params, data.test, K, cfg.seed, { split: 'test', draw: c.step });
    console.log(`log p(x) ≥ ${ll.logLikelihood.toFixed(4)} (IS, K=${K})${ll.se === null ? '' : ` ± ${ll.se.toFixed(4)}`}: the importance-sampled estimate, a stochastic lower bound`);
  }
  if (!png) return;
  // 64 draws z ~ N(0, I) from the SAMPLE stream (as Trainer.sample), decoded to their means.
  const n = 64, J = cfg.latent, side = 28;
  const z = new Float32Array(J * n), col = new Float32Array(J), rng = new CounterRng(cfg.seed, Stream.SAMPLE);
  for (let i = 0; i < n; i++) { rng.normals(0, i, 0, col, 0, J); for (let j = 0; j < J; j++) z[j * n + i] = col[j]; }
  const p = paramTensors(c.params, buildLayout(cfg));
  const mean = tf.tidy(() => decode(cfg, p, tf.tensor2d(z, [J, n])).mean.dataSync() as Float32Array); // [D, n]
  disposeParams(p);
  const grey = new Uint8Array(8 * side * 8 * side);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < cfg.inputSize; d++) {
      const y = Math.floor(i / 8) * side + Math.floor(d / side), x = (i % 8) * side + (d % side);
      grey[y * 8 * side + x] = Math.round(255 * Math.min(1, Math.max(0, mean[d * n + i])));
    }
  }
  fs.writeFileSync(png, encodePng(grey, 8 * side, 8 * side));
  console.log(`Wrote ${png}: 64 samples (decoder means).`);
}

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: {
      help: { type: 'boolean', short: 'h' }, from: { type: 'string' }, to: { type: 'string' }, 'write-idx': { type: 'string' },
      evaluate: { type: 'string' }, data: { type: 'string' }, 'test-fraction': { type: 'string' }, 'eval-samples': { type: 'string' }, png: { type: 'string' },
    } }));
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message} Run npm run export -- --help.\n`);
    return 2;
  }
  try {
    if (values.help || (!values.from && !values['write-idx'] && !values.evaluate)) { process.stdout.write(EXPORT_HELP); return values.help ? 0 : 2; }
    if (values['write-idx']) writeIdx(values['write-idx'] as string);
    if (values.from) await exportRun(values.from as string, values.to as string | undefined);
    if (values.evaluate) {
      const K = Number(values['eval-samples'] ?? 0);
      if (!Number.isInteger(K) || K < 0) throw configError('eval-samples', `is ${JSON.stringify(values['eval-samples'])}`, 'Pass a whole number ≥ 0.');
      const src = (values.data as string | undefined) ?? 'mnist';
      const data = src === 'mnist' ? loadEmbeddedMnist() : splitDataset(loadIdxDataset(src, undefined, 'bernoulli'), Number(values['test-fraction'] ?? 0.1));
      await evaluateModel(values.evaluate as string, data, K, values.png as string | undefined);
    }
    return 0;
  } catch (e) {
    if (isAevbError(e)) { process.stderr.write(`error: ${e.message}\n`); return 2; }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
