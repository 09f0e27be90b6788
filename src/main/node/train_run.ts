/**
 * One training run from the command line, top to bottom:
 *   1. data (embedded MNIST or the user's IDX file), validated; the starting point: fresh, or a
 *      checkpoint from --resume DIR (checked against the data and flags), or a model.safetensors
 *      from --resume FILE (its names and shapes checked, docs/safetensors.md);
 *   2. the run directory: created, locked (a run owns its directory), checked to hold nothing of
 *      another run, cleaned of what a killed run left;
 *   3. epochs: steps with a progress bar; at each evaluation point (every epoch's end, or a log grid
 *      of samples seen: --eval-at) evaluation, a checkpoint, a metrics line;
 *   4. the decoder exported in TF.js's weights format.
 * Nothing already trained is lost: an existing checkpoint is only replaced by a newer one of the
 * same run (atomically), metrics.jsonl never runs ahead of the checkpoint, Ctrl-C and SIGTERM save
 * the current step before exiting, and a diverging run stops without touching the last checkpoint.
 */
import type { WorkerInfo } from '../../shared/runtime/protocol.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetFingerprint, type Checkpoint } from '../../shared/formats/checkpoint.ts';
import { resolveConfig, type TrainConfig } from '../../shared/training/config.ts';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { exportDecoder } from '../../shared/formats/decoder_export.ts';
import { configError, stateError } from '../../shared/errors.ts';
import { splitDataset } from '../../shared/data/mnist_split.ts';
import { readCheckpointBytes } from '../../shared/formats/pytorch_state.ts';
import type { TrainingState } from '../../shared/training/training_state.ts';
import type { EpochRecord, Evaluation } from '../evaluation.ts';
import { nodeSpawner } from '../pool/spawn_node.ts';
import { Trainer, type EpochEvent } from '../trainer.ts';
import { CHECKPOINT_FILE, saveDecoderExport, writeFileAtomic } from './checkpoint_files.ts';
import type { CliRequest } from './cli_args.ts';
import { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
import { DivergenceGuard } from './divergence.ts';
import { describeFileError, isErrno, withFileErrors } from './file_errors.ts';
import { ProgressBar } from './progress.ts';
import { readFileBounded } from './read_file.ts';
import { StopSignal, stopOnSignals, type StopReason } from './stop_signal.ts';
import { acquireRunLock, checkNotHeld } from './run_lock.ts';
import {
  checkOutPath,
  checkRunDir,
  cleanStaleTemps,
  makeRunDir,
  METRICS_FILE,
  readRunCheckpoint,
  truncateMetrics,
  type RunStart,
} from './run_dir.ts';

export interface RunResult {
  outDir: string;
  config: TrainConfig;
  metrics: EpochRecord[];
  state: TrainingState;
  /** The signal that stopped the run early (its current step was saved), or false. */
  interrupted: false | 'SIGINT' | 'SIGTERM';
}

/** Where a run is, for a progress display (a sweep's one line per run). */
export interface RunProgress {
  step: number;
  totalSteps: number;
  epoch: number;
  epochs: number;
  samplesSeen: number;
  samplesPerSecond: number;
  /** Minibatch ELBO per datapoint, when the latest step computed it. */
  elbo?: number;
}

/** What a caller that runs several trainings in one process (a sweep) supplies instead of the defaults. */
export interface RunHooks {
  /** Stop requests from outside; without it the run listens to SIGINT and SIGTERM itself. */
  stop?: StopSignal;
  /** Progress of the steps, instead of the progress bar on stderr. */
  onProgress?: (p: RunProgress) => void;
  /** Loads the data (a sweep shares one copy among its runs); default: read it as the request says. */
  loadData?: (req: CliRequest, decoder: TrainConfig['decoder']) => DataSplit;
  /** Cores this run may treat as its own (its workers spin at barriers only within them); default: all. */
  cores?: number;
}

export function loadData(req: CliRequest, decoder: TrainConfig['decoder']): DataSplit {
  if (req.data === 'mnist') return loadEmbeddedMnist();
  return splitDataset(loadIdxDataset(req.data, req.labels, decoder), req.testFraction);
}

/** The checkpoint of the best evaluation so far, with --early-stop (checkpoint.aevb stays the latest). */
export const BEST_CHECKPOINT_FILE = 'best.aevb';

/** --resume names a file (checkpoint.aevb or model.safetensors) rather than a run directory. */
function resumesFromFile(req: CliRequest): boolean {
  return req.resume !== undefined && fs.statSync(req.resume, { throwIfNoEntry: false })?.isFile() === true;
}

/** The data and the starting point (fresh, or a checkpoint's bytes, checked again by the trainer). Writes nothing. */
function prepare(req: CliRequest, outDir: string, load: RunHooks['loadData'] = loadData) {
  let source: { file: string; checkpoint: Checkpoint; bytes: Uint8Array; imported: boolean } | undefined;
  if (req.resume && resumesFromFile(req)) {
    // A file: checkpoint.aevb or model.safetensors (told apart by content).
    const file = req.resume;
    const bytes = readFileBounded(file, '--resume');
    const loaded = readCheckpointBytes(bytes, file, req.explicit);
    if (loaded.imported && !req.out && fs.existsSync(path.join(outDir, CHECKPOINT_FILE))) {
      // A model from elsewhere is not a point of the run beside it: it gets its own directory.
      throw stateError(
        `${outDir} already holds a checkpoint (${CHECKPOINT_FILE}); training on ${path.basename(file)} there would overwrite it.`,
        'Pass --out DIR for the run that starts from the safetensors file.',
      );
    }
    source = { file, checkpoint: loaded.checkpoint, bytes, imported: loaded.imported };
  } else if (req.resume) {
    const c = readRunCheckpoint(req.resume);
    const file = path.join(req.resume, CHECKPOINT_FILE);
    if (!c)
      throw stateError(
        `Cannot resume: ${file} does not exist.`,
        'Pass --resume the --out directory of an earlier run, or a model.safetensors.',
      );
    source = { file, checkpoint: c, bytes: readFileBounded(file, '--resume'), imported: false };
  }
  const data = load(req, source?.checkpoint.config.decoder ?? req.explicit.decoder ?? 'bernoulli');
  const config = resolveConfig(source ? { ...source.checkpoint.config, ...req.explicit } : { ...req.explicit, inputSize: data.train.d });
  if (!source && data.train.n < config.batch) {
    throw configError(
      'batch',
      `is ${config.batch}, larger than the ${data.train.n} training datapoints`,
      `Pass --batch ${Math.min(100, data.train.n)} or fewer.`,
    );
  }
  const t = data.train;
  const start: RunStart = { source, config, data: { n: t.n, d: t.d, fingerprint: datasetFingerprint(t.x, t.n, t.d) } };
  checkNotHeld(outDir); // fail fast; both are checked again once the run owns the directory
  checkRunDir(outDir, start);
  return { data, start, bytes: source?.bytes };
}

/**
 * SIGINT (Ctrl-C) and SIGTERM (kill, a scheduler's stop) save the current step, then the run
 * returns with `interrupted` set. A sweep passes hooks.stop (its one set of signal handlers).
 */
export async function runTraining(req: CliRequest, log: (s: string) => void = console.log, hooks: RunHooks = {}): Promise<RunResult> {
  const outDir =
    req.out ??
    (req.resume && resumesFromFile(req) ? path.dirname(req.resume) : req.resume) ??
    path.join('runs', new Date().toISOString().replace(/[:.]/g, '-'));
  checkOutPath(outDir);
  const { data, start, bytes } = prepare(req, outDir, hooks.loadData);
  makeRunDir(outDir);
  const lock = acquireRunLock(outDir);
  let interrupted: false | StopReason = false;
  let trainer: Trainer | undefined;
  const stop = hooks.stop ?? new StopSignal();
  const offProcess = hooks.stop ? () => undefined : stopOnSignals(stop);
  // A signal lets a due evaluation point finish, so the saved step never lacks its metrics line.
  const offStop = stop.onStop((s) => {
    interrupted ||= s;
    void trainer?.stop({ evaluation: 'finish' });
  });
  try {
    checkRunDir(outDir, start);
    cleanStaleTemps(outDir);
    truncateMetrics(outDir, start.source?.checkpoint.step ?? 0);
    trainer = await Trainer.create(
      {
        data,
        config: start.config,
        checkpoint: bytes,
        workers: req.workers,
        maxSkippedSteps: req.maxSkippedSteps,
        evaluateAt: req.evalAt,
        ...(req.kernels ? { kernels: req.kernels } : {}),
      },
      nodeSpawner(),
      hooks.cores ?? os.availableParallelism(),
    );
    return await train(trainer, req, outDir, data, start, log, () => interrupted, hooks.onProgress);
  } finally {
    offStop();
    offProcess();
    await trainer?.dispose();
    lock.release();
  }
}

/** What computes the step, in words: "aevb kernels, relaxed SIMD (FMA)", "aevb kernels, SIMD128", "tfjs wasm SIMD". */
export function kernelWords(kernels: WorkerInfo['kernels'], simd: boolean): string {
  if (kernels === 'aevb-relaxed') return 'aevb kernels, relaxed SIMD (FMA)';
  if (kernels === 'aevb-simd128') return 'aevb kernels, SIMD128';
  return `tfjs wasm${simd ? ' SIMD' : ''}`;
}

async function train(
  trainer: Trainer,
  req: CliRequest,
  outDir: string,
  data: DataSplit,
  start: RunStart,
  log: (s: string) => void,
  interrupted: () => RunResult['interrupted'],
  onProgress?: RunHooks['onProgress'],
): Promise<RunResult> {
  const cfg = trainer.config;
  const info = trainer.workerInfo[0];
  const imported = (start.source as { imported?: boolean } | undefined)?.imported;
  if (start.source)
    log(
      `Resuming ${start.source.file} at step ${trainer.step} (${trainer.samplesSeen.toLocaleString('en-US')} samples seen)` +
        `${imported ? '; a safetensors model: its names and shapes were checked, not its training data' : ''}.`,
    );
  log(
    `aevb: ${cfg.decoder} VAE, D=${cfg.inputSize} H=${cfg.hidden} J=${cfg.latent} ${cfg.activation}, ` +
      `${cfg.algorithm === 'wake-sleep' ? 'wake-sleep' : `AEVB estimator ${cfg.estimator}`} L=${cfg.samples} M=${cfg.batch}, ${cfg.optimizer} lr=${cfg.lr}; ` +
      `${data.train.n} train / ${data.test.n} test (${data.train.name}); ${trainer.workers} worker${trainer.workers > 1 ? 's' : ''}` +
      `${trainer.autoWorkers ? ' (auto: the fastest count trains)' : ''} ` +
      `(${kernelWords(info.kernels, info.simd)}, ${trainer.transport === 'shared' ? 'shared memory' : 'messages'}); out ${outDir}`,
  );

  const bar = new ProgressBar(process.stderr, !req.quiet && !onProgress);
  const metrics: EpochRecord[] = [];
  const checkpointFile = path.join(outDir, CHECKPOINT_FILE);
  const metricsFile = path.join(outDir, METRICS_FILE);
  let savedStep = readRunCheckpoint(outDir)?.step ?? -1;
  let failed: unknown = null;
  const fail = (e: unknown) => {
    failed ??= e;
    void trainer.stop();
  };
  // Atomic (temp file + rename): a crash mid-write never leaves a broken or lost checkpoint.
  const write = async (ckpt: Uint8Array, step: number) => {
    try {
      await writeFileAtomic(checkpointFile, outDir, ckpt);
    } catch (e) {
      throw isErrno(e) ? describeFileError(e, 'save the checkpoint', checkpointFile, keptNote(checkpointFile, savedStep)) : e;
    }
    savedStep = step;
  };
  let saving: Promise<unknown> = Promise.resolve();
  const guard = new DivergenceGuard(req.maxSkippedSteps);

  trainer.on('progress', (p) => {
    bar.update(
      `epoch ${p.epoch + 1}/${cfg.epochs}`,
      p.step - p.epoch * trainer.stepsPerEpoch,
      trainer.stepsPerEpoch,
      p.samplesPerSecond,
      p.elbo,
    );
    onProgress?.({
      step: p.step,
      totalSteps: cfg.epochs * trainer.stepsPerEpoch,
      epoch: p.epoch,
      epochs: cfg.epochs,
      samplesSeen: p.samplesSeen,
      samplesPerSecond: p.samplesPerSecond,
      elbo: p.elbo,
    });
  });
  trainer.on('workers', (c) => {
    bar.clear();
    const rates = Object.entries(c.measured)
      .map(([n, r]) => `${n}: ${Math.round(r).toLocaleString('en-US')}`)
      .join(', ');
    log(`workers: ${c.workers} of ${trainer.workers} train (samples/s by count: ${rates})`);
  });
  trainer.on('failure', (f) => {
    if (f.kind === 'diverged') return; // the guard below says it, with what was kept
    bar.clear();
    log(
      `step ${f.step}: ${f.kind === 'worker-died' ? `worker ${f.worker} ${f.cause}; a new worker took its place and the step was retried` : f.cause}`,
    );
    if (guard.onFailure(f)) fail(guard.error(cfg, keptNote(checkpointFile, savedStep)));
  });
  trainer.on('epoch', (e: EpochEvent) => {
    bar.clear();
    const m: EpochRecord = { ...e, workers: trainer.activeWorkers };
    metrics.push(m);
    log(formatEpoch(m, cfg.epochs));
    // The state is read now, at the point (saveCheckpoint queues the read before the next request);
    // the metrics line follows its checkpoint, so metrics.jsonl never runs ahead of checkpoint.aevb.
    const ckpt = trainer.saveCheckpoint();
    ckpt.catch(() => undefined); // reported through the chain below (or moot once the run has failed)
    saving = saving
      .then(async () => {
        if (failed) return;
        await write(await ckpt, m.step);
        // --early-stop: the best evaluation's checkpoint, kept beside the latest (which --resume continues).
        if (e.earlyStop?.best) await writeFileAtomic(path.join(outDir, BEST_CHECKPOINT_FILE), outDir, await ckpt);
        withFileErrors(
          'append to',
          metricsFile,
          () => fs.appendFileSync(metricsFile, `${JSON.stringify(m)}\n`),
          `The checkpoint of step ${m.step} was saved; ${METRICS_FILE} is trimmed to match it when the run is resumed.`,
        );
      })
      .catch(fail);
  });

  if (!interrupted() && trainer.step >= cfg.epochs * trainer.stepsPerEpoch) {
    // Nothing left to train (e.g. a model brought back from PyTorch with its epochs done): show where it stands.
    const ev = await trainer.evaluate({ train: true, logLikelihoodSamples: cfg.evalSamples });
    log(
      `Already at step ${trainer.step} (epoch ${trainer.epoch} of ${cfg.epochs}): ` +
        formatEvaluation(ev) +
        '. Raise --epochs to train on.',
    );
  }
  // A signal while the workers started: straight to the save. The trainer stops a diverged run
  // itself too (same bound); the guard's error, which says what was kept, is the one reported.
  if (!interrupted())
    await trainer.start().catch((e) => {
      if (!failed) throw e;
    });
  await saving;
  if (failed) throw failed;
  if (interrupted()) {
    await write(await trainer.saveCheckpoint(), trainer.step);
    log(`Interrupted (${interrupted()}) at step ${trainer.step}: saved ${checkpointFile}. Continue with --resume ${outDir}.`);
  }
  const early = trainer.stoppedEarly;
  if (early) {
    log(
      `Stopped early at evaluation ${early.evaluation} (step ${trainer.step}): no better test ELBO in ${early.sinceBest} evaluation${early.sinceBest === 1 ? '' : 's'}. ` +
        `The best, evaluation ${early.bestEvaluation} (step ${early.bestStep}, test ELBO ${early.bestElbo.toFixed(2)}), is ${path.join(outDir, BEST_CHECKPOINT_FILE)}.`,
    );
  }
  const state = await trainer.state();
  const decoder = exportDecoder(cfg, state.params, { imageShape: data.train.imageShape, generatedBy: 'aevb' });
  try {
    await saveDecoderExport(outDir, decoder);
  } catch (e) {
    throw isErrno(e)
      ? describeFileError(e, 'export the decoder to', path.join(outDir, 'decoder'), `The checkpoint ${checkpointFile} is saved.`)
      : e;
  }
  bar.clear();
  return { outDir, config: cfg, metrics, state, interrupted: interrupted() };
}

/** "−135.52 ± 0.08" (S ≥ 2), or "−135.52 (no SE: S=1)". */
function withSe(v: number | undefined, se: number | null | undefined): string {
  if (v === undefined) return '–';
  return se === null || se === undefined ? `${v.toFixed(2)} (no SE: S=1)` : `${v.toFixed(2)} ± ${se.toFixed(2)}`;
}

/** "  log p(x) ≥ −112.50 (IS, K=5000) ± 0.03": the importance-sampled estimate, a stochastic lower bound. */
export function formatLogLikelihood(e: Evaluation): string {
  if (e.logLikelihood === undefined) return '';
  const K = e.logLikelihoodK ?? '?';
  return `  log p(x) ≥ ${e.logLikelihood.toFixed(2)} (IS, K=${K})${e.logLikelihoodSe == null ? '' : ` ± ${e.logLikelihoodSe.toFixed(2)}`}`;
}

function formatEvaluation(e: Evaluation): string {
  return (
    `train ELBO ${withSe(e.trainElbo, e.trainElboSe)}  test ELBO ${withSe(e.testElbo, e.testElboSe)} (S=${e.elboSamples}; ` +
    `recon ${e.testRecon.toFixed(2)}, KL ${e.testKl.toFixed(2)})${formatLogLikelihood(e)}`
  );
}

function keptNote(file: string, step: number): string {
  return step >= 0 ? `The last good checkpoint, ${file} (step ${step}), is kept.` : 'No checkpoint had been saved yet.';
}

export function formatEpoch(m: EpochRecord, epochs: number): string {
  // A grid point inside an epoch: where it lies, in samples seen (the x-axis of Figure 2).
  const at = m.point === 'grid' ? `samples ${m.samplesSeen.toLocaleString('en-US')} (step ${m.step})  ` : '';
  return (
    `${at}epoch ${String(m.epoch).padStart(String(epochs).length)}/${epochs}  ${formatEvaluation(m)}  ` +
    `${Math.round(m.samplesPerSecond).toLocaleString('en-US')} samples/s  ${m.trainSeconds.toFixed(1)}+${m.evalSeconds.toFixed(1)} s`
  );
}
