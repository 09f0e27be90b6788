/**
 * What runs inside each pool worker, as plain testable code (the worker entries only set TF.js up
 * and expose this). One training step on the shared path, for worker w of N:
 *
 *   1. gradient:  g_w = ∇ Σ_{i ∈ shard w} ℒ̃(x_i)   from θ in state copy `cur`, into slot w
 *   2. barrier
 *   3. update:    for θ[lo_w, hi_w) only (this worker's slice):  g = Σ_v g_v  (worker order),
 *                 state[1 − cur] ← optimizer(state[cur], g)        — skipped if any g_v is not finite
 *   4. barrier;   the last arrival commits: cur ← 1 − cur (if applied), steps ← step + 1
 *
 * No message crosses threads inside a request of K steps. A worker that dies leaves state[cur]
 * untouched (only copy 1 − cur was being written), so the coordinator can retry the step.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainConfig } from './config.ts';
import type { Dataset } from './dataset.ts';
import { arriveAndWait, commitStep, readCommit } from './barrier.ts';
import { elboSums, logLikelihoodSum } from './evaluate.ts';
import { SgvbGradient } from './gradients.ts';
import { buildLayout, type ParamLayout } from './layout.ts';
import { buildShard, transposeRows } from './minibatch.ts';
import { decode, disposeParams, encode, paramTensors } from './model.ts';
import { applyUpdate, firstNonFinite, sumGradientSlots } from './optimizers.ts';
import type { DeathPoint, GradientReply, PhaseTimes, RunReport, Split, WorkerApi, WorkerInfo, WorkerInit } from './protocol.ts';
import { MinibatchSchedule, shardRanges } from './schedule.ts';
import { BAD_FIELD, PoolMemory, RESULT_FIELDS, VALUE_FIELDS } from './shared_memory.ts';
import { stateError } from './errors.ts';

export type BackendSetup = (wasmPaths?: string | Record<string, string>) => Promise<{ backend: string; simd: boolean; threads: boolean }>;

/** Ends this worker now, as a crash would (test hook; Node: process.exit in the worker thread). */
export type WorkerExit = () => never;

/** Where no platform way to end the thread is given, the injected death is a thrown error. */
const throwInstead: WorkerExit = () => { throw new Error('injected death (this platform gave the worker no way to end itself)'); };

const now = () => performance.now();

class WorkerContext {
  readonly cfg: TrainConfig;
  readonly layout: ParamLayout;
  readonly schedule: MinibatchSchedule;
  readonly engine: SgvbGradient;
  readonly mem: PoolMemory | null;
  readonly train: Dataset;
  readonly test: Dataset;
  /** This worker's minibatch shard [lo, hi) and its slice of θ [lo, hi). */
  readonly shard: [number, number];
  readonly owned: [number, number];
  nanAtStep = -1;
  /** Test hook: end this worker at this point (see DeathPoint). */
  deathAt: DeathPoint | null = null;

  constructor(readonly init: WorkerInit, readonly exit: WorkerExit = throwInstead) {
    const cfg = (this.cfg = init.config);
    this.layout = buildLayout(cfg);
    this.schedule = new MinibatchSchedule(cfg.seed, init.train.n, cfg.batch);
    this.engine = new SgvbGradient(cfg, this.layout);
    this.mem = init.memory ? new PoolMemory(init.memory.buffers, init.memory.spec) : null;
    const trainX = this.mem ? this.mem.train : init.trainX!;
    const testX = this.mem ? this.mem.test : init.testX!;
    this.train = { ...init.train, x: trainX };
    this.test = { ...init.test, x: testX };
    this.shard = shardRanges(cfg.batch, init.workers)[init.rank];
    this.owned = shardRanges(this.layout.size, init.workers)[init.rank];
  }

  /** Gradient of this worker's shard of `step` into `out`; returns the shard's value sums. */
  private shardGradient(params: Float32Array, step: number, out: Float32Array, withValue: boolean) {
    const [lo, hi] = this.shard;
    const t0 = now();
    const inputs = buildShard(this.cfg, this.train, { indices: this.schedule.indices(step).subarray(lo, hi), step });
    const t1 = now();
    const v = this.engine.compute(params, inputs, out, withValue);
    if (step === this.nanAtStep) out[0] = NaN; // test hook: a step whose gradient is not finite
    const { upload, readout } = this.engine.copyTimes;
    return { v, shardMs: t1 - t0, gradMs: now() - t1 - upload - readout, upload, readout };
  }

