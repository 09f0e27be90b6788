/**
 * The register tiles of the step's GEMMs (src/kernels/step.as.ts), measured on the products of one step of the
 * paper's model (D = 784, H = 500, J = 20) at a minibatch of B = 100 and at a shard of B = 7, side by side in
 * one process:
 *   candidates   each tile size (scripts/step-tiles.mjs) compiled in both builds, relaxed SIMD (FMA) and SIMD128
 *   tfjs         the isolated tfjs-backend-wasm matMul of the same product as today's tfjs step lays it out
 *                (the weight as the left operand, a fresh right operand every call, its upload included)
 * Rounds interleave every candidate and tfjs on each shape; medians of the rounds. GFLOP/s = 2·M·N·K / time.
 * Then the epilogues and heads of the committed build (ns per element, both builds) beside tfjs's tanh and
 * sigmoid on the same shapes (upload and read-back included, as the tfjs step pays them).
 *
 *   npx tsx bench/kernels.ts [--rounds 7] [--ms 20] [--only tiles|epilogues] [--json FILE]
 *
 * On Node < 22 it re-runs itself with --experimental-wasm-relaxed-simd so that both builds run.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
// @ts-expect-error: a plain .mjs build script without type declarations
import { compileStepKernels } from '../scripts/build-kernels.mjs';
// @ts-expect-error: as above
import { STEP_TILES } from '../scripts/step-tiles.mjs';
import { StepKernel } from '../src/kernels/step_kernel.ts';
import { STEP_WASM_RELAXED_SHARED, STEP_WASM_SIMD128_SHARED } from '../src/kernels/step.wasm.ts';
import { setupNodeBackend } from '../src/main/node/tfjs_node.ts';
import { median } from './stats.ts';

const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const relaxedProbe = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11,
]);
if (!WebAssembly.validate(relaxedProbe) && !process.env.AEVB_BENCH_RELAXED_CHILD) {
  const r = spawnSync(process.execPath, [RELAXED_FLAG, '--import', 'tsx', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, AEVB_BENCH_RELAXED_CHILD: '1' },
  });
  process.exit(r.status ?? 1);
}

const { values } = parseArgs({
  options: { rounds: { type: 'string' }, ms: { type: 'string' }, only: { type: 'string' }, json: { type: 'string' } },
});
const ROUNDS = Number(values.rounds ?? 7),
  MIN_MS = Number(values.ms ?? 20);

type Variant = 'nt' | 'nn' | 'tn';
type Tile = [number, number];
interface TileSet {
  nn: Tile;
  tn: Tile;
  nt: Tile;
}

/**
 * Candidate i compiles broadcast tile BROADCAST[i] (gemm_nn and gemm_tn) and dot tile DOT[i] (gemm_nt) into one
 * module. Broadcast MR × 4NV: MR·NV accumulators + NV loads of B + 1 splat; dot MR × 4NV: MR·4NV accumulators +
 * MR + 1 loads. x86-64 has 16 vector registers, so 4×16 and 4×4 dot (16 accumulators) spill.
 */
const BROADCAST: Tile[] = [
  [4, 2],
  [4, 4],
  [2, 2],
  [8, 1],
  [6, 2],
];
const DOT: Tile[] = [
  [2, 1],
  [4, 1],
  [1, 1],
  [1, 2],
  [3, 1],
];
const tileName = (t: Tile) => `${t[0]}×${4 * t[1]}`;

const D = 784,
  H = 500,
  J = 20;

/** One product of a step: C[M, N] (row-major, as the step lays out activations [B, features] and W [out, in]). */
interface Product {
  v: Variant;
  label: string;
  M: number;
  N: number;
  K: number;
  acc: boolean;
}

function products(B: number): Product[] {
  return [
    { v: 'nt', label: `h = X·W3ᵀ`, M: B, N: H, K: D, acc: false },
    { v: 'nt', label: 'μ, log σ² = h·W4ᵀ, h·W5ᵀ', M: B, N: J, K: H, acc: false },
    { v: 'nt', label: 'hd = z·W1ᵀ', M: B, N: H, K: J, acc: false },
    { v: 'nt', label: 'ℓ = hd·W2ᵀ', M: B, N: D, K: H, acc: false },
    { v: 'nn', label: 'g_hd = g_ℓ·W2', M: B, N: H, K: D, acc: false },
    { v: 'nn', label: 'g_z = g_hd·W1', M: B, N: J, K: H, acc: false },
    { v: 'nn', label: 'g_h = g_μ·W4 (+ g_σ·W5)', M: B, N: H, K: J, acc: false },
    { v: 'tn', label: 'gW2 += g_ℓᵀ·hd', M: D, N: H, K: B, acc: true },
    { v: 'tn', label: 'gW1 += g_hdᵀ·z', M: H, N: J, K: B, acc: true },
    { v: 'tn', label: 'gW4, gW5 += gᵀ·h', M: J, N: H, K: B, acc: true },
    { v: 'tn', label: 'gW3 += g_hᵀ·X', M: H, N: D, K: B, acc: true },
  ];
}

