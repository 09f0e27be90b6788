/**
 * A page the browser tests drive: it trains with the public page entry (Web Workers) and hands
 * the numbers back to the test, which compares them in Node.
 */
import { createTrainer, type DataSplit, type TrainConfig } from '../../src/main/index.ts';

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
  async train(workers: number, steps: number, config: Partial<TrainConfig>, transport: 'auto' | 'shared' | 'message' = 'auto') {
    const t = await createTrainer({ data: data!, workers, config, transport });
    try {
      await t.runSteps(steps);
      const st = await t.state();
      return { params: Array.from(st.params), step: st.step, transport: t.transport, infos: t.workerInfo };
    } finally {
      await t.dispose();
    }
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
