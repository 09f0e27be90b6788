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
import { deflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs-core';
import { crc32 } from '../../shared/formats/checkpoint.ts';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { checkpointError, configError } from '../../shared/errors.ts';
import { estimateLogLikelihood, evaluateElbo } from '../../shared/model/evaluate.ts';
import { encodeIdx } from '../../shared/formats/idx.ts';
import { DEFAULT_TEST_FRACTION, MAX_TEST_FRACTION, splitDataset } from '../../shared/data/mnist_split.ts';
import { decode, disposeParams, paramTensors } from '../../shared/model/model.ts';
import { buildLayout } from '../../shared/model/layout.ts';
import { exportSafetensors, readCheckpointBytes } from '../../shared/formats/pytorch_state.ts';
import { CounterRng, Stream } from '../../shared/training/rng.ts';
import { fieldRow } from '../../shared/training/config_fields.ts';
import { CHECKPOINT_FILE, writeFileAtomic } from './checkpoint_files.ts';
import { runMain } from './cli_main.ts';
import { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
import { makeDirs } from './dirs.ts';
import { checkExportTarget, checkNotRunFile, checkPngTarget } from './export_targets.ts';
import { withFileErrors, withFileErrorsAsync } from './file_errors.ts';
import { numberFlag, parseFlags, parseNumber, type FlagSpec } from './flags.ts';
import { readFileBounded } from './read_file.ts';
import { setupNodeBackend } from './tfjs_node.ts';

/** At most as many importance samples as training's evalSamples (its row of the field table). */
const MAX_EVAL_SAMPLES = fieldRow('evalSamples')!.max!;

export const EXPORT_HELP = `npm run export -- [flags]: move a model to PyTorch and back (docs/safetensors.md)

  --from RUN            a run directory (its checkpoint.aevb) or a .aevb file to export
  --to FILE             where to write the safetensors (default RUN/model.safetensors); a .safetensors
                        name, never the source or a file a run keeps; only an earlier export is replaced
  --write-idx DIR       write the embedded MNIST split (9,000 train / 1,000 test) as IDX files in DIR
  --evaluate MODEL      a .aevb or .safetensors model: print its test ELBO on --data
  --data SRC            mnist (default) or an IDX image file, split by --test-fraction (default 0.1)
  --eval-samples K      also estimate log p(x) with K importance samples (0 to ${MAX_EVAL_SAMPLES.toLocaleString('en')})
  --png FILE            with --evaluate: write 64 samples from the model as an 8×8 PNG grid
  -h, --help            this text
`;

/** The model file a flag names: a run directory's checkpoint.aevb, or the file itself (a regular file, read_file.ts). */
function modelPath(file: string, flag: string): string {
  const info = withFileErrors('read', file, () => fs.statSync(file, { throwIfNoEntry: false }), '', flag);
  if (!info) throw checkpointError(`${file} does not exist.`, `Pass ${flag} a run directory, a checkpoint.aevb or a model.safetensors.`);
  return info.isDirectory() ? path.join(file, CHECKPOINT_FILE) : file;
}

function readModel(file: string, flag: string): { path: string; bytes: Uint8Array } {
  const p = modelPath(file, flag);
  if (!fs.existsSync(p))
    throw checkpointError(`${p} does not exist.`, `Pass ${flag} a run directory, a checkpoint.aevb or a model.safetensors.`);
  return { path: p, bytes: readFileBounded(p, flag) };
}

async function exportRun(from: string, to: string | undefined): Promise<void> {
  const src = readModel(from, '--from');
  const { checkpoint, imported } = readCheckpointBytes(src.bytes, from);
  if (imported) throw configError('from', `is already a safetensors file (${from})`, 'Pass the run directory or its checkpoint.aevb.');
  const out = to ?? path.join(path.dirname(src.path), 'model.safetensors');
  checkExportTarget(out, src.path);
  const bytes = exportSafetensors(checkpoint);
  await withFileErrorsAsync('write', out, () => writeFileAtomic(out, path.dirname(out), bytes), '--to');
  console.log(
    `Wrote ${out}: ${checkpoint.config.optimizer} model at step ${checkpoint.step}, ${bytes.length.toLocaleString('en-US')} bytes.`,
  );
}

/** IDX files of the embedded split, named like MNIST's own; float32 images hold the exact values we train on. */
async function writeIdx(dir: string): Promise<void> {
  const split = loadEmbeddedMnist();
  makeDirs(dir, '--write-idx');
  for (const [prefix, ds] of [
    ['train', split.train],
    ['t10k', split.test],
  ] as const) {
    for (const [name, bytes] of [
      [`${prefix}-images-idx3-float`, encodeIdx('float32', [ds.n, 28, 28], ds.x)],
      [`${prefix}-labels-idx1-ubyte`, encodeIdx('ubyte', [ds.n], ds.labels!)],
    ] as const) {
      const file = path.join(dir, name);
      checkNotRunFile(file, '--write-idx');
      await withFileErrorsAsync('write', file, () => writeFileAtomic(file, dir, bytes), '--write-idx');
    }
    console.log(`Wrote ${path.join(dir, `${prefix}-images-idx3-float`)} and its labels: ${ds.n} digits.`);
  }
}

/** A grey PNG (8-bit, one channel): signature, IHDR, one IDAT, IEND. */
export function encodePng(grey: Uint8Array, width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(parseInt(crc32(body), 16));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 0;
  const raw = Buffer.alloc((width + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(grey.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function evaluateModel(file: string, data: DataSplit, K: number, png: string | undefined): Promise<void> {
  const { checkpoint: c, imported } = readCheckpointBytes(readModel(file, '--evaluate').bytes, file, { inputSize: data.test.d });
  const cfg = c.config;
  if (cfg.inputSize !== data.test.d) {
    throw checkpointError(
      `${file} holds a model of ${cfg.inputSize} inputs; the data (${data.test.name}) has ${data.test.d} values per datapoint.`,
      'Pass --data the data the model was trained on (or of its width).',
    );
  }
  if (png) checkPngTarget(png);
  await setupNodeBackend('wasm');
  // The noise of the checkpoint's step, as the trainer's evaluation at that step draws it.
  const e = evaluateElbo(cfg, c.params, data.test, cfg.seed, { split: 'test', draw: c.step });
  const se = (v: number | null) => (v === null ? ' (no SE: S=1)' : ` ± ${v.toFixed(6)}`);
  console.log(
    `${file} (${imported ? 'safetensors' : 'aevb checkpoint'}, ${cfg.decoder} D=${cfg.inputSize} H=${cfg.hidden} J=${cfg.latent}, step ${c.step}): ` +
      `test ELBO ${e.elbo.toFixed(6)}${se(e.se)} (S=${e.samples}; recon ${e.recon.toFixed(6)}, KL ${e.kl.toFixed(6)}) on ${data.test.n} ${data.test.name} digits`,
  );
  if (K > 0) {
    const ll = estimateLogLikelihood(cfg, c.params, data.test, K, cfg.seed, { split: 'test', draw: c.step });
    console.log(
      `log p(x) ≥ ${ll.logLikelihood.toFixed(4)} (IS, K=${K})${ll.se === null ? '' : ` ± ${ll.se.toFixed(4)}`}: the importance-sampled estimate, a stochastic lower bound`,
    );
  }
  if (!png) return;
  // 64 draws z ~ N(0, I) from the SAMPLE stream (as Trainer.sample), decoded to their means.
  const n = 64,
    J = cfg.latent,
    side = 28;
  const z = new Float32Array(J * n),
    col = new Float32Array(J),
    rng = new CounterRng(cfg.seed, Stream.SAMPLE);
  for (let i = 0; i < n; i++) {
    rng.normals(0, i, 0, col, 0, J);
    for (let j = 0; j < J; j++) z[j * n + i] = col[j];
  }
  const p = paramTensors(c.params, buildLayout(cfg));
  const mean = tf.tidy(() => decode(cfg, p, tf.tensor2d(z, [J, n])).mean.dataSync() as Float32Array); // [D, n]
  disposeParams(p);
  const grey = new Uint8Array(8 * side * 8 * side);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < cfg.inputSize; d++) {
      const y = Math.floor(i / 8) * side + Math.floor(d / side),
        x = (i % 8) * side + (d % side);
      grey[y * 8 * side + x] = Math.round(255 * Math.min(1, Math.max(0, mean[d * n + i])));
    }
  }
  const bytes = encodePng(grey, 8 * side, 8 * side);
  await withFileErrorsAsync('write', png, () => writeFileAtomic(png, path.dirname(png), bytes), '--png');
  console.log(`Wrote ${png}: 64 samples (decoder means).`);
}

const EXPORT_FLAGS: FlagSpec = {
  help: { type: 'boolean', short: 'h' },
  from: { type: 'string' },
  to: { type: 'string' },
  'write-idx': { type: 'string' },
  evaluate: { type: 'string' },
  data: { type: 'string' },
  'test-fraction': { type: 'string' },
  'eval-samples': { type: 'string' },
  png: { type: 'string' },
};

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, EXPORT_FLAGS, 'export');
  if (values.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  for (const flag of ['from', 'to', 'write-idx', 'evaluate', 'data', 'png'] as const) {
    if (typeof values[flag] === 'string' && (values[flag] as string).trim() === '')
      throw configError(flag, 'was given an empty path', `Pass --${flag} a path, or leave it out.`);
  }
  if (!values.from && !values['write-idx'] && !values.evaluate) {
    throw configError(
      'from',
      'is missing, and so are --write-idx and --evaluate: there is nothing to do',
      'Pass --from RUN (export), --write-idx DIR or --evaluate MODEL; npm run export -- --help lists them.',
    );
  }
  if (values.to !== undefined && !values.from) throw configError('to', 'was given without --from', 'Pass --from RUN with --to FILE.');
  for (const flag of ['png', 'eval-samples', 'data', 'test-fraction'] as const) {
    if (values[flag] !== undefined && !values.evaluate)
      throw configError(flag, 'was given without --evaluate', `Pass --evaluate MODEL with --${flag}.`);
  }
  // The same bound as training's evalSamples (the field table): K importance samples per test datapoint.
  const K = numberFlag(values, 'eval-samples', { integer: true, min: 0, max: MAX_EVAL_SAMPLES, fallback: 0 });
  const src = (values.data as string | undefined) ?? 'mnist';
  if (values['test-fraction'] !== undefined && src === 'mnist') {
    throw configError(
      'test-fraction',
      'was given for the embedded MNIST, whose split is fixed (9,000 train / 1,000 test)',
      'Pass --test-fraction only with --data FILE.',
    );
  }
  const testFraction =
    values['test-fraction'] === undefined ? DEFAULT_TEST_FRACTION : parseNumber('test-fraction', values['test-fraction'] as string, false);
  if (!(testFraction > 0 && testFraction <= MAX_TEST_FRACTION)) {
    throw configError(
      'test-fraction',
      `is ${testFraction}; it must be > 0 and ≤ ${MAX_TEST_FRACTION}`,
      'Pass e.g. --test-fraction 0.1 (every 10th sample held out for testing).',
    );
  }
  if (values['write-idx']) await writeIdx(values['write-idx'] as string);
  if (values.from) await exportRun(values.from as string, values.to as string | undefined);
  if (values.evaluate) {
    const data = src === 'mnist' ? loadEmbeddedMnist() : splitDataset(loadIdxDataset(src, undefined, 'bernoulli'), testFraction);
    await evaluateModel(values.evaluate as string, data, K, values.png as string | undefined);
  }
  return 0;
}

await runMain(main);