/** Which products of one step have this shape (the step's FLOPs weight the aggregate). */
const COUNT: Record<string, number> = { 'μ, log σ² = h·W4ᵀ, h·W5ᵀ': 2, 'g_h = g_μ·W4 (+ g_σ·W5)': 2, 'gW4, gW5 += gᵀ·h': 2 };

type GemmFn = (
  M: number,
  N: number,
  K: number,
  A: number,
  lda: number,
  B: number,
  ldb: number,
  C: number,
  ldc: number,
  acc: number,
) => void;
interface Candidate {
  name: string;
  build: 'relaxed' | 'simd128';
  tiles: TileSet;
  fns: Record<Variant, GemmFn>;
}

const memory = new WebAssembly.Memory({ initial: 256, maximum: 256, shared: true });
const f32 = new Float32Array(memory.buffer);
// Operands for the largest product of each role, filled once: A at 0, B after it, C after that.
const SZ = 784 * 784;
const PA = 1024,
  PB = PA + 4 * SZ,
  PC = PB + 4 * SZ;
for (let i = 0; i < 3 * SZ; i++) f32[PA / 4 + i] = Math.sin(i * 0.37) * 0.5;

async function candidates(): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for (let i = 0; i < BROADCAST.length; i++) {
    const tiles: TileSet = { nn: BROADCAST[i], tn: BROADCAST[i], nt: DOT[i] };
    for (const build of ['relaxed', 'simd128'] as const) {
      const bytes: Uint8Array<ArrayBuffer> = await compileStepKernels({ relaxed: build === 'relaxed', shared: true, tiles });
      const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      const e = inst.exports as unknown as Record<string, GemmFn>;
      out.push({
        name: `${tileName(BROADCAST[i])} / nt ${tileName(DOT[i])}`,
        build,
        tiles,
        fns: { nt: e.gemm_nt, nn: e.gemm_nn, tn: e.gemm_tn },
      });
    }
  }
  // The committed modules (src/kernels/step.wasm.ts: each build's STEP_TILES), as the step will run them.
  for (const build of ['relaxed', 'simd128'] as const) {
    const bytes = Buffer.from(build === 'relaxed' ? STEP_WASM_RELAXED_SHARED : STEP_WASM_SIMD128_SHARED, 'base64');
    const e = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Record<string, GemmFn>;
    out.push({ name: 'committed / nt committed', build, tiles: STEP_TILES[build], fns: { nt: e.gemm_nt, nn: e.gemm_nn, tn: e.gemm_tn } });
  }
  return out;
}

/** The process's CPU time in ms (user + system): on a machine shared with other work, time on the CPU. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * ms of CPU time per call: calls repeated for at least MIN_MS of it (and 3 calls). CPU time, not wall time: the
 * development VM is shared by several agents, and while this thread waits for a core its wall clock runs on.
 * (The process is single-threaded here, apart from V8's helpers; their share is small and the same for all.)
 */
function time(fn: () => void): number {
  fn();
  const t0 = cpuMs();
  let n = 0,
    ms = 0;
  do {
    fn();
    n++;
    ms = cpuMs() - t0;
  } while (n < 3 || ms < MIN_MS);
  return ms / n;
}

function runGemm(c: Candidate, p: Product): () => void {
  const lda = p.v === 'tn' ? p.M : p.K,
    ldb = p.v === 'nt' ? p.K : p.N;
  const fn = c.fns[p.v];
  return () => fn(p.M, p.N, p.K, PA, lda, PB, ldb, PC, p.N, p.acc ? 1 : 0);
}

/** today's tfjs step: [P, K] (a weight, persistent) · [K, Q] (fresh every call), output P·Q = M·N. */
function tfjsCall(p: Product): { fn: () => void; dispose: () => void } {
  const [P, Q] = p.v === 'tn' ? [p.M, p.N] : [p.N, p.M];
  const a = tf.tensor2d(f32.subarray(PA / 4, PA / 4 + P * p.K), [P, p.K]);
  const bVals = f32.slice(PB / 4, PB / 4 + p.K * Q);
  return {
    fn: () => {
      const b = tf.tensor2d(bVals, [p.K, Q]);
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
      b.dispose();
    },
    dispose: () => a.dispose(),
  };
}

