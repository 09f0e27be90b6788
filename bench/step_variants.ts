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
import { LocalTrainer, initialState, type TrainingState } from '../src/main/local_trainer.ts';
import type { TrainConfig } from '../src/shared/config.ts';
import type { DataSplit } from '../src/shared/dataset.ts';
import { buildLayout, type ParamLayout } from '../src/shared/layout.ts';
import { buildShard, type ShardInputs } from '../src/shared/minibatch.ts';
import { applyUpdate, firstNonFinite } from '../src/shared/optimizers.ts';
import { MinibatchSchedule } from '../src/shared/schedule.ts';
import { autodiffGradient } from '../src/shared/sgvb_autodiff.ts';

/** One way of taking training steps; owns whatever it allocates until dispose(). */
export interface Stepper {
  step(): void;
  dispose(): void;
}

export type GradientFn = (cfg: TrainConfig, layout: ParamLayout, params: Float32Array, s: ShardInputs,
  gradOut: Float32Array) => void;

/** The production path, exactly as the CLI trains: LocalTrainer.step() without the ELBO value. */
export function productionStepper(cfg: TrainConfig, data: DataSplit): Stepper {
  const trainer = new LocalTrainer(cfg, data);
  return {
    step() {
      const r = trainer.step(false);
      if (!r.ok) throw r.error;
    },
    dispose() { trainer.dispose(); },
  };
}

/** LocalTrainer.step's phases with another gradient function in place of SgvbGradient.compute. */
export function gradientStepper(cfg: TrainConfig, data: DataSplit, gradient: GradientFn): Stepper {
  const layout = buildLayout(cfg);
  const schedule = new MinibatchSchedule(cfg.seed, data.train.n, cfg.batch);
  const state: TrainingState = initialState(cfg, layout);
  const grad = new Float32Array(layout.size);
  return {
    step() {
      const step = state.step++;
      const shard = buildShard(cfg, data.train, { indices: schedule.indices(step), step });
      gradient(cfg, layout, state.params, shard, grad);
      if (firstNonFinite(grad) >= 0) throw new Error(`autodiff step ${step}: non-finite gradient`);
      applyUpdate({
        kind: cfg.optimizer, params: state.params, gradSum: grad, slots: state.slots,
        gradScale: -1 / cfg.batch, lr: cfg.lr, weightDecay: cfg.weightDecay, t: step + 1, start: 0, end: state.params.length,
      });
    },
    dispose() { /* nothing outlives a step: autodiff runs inside tf.tidy */ },
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
  let steps = 0, ms = 0;
  do {
    stepper.step();
    steps++;
    ms = performance.now() - t0;
  } while (steps < minSteps || ms < minMs);
  return { steps, ms };
}