  runSteps(start: number, count: number): RunReport {
    const mem = this.mem;
    if (!mem) throw stateError('runSteps needs shared memory.', 'Use gradient() on the message path.');
    const { ctrl } = mem, N = this.init.workers, rank = this.init.rank, cfg = this.cfg;
    const [lo, hi] = this.owned;
    const times: PhaseTimes = { shard: 0, upload: 0, gradient: 0, readout: 0, wait1: 0, reduce: 0, optimizer: 0, wait2: 0 };
    const mine = rank * VALUE_FIELDS;
    let { cur } = readCommit(ctrl);
    for (let k = 0; k < count; k++) {
      const step = start + k;
      // 1. Gradient of this shard into slot `rank`, and the shard's ELBO terms.
      const withValue = step % this.init.valueEvery === 0;
      const { v, shardMs, gradMs, upload, readout } = this.shardGradient(mem.state(cur).params, step, mem.grads[rank], withValue);
      mem.values.set([v.elbo, v.recon, v.kl], mine);
      times.shard += shardMs; times.gradient += gradMs; times.upload += upload; times.readout += readout;
      // 2. Barrier: every gradient slot is written.
      let t = now();
      if (arriveAndWait(ctrl, N) === 'aborted') return { rank, completed: k, aborted: true, times };
      times.wait1 += now() - t;
      // 3. Reduce-scatter: sum this worker's slice over all slots, check it, update copy 1 − cur.
      //    A non-finite value anywhere shows up in some worker's summed slice (or its shard's ELBO):
      //    that worker raises its flag and the step is not committed. Only copy 1 − cur is ever written.
      t = now();
      const finite = sumGradientSlots(mem.grads, mem.grads[0], lo, hi); // slot 0's slice [lo, hi) is ours in this phase
      let bad = finite ? -1 : this.firstBadSlot(mem, lo, hi);
      if (bad < 0 && withValue) bad = firstNonFiniteValue(mem.values, N);
      const t2 = now();
      times.reduce += t2 - t;
      if (bad < 0) {
        const src = mem.state(cur);
        applyUpdate({
          kind: cfg.optimizer, params: src.params, slots: src.slots, gradSum: mem.grads[0], gradScale: -1 / cfg.batch,
          lr: cfg.lr, weightDecay: cfg.weightDecay, t: step + 1, start: lo, end: hi, out: mem.state(1 - cur),
        });
      }
      mem.values[mine + BAD_FIELD] = bad;
      times.optimizer += now() - t2;
      this.dieIf({ step }); // test hook: a death between the two barriers
      // 4. Barrier; the last arrival (while everyone else waits, so every value is stable) records
      //    the step's result and commits it if no worker found a problem.
      t = now();
      const commit = () => {
        const ok = firstFlagged(mem.values, N) < 0;
        this.recordResult(mem, k, ok, withValue);
        commitStep(ctrl, ok ? 1 - cur : cur, step + 1);
      };
      if (arriveAndWait(ctrl, N, commit) === 'aborted') return { rank, completed: k, aborted: true, times };
      times.wait2 += now() - t;
      cur = readCommit(ctrl).cur;
    }
    return { rank, completed: count, aborted: false, times };
  }

  /** The first worker whose gradient slot holds a non-finite value in [lo, hi) (only on the failure path). */
  private firstBadSlot(mem: PoolMemory, lo: number, hi: number): number {
    // Slot 0 was overwritten by the sum; a NaN there with all others finite means slot 0's own shard.
    for (let w = 1; w < mem.grads.length; w++) if (firstNonFinite(mem.grads[w], lo, hi) >= 0) return w;
    return 0;
  }

  /** Results row k: ok, the minibatch's Σ ELBO terms (worker order), and the worker that failed the step. */
  private recordResult(mem: PoolMemory, k: number, ok: boolean, withValue: boolean): void {
    const row = k * RESULT_FIELDS, N = this.init.workers;
    mem.results[row] = ok ? 1 : 0;
    for (let f = 0; f < 3; f++) {
      let acc = 0;
      for (let w = 0; w < N; w++) acc += mem.values[w * VALUE_FIELDS + f];
      mem.results[row + 1 + f] = withValue ? acc : NaN;
    }
    mem.results[row + 4] = firstFlagged(mem.values, N);
  }