/** The committed kernels' epilogues at the step's shapes (B = 100), ns per element, medians of the rounds. */
function epilogues(): void {
  const B = 100;
  const kernels = (['relaxed', 'simd128'] as const).map((b) => new StepKernel(memory, b));
  const P1 = PA,
    P2 = PB,
    P3 = PC; // scratch: values already in [-0.5, 0.5]
  const cases: Array<{ label: string; n: number; run: (k: StepKernel) => void; tfjs?: () => void }> = [
    {
      label: `bias_act tanh [${B}×${H}]`,
      n: B * H,
      run: (k) => k.biasAct(B, H, P1, H, P2, 'tanh'),
      tfjs: () => {
        const x = tf.tensor2d(f32.subarray(P1 / 4, P1 / 4 + B * H), [B, H]);
        const y = tf.tanh(x);
        y.dataSync();
        y.dispose();
        x.dispose();
      },
    },
    { label: `bias_act relu [${B}×${H}]`, n: B * H, run: (k) => k.biasAct(B, H, P1, H, P2, 'relu') },
    { label: `act_grad tanh [${B}×${H}]`, n: B * H, run: (k) => k.actGrad(B, H, P1, H, P2, H, 'tanh') },
    { label: `col_sum [${B}×${H}]`, n: B * H, run: (k) => k.colSum(B, H, P1, H, P3, true) },
    {
      label: `bernoulli_head gradient [${B}×${D}]`,
      n: B * D,
      run: (k) => k.bernoulliHead(B, D, P1, D, P2, D, -0.01, false),
      tfjs: () => {
        const x = tf.tensor2d(f32.subarray(P1 / 4, P1 / 4 + B * D), [B, D]);
        const y = tf.sigmoid(x);
        y.dataSync();
        y.dispose();
        x.dispose();
      },
    },
    { label: `bernoulli_head value + gradient [${B}×${D}]`, n: B * D, run: (k) => k.bernoulliHead(B, D, P1, D, P2, D, -0.01, true) },
    {
      label: `gaussian_head sigmoid mean, value + gradient [${B}×${D}]`,
      n: B * D,
      run: (k) => k.gaussianHead(B, D, P1, D, P2, D, P3, D, true, -0.01, true),
    },
  ];
  console.log(`\n## epilogues (ns per element, median of ${ROUNDS}; in place, so repeated calls see changing values)\n`);
  console.log('| kernel | relaxed | simd128 | tfjs op (upload + op + read-back) |');
  console.log('|---|---|---|---|');
  for (const c of cases) {
    const s: number[][] = [[], [], []];
    for (let r = 0; r < ROUNDS; r++) {
      f32.copyWithin(P1 / 4, PA / 4 + 3 * SZ - 2 * B * D, PA / 4 + 3 * SZ - B * D); // restore the in-place operand
      kernels.forEach((k, i) => s[i].push(time(() => c.run(k))));
      if (c.tfjs) s[2].push(time(c.tfjs));
    }
    const ns = (xs: number[]) => (xs.length ? ((median(xs) * 1e6) / c.n).toFixed(2) : '–');
    console.log(`| ${c.label} | ${ns(s[0])} | ${ns(s[1])} | ${ns(s[2])} |`);
  }
}

