/**
 * The step kernels' module and binding (src/kernels/step_kernel.ts): what the four committed builds are
 * (exactly the step's exports, one imported memory, no data of their own, no memory.grow, FMA only in the
 * relaxed build), feature detection in a plain `node` with and without relaxed SIMD, and the errors.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import binaryen from 'binaryen'; // assemblyscript's own compiler back end: reads the modules back as text
import * as STEP_WASM from '../../src/kernels/step.wasm.ts';
import { StepKernel, detectKernelBuild, precompileStepKernel } from '../../src/kernels/step_kernel.ts';
import { KernelError } from '../../src/kernels/kernel_error.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { stepKernelFactory } from '../../src/shared/model/step_kernels.ts';
import { RELAXED_AVAILABLE } from '../helpers/step_arena.ts';

const EXPORTS = ['gemm_nt', 'gemm_nn', 'gemm_tn', 'bias_act', 'act_grad', 'col_sum', 'bernoulli_head', 'gaussian_head'];
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

describe('the four builds of step.wasm.ts', () => {
  for (const [name, base64] of Object.entries(STEP_WASM)) {
    it(`${name}: the step's exports only, env.memory imported, no data segment, never grows the memory`, () => {
      const bytes = Buffer.from(base64, 'base64');
      const relaxed = name.includes('RELAXED'),
        shared = name.endsWith('_SHARED');
      const module = binaryen.readBinaryWithFeatures(bytes, binaryen.Features.All);
      try {
        const text = module.emitText();
        expect(text).not.toMatch(/\(data\b/);
        expect(text).not.toMatch(/memory\.grow/);
        expect(text).not.toMatch(/\(global\b/); // no state: every call is a pure function of its memory
        expect(text).not.toMatch(/\(start\b/);
        expect(/relaxed_madd/.test(text)).toBe(relaxed);
        expect(/\(import "env" "memory" \(memory [^)]*\)\)/.test(text), 'imports env.memory').toBe(true);
        expect(/\(import "env" "memory" \(memory [^)]* shared\)\)/.test(text)).toBe(shared);
        const exports = [...text.matchAll(/\(export "([^"]+)"/g)].map((m) => m[1]);
        expect(exports.sort()).toEqual([...EXPORTS].sort());
        expect((text.match(/\(import /g) ?? []).length).toBe(1);
      } finally {
        module.dispose();
      }
    });
  }
});

describe('detection and the binding', () => {
  const child = (flags: string[]) => {
    const env = { ...process.env, NODE_OPTIONS: (process.env.NODE_OPTIONS ?? '').replace('--experimental-wasm-relaxed-simd', '') };
    const r = spawnSync(
      process.execPath,
      [...flags, '--import', 'tsx', fileURLToPath(new URL('../helpers/step_detect_child.ts', import.meta.url))],
      { encoding: 'utf8', env, timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      detected: string;
      auto: string;
      relaxed: { ok?: true; code?: string; message?: string };
    };
  };

  it('a plain node without the V8 flag detects simd128 on Node < 22 and refuses relaxed with a clear AevbError', () => {
    const r = child([]);
    if (NODE_MAJOR >= 22) {
      expect(r.detected).toBe('relaxed'); // on by default from Node 22
      return;
    }
    expect(r.detected).toBe('simd128');
    expect(r.auto).toBe('simd128');
    expect(r.relaxed.code).toBe('ARGUMENT');
    expect(r.relaxed.message).toMatch(/relaxed SIMD/);
    expect(r.relaxed.message).toMatch(/simd128/); // names the fix
  });

  it('with relaxed SIMD (the flag on Node 20) the same child detects and runs relaxed', () => {
    const r = child(NODE_MAJOR < 22 ? ['--experimental-wasm-relaxed-simd'] : []);
    expect(r.detected).toBe('relaxed');
    expect(r.relaxed.ok).toBe(true);
  });

  it('this test process detects relaxed (the vitest config gives Node 20 the flag) and reports the build it runs', async () => {
    expect(RELAXED_AVAILABLE).toBe(true);
    expect(detectKernelBuild()).toBe('relaxed');
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    await precompileStepKernel(true);
    expect(new StepKernel(memory).build).toBe('relaxed');
    expect(new StepKernel(memory, 'simd128').build).toBe('simd128');
  });

  it('an unknown build is an ARGUMENT error naming the two builds: a KernelError from the binding, an AevbError from src/shared', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const raw = () => new StepKernel(memory, 'avx' as never);
    expect(raw).toThrow(KernelError);
    expect(raw).toThrow(/'relaxed' or 'simd128'/);
    const viaShared = () => stepKernelFactory('avx' as never)(memory);
    expect(viaShared).toThrow(AevbError);
    expect(viaShared).toThrow(/'relaxed' or 'simd128'.* Pass one of them/);
    try {
      viaShared();
    } catch (e) {
      expect((e as AevbError).code).toBe('ARGUMENT');
    }
  });
});
