/**
 * AEVB (Algorithm 1) on the calling thread: one worker's worth of training, used by the CLI and
 * the tests, and the reference the pool is compared against. (With config.algorithm 'wake-sleep'
 * the gradient is wake-sleep's, step_gradient.ts; everything else is the same.)
 *
 *   θ, φ ← init
 *   repeat: X^M ← minibatch(step);  ε ← noise(seed, step, g, l);  g ← ∇ Σ ℒ̃(X^M, ε);  θ, φ ← update(g)
 *
 * A step is all or nothing: a non-finite gradient is never applied (θ, φ and the optimizer
 * state stay as they were), the step is reported as failed, and training goes on.
 */
import type { TrainConfig } from '../shared/training/config.ts';
import type { DataSplit } from '../shared/data/dataset.ts';
import { numericError, type AevbError } from '../shared/errors.ts';
import { estimateLogLikelihood, evaluateElbo } from '../shared/model/evaluate.ts';
import type { ShardValue } from '../shared/model/gradients.ts';
import { buildLayout, type ParamLayout } from '../shared/model/layout.ts';
import type { ShardInputs } from '../shared/training/minibatch.ts';
import { ADAPTIVE_OPTIMIZERS, firstNonFinite, OPTIMIZER_SLOTS, orList } from '../shared/training/optimizers.ts';
import { MinibatchSchedule } from '../shared/training/schedule.ts';
import { allocatePoolMemory, type PoolMemory } from '../shared/runtime/shared_memory.ts';
import { createStepGradient, stepShard, type StepGradient } from '../shared/training/step_gradient.ts';
import { stepLayout, stepScratchBytes } from '../shared/training/step_plan.ts';
import type { KernelChoice } from '../shared/runtime/protocol.ts';
import { stepKernelFactory } from '../shared/model/step_kernels.ts';
import type { KernelBuild } from '../kernels/step_kernel.ts';
import { updateAndCheck, writeMirror } from '../shared/training/step_update.ts';
import { initialState, type TrainingState } from '../shared/training/training_state.ts';
import { UpdateKernel } from '../kernels/update_kernel.ts';
import type { Evaluation } from './evaluation.ts';

/** LocalTrainer.evaluate()'s: the training set is always evaluated. */
type BothSets = Evaluation & Required<Pick<Evaluation, 'trainElbo' | 'trainRecon' | 'trainKl' | 'elboSamples'>>;

export interface StepResult {
  step: number;
  ok: boolean;
  /** The minibatch's ELBO terms per datapoint, when computed. */
  value?: ShardValue;
  error?: AevbError;
}

/** What computes a shard's gradient (config.algorithm's, step_gradient.ts, by default; benchmarks swap in others). */
export type GradientFn = (
  params: Float32Array,
  shard: ShardInputs,
  out: Float32Array,
  withValue: boolean,
  mirror: Float32Array,
) => ShardValue;

/** Milliseconds of the last step's phases. */
export interface StepTimes {
  shard: number;
  gradient: number;
  update: number;
}

export class LocalTrainer {
  readonly layout: ParamLayout;
  readonly schedule: MinibatchSchedule;
  private readonly engine: StepGradient;
  /** Both state copies and one gradient slot, in an ordinary WebAssembly memory for the update kernel. */
  private readonly mem: PoolMemory;
  private readonly kernel: UpdateKernel;
  private readonly gradient: GradientFn;
  private cur = 0;
  private steps: number;
  private samplesSeen: number;
  /** The last step's phases (for the benchmarks' profiles). */
  readonly times: StepTimes = { shard: 0, gradient: 0, update: 0 };

  constructor(
    readonly cfg: TrainConfig,
    readonly data: DataSplit,
    start: TrainingState = initialState(cfg),
    gradient?: GradientFn,
    readonly kernels: KernelChoice = 'aevb',
    build?: KernelBuild,
  ) {
    const full = buildLayout(cfg);
    this.layout = stepLayout(cfg, kernels, full);
    this.schedule = new MinibatchSchedule(cfg.seed, data.train.n, cfg.batch);
    // One memory for the state, the gradient slot and aevb's kernels' scratch, as one pool worker has.
    this.mem = allocatePoolMemory(
      {
        workers: 1,
        paramCount: this.layout.size,
        slotCount: OPTIMIZER_SLOTS[cfg.optimizer].length,
        mirrorSize: this.layout.mirrorSize,
        scratchBytes: stepScratchBytes(cfg, kernels),
        maxSteps: 1,
        trainLength: 0,
        testLength: 0,
      },
      false,
    );
    this.engine = createStepGradient(
      cfg,
      full,
      kernels,
      { memory: this.mem.buffers.memory, scratch: this.mem.scratch[0] },
      stepKernelFactory(build),
    );
    this.gradient = gradient ?? ((p, s, out, v, m) => this.engine.compute(p, s, out, v, m));
    this.kernel = new UpdateKernel(this.mem.buffers.memory);
    const v = this.mem.state(0);
    v.params.set(start.params);
    v.slots.forEach((s, i) => s.set(start.slots[i]));
    writeMirror(this.kernel, this.layout, v.ptr.params, v.ptr.mirror, 0, this.layout.size);
    this.steps = start.step;
    this.samplesSeen = start.samplesSeen;
  }

