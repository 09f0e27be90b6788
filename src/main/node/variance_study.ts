/**
 * `npm run variance -- --run DIR`: the estimator-variance study (docs/method.md, "Estimator variance";
 * the paper's argument that estimator B has lower variance than A) at fixed parameters taken from
 * several points of a run.
 *
 * Design. A run directory keeps only its last checkpoint, so the points come from retraining: the
 * run's config and seed are trained afresh on one thread (LocalTrainer: the same minibatches and ε,
 * so the same trajectory as the run up to float summation order), and the parameters are copied at
 * steps on a log grid from 10 steps (or fewer) to the checkpoint's step; the last point is the
 * checkpoint itself. At each point, for estimator A and B and L = 1, 2, 5, the per-parameter variance
 * of the per-datapoint minibatch gradient (M = --batch, default 100) over R = --draws (default 200)
 * independent minibatches and ε draws (src/shared/model/gradient_variance.ts), and, with the minibatch held
 * fixed, the ε-only part (the part L averages away). Every estimator and L sees the same draws.
 *
 * Output: DIR2/variance.json (rows: one per point × estimator × L) and DIR2/variance.md (a table).
 */
import fs from 'node:fs';
import path from 'node:path';
import { datasetFingerprint, type Checkpoint } from '../../shared/formats/checkpoint.ts';
import type { EstimatorKind, TrainConfig } from '../../shared/training/config.ts';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { checkpointError, configError } from '../../shared/errors.ts';
import { gradientVariance, summarizeVariance, type VarianceSummary } from '../../shared/model/gradient_variance.ts';
import { buildLayout } from '../../shared/model/layout.ts';
import { modelLayers } from '../../shared/model/layers.ts';
import { splitDataset } from '../../shared/data/mnist_split.ts';
import { LocalTrainer } from '../local_trainer.ts';
import { writeFileAtomic } from './checkpoint_files.ts';
import { loadEmbeddedMnist, loadIdxDataset } from './data_files.ts';
import { makeDirs } from './dirs.ts';
import { withFileErrors, withFileErrorsAsync } from './file_errors.ts';
import { readRunCheckpoint } from './run_dir.ts';
import { setupNodeBackend } from './tfjs_node.ts';

export interface VarianceRequest {
  /** The run directory (its checkpoint.aevb). */
  run: string;
  /** Where variance.json and variance.md go (default: the run directory). */
  out?: string;
  /** Points of the run (default 4). */
  points?: number;
  /** R: minibatches and ε draws per variance (default 200). */
  draws?: number;
  /** M: minibatch size (default 100, the paper's). */
  batch?: number;
  /** Seed of the study's draws (default 1). */
  seed?: number;
  /** L values (default 1, 2, 5). */
  samples?: number[];
  /** 'mnist' (default) or an IDX image file, as the run was trained on. */
  data?: string;
  testFraction?: number;
}

export interface VarianceRow extends VarianceSummary {
  /** Where the parameters came from: "checkpoint.aevb" or "retrained". */
  checkpoint: string;
  step: number;
  samplesSeen: number;
  estimator: EstimatorKind;
  L: number;
  /** Mean per-parameter variance with the minibatch held fixed (ε only). */
  epsOnlyMeanVariance: number;
}

export interface VarianceResult {
  version: 1;
  run: string;
  design: { draws: number; batch: number; seed: number; points: number[]; retrained: boolean; note: string };
  rows: VarianceRow[];
}

/** Up to k distinct whole steps on a log grid from min(10, last) to last (ascending; [last] when k = 1 or last ≤ 1). */
export function logGridSteps(last: number, k: number): number[] {
  if (last <= 1 || k <= 1) return [last];
  const first = Math.min(10, last);
  const out = new Set<number>();
  for (let i = 0; i < k; i++) out.add(Math.round(first * (last / first) ** (i / (k - 1))));
  out.add(last);
  return [...out].sort((a, b) => a - b);
}

