import { resolveConfig } from '../src/shared/config.ts';
import { buildLayout } from '../src/shared/layout.ts';
import { initParams } from '../src/shared/model.ts';
import { buildShard } from '../src/shared/minibatch.ts';
import { loadEmbeddedMnist } from '../src/main/node/data_files.ts';
import { AevbStepGradient } from '../src/shared/model/aevb_step_gradient.ts';
import { stepKernelFactory } from '../src/shared/model/step_kernels.ts';
import type { StepKernelOps } from '../src/shared/model/kernel_gradient.ts';
const data = loadEmbeddedMnist().train;
for (const B of [100, 7]) {
const cfg = resolveConfig({ batch: B });
const layout = buildLayout(cfg);
const params = initParams(cfg, 1, layout);
const shard = buildShard(cfg, data, { indices: Array.from({ length: B }, (_, i) => i), step: 0 });
const times: Record<string, number> = {};
const f = stepKernelFactory();
const timed = (m: WebAssembly.Memory) => {
  const k = f(m);
  const ops = {} as Record<string, Function>;
  for (const [name, fn] of Object.entries(k.ops)) ops[name] = (...a: number[]) => { const t = performance.now(); const r = (fn as Function)(...a); times[name + (name.startsWith('gemm') ? ` ${a[0]}x${a[1]}x${a[2]}` : '')] = (times[name + (name.startsWith('gemm') ? ` ${a[0]}x${a[1]}x${a[2]}` : '')] ?? 0) + performance.now() - t; return r; };
  return { ops: ops as unknown as StepKernelOps, build: k.build };
};
const g = new AevbStepGradient(cfg, layout, timed);
const grad = new Float32Array(layout.size);
for (let i = 0; i < 20; i++) g.compute(params, shard, grad, false);
for (const k of Object.keys(times)) delete times[k];
const R = 50; const t0 = performance.now();
for (let i = 0; i < R; i++) g.compute(params, shard, grad, false);
const total = (performance.now() - t0) / R;
const sum = Object.values(times).reduce((a, b) => a + b, 0) / R;
console.log(`B=${B} build ${g.build}: ${total.toFixed(2)} ms/gradient, kernels ${sum.toFixed(2)} ms, rest (JS, copies) ${(total - sum).toFixed(2)} ms`);
for (const [k, v] of Object.entries(times).sort((a, b) => b[1] - a[1])) console.log(`  ${k}: ${(v / R).toFixed(3)} ms`);
}