  get stepsPerEpoch(): number {
    return this.schedule.stepsPerEpoch;
  }

  /** The committed state: views of the current copy (writing them changes the model). */
  get state(): TrainingState {
    const v = this.mem.state(this.cur);
    return { params: v.params, slots: v.slots, step: this.steps, samplesSeen: this.samplesSeen };
  }

  /** One update (AEVB or wake-sleep). `withValue` also computes the minibatch ELBO (a log per pixel). */
  step(withValue = false): StepResult {
    const { cfg, mem } = this;
    const step = this.steps;
    const t0 = performance.now();
    const shard = stepShard(cfg, this.data.train, this.schedule, step, 0, cfg.batch);
    const t1 = performance.now();
    const grad = mem.grads[0];
    const value = this.gradient(mem.state(this.cur).params, shard, grad, withValue, mem.state(this.cur).mirror);
    const t2 = performance.now();
    this.steps++;
    // The update writes the other copy; it becomes the model only if everything was finite.
    const bad = updateAndCheck(
      this.kernel,
      mem,
      cfg,
      this.layout,
      { cur: this.cur, step, gradCount: 1, start: 0, end: this.layout.size },
      () => value.elbo,
      withValue,
    );
    Object.assign(this.times, { shard: t1 - t0, gradient: t2 - t1, update: performance.now() - t2 });
    if (bad >= 0) {
      const at = firstNonFinite(grad);
      const where =
        at >= 0
          ? `the gradient of ${this.layout.specs.find((s) => at < s.offset + s.size)!.name}`
          : Number.isFinite(value.elbo) || !withValue
            ? 'the updated parameters'
            : 'the ELBO';
      return {
        step,
        ok: false,
        error: numericError(
          `Step ${step}: ${where} is not finite; the update was not applied and the model is unchanged.`,
          `Lower the step size lr (or use optimizer ${orList(ADAPTIVE_OPTIMIZERS)}), or check the data for extreme values.`,
          { id: 'diverged-step', fields: ['lr', 'optimizer'] },
        ),
      };
    }
    this.cur = 1 - this.cur;
    this.samplesSeen += cfg.batch;
    const M = cfg.batch;
    return { step, ok: true, value: withValue ? { elbo: value.elbo / M, recon: value.recon / M, kl: value.kl / M } : undefined };
  }

  /**
   * ELBO on the training and test sets (S = cfg.evalElboSamples draws per datapoint, with standard
   * errors), and the importance-sampled log p(x) on the test set if K > 0. The noise is that of
   * this step (`draw`, as the pool's trainer uses), so the two trainers report the same numbers.
   */
  evaluate(logLikelihoodSamples = this.cfg.evalSamples, draw = this.steps): BothSets {
    const { cfg, state, data } = this;
    const S = cfg.evalElboSamples;
    const tr = evaluateElbo(cfg, state.params, data.train, cfg.seed, { samples: S, split: 'train', draw });
    const te = evaluateElbo(cfg, state.params, data.test, cfg.seed, { samples: S, split: 'test', draw });
    const out: BothSets = {
      trainElbo: tr.elbo,
      testElbo: te.elbo,
      trainRecon: tr.recon,
      trainKl: tr.kl,
      testRecon: te.recon,
      testKl: te.kl,
      elboSamples: S,
      trainElboSe: tr.se,
      testElboSe: te.se,
    };
    if (logLikelihoodSamples > 0) {
      const ll = estimateLogLikelihood(cfg, state.params, data.test, logLikelihoodSamples, cfg.seed, { split: 'test', draw });
      Object.assign(out, { logLikelihood: ll.logLikelihood, logLikelihoodK: ll.samples, logLikelihoodSe: ll.se });
    }
    return out;
  }

  dispose(): void {
    this.engine.dispose();
  }
}
