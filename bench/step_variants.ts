/**
 * The training steps the single-worker benchmark compares. Each is one full AEVB update
 * (Algorithm 1): gather the minibatch and draw ε (buildShard), the gradient of Σ ℒ̃, and the
 * Adagrad update, on the calling thread.
 *
 *   production       LocalTrainer.step(): SgvbGradient (hand-written backward), no ELBO value
 *   autodiff         the same step with autodiffGradient (tf.grads; it also evaluates the ELBO
 *                    once more for its value, and copies gradients out with dataSync)
 *   autodiffGrads    tf.grads of the same objective, gradient only, copied out like production:
 *                    the fairest autodiff baseline
 *
 * Each runs on whichever TF.js backend is current; the benchmark switches between wasm and cpu.
 */
import { LocalTrainer } from '../src/main/local_trainer.ts';
import type { TrainConfig } from '../src/shared/training/config.ts';
import type { DataSplit } from '../src/shared/data/dataset.ts';
import { buildLayout, type ParamLayout } from '../src/shared/model/layout.ts';
import type { ShardInputs } from '../src/shared/training/minibatch.ts';
import { autodiffGradient } from '../test/helpers/sgvb_autodiff.ts';

/** One way of taking training steps; owns whatever it allocates until dispose(). */
export interface Stepper {
  step(): void;
  dispose(): void;
}

export type GradientFn = (cfg: TrainConfig, layout: ParamLayout, params: Float32Array, s: ShardInputs, gradOut: Float32Array) => void;

/** The production path, exactly as the CLI trains: LocalTrainer.step() without the ELBO value. */
export function productionStepper(cfg: TrainConfig, data: DataSplit): Stepper {
  const trainer = new LocalTrainer(cfg, data);
  return {
    step() {
      const r = trainer.step(false);
      if (!r.ok) throw r.error;
    },
    dispose() {
      trainer.dispose();
    },
  };
}

/** LocalTrainer.step with another gradient function in place of SgvbGradient.compute. */
export function gradientStepper(cfg: TrainConfig, data: DataSplit, gradient: GradientFn): Stepper {
  const layout = buildLayout(cfg);
  const trainer = new LocalTrainer(cfg, data, undefined, (params, shard, out) => {
    gradient(cfg, layout, params, shard, out);
    return { elbo: NaN, recon: NaN, kl: NaN };
  });
  return {
    step() {
      const r = trainer.step(false);
      if (!r.ok) throw r.error;
    },
    dispose() {
      trainer.dispose();
    },
  };
}

/** The reference as the tests use it (value included). */
export const autodiffReference: GradientFn = (cfg, layout, params, s, gradOut) => {
  autodiffGradient(cfg, layout, params, s, gradOut);
};

/** tf.grads of the same objective, gradient only (no value pass). */
export const autodiffGradsOnly: GradientFn = (cfg, layout, params, s, gradOut) => {
  autodiffGradient(cfg, layout, params, s, gradOut, false);
};

/** Steps until both at least `minSteps` steps and `minMs` milliseconds have passed. */
export function timeSteps(stepper: Stepper, minMs: number, minSteps: number): { steps: number; ms: number } {
  const t0 = performance.now();
  let steps = 0,
    ms = 0;
  do {
    stepper.step();
    steps++;
    ms = performance.now() - t0;
  } while (steps < minSteps || ms < minMs);
  return { steps, ms };
}