  /** Test hook: end the worker if `here` is the injected death point. */
  dieIf(here: DeathPoint): void {
    const at = this.deathAt;
    if (at && ('step' in at ? 'step' in here && here.step === at.step : 'call' in here && here.call === at.call)) this.exit();
  }

  gradient(params: Float32Array, step: number): GradientReply {
    this.dieIf({ step });
    const grad = new Float32Array(this.layout.size);
    const { v } = this.shardGradient(params, step, grad, step % this.init.valueEvery === 0);
    return { grad, elbo: v.elbo, recon: v.recon, kl: v.kl };
  }

  params(p: Float32Array | null): Float32Array {
    if (p) return p;
    if (!this.mem) throw stateError('No parameters given and no shared memory.', 'Pass the parameters on the message path.');
    return this.mem.state(readCommit(this.mem.ctrl).cur).params;
  }

  dataset(split: Split): Dataset {
    return split === 'train' ? this.train : this.test;
  }
}

/** The first worker whose shard ELBO is not finite, or −1. */
function firstNonFiniteValue(values: Float64Array, N: number): number {
  for (let w = 0; w < N; w++) if (!Number.isFinite(values[w * VALUE_FIELDS])) return w;
  return -1;
}

/** The lowest worker index any worker flagged as failing this step, or −1. */
function firstFlagged(values: Float64Array, N: number): number {
  let worst = -1;
  for (let w = 0; w < N; w++) {
    const b = values[w * VALUE_FIELDS + BAD_FIELD];
    if (b >= 0 && (worst < 0 || b < worst)) worst = b;
  }
  return worst;
}

/** Rows [n, k] → tensor [k, n] (columns) and back. */
function rowsToColumns(rows: Float32Array, n: number, k: number): tf.Tensor2D {
  return tf.tensor2d(transposeRows(rows, n, k), [k, n]);
}
function columnsToRows(t: tf.Tensor): Float32Array {
  return tf.tidy(() => tf.transpose(t).dataSync() as Float32Array).slice();
}

/** The object a worker entry exposes. `setup` initialises TF.js in this thread. */
export function createWorkerApi(setup: BackendSetup, exit?: WorkerExit): WorkerApi {
  let ctx: WorkerContext | null = null;
  let info: WorkerInfo | null = null;
  const need = (): WorkerContext => {
    if (!ctx) throw stateError('This worker was not initialised.', 'Call init() first.');
    return ctx;
  };
  const withParams = <T>(p: Float32Array | null, f: (c: WorkerContext, pt: ReturnType<typeof paramTensors>) => T): T => {
    const c = need();
    const pt = paramTensors(c.params(p), c.layout);
    try { return f(c, pt); } finally { disposeParams(pt); }
  };
  return {
    async init(msg) {
      const b = await setup(msg.wasmPaths);
      ctx?.engine.dispose();
      ctx = new WorkerContext(msg, exit);
      info = { rank: msg.rank, backend: b.backend, simd: b.simd, threads: b.threads };
      return info;
    },
    async runSteps(start, count) { return need().runSteps(start, count); },
    async gradient(params, step) { return need().gradient(params, step); },
    async evaluateElbo(params, split, start, end) {
      const c = need();
      c.dieIf({ call: 'evaluateElbo' });
      return elboSums(c.cfg, c.params(params), c.dataset(split), c.cfg.seed, start, end);
    },
    async evaluateLogLikelihood(params, split, start, end, k) {
      const c = need();
      c.dieIf({ call: 'evaluateLogLikelihood' });
      return logLikelihoodSum(c.cfg, c.params(params), c.dataset(split), k, c.cfg.seed, start, end);
    },
    async encode(params, x, n) {
      need().dieIf({ call: 'encode' });
      return withParams(params, (c, pt) => tf.tidy(() => {
        const { mu, logvar } = encode(c.cfg, pt, rowsToColumns(x, n, c.cfg.inputSize));
        return { mu: columnsToRows(mu), logvar: columnsToRows(logvar) };
      }));
    },
    async decode(params, z, n) {
      need().dieIf({ call: 'decode' });
      return withParams(params, (c, pt) => tf.tidy(() => columnsToRows(decode(c.cfg, pt, rowsToColumns(z, n, c.cfg.latent)).mean)));
    },
    async memory() {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes };
    },
    async injectNonFinite(step) { need().nanAtStep = step; },
    async injectDeath(at) { need().deathAt = at; },
    async dispose() { ctx?.engine.dispose(); ctx = null; },
  };
}
