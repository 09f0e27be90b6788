/**
 * One training run from the command line, top to bottom:
 *   1. data (embedded MNIST or the user's IDX file), validated;
 *   2. config and state: fresh, or from --resume DIR (checked against the data and flags);
 *   3. epochs: steps with a progress bar, then evaluation, a metrics line, a checkpoint;
 *   4. the decoder exported in TF.js's weights format.
 * Nothing already trained is lost: an existing checkpoint is only replaced by a newer one of the
 * same run (atomically), and Ctrl-C saves the current step before exiting.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveConfig, type TrainConfig } from '../../shared/config.ts';
import type { DataSplit } from '../../shared/dataset.ts';
import { readCheckpointBytes } from '../../shared/pytorch_state.ts';
import { exportDecoder } from '../../shared/decoder_export.ts';
import { configError, stateError } from '../../shared/errors.ts';
import { splitDataset } from '../../shared/mnist_split.ts';
import type { Evaluation } from '../local_trainer.ts';
import type { TrainingState } from '../../shared/training_state.ts';
import { Trainer, type EpochEvent } from '../trainer.ts';
import { nodeSpawner } from '../pool/spawn_node.ts';
import { CHECKPOINT_FILE, saveDecoderExport, writeFileAtomic } from './checkpoint_files.ts';
import type { CliRequest } from './cli_args.ts';
import { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
import { ProgressBar } from './progress.ts';

export interface EpochMetrics extends Evaluation {
  epoch: number;
  step: number;
  samplesSeen: number;
  samplesPerSecond: number;
  /** Seconds spent in training steps this epoch (evaluation excluded). */
  trainSeconds: number;
  evalSeconds: number;
  /** Updates skipped because their gradient was not finite. */
  failedSteps: number;
  workers: number;
}

export interface RunResult {
  outDir: string;
  config: TrainConfig;
  metrics: EpochMetrics[];
  state: TrainingState;
  interrupted: boolean;
}

function loadData(req: CliRequest, decoder: TrainConfig['decoder']): DataSplit {
  if (req.data === 'mnist') return loadEmbeddedMnist();
  return splitDataset(loadIdxDataset(req.data, req.labels, decoder), req.testFraction);
}

/** Resolve the output directory and the starting point: fresh, or a checkpoint's bytes (checked by the trainer). */
function prepare(req: CliRequest) {
  if (req.resume) {
    // A run directory (its checkpoint.aevb), or a file: checkpoint.aevb or model.safetensors (told apart by content).
    const isFile = fs.existsSync(req.resume) && fs.statSync(req.resume).isFile();
    const file = isFile ? req.resume : path.join(req.resume, CHECKPOINT_FILE);
    if (!fs.existsSync(file)) {
      throw stateError(`Cannot resume: ${file} does not exist.`, 'Pass --resume the --out directory of an earlier run, or a model.safetensors.');
    }
    const bytes = new Uint8Array(fs.readFileSync(file));
    const loaded = readCheckpointBytes(bytes, file, req.explicit);
    const outDir = req.out ?? (isFile ? path.dirname(file) : req.resume);
    if (loaded.imported && !req.out && fs.existsSync(path.join(outDir, CHECKPOINT_FILE))) {
      throw stateError(`${outDir} already holds a checkpoint (${CHECKPOINT_FILE}); training on ${path.basename(file)} there would overwrite it.`,
        'Pass --out DIR for the run that starts from the safetensors file.');
    }
    const saved = loaded.checkpoint.config;
    const data = loadData(req, saved.decoder);
    return { data, checkpoint: bytes, config: { ...saved, ...req.explicit }, outDir, source: file, imported: loaded.imported };
  }
  const outDir = req.out ?? path.join('runs', new Date().toISOString().replace(/[:.]/g, '-'));
  if (fs.existsSync(path.join(outDir, CHECKPOINT_FILE))) {
    throw stateError(`${outDir} already holds a checkpoint (${CHECKPOINT_FILE}); starting over would overwrite it.`,
      `Continue it with --resume ${outDir}, or choose another --out.`);
  }
  const data = loadData(req, req.explicit.decoder ?? 'bernoulli');
  const config = resolveConfig({ ...req.explicit, inputSize: data.train.d });
  if (data.train.n < config.batch) {
    throw configError('batch', `is ${config.batch}, larger than the ${data.train.n} training datapoints`, `Pass --batch ${Math.min(100, data.train.n)} or fewer.`);
  }
  return { data, checkpoint: undefined, config, outDir, source: '', imported: false };
}

