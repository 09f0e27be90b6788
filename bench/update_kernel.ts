/**
 * The reduce + optimizer of one step, per parameter, side by side in one run:
 *   kernel   the WASM SIMD update kernel (src/kernels) on a shared WebAssembly.Memory: the sum over
 *            the gradient slots fused with the rule, reading one state copy and writing the other,
 *            plus (reported apart) the transposes of the weights' mirror
 *   js       the plain-JS loops it replaced (the pool's sumGradientSlots + applyUpdate, as they were
 *            before the kernels), on SharedArrayBuffers, as the pool ran them
 * For the paper's model (H = 500, J = 20: P = 815,824) on one worker's whole vector, with 1 and 2
 * gradient slots, Adagrad and Adam. Rounds alternate kernel and js; medians.
 *
 *   npx tsx bench/update_kernel.ts [--rounds 15] [--json FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { resolveConfig, type OptimizerKind } from '../src/shared/training/config.ts';
import { buildLayout } from '../src/shared/model/layout.ts';
import { OPTIMIZERS, OPTIMIZER_SLOTS } from '../src/shared/training/optimizers.ts';
import { allocatePoolMemory } from '../src/shared/runtime/shared_memory.ts';
import { updateSlice, writeMirror } from '../src/shared/training/step_update.ts';
import { UpdateKernel } from '../src/kernels/update_kernel.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { rounds: { type: 'string' }, json: { type: 'string' } } });
const rounds = Number(values.rounds ?? 15);
const cfgOf = (optimizer: OptimizerKind) => resolveConfig({ hidden: 500, latent: 20, inputSize: 784, optimizer, lr: 0.01 });
const layout = buildLayout(cfgOf('adagrad'));
const P = layout.size;

/** The JS reduce the pool used: Σ slots in worker order, double precision, with a finiteness check. */
function sumSlots(slots: Float32Array[], out: Float32Array): boolean {
  let check = 0;
  const [a, b] = slots;
  if (slots.length === 1) {
    for (let i = 0; i < P; i++) check += a[i] - a[i];
    if (a !== out) out.set(a);
  } else
    for (let i = 0; i < P; i++) {
      const v = a[i] + b[i];
      out[i] = v;
      check += v - v;
    }
  return check === 0;
}

/** The JS update the pool used (applyUpdate), state copy `from` → `to`. */
function jsUpdate(
  kind: OptimizerKind,
  p: Float32Array,
  s: Float32Array[],
  q: Float32Array,
  s2: Float32Array[],
  g: Float32Array,
  t: number,
) {
  const sc = -1 / 100,
    lr = 0.01,
    wd = 0;
  const { eps: ADAGRAD_EPS } = OPTIMIZERS.adagrad.constants;
  const { beta1: ADAM_BETA1, beta2: ADAM_BETA2, eps: ADAM_EPS } = OPTIMIZERS.adam.constants;
  if (kind === 'adagrad') {
    for (let i = 0; i < P; i++) {
      const gi = sc * g[i] + wd * p[i];
      const Gi = s[0][i] + gi * gi;
      s2[0][i] = Gi;
      q[i] = p[i] - (lr * gi) / (Math.sqrt(Gi) + ADAGRAD_EPS);
    }
  } else {
    const c1 = 1 - ADAM_BETA1 ** t,
      c2 = 1 - ADAM_BETA2 ** t;
    for (let i = 0; i < P; i++) {
      const gi = sc * g[i] + wd * p[i];
      const mi = ADAM_BETA1 * s[0][i] + (1 - ADAM_BETA1) * gi;
      const vi = ADAM_BETA2 * s[1][i] + (1 - ADAM_BETA2) * gi * gi;
      s2[0][i] = mi;
      s2[1][i] = vi;
      q[i] = p[i] - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + ADAM_EPS);
    }
  }
}

const rows: Array<{ kind: OptimizerKind; slots: number; kernelNs: number; mirrorNs: number; jsNs: number }> = [];
for (const kind of ['adagrad', 'adam'] as OptimizerKind[]) {
  for (const nSlots of [1, 2]) {
    const cfg = cfgOf(kind),
      S = OPTIMIZER_SLOTS[kind].length;
    const mem = allocatePoolMemory({
      workers: nSlots,
      paramCount: P,
      slotCount: S,
      mirrorSize: layout.mirrorSize,
      maxSteps: 1,
      trainLength: 0,
      testLength: 0,
    });
    const kernel = new UpdateKernel(mem.buffers.memory);
    for (const g of mem.grads) for (let i = 0; i < P; i++) g[i] = Math.sin(i) * 0.1;
    // The JS path's arrays, on SharedArrayBuffers as in the pool before the kernels.
    const sab = () => new Float32Array(new SharedArrayBuffer(P * 4));
    const js = {
      p: [sab(), sab()],
      s: [Array.from({ length: S }, sab), Array.from({ length: S }, sab)],
      g: Array.from({ length: nSlots }, sab),
      sum: sab(),
    };
    js.g.forEach((g) => g.set(mem.grads[0]));
    const k: number[] = [],
      m: number[] = [],
      j: number[] = [];
    for (let r = -3; r < rounds; r++) {
      // 3 warm-up rounds
      const cur = r & 1,
        t = r + 10;
      let t0 = performance.now();
      updateSlice(kernel, mem, cfg, { ...layout, mirror: [] }, { cur, step: t, gradCount: nSlots, start: 0, end: P });
      const kMs = performance.now() - t0;
      t0 = performance.now();
      const to = mem.state(1 - cur).ptr;
      writeMirror(kernel, layout, to.params, to.mirror, 0, P);
      const mMs = performance.now() - t0;
      t0 = performance.now();
      sumSlots(js.g, js.sum);
      jsUpdate(kind, js.p[cur], js.s[cur], js.p[1 - cur], js.s[1 - cur], js.sum, t);
      const jMs = performance.now() - t0;
      if (r >= 0) {
        k.push(kMs);
        m.push(mMs);
        j.push(jMs);
      }
    }
    rows.push({ kind, slots: nSlots, kernelNs: (median(k) * 1e6) / P, mirrorNs: (median(m) * 1e6) / P, jsNs: (median(j) * 1e6) / P });
  }
}
const machine = { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), node: process.version };
console.log(
  `Reduce + optimizer over P = ${P} (H 500, J 20), ns per parameter, medians of ${rounds} rounds — ${machine.cpu}, Node ${machine.node}`,
);
console.log('| rule | gradient slots | kernel: sum + rule | kernel: + mirror | JS loops (before) | JS / kernel (sum + rule + mirror) |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.kind} | ${r.slots} | ${r.kernelNs.toFixed(2)} | ${(r.kernelNs + r.mirrorNs).toFixed(2)} | ${r.jsNs.toFixed(2)} | ${(r.jsNs / (r.kernelNs + r.mirrorNs)).toFixed(1)}× |`,
  );
}
if (values.json) fs.writeFileSync(values.json, JSON.stringify({ machine, P, rows }, null, 2));
