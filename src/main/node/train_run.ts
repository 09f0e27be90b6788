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
import path from 'node:path';
import { resolveConfig, type TrainConfig } from '../../shared/config.ts';
import type { DataSplit } from '../../shared/dataset.ts';
import { checkCompatible, datasetFingerprint, type Checkpoint } from '../../shared/checkpoint.ts';
import { exportDecoder } from '../../shared/decoder_export.ts';
import { configError, stateError } from '../../shared/errors.ts';
import { splitDataset } from '../../shared/mnist_split.ts';
import { LocalTrainer, initialState, type Evaluation, type TrainingState } from '../local_trainer.ts';
import { CHECKPOINT_FILE, loadCheckpointFile, saveCheckpointFile, saveDecoderExport } from './checkpoint_files.ts';
import type { CliRequest } from './cli_args.ts';
import { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
import { ProgressBar } from './progress.ts';
import { setupNodeBackend } from './tfjs_node.ts';

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

function toCheckpoint(cfg: TrainConfig, state: TrainingState, data: DataSplit): Checkpoint {
  const t = data.train;
  return {
    format: 'aevb-checkpoint', version: 1, config: cfg, step: state.step, samplesSeen: state.samplesSeen,
    params: state.params, optimizer: { kind: cfg.optimizer, slots: state.slots },
    data: { name: t.name, n: t.n, d: t.d, fingerprint: datasetFingerprint(t.x, t.n, t.d) },
    createdAt: new Date().toISOString(),
  };
}

/** Resolve the output directory and the starting point (fresh or resumed). */
async function prepare(req: CliRequest, log: (s: string) => void) {
  if (req.resume) {
    const ckpt = await loadCheckpointFile(req.resume);
    // Flags may change only what RESUMABLE_FIELDS allows; checkCompatible names any other difference.
    const cfg = resolveConfig({ ...ckpt.config, ...req.explicit });
    const data = loadData(req, cfg.decoder);
    const t = data.train;
    checkCompatible(ckpt, cfg, { n: t.n, d: t.d, fingerprint: datasetFingerprint(t.x, t.n, t.d) }, path.join(req.resume, CHECKPOINT_FILE));
    const state: TrainingState = { params: ckpt.params, slots: ckpt.optimizer.slots, step: ckpt.step, samplesSeen: ckpt.samplesSeen };
    log(`Resuming ${req.resume} at step ${ckpt.step} (${ckpt.samplesSeen.toLocaleString('en-US')} samples seen).`);
    return { cfg, data, state, outDir: req.out ?? req.resume };
  }
  const outDir = req.out ?? path.join('runs', new Date().toISOString().replace(/[:.]/g, '-'));
  if (fs.existsSync(path.join(outDir, CHECKPOINT_FILE))) {
    throw stateError(`${outDir} already holds a checkpoint (${CHECKPOINT_FILE}); starting over would overwrite it.`,
      `Continue it with --resume ${outDir}, or choose another --out.`);
  }
  const decoder = req.explicit.decoder ?? 'bernoulli';
  const data = loadData(req, decoder);
  const cfg = resolveConfig({ ...req.explicit, inputSize: data.train.d });
  if (data.train.n < cfg.batch) {
    throw configError('batch', `is ${cfg.batch}, larger than the ${data.train.n} training datapoints`, `Pass --batch ${Math.min(100, data.train.n)} or fewer.`);
  }
  return { cfg, data, state: initialState(cfg), outDir };
}

export async function runTraining(req: CliRequest, log: (s: string) => void = console.log): Promise<RunResult> {
  const { cfg, data, state, outDir } = await prepare(req, log);
  const backend = await setupNodeBackend(req.backend);
  fs.mkdirSync(outDir, { recursive: true });
  const trainer = new LocalTrainer(cfg, data, state);
  const spe = trainer.stepsPerEpoch;
  log(`aevb: ${cfg.decoder} VAE, D=${cfg.inputSize} H=${cfg.hidden} J=${cfg.latent} ${cfg.activation}, ` +
    `estimator ${cfg.estimator} L=${cfg.samples} M=${cfg.batch}, ${cfg.optimizer} lr=${cfg.lr}, ` +
    `${trainer.layout.size.toLocaleString('en-US')} parameters; ${data.train.n} train / ${data.test.n} test (${data.train.name}); ` +
    `backend ${backend.backend}${backend.simd ? ' (SIMD)' : ''}; out ${outDir}`);

  let interrupted = false;
  const onSigint = () => { interrupted = true; };
  process.on('SIGINT', onSigint);
  const bar = new ProgressBar(process.stderr, !req.quiet);
  const metrics: EpochMetrics[] = [];
  const metricsFile = path.join(outDir, 'metrics.jsonl');
  const save = () => saveCheckpointFile(outDir, toCheckpoint(cfg, state, data));
  try {
    while (!interrupted && state.step < cfg.epochs * spe) {
      const epoch = Math.floor(state.step / spe) + 1;
      const endStep = epoch * spe;
      let failed = 0, lastElbo: number | undefined, trainMs = 0;
      const first = state.step;
      while (state.step < endStep && !interrupted) {
        const t0 = performance.now();
        const r = trainer.step(state.step % 20 === 0);
        trainMs += performance.now() - t0;
        if (r.value) lastElbo = r.value.elbo;
        if (!r.ok) { failed++; bar.clear(); log(r.error!.message); }
        if (failed > 20) throw r.error!;
        bar.update(`epoch ${epoch}/${cfg.epochs}`, state.step - (endStep - spe), spe, ((state.step - first) * cfg.batch * 1000) / trainMs, lastElbo);
        // Yield now and then so that Ctrl-C (SIGINT) is seen between steps.
        if (state.step % 25 === 0) await new Promise((r) => setImmediate(r));
      }
      bar.clear();
      if (interrupted) break;
      const e0 = performance.now();
      const ev = trainer.evaluate();
      const m: EpochMetrics = {
        epoch, step: state.step, samplesSeen: state.samplesSeen, ...ev,
        samplesPerSecond: ((state.step - first) * cfg.batch * 1000) / trainMs,
        trainSeconds: trainMs / 1000, evalSeconds: (performance.now() - e0) / 1000, failedSteps: failed,
      };
      metrics.push(m);
      fs.appendFileSync(metricsFile, JSON.stringify(m) + '\n');
      await save();
      log(formatEpoch(m, cfg.epochs));
    }
    if (interrupted) {
      await save();
      log(`Interrupted at step ${state.step}: saved ${path.join(outDir, CHECKPOINT_FILE)}. Continue with --resume ${outDir}.`);
    }
    const exp = exportDecoder(cfg, state.params, { imageShape: data.train.imageShape, generatedBy: 'aevb' });
    await saveDecoderExport(outDir, exp);
  } finally {
    process.off('SIGINT', onSigint);
    trainer.dispose();
  }
  return { outDir, config: cfg, metrics, state, interrupted };
}

export function formatEpoch(m: EpochMetrics, epochs: number): string {
  const ll = m.logLikelihood === undefined ? '' : `  log p(x) ${m.logLikelihood.toFixed(2)}`;
  return `epoch ${String(m.epoch).padStart(String(epochs).length)}/${epochs}  ` +
    `train ELBO ${m.trainElbo.toFixed(2)}  test ELBO ${m.testElbo.toFixed(2)} (recon ${m.testRecon.toFixed(2)}, KL ${m.testKl.toFixed(2)})${ll}  ` +
    `${Math.round(m.samplesPerSecond).toLocaleString('en-US')} samples/s  ${m.trainSeconds.toFixed(1)}+${m.evalSeconds.toFixed(1)} s`;
}
