/**
 * One worker's training step on aevb's kernels against the tfjs path, side by side in one run:
 *   aevb relaxed    LocalTrainer on aevb's kernels, relaxed-SIMD build (fused multiply-add), if the engine has it
 *   aevb simd128    the same, plain SIMD128 build
 *   tfjs            LocalTrainer with kernels 'tfjs' (the hand-written gradient in tfjs ops on the WASM backend)
 *   ceiling         each of the step's matMuls alone on tfjs-backend-wasm, operands cached (bench/matmul_ceiling.ts)
 * for the paper's setting (H 500 tanh Adagrad) and H 400 relu Adam, J = 20, M ∈ {100} (--batches to change).
 * Every trainer is alive for the whole run; rounds interleave the variants, the order rotating, and the
 * numbers are medians over rounds (a shared machine drifts). GFLOP/s = 2 (5DH + 9JH) FLOPs per datapoint.
 *
 *   node --experimental-wasm-relaxed-simd --import tsx bench/step_kernels.ts [--rounds 7] [--steps 20] [--batches 100,25] [--json FILE]
 * (Node ≥ 22 has relaxed SIMD by default: `npx tsx bench/step_kernels.ts`.) `npm run bench -- --step` runs it.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { LocalTrainer } from '../src/main/local_trainer.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { setupNodeBackend } from '../src/main/node/tfjs_node.ts';
import { resolveConfig, type TrainConfig } from '../src/shared/training/config.ts';
import { detectKernelBuild, type KernelBuild } from '../src/kernels/step_kernel.ts';
import { aggregateGflops, flopsPerSample, MatMulBench, stepMatMuls } from './matmul_ceiling.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    steps: { type: 'string' },
    batches: { type: 'string' },
    json: { type: 'string' },
  },
});
const rounds = Number(values.rounds ?? 7),
  steps = Number(values.steps ?? 20);
const batches = (values.batches ?? '100').split(',').map(Number);
await setupNodeBackend('wasm');
const data = loadEmbeddedMnist();
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const builds: KernelBuild[] = detectKernelBuild() === 'relaxed' ? ['relaxed', 'simd128'] : ['simd128'];

const SETTINGS: Array<[string, Partial<TrainConfig>]> = [
  ['paper: H 500 tanh, Adagrad 0.01', {}],
  ['H 400 relu, Adam 1e-3', { hidden: 400, activation: 'relu', optimizer: 'adam', lr: 1e-3 }],
];

interface Row {
  setting: string;
  batch: number;
  variant: string;
  msPerStep: number;
  samplesPerSecond: number;
  gflops: number;
  vsTfjs: number;
}
const rows: Row[] = [];
const ceilings: Array<{ setting: string; batch: number; gflops: number }> = [];

for (const [name, over] of SETTINGS) {
  for (const M of batches) {
    const cfg = resolveConfig({ ...over, batch: M, inputSize: 784 });
    const variants: Array<[string, LocalTrainer]> = [
      ...builds.map((b): [string, LocalTrainer] => [`aevb ${b}`, new LocalTrainer(cfg, data, undefined, undefined, 'aevb', b)]),
      ['tfjs', new LocalTrainer(cfg, data, undefined, undefined, 'tfjs')],
    ];
    const shapes = stepMatMuls(784, cfg.hidden as number, cfg.latent, M);
    const ceiling = new MatMulBench(shapes);
    for (const [, t] of variants) for (let i = 0; i < 5; i++) t.step(false); // warm-up
    const ms: Record<string, number[]> = Object.fromEntries(variants.map(([v]) => [v, []]));
    const ceil: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length]);
      for (const [v, t] of order) {
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) t.step(false);
        ms[v].push((performance.now() - t0) / steps);
      }
      const timings = ceiling.measure(20);
      ceil.push(aggregateGflops(shapes, (i) => timings[i].cachedMs));
    }
    ceiling.dispose();
    const flops = M * flopsPerSample(784, cfg.hidden as number, cfg.latent);
    const tfjsMs = median(ms.tfjs);
    for (const [v, t] of variants) {
      const m = median(ms[v]);
      rows.push({
        setting: name,
        batch: M,
        variant: v,
        msPerStep: m,
        samplesPerSecond: (M * 1000) / m,
        gflops: flops / (m * 1e6),
        vsTfjs: tfjsMs / m,
      });
      t.dispose();
    }
    ceilings.push({ setting: name, batch: M, gflops: median(ceil) });
  }
}

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.versions.node}, relaxed SIMD ${builds.includes('relaxed') ? 'on' : 'off'}`;
console.log(`One worker's step, medians of ${rounds} interleaved rounds of ${steps} steps (${machine})`);
console.log('| setting | M | variant | ms/step | samples/s | GFLOP/s | × tfjs | of the tfjs matMul ceiling |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const c = ceilings.find((x) => x.setting === r.setting && x.batch === r.batch)!;
  console.log(
    `| ${r.setting} | ${r.batch} | ${r.variant} | ${r.msPerStep.toFixed(2)} | ${Math.round(r.samplesPerSecond)} | ` +
      `${r.gflops.toFixed(1)} | ${r.vsTfjs.toFixed(2)}× | ${((100 * r.gflops) / c.gflops).toFixed(0)}% of ${c.gflops.toFixed(1)} |`,
  );
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ machine, rounds, steps, rows, ceilings }, null, 2));
