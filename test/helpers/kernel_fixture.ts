/**
 * A small model, its parameters and one shard, made the same way wherever it runs (Node or a page):
 * the inputs on which the tests hold aevb's kernel gradient against the tfjs gradient.
 */
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { initParams } from '../../src/shared/model/model.ts';
import { buildShard } from '../../src/shared/training/minibatch.ts';

export function kernelFixture(over: Partial<TrainConfig>, n = 5) {
  const cfg = resolveConfig({ inputSize: 30, hidden: 16, latent: 4, init: 'pytorch', ...over });
  const layout = buildLayout(cfg);
  const params = initParams(cfg, 3, layout);
  const N = 300,
    D = cfg.inputSize;
  const x = new Float32Array(N * D).map((_, i) => ((i * 7919) % 101) / 100);
  const data = { name: 'fixture', n: N, d: D, x };
  const indices = Array.from({ length: n }, (_, i) => (i * 37) % N);
  const shard = buildShard(cfg, data, { indices, step: 2 });
  return { cfg, layout, params, shard };
}

/** The settings the kernel gradient is checked on: both decoders and estimators, every activation, L = 1 … 3. */
export const KERNEL_CASES: Array<Partial<TrainConfig>> = [
  { estimator: 'B', decoder: 'bernoulli', activation: 'tanh', samples: 1 },
  { estimator: 'A', decoder: 'bernoulli', activation: 'relu', samples: 3 },
  { estimator: 'A', decoder: 'gaussian', activation: 'tanh', samples: 2 },
  { estimator: 'B', decoder: 'gaussian', activation: 'tanh', samples: 1, sigmoidMean: false },
  { estimator: 'B', decoder: 'bernoulli', activation: 'linear', samples: 2 },
  // Deeper MLPs: widths and activations per layer (the decoder mirrors the encoder).
  { estimator: 'B', decoder: 'bernoulli', hidden: [12, 7], activation: ['relu', 'tanh'], samples: 1 },
  { estimator: 'A', decoder: 'gaussian', hidden: [9, 13, 5], activation: ['tanh', 'linear', 'relu'], samples: 2 },
];