function loadData(req: VarianceRequest, c: Checkpoint): DataSplit {
  const src = req.data ?? 'mnist';
  const data =
    src === 'mnist' ? loadEmbeddedMnist() : splitDataset(loadIdxDataset(src, undefined, c.config.decoder), req.testFraction ?? 0.1);
  const t = data.train;
  if (t.n !== c.data.n || t.d !== c.data.d || datasetFingerprint(t.x, t.n, t.d) !== c.data.fingerprint) {
    throw checkpointError(
      `The run in ${req.run} was trained on "${c.data.name}" (${c.data.n} datapoints), not on this data (${t.name}, ${t.n}).`,
      'Pass --data (and --test-fraction) as the run was trained with.',
    );
  }
  return data;
}

function positiveInt(v: number | undefined, def: number, flag: string, min = 1): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < min)
    throw configError(flag, `is ${JSON.stringify(v)}; it must be a whole number ≥ ${min}`, `Pass --${flag} with a whole number ≥ ${min}.`);
  return x;
}

export async function runVarianceStudy(req: VarianceRequest, log: (s: string) => void = console.log): Promise<VarianceResult> {
  const points = positiveInt(req.points, 4, 'points'),
    draws = positiveInt(req.draws, 200, 'draws', 2);
  const batch = positiveInt(req.batch, 100, 'batch'),
    seed = positiveInt(req.seed, 1, 'seed', 0);
  const Ls = req.samples ?? [1, 2, 5];
  Ls.forEach((L) => positiveInt(L, 1, 'samples'));
  const runInfo = withFileErrors('read', req.run, () => fs.statSync(req.run, { throwIfNoEntry: false }), '', '--run');
  if (!runInfo?.isDirectory()) {
    throw checkpointError(
      `--run ${req.run} is ${runInfo ? 'a file' : 'not there'}, not a run directory.`,
      'Pass --run the --out directory of a run of npm run train.',
    );
  }
  const c = readRunCheckpoint(req.run);
  if (!c) throw checkpointError(`${req.run} holds no checkpoint.aevb.`, 'Pass --run the --out directory of a run of npm run train.');
  // The output directory before the work (retraining takes minutes): a bad --out fails at once.
  const out = req.out ?? req.run;
  makeDirs(out, '--out');
  const data = loadData(req, c);
  if (batch > data.train.n)
    throw configError(
      'batch',
      `is ${batch}, larger than the ${data.train.n} training datapoints`,
      `Pass --batch ${data.train.n} or fewer.`,
    );
  await setupNodeBackend('wasm');
  const cfg: TrainConfig = c.config;
  const steps = logGridSteps(c.step, points);
  // The parameters at each point: retrained up to the last-but-one, the checkpoint for the last.
  const at: { label: string; step: number; samplesSeen: number; params: Float32Array }[] = [];
  const earlier = steps.filter((s) => s < c.step);
  if (earlier.length) {
    log(
      `Retraining ${cfg.estimator}/${cfg.optimizer} (seed ${cfg.seed}) on one thread to step ${earlier[earlier.length - 1]} for the points at steps ${earlier.join(', ')}…`,
    );
    const t = new LocalTrainer(cfg, data);
    try {
      for (const s of earlier) {
        while (t.state.step < s) t.step();
        at.push({ label: 'retrained', step: s, samplesSeen: t.state.samplesSeen, params: t.state.params.slice() });
      }
    } finally {
      t.dispose();
    }
  }
  at.push({ label: 'checkpoint.aevb', step: c.step, samplesSeen: c.samplesSeen, params: c.params });
  const layout = buildLayout(cfg);
  const rows: VarianceRow[] = [];
  for (const p of at) {
    for (const estimator of ['A', 'B'] as const) {
      for (const L of Ls) {
        const study = { ...cfg, estimator, samples: L, batch };
        const full = summarizeVariance(gradientVariance(study, p.params, data.train, { draws, seed }), layout);
        const eps = summarizeVariance(gradientVariance(study, p.params, data.train, { draws, seed, fixedMinibatch: true }), layout);
        const row: VarianceRow = {
          checkpoint: p.label,
          step: p.step,
          samplesSeen: p.samplesSeen,
          estimator,
          L,
          ...full,
          epsOnlyMeanVariance: eps.meanVariance,
        };
        rows.push(row);
        log(
          `step ${p.step} (${p.label}) estimator ${estimator} L=${L}: mean variance ${fmt(row.meanVariance)}, median ${fmt(row.medianVariance)}, ε only ${fmt(row.epsOnlyMeanVariance)}`,
        );
      }
    }
  }
  const result: VarianceResult = {
    version: 1,
    run: req.run,
    design: {
      draws,
      batch,
      seed,
      points: steps,
      retrained: earlier.length > 0,
      note: "Per-parameter variance of the per-datapoint minibatch gradient (1/M) ∇ Σ ℒ̃ over R independent minibatches (uniform, M distinct datapoints) and ε draws, at fixed parameters; earlier points retrained from the run's config and seed on one thread, the last point is the checkpoint. epsOnlyMeanVariance: the minibatch held fixed, only ε drawn.",
    },
    rows,
  };
  for (const [name, text] of [
    ['variance.json', `${JSON.stringify(result, null, 1)}\n`],
    ['variance.md', varianceMarkdown(result, cfg)],
  ]) {
    await withFileErrorsAsync('write', path.join(out, name), () =>
      writeFileAtomic(path.join(out, name), out, new TextEncoder().encode(text)),
    );
  }
  log(`Wrote ${path.join(out, 'variance.json')} and ${path.join(out, 'variance.md')}.`);
  return result;
}

