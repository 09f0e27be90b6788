/**
 * Where a production step's time goes: its phases (buildShard, gradient, update) and, inside the
 * gradient, every kernel the backend runs, matMuls by shape. Kernels are timed by registering
 * timing wrappers over the backend's kernels for the duration of the profile (WASM kernels are
 * synchronous, so performance.now() around the call is the kernel's time); the originals are put
 * back afterwards. Separate from the throughput runs, so the wrappers cost them nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initialState } from '../src/main/local_trainer.ts';
import type { TrainConfig } from '../src/shared/config.ts';
import type { DataSplit } from '../src/shared/dataset.ts';
import { SgvbGradient } from '../src/shared/gradients.ts';
import { buildLayout } from '../src/shared/layout.ts';
import { buildShard } from '../src/shared/minibatch.ts';
import { applyUpdate, firstNonFinite } from '../src/shared/optimizers.ts';
import { MinibatchSchedule } from '../src/shared/schedule.ts';

export interface TimeStat {
  /** Calls per step. */
  calls: number;
  /** Milliseconds per step. */
  ms: number;
}

export interface StepProfile {
  /** Milliseconds per step in each phase of LocalTrainer.step. */
  shardMs: number;
  gradientMs: number;
  updateMs: number;
  /** Kernel time inside the gradient, by kernel name. */
  kernels: Record<string, TimeStat>;
  /** BatchMatMul time by operand shapes, 'm×k · k×n' (a 'ᵀ' marks a transpose flag). */
  matMuls: Record<string, TimeStat>;
}

/** The shape key used for matMuls here and in the ceiling table. */
export const matMulKey = (m: number, k: number, n: number) => `${m}×${k} · ${k}×${n}`;

type Stats = Map<string, { calls: number; ms: number }>;

function record(stats: Stats, key: string, ms: number): void {
  const s = stats.get(key) ?? { calls: 0, ms: 0 };
  s.calls++; s.ms += ms;
  stats.set(key, s);
}

function matMulShapeKey(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): string {
  const a = inputs.a!.shape.slice(-2), b = inputs.b!.shape.slice(-2);
  const ta = Boolean(attrs?.transposeA), tb = Boolean(attrs?.transposeB);
  if (!ta && !tb) return matMulKey(a[0], a[1], b[1]);
  return `${a[0]}×${a[1]}${ta ? 'ᵀ' : ''} · ${b[0]}×${b[1]}${tb ? 'ᵀ' : ''}`;
}

/** Runs fn with every kernel of `backend` timed; restores the original kernels afterwards. */
function withKernelTimers<T>(backend: string, fn: (kernels: Stats, matMuls: Stats) => T): T {
  const originals = tf.getKernelsForBackend(backend);
  const kernels: Stats = new Map(), matMuls: Stats = new Map();
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backend);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        const t0 = performance.now();
        const out = k.kernelFunc(args);
        const ms = performance.now() - t0;
        record(kernels, k.kernelName, ms);
        if (k.kernelName === 'BatchMatMul') record(matMuls, matMulShapeKey(args.inputs, args.attrs), ms);
        return out;
      },
    });
  }
  try {
    return fn(kernels, matMuls);
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backend);
      tf.registerKernel(k);
    }
  }
}

/** Profiles `steps` production steps (after `warmSteps` untimed ones) on the current backend. */
export function profileProductionStep(cfg: TrainConfig, data: DataSplit, warmSteps: number, steps: number): StepProfile {
  const layout = buildLayout(cfg);
  const schedule = new MinibatchSchedule(cfg.seed, data.train.n, cfg.batch);
  const state = initialState(cfg, layout);
  const engine = new SgvbGradient(cfg, layout);
  const grad = new Float32Array(layout.size);
  const phase = { shard: 0, gradient: 0, update: 0 };
  // LocalTrainer.step, phase by phase.
  const step = (timed: boolean) => {
    const s = state.step++;
    const t0 = performance.now();
    const shard = buildShard(cfg, data.train, { indices: schedule.indices(s), step: s });
    const t1 = performance.now();
    engine.compute(state.params, shard, grad, false);
    const t2 = performance.now();
    if (firstNonFinite(grad) >= 0) throw new Error(`profile step ${s}: non-finite gradient`);
    applyUpdate({
      kind: cfg.optimizer, params: state.params, gradSum: grad, slots: state.slots,
      gradScale: -1 / cfg.batch, lr: cfg.lr, weightDecay: cfg.weightDecay, t: s + 1, start: 0, end: state.params.length,
    });
    const t3 = performance.now();
    if (timed) { phase.shard += t1 - t0; phase.gradient += t2 - t1; phase.update += t3 - t2; }
  };
  try {
    for (let i = 0; i < warmSteps; i++) step(false);
    const perStep = (stats: Stats) =>
      Object.fromEntries([...stats].map(([k, v]) => [k, { calls: v.calls / steps, ms: v.ms / steps }]));
    return withKernelTimers(tf.getBackend(), (kernels, matMuls) => {
      for (let i = 0; i < steps; i++) step(true);
      return {
        shardMs: phase.shard / steps, gradientMs: phase.gradient / steps, updateMs: phase.update / steps,
        kernels: perStep(kernels), matMuls: perStep(matMuls),
      };
    });
  } finally {
    engine.dispose();
  }
}
