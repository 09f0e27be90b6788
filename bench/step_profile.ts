/**
 * Where a production step's time goes: its phases (buildShard, gradient, update) and, inside the
 * gradient, every kernel the backend runs, matMuls by shape. Kernels are timed by registering
 * timing wrappers over the backend's kernels for the duration of the profile (WASM kernels are
 * synchronous, so performance.now() around the call is the kernel's time); the originals are put
 * back afterwards. Separate from the throughput runs, so the wrappers cost them nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LocalTrainer } from '../src/main/local_trainer.ts';
import type { TrainConfig } from '../src/shared/training/config.ts';
import type { DataSplit } from '../src/shared/data/dataset.ts';

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
  s.calls++;
  s.ms += ms;
  stats.set(key, s);
}

function matMulShapeKey(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined): string {
  const a = inputs.a!.shape.slice(-2),
    b = inputs.b!.shape.slice(-2);
  const ta = Boolean(attrs?.transposeA),
    tb = Boolean(attrs?.transposeB);
  if (!ta && !tb) return matMulKey(a[0], a[1], b[1]);
  return `${a[0]}×${a[1]}${ta ? 'ᵀ' : ''} · ${b[0]}×${b[1]}${tb ? 'ᵀ' : ''}`;
}

/** Runs fn with every kernel of `backend` timed; restores the original kernels afterwards. */
function withKernelTimers<T>(backend: string, fn: (kernels: Stats, matMuls: Stats) => T): T {
  const originals = tf.getKernelsForBackend(backend);
  const kernels: Stats = new Map(),
    matMuls: Stats = new Map();
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
  const trainer = new LocalTrainer(cfg, data);
  const phase = { shard: 0, gradient: 0, update: 0 };
  const step = (timed: boolean) => {
    const r = trainer.step(false);
    if (!r.ok) throw r.error;
    if (timed) {
      phase.shard += trainer.times.shard;
      phase.gradient += trainer.times.gradient;
      phase.update += trainer.times.update;
    }
  };
  try {
    for (let i = 0; i < warmSteps; i++) step(false);
    const perStep = (stats: Stats) => Object.fromEntries([...stats].map(([k, v]) => [k, { calls: v.calls / steps, ms: v.ms / steps }]));
    return withKernelTimers(tf.getBackend(), (kernels, matMuls) => {
      for (let i = 0; i < steps; i++) step(true);
      return {
        shardMs: phase.shard / steps,
        gradientMs: phase.gradient / steps,
        updateMs: phase.update / steps,
        kernels: perStep(kernels),
        matMuls: perStep(matMuls),
      };
    });
  } finally {
    trainer.dispose();
  }
}