async function main() {
  const info = await setupNodeBackend('wasm');
  if (values.only === 'epilogues') {
    epilogues();
    return;
  }
  const cands = await candidates();
  const gflops = (p: Product, ms: number) => (2 * p.M * p.N * p.K) / (ms * 1e6);
  const rows: Array<{ B: number; p: Product; cand: Record<string, number>; tfjs: number }> = [];
  // Warm-up: V8 runs a module's functions in its baseline tier first and tiers hot ones up to its optimizing
  // compiler in the background; every candidate gets there before anything is timed.
  for (const c of cands)
    for (const B of [100, 7])
      for (const p of products(B)) {
        const f = runGemm(c, p);
        for (let i = 0; i < 20; i++) f();
      }
  console.log(
    `# step GEMM tiles: ${os.cpus()[0]?.model ?? '?'} (${os.cpus().length} cores), Node ${process.versions.node}, ` +
      `tfjs ${info.backend}${info.simd ? ' SIMD' : ''}; ${ROUNDS} rounds, ≥ ${MIN_MS} ms of CPU time per measurement; committed tiles ${JSON.stringify(STEP_TILES)}`,
  );
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')}`,
  );
  for (const B of [100, 7]) {
    for (const p of products(B)) {
      const tfc = tfjsCall(p);
      const samples = new Map<string, number[]>();
      const add = (k: string, ms: number) => {
        if (!samples.has(k)) samples.set(k, []);
        samples.get(k)!.push(ms);
      };
      for (let r = 0; r < ROUNDS; r++) {
        // Interleaved: every candidate once per round, in a rotated order, then tfjs.
        for (let j = 0; j < cands.length; j++) {
          const c = cands[(j + r) % cands.length];
          add(`${c.name} ${c.build}`, time(runGemm(c, p)));
        }
        add('tfjs', time(tfc.fn));
      }
      tfc.dispose();
      const cand: Record<string, number> = {};
      for (const c of cands) cand[`${c.name} ${c.build}`] = median(samples.get(`${c.name} ${c.build}`)!);
      rows.push({ B, p, cand, tfjs: median(samples.get('tfjs')!) });
      const best = Object.entries(cand).sort((x, y) => x[1] - y[1])[0];
      console.log(
        `B=${B} ${p.v} ${p.label} [${p.M}×${p.N}×${p.K}]: best ${best[0]} ${gflops(p, best[1]).toFixed(1)} GFLOP/s; ` +
          `tfjs ${gflops(p, median(samples.get('tfjs')!)).toFixed(1)}`,
      );
    }
  }
  // Tables: GFLOP/s per product and candidate; then per variant the step's FLOP-weighted aggregate.
  const keys = cands.map((c) => `${c.name} ${c.build}`);
  for (const v of ['nt', 'nn', 'tn'] as Variant[]) {
    const tile = (k: string) => (v === 'nt' ? k.split(' / nt ')[1] : k.split(' / nt ')[0]);
    const cols = [...new Set(cands.map((c) => `${tile(`${c.name} ${c.build}`).split(' ')[0]} ${c.build}`))];
    const colOf = (k: string) => `${tile(k).split(' ')[0]} ${k.endsWith('relaxed') ? 'relaxed' : 'simd128'}`;
    console.log(`\n## gemm_${v}: GFLOP/s (median of ${ROUNDS})\n`);
    console.log(`| B | product [M×N×K] | ${cols.join(' | ')} | tfjs matMul |`);
    console.log(`|---|---|${cols.map(() => '---').join('|')}|---|`);
    for (const B of [100, 7]) {
      const mine = rows.filter((r) => r.B === B && r.p.v === v);
      for (const r of mine) {
        const byCol = new Map(keys.map((k) => [colOf(k), gflops(r.p, r.cand[k])]));
        console.log(
          `| ${B} | ${r.p.label} [${r.p.M}×${r.p.N}×${r.p.K}] | ${cols.map((c) => byCol.get(c)!.toFixed(1)).join(' | ')} | ${gflops(r.p, r.tfjs).toFixed(1)} |`,
        );
      }
      const agg = (ms: (r: (typeof mine)[number]) => number) => {
        let fl = 0,
          t = 0;
        for (const r of mine) {
          const n = COUNT[r.p.label] ?? 1;
          fl += n * 2 * r.p.M * r.p.N * r.p.K;
          t += n * ms(r);
        }
        return fl / (t * 1e6);
      };
      const aggBy = new Map(keys.map((k) => [colOf(k), agg((r) => r.cand[k])]));
      console.log(
        `| ${B} | **the step's gemm_${v} products, FLOP-weighted** | ${cols.map((c) => `**${aggBy.get(c)!.toFixed(1)}**`).join(' | ')} | **${agg((r) => r.tfjs).toFixed(1)}** |`,
      );
    }
  }
  // One step's GEMMs (every product, with its count), committed kernels against tfjs.
  console.log("\n## one step of the paper's model: all its GEMMs (ms, sums of the medians)\n");
  for (const B of [100, 7]) {
    const mine = rows.filter((r) => r.B === B);
    const sum = (ms: (r: (typeof mine)[number]) => number) => mine.reduce((a, r) => a + (COUNT[r.p.label] ?? 1) * ms(r), 0);
    const flops = mine.reduce((a, r) => a + (COUNT[r.p.label] ?? 1) * 2 * r.p.M * r.p.N * r.p.K, 0);
    const line = (label: string, ms: number) => `${label} ${ms.toFixed(3)} ms (${(flops / (ms * 1e6)).toFixed(1)} GFLOP/s)`;
    const rel = sum((r) => r.cand['committed / nt committed relaxed']),
      simd = sum((r) => r.cand['committed / nt committed simd128']),
      tfm = sum((r) => r.tfjs);
    console.log(
      `B = ${B}: ${line('relaxed', rel)}; ${line('simd128', simd)}; ${line('tfjs matMul', tfm)}; ` +
        `relaxed ${(tfm / rel).toFixed(2)}×, simd128 ${(tfm / simd).toFixed(2)}× tfjs`,
    );
  }
  if (values.only !== 'tiles') epilogues();
  if (values.json)
    fs.writeFileSync(
      values.json,
      JSON.stringify(
        {
          rounds: ROUNDS,
          minMs: MIN_MS,
          cpu: os.cpus()[0]?.model,
          node: process.versions.node,
          rows: rows.map((r) => ({ B: r.B, ...r.p, ms: r.cand, tfjsMs: r.tfjs })),
        },
        null,
        1,
      ),
    );
}

await main();