const fmt = (v: number) => v.toExponential(3);

/** The table: one row per point, estimator and L; the ratio to estimator A with L = 1 at the same point. */
export function varianceMarkdown(r: VarianceResult, cfg: TrainConfig): string {
  const { mu, logvar } = modelLayers(cfg).encoder;
  const base = (row: VarianceRow) => r.rows.find((x) => x.step === row.step && x.estimator === 'A' && x.L === 1);
  const lines = [
    '# Estimator variance',
    '',
    `Run \`${r.run}\`: ${cfg.decoder} VAE, H=${cfg.hidden} J=${cfg.latent} ${cfg.activation}, trained with estimator ${cfg.estimator}, ${cfg.optimizer} lr ${cfg.lr}.`,
    `Per-parameter variance of the minibatch gradient (M = ${r.design.batch}, per datapoint), over R = ${r.design.draws} independent minibatches and ε draws (study seed ${r.design.seed}), at fixed parameters; mean and median over all parameters.`,
    `Points at steps ${r.design.points.join(', ')}${r.design.retrained ? " (all but the last retrained from the run's config and seed; the last is the checkpoint)" : ''}.`,
    '"ε only": the same with the minibatch held fixed (the part that L averages away, ∝ 1/L). "× A, L=1": mean variance relative to estimator A with L = 1 at that point.',
    '',
    `| point | samples seen | estimator | L | mean variance | median variance | ε only (mean) | × A, L=1 | μ head (${mu.W}) | log σ² head (${logvar.W}) |`,
    '|---|---:|:---:|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map(
      (row) =>
        `| ${row.checkpoint} @ step ${row.step} | ${row.samplesSeen.toLocaleString('en-US')} | ${row.estimator} | ${row.L} | ${fmt(row.meanVariance)} | ` +
        `${fmt(row.medianVariance)} | ${fmt(row.epsOnlyMeanVariance)} | ${(row.meanVariance / (base(row)?.meanVariance ?? NaN)).toFixed(3)} | ` +
        `${fmt(row.perGroup[mu.W])} | ${fmt(row.perGroup[logvar.W])} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