export async function runTraining(req: CliRequest, log: (s: string) => void = console.log): Promise<RunResult> {
  const { data, checkpoint, config, outDir, source, imported } = prepare(req);
  const trainer = await Trainer.create({ data, config, checkpoint, workers: req.workers }, nodeSpawner(), os.availableParallelism());
  const cfg = trainer.config;
  const info = trainer.workerInfo[0];
  if (source) log(`Resuming ${source} at step ${trainer.step} (${trainer.samplesSeen.toLocaleString('en-US')} samples seen)` +
    `${imported ? '; a safetensors model: its names and shapes were checked, not its training data' : ''}.`);
  log(`aevb: ${cfg.decoder} VAE, D=${cfg.inputSize} H=${cfg.hidden} J=${cfg.latent} ${cfg.activation}, ` +
    `estimator ${cfg.estimator} L=${cfg.samples} M=${cfg.batch}, ${cfg.optimizer} lr=${cfg.lr}; ` +
    `${data.train.n} train / ${data.test.n} test (${data.train.name}); ${trainer.workers} worker${trainer.workers > 1 ? 's' : ''}` +
    `${trainer.autoWorkers ? ' (auto: the fastest count trains)' : ''} ` +
    `(${info.backend}${info.simd ? ' SIMD' : ''}, ${trainer.transport === 'shared' ? 'shared memory' : 'messages'}); out ${outDir}`);
  fs.mkdirSync(outDir, { recursive: true });

  const bar = new ProgressBar(process.stderr, !req.quiet);
  const metrics: EpochMetrics[] = [];
  const metricsFile = path.join(outDir, 'metrics.jsonl');
  let saving: Promise<unknown> = Promise.resolve();
  // Atomic (temp file + rename): a crash mid-write never leaves a broken or lost checkpoint.
  const save = async () => writeFileAtomic(path.join(outDir, CHECKPOINT_FILE), outDir, await trainer.saveCheckpoint());
  trainer.on('progress', (p) => bar.update(`epoch ${p.epoch + 1}/${cfg.epochs}`, p.step - p.epoch * trainer.stepsPerEpoch,
    trainer.stepsPerEpoch, p.samplesPerSecond, p.elbo));
  trainer.on('workers', (c) => {
    bar.clear();
    const rates = Object.entries(c.measured).map(([n, r]) => `${n}: ${Math.round(r).toLocaleString('en-US')}`).join(', ');
    log(`workers: ${c.workers} of ${trainer.workers} train (samples/s by count: ${rates})`);
  });
  trainer.on('failure', (f) => { bar.clear(); log(`step ${f.step}: ${f.kind === 'worker-died' ? `worker ${f.worker} ${f.cause}; a new worker took its place and the step was retried` : f.cause}`); });
  trainer.on('epoch', (e: EpochEvent) => {
    bar.clear();
    const m = { ...e, workers: trainer.activeWorkers } as EpochMetrics;
    metrics.push(m);
    fs.appendFileSync(metricsFile, JSON.stringify(m) + '\n');
    log(formatEpoch(m, cfg.epochs));
    saving = saving.then(save); // runs between requests (Trainer.between), so the state is consistent
  });

  let interrupted = false;
  const onSigint = () => { interrupted = true; void trainer.stop(); };
  process.on('SIGINT', onSigint);
  try {
    if (trainer.step >= cfg.epochs * trainer.stepsPerEpoch) {
      // Nothing left to train (e.g. a model brought back from PyTorch with its epochs done): show where it stands.
      const ev = await trainer.evaluate({ train: true, logLikelihoodSamples: cfg.evalSamples });
      log(`Already at step ${trainer.step} (epoch ${trainer.epoch} of ${cfg.epochs}): ` + formatEvaluation(ev) + '. Raise --epochs to train on.');
    }
    await trainer.start();
    await saving;
    if (interrupted) {
      await save();
      log(`Interrupted at step ${trainer.step}: saved ${path.join(outDir, CHECKPOINT_FILE)}. Continue with --resume ${outDir}.`);
    }
    const state = await trainer.state();
    await saveDecoderExport(outDir, exportDecoder(cfg, state.params, { imageShape: data.train.imageShape, generatedBy: 'aevb' }));
    return { outDir, config: cfg, metrics, state, interrupted };
  } finally {
    process.off('SIGINT', onSigint);
    bar.clear();
    await trainer.dispose();
  }
}

function formatEvaluation(e: Partial<Evaluation> & { testElbo: number }): string {
  const ll = e.logLikelihood === undefined ? '' : `  log p(x) ${e.logLikelihood.toFixed(2)}`;
  return `train ELBO ${e.trainElbo?.toFixed(2)}  test ELBO ${e.testElbo.toFixed(2)} (recon ${e.testRecon?.toFixed(2)}, KL ${e.testKl?.toFixed(2)})${ll}`;
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  const ll = m.logLikelihood === undefined ? '' : `  log p(x) ${m.logLikelihood.toFixed(2)}`;
  return `epoch ${String(m.epoch).padStart(String(epochs).length)}/${epochs}  ` +
    `train ELBO ${m.trainElbo.toFixed(2)}  test ELBO ${m.testElbo.toFixed(2)} (recon ${m.testRecon.toFixed(2)}, KL ${m.testKl.toFixed(2)})${ll}  ` +
    `${Math.round(m.samplesPerSecond).toLocaleString('en-US')} samples/s  ${m.trainSeconds.toFixed(1)}+${m.evalSeconds.toFixed(1)} s`;
}
