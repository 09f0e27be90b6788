/**
 * A page the browser tests drive: it trains with the public page entry (Web Workers) and hands
 * the numbers back to the test, which compares them in Node.
 */
import { wrap, releaseProxy } from 'comlink';
import { createTrainer, type DataSplit, type TrainConfig } from '../../src/main/index.ts';
import { browserSpawner } from '../../src/main/pool/spawn_browser.ts';
import { useAevbErrorTransfer } from '../../src/shared/runtime/wire_errors.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import type { KernelChoice, WorkerApi } from '../../src/shared/runtime/protocol.ts';
import { AevbStepGradient } from '../../src/shared/model/aevb_step_gradient.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import { detectKernelBuild, type KernelBuild } from '../../src/kernels/step_kernel.ts';
import { kernelFixture } from '../helpers/kernel_fixture.ts';

function fromBase64(b64: string): Float32Array {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

let data: DataSplit | null = null;

const harness = {
  isolated: () => globalThis.crossOriginIsolated === true,
  setData(train: string, nTrain: number, test: string, nTest: number, d: number) {
    data = {
      train: { name: 'mnist subset train', n: nTrain, d, x: fromBase64(train) },
      test: { name: 'mnist subset test', n: nTest, d, x: fromBase64(test) },
    };
  },
  /** Train `steps` steps with `workers` workers; returns the parameters and what the workers report. */
  async train(
    workers: number | 'auto',
    steps: number,
    config: Partial<TrainConfig>,
    transport: 'auto' | 'shared' | 'message' = 'auto',
    kernels?: KernelChoice,
  ) {
    const t = await createTrainer({ data: data!, workers, config, transport, ...(kernels ? { kernels } : {}) });
    try {
      const used = new Set<number>();
      t.on('progress', (p) => used.add(p.workers));
      await t.runSteps(steps);
      // workers 'auto': the probe is 6 requests of ~100 ms, but a request holds at most 256 steps, which a fast
      // step finishes sooner: go on in blocks until the choice is made (bounded), however fast a step is.
      for (let k = 0; workers === 'auto' && !t.workerChoice && k < 30; k++) await t.runSteps(steps);
      const st = await t.state();
      return {
        params: Array.from(st.params),
        step: st.step,
        transport: t.transport,
        infos: t.workerInfo,
        used: [...used].sort(),
        choice: t.workerChoice,
        active: t.activeWorkers,
      };
    } finally {
      await t.dispose();
    }
  },
  /**
   * Start one pool Web Worker and initialise it with `lr` out of range (the worker checks its
   * config); report what arrives in the page: an AevbError with its code, field and fix?
   */
  async workerConfigError(lr: number) {
    useAevbErrorTransfer();
    const handle = browserSpawner()(0);
    const api = wrap<WorkerApi>(handle.endpoint);
    const meta = { name: 'none', n: 1, d: 4 };
    try {
      await api.init({
        rank: 0,
        workers: 1,
        config: { ...resolveConfig({ inputSize: 4, hidden: 3, latent: 2 }), lr },
        transport: 'message',
        train: meta,
        test: meta,
        valueEvery: 1,
        trainX: new Float32Array(4),
        testX: new Float32Array(4),
      });
      return null;
    } catch (e) {
      const a = e as AevbError;
      return {
        isAevbError: e instanceof AevbError,
        name: a.name,
        code: a.code,
        field: a.field,
        fix: a.fix,
        remedy: a.remedy,
        problem: a.problem,
        message: a.message,
      };
    } finally {
      api[releaseProxy]();
      await handle.terminate();
    }
  },
  /**
   * aevb's kernel gradient of the shared fixture (test/helpers/kernel_fixture.ts), computed on this
   * page's thread with each build this browser can run; the test compares it with tfjs in Node.
   */
  kernelGradients(over: Partial<TrainConfig>) {
    const { cfg, layout, params, shard } = kernelFixture(over);
    const builds: Partial<Record<KernelBuild, { grad: number[]; elbo: number }>> = {};
    for (const build of ['relaxed', 'simd128'] as KernelBuild[]) {
      if (build === 'relaxed' && detectKernelBuild() !== 'relaxed') continue;
      const engine = new AevbStepGradient(cfg, layout, stepKernelFactory(build));
      const grad = new Float32Array(layout.size);
      const v = engine.compute(params, shard, grad, true);
      builds[build] = { grad: Array.from(grad), elbo: v.elbo };
    }
    return { detected: detectKernelBuild(), builds };
  },
  /** Samples/s of `steps` steps after `warmup` steps, with `workers` workers (for bench/browser.ts). */
  async bench(workers: number, warmup: number, steps: number, config: Partial<TrainConfig>) {
    const t = await createTrainer({ data: data!, workers, config });
    try {
      await t.runSteps(warmup);
      const t0 = performance.now();
      await t.runSteps(steps);
      return { samplesPerSecond: (steps * t.config.batch * 1000) / (performance.now() - t0), transport: t.transport };
    } finally {
      await t.dispose();
    }
  },
};

(globalThis as unknown as { aevbHarness: typeof harness }).aevbHarness = harness;
