/**
 * Every type that crosses a thread boundary (comlink's protocol.ts, by analogy). The coordinator
 * calls the worker through comlink as `wrap<WorkerApi>()`; each worker entry does
 * `expose(createWorkerApi() satisfies WorkerApi)`. Types are plain data: structured-cloneable.
 */
import type { TrainConfig } from '../training/config.ts';
import type { PoolBuffers, PoolMemorySpec } from './shared_memory.ts';
import type { KernelsInUse } from '../training/step_plan.ts';

/** What a worker needs to know about a dataset besides its values. */
export interface DatasetMeta {
  name: string;
  n: number;
  d: number;
}

export type Transport = 'shared' | 'message';

/**
 * Which kernels compute a step's gradient: 'aevb' (the default: aevb's own WASM SIMD kernels on the
 * step's memory, src/kernels/step.as.ts) or 'tfjs' (TensorFlow.js on its WASM backend: the reference).
 */
export type KernelChoice = 'aevb' | 'tfjs';
export type Split = 'train' | 'test';

export interface WorkerInit {
  /** This worker's index, 0 ≤ rank < workers. */
  rank: number;
  workers: number;
  config: TrainConfig;
  transport: Transport;
  train: DatasetMeta;
  test: DatasetMeta;
  /** Shared path: the pool's buffers (the datasets live in them). */
  memory?: { buffers: PoolBuffers; spec: PoolMemorySpec };
  /** Message path: this worker's own copies of the datasets. */
  trainX?: Float32Array;
  testX?: Float32Array;
  /** Compute the minibatch ELBO (not only the gradient) on steps with step % valueEvery == 0. */
  valueEvery: number;
  /** Where the TF.js WASM binaries are (a URL prefix in a page, a directory in Node). */
  wasmPaths?: string | Record<string, string>;
  /** The kernels of the step's gradient (default 'aevb'). */
  kernels?: KernelChoice;
  /** aevb's kernels: the build to run (default: the best the engine has); benchmarks and tests compare the two. */
  kernelBuild?: 'relaxed' | 'simd128';
}

export interface WorkerInfo {
  rank: number;
  backend: string;
  simd: boolean;
  /** Whether the WASM backend started threads of its own (it must not: the pool is the parallelism). */
  threads: boolean;
  /**
   * Where this worker's updates run: 'shared' — the WASM SIMD update kernels on the pool's shared
   * memory (shared path); 'coordinator' — the coordinator updates (message path).
   */
  update: 'shared' | 'coordinator';
  /**
   * What computes this worker's step gradients: aevb's kernels and the build its engine could run
   * ('aevb-relaxed': relaxed SIMD with fused multiply-add; 'aevb-simd128': plain SIMD128), or 'tfjs'
   * (asked for, or an algorithm aevb's kernels do not implement: wake-sleep).
   */
  kernels: KernelsInUse;
}

/** Milliseconds spent in each phase of the steps of one request, for the cost model. */
export interface PhaseTimes {
  /** Gathering rows, binarising, drawing ε. */
  shard: number;
  /** Copying θ from shared memory into this worker's TF.js backend. */
  upload: number;
  /** Forward + backward pass (kernels and their dispatch), copies excluded. */
  gradient: number;
  /** Copying the gradient out of the backend into this worker's shared slot. */
  readout: number;
  /** Waiting at the barrier after the gradient phase (imbalance + the slowest worker). */
  wait1: number;
  /** One kernel pass over this worker's slice: sum the gradient slots, check, apply the rule. */
  update: number;
  /** Waiting at the barrier after the update phase. */
  wait2: number;
}

export interface RunReport {
  rank: number;
  /** Steps this request committed. */
  completed: number;
  /** True when the request stopped because another worker died (ABORT). */
  aborted: boolean;
  times: PhaseTimes;
}

/** Sums over a shard (message path): the gradient and the ELBO terms. */
export interface GradientReply {
  grad: Float32Array;
  elbo: number;
  recon: number;
  kl: number;
}

export type { ElboSums, LogLikelihoodSums } from '../model/eval_sums.ts';
import type { ElboSums, LogLikelihoodSums } from '../model/eval_sums.ts';

/** The API each worker exposes. `params: null` means "the committed parameters in shared memory". */
export interface WorkerApi {
  init(msg: WorkerInit): Promise<WorkerInfo>;
  /**
   * Shared path: run steps [start, start + count) in lock-step with the other workers of ranks
   * 0 .. active − 1 (the pool may train with fewer workers than it has). `spin`: poll briefly at
   * barriers before sleeping (when every active worker has a core of its own).
   */
  runSteps(start: number, count: number, active: number, spin: boolean): Promise<RunReport>;
  /** Message path: the gradient of this worker's shard of step `step`, with `active` workers training. */
  gradient(params: Float32Array, step: number, active: number): Promise<GradientReply>;
  /**
   * Σ over datapoints [start, end) of the ELBO terms with `samples` draws of ε each, and of their
   * per-datapoint variances; the noise is that of (split, draw) (evaluate.ts).
   */
  evaluateElbo(params: Float32Array | null, split: Split, start: number, end: number, samples: number, draw: number): Promise<ElboSums>;
  /** Σ over datapoints [start, end) of the K-sample importance-sampled log p(x) and of its per-datapoint variance. */
  evaluateLogLikelihood(
    params: Float32Array | null,
    split: Split,
    start: number,
    end: number,
    k: number,
    draw: number,
  ): Promise<LogLikelihoodSums>;
  /** q(z|x) for n datapoints given as rows [n, D]: μ and log σ² as rows [n, J]. */
  encode(params: Float32Array | null, x: Float32Array, n: number): Promise<{ mu: Float32Array; logvar: Float32Array }>;
  /** The decoder's mean for n latent points given as rows [n, J]: rows [n, D]. */
  decode(params: Float32Array | null, z: Float32Array, n: number): Promise<Float32Array>;
  /** tf.memory() of this worker's TF.js engine. */
  memory(): Promise<{ numTensors: number; numBytes: number }>;
  dispose(): Promise<void>;
}
