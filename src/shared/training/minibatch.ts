/**
 * Building the inputs of one SGVB step for one shard: the datapoints (as rows and as columns),
 * optionally binarised, and the noise ε. Everything random is keyed by (seed, step, global sample
 * index g, l), so a datapoint gets the same x̃ and ε whichever worker handles it and however the
 * minibatch is split.
 */
import type { TrainConfig } from './config.ts';
import type { Dataset } from '../data/dataset.ts';
import { CounterRng, Stream } from './rng.ts';

export interface ShardInputs {
  /** B: datapoints in this shard. */
  readonly b: number;
  /** L: samples per datapoint. */
  readonly l: number;
  /** [B, D] rows: x_i at [i·D, (i+1)·D). */
  readonly xRows: Float32Array;
  /** [D, B] columns: x_i is column i. */
  readonly xCols: Float32Array;
  /** [D, L·B] columns, column l·B + i is x_i; the same array as xCols when L = 1. */
  readonly xColsTiled: Float32Array;
  /** [J, L·B] columns, column l·B + i is ε for (g_i, l). */
  readonly eps: Float32Array;
  /** Wake-sleep only: the sleep phase's noise, one dream per datapoint (wake_sleep_gradient.ts). */
  readonly dreams?: Dreams;
}

/** The sleep phase's noise for B minibatch positions, as columns. */
export interface Dreams {
  readonly b: number;
  /** z' ~ N(0, I), [J, B]. */
  readonly z: Float32Array;
  /** [D, B]: u ~ U(0, 1) for x' = 1[u < y] (Bernoulli), or ε' ~ N(0, I) for x' = μₓ + σₓ ε' (Gaussian). */
  readonly noise: Float32Array;
}

export interface ShardSpec {
  /** Global training-set indices g of the shard's datapoints. */
  readonly indices: ArrayLike<number>;
  /** 0-based number of the update this shard contributes to (keys the noise). */
  readonly step: number;
}

/** Gather a shard and draw its noise. `stream` is Stream.EPSILON in training, Stream.EVAL in evaluation. */
export function buildShard(
  cfg: Pick<TrainConfig, 'latent' | 'samples' | 'binarize' | 'seed'>,
  data: Dataset,
  spec: ShardSpec,
  stream: number = Stream.EPSILON,
): ShardInputs {
  const B = spec.indices.length,
    D = data.d,
    J = cfg.latent,
    L = cfg.samples;
  const xRows = new Float32Array(B * D);
  for (let i = 0; i < B; i++) {
    const g = spec.indices[i];
    xRows.set(data.x.subarray(g * D, (g + 1) * D), i * D);
  }
  if (cfg.binarize) binarizeRows(cfg.seed, spec, xRows, D);
  const eps = drawEpsilon(new CounterRng(cfg.seed, stream), spec, J, L);
  // The column forms are made on first use: the tfjs gradients read them, aevb's kernels read rows only.
  let cols: Float32Array | null = null,
    tiled: Float32Array | null = null;
  return {
    b: B,
    l: L,
    xRows,
    eps,
    get xCols() {
      return (cols ??= transposeRows(xRows, B, D));
    },
    get xColsTiled() {
      return (tiled ??= L === 1 ? this.xCols : tileColumns(this.xCols, D, B, L));
    },
  };
}

/** x̃ ~ Bernoulli(x) per pixel, keyed by (step, g): a fresh binary image every minibatch. */
function binarizeRows(seed: number, spec: ShardSpec, rows: Float32Array, D: number): void {
  const rng = new CounterRng(seed, Stream.BINARIZE);
  const u = new Float64Array(D);
  for (let i = 0; i < spec.indices.length; i++) {
    rng.uniforms(spec.step, spec.indices[i], 0, u, 0, D);
    const o = i * D;
    for (let d = 0; d < D; d++) rows[o + d] = u[d] < rows[o + d] ? 1 : 0;
  }
}

/** [B, D] rows → [D, B] columns. */
export function transposeRows(rows: Float32Array, B: number, D: number): Float32Array {
  const cols = new Float32Array(D * B);
  for (let i = 0; i < B; i++) {
    const o = i * D;
    for (let d = 0; d < D; d++) cols[d * B + i] = rows[o + d];
  }
  return cols;
}

/** [D, B] → [D, L·B] with column l·B + i = column i. */
function tileColumns(cols: Float32Array, D: number, B: number, L: number): Float32Array {
  const out = new Float32Array(D * L * B);
  for (let d = 0; d < D; d++) {
    const src = cols.subarray(d * B, (d + 1) * B);
    for (let l = 0; l < L; l++) out.set(src, d * L * B + l * B);
  }
  return out;
}

/** ε [J, L·B]: column l·B + i holds the J normals of counter (step, g_i, l). */
function drawEpsilon(rng: CounterRng, spec: ShardSpec, J: number, L: number): Float32Array {
  const B = spec.indices.length;
  const eps = new Float32Array(J * L * B);
  const col = new Float32Array(J);
  for (let l = 0; l < L; l++) {
    for (let i = 0; i < B; i++) {
      rng.normals(spec.step, spec.indices[i], l, col, 0, J);
      const c = l * B + i;
      for (let j = 0; j < J; j++) eps[j * L * B + c] = col[j];
    }
  }
  return eps;
}
