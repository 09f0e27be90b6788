/**
 * The step's kernels (step.as.ts: the GEMMs, epilogues and decoder heads, WASM SIMD) bound to one
 * WebAssembly.Memory, in the build this engine runs best: relaxed SIMD (fused multiply-add) where the engine
 * has it, plain SIMD128 otherwise. Every argument that is a pointer is a byte offset into that memory;
 * leading dimensions are in elements. The methods call straight into WASM, unchecked: the caller (the step)
 * lays out its matrices once and checks them there, and a call costs no more than the kernel itself.
 * A build this engine cannot run is a KernelError (ARGUMENT or STATE), which the caller in src/shared
 * (model/step_kernels.ts) rethrows as an AevbError.
 */
import { KernelError } from './kernel_error.ts';
import { STEP_WASM_RELAXED_SHARED, STEP_WASM_RELAXED_UNSHARED, STEP_WASM_SIMD128_SHARED, STEP_WASM_SIMD128_UNSHARED } from './step.wasm.ts';

/** Which build of the kernels runs: 'relaxed' (relaxed SIMD, FMA) or 'simd128' (mul + add). */
export type KernelBuild = 'relaxed' | 'simd128';

/** The activation codes of bias_act and act_grad (step.as.ts). */
export const ACTIVATION_CODE = { linear: 0, tanh: 1, relu: 2 } as const;
export type KernelActivation = keyof typeof ACTIVATION_CODE;

/** The module's exports as they are (numbers in, numbers out): what the step's gradient calls. */
export interface StepExports {
  gemm_nt(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: number): void;
  gemm_nn(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: number): void;
  gemm_tn(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: number): void;
  bias_act(M: number, N: number, Y: number, ldy: number, bias: number, act: number): void;
  act_grad(M: number, N: number, G: number, ldg: number, Y: number, ldy: number, act: number): void;
  col_sum(M: number, N: number, G: number, ldg: number, out: number, acc: number): void;
  bernoulli_head(M: number, N: number, Lg: number, ldl: number, X: number, ldx: number, scale: number, withValue: number): number;
  gaussian_head(
    M: number,
    N: number,
    R: number,
    ldr: number,
    V: number,
    ldv: number,
    X: number,
    ldx: number,
    sigmoidMean: number,
    scale: number,
    withValue: number,
  ): number;
}

// The smallest modules that use each feature: (v128, v128, v128) → v128 returning
// f32x4.relaxed_madd(a, b, c) (opcode 0xfd 0x105), or f32x4.mul(a, b) (0xfd 0xe6) for plain SIMD.
const PROBE_HEAD = [0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0];
const RELAXED_PROBE = new Uint8Array([...PROBE_HEAD, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);
const SIMD_PROBE = new Uint8Array([...PROBE_HEAD, 10, 11, 1, 9, 0, 32, 0, 32, 1, 253, 230, 1, 11]);

let detected: { relaxed: boolean; simd: boolean } | undefined;

function features(): { relaxed: boolean; simd: boolean } {
  // Once per thread (module state is per thread: every worker detects for itself).
  return (detected ??= { relaxed: WebAssembly.validate(RELAXED_PROBE), simd: WebAssembly.validate(SIMD_PROBE) });
}

/** Whether this engine has WebAssembly SIMD at all (without it the step runs on tfjs, as it says). */
export function hasWasmSimd(): boolean {
  return features().simd;
}

/**
 * The build this engine runs best: 'relaxed' where it validates relaxed SIMD (Chrome ≥ 114, Firefox ≥ 145,
 * Node ≥ 22; Node 20 only with --experimental-wasm-relaxed-simd), else 'simd128'.
 */
export function detectKernelBuild(): KernelBuild {
  return features().relaxed ? 'relaxed' : 'simd128';
}

const BYTES: Record<`${KernelBuild}_${'shared' | 'unshared'}`, string> = {
  relaxed_shared: STEP_WASM_RELAXED_SHARED,
  relaxed_unshared: STEP_WASM_RELAXED_UNSHARED,
  simd128_shared: STEP_WASM_SIMD128_SHARED,
  simd128_unshared: STEP_WASM_SIMD128_UNSHARED,
};
const compiled = new Map<string, WebAssembly.Module>();

function checkEngine(build: KernelBuild): void {
  if (build !== 'relaxed' && build !== 'simd128') {
    throw new KernelError(
      'ARGUMENT',
      `The kernel build is ${JSON.stringify(build)}; it must be 'relaxed' or 'simd128'.`,
      'Pass one of them, or leave the build out to detect it.',
    );
  }
  const f = features();
  if (!f.simd) {
    throw new KernelError(
      'STATE',
      "This JavaScript engine has no WebAssembly SIMD, which aevb's step kernels need.",
      "Train with the kernels 'tfjs' (TensorFlow.js), or use an engine with WebAssembly SIMD (Chrome ≥ 91, Firefox ≥ 89, Safari ≥ 16.4, Node ≥ 16).",
    );
  }
  if (build === 'relaxed' && !f.relaxed) {
    throw new KernelError(
      'ARGUMENT',
      "The 'relaxed' kernel build needs WebAssembly relaxed SIMD, which this engine does not have.",
      "Pass build 'simd128' or leave the build out to detect it; relaxed SIMD is on by default in Node ≥ 22, Chrome ≥ 114 and Firefox ≥ 145 (Node 20: node --experimental-wasm-relaxed-simd).",
    );
  }
}

function moduleKey(build: KernelBuild, shared: boolean): `${KernelBuild}_${'shared' | 'unshared'}` {
  return `${build}_${shared ? 'shared' : 'unshared'}`;
}

/**
 * Compiles a build off the calling thread's critical path (WebAssembly.compile), so that a later
 * `new StepKernel` on a page's main thread does not compile ~12 KB synchronously.
 */
export async function precompileStepKernel(shared: boolean, build: KernelBuild = detectKernelBuild()): Promise<void> {
  checkEngine(build);
  const key = moduleKey(build, shared);
  if (!compiled.has(key)) compiled.set(key, await WebAssembly.compile(decodeBase64(BYTES[key])));
}

function moduleFor(build: KernelBuild, shared: boolean): WebAssembly.Module {
  const key = moduleKey(build, shared);
  let m = compiled.get(key);
  if (!m) compiled.set(key, (m = new WebAssembly.Module(decodeBase64(BYTES[key]))));
  return m;
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export class StepKernel {
  readonly build: KernelBuild;
  /** The raw exports (0/1 for flags, activation codes): the step calls these, a few dozen times a chunk. */
  readonly k: StepExports;

  constructor(
    readonly memory: WebAssembly.Memory,
    build: KernelBuild = detectKernelBuild(),
  ) {
    checkEngine(build);
    this.build = build;
    const shared = typeof SharedArrayBuffer === 'function' && memory.buffer instanceof SharedArrayBuffer;
    this.k = new WebAssembly.Instance(moduleFor(build, shared), { env: { memory } }).exports as unknown as StepExports;
  }

  /** C[m,n] = (acc ? C[m,n] : 0) + Σ_k A[m·lda + k] · B[n·ldb + k]   (a layer's forward: X[B,in] · Wᵀ, W [out,in]). */
  gemmNT(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: boolean): void {
    this.k.gemm_nt(M, N, K, A, lda, B, ldb, C, ldc, acc ? 1 : 0);
  }

  /** C[m,n] = (acc ? C[m,n] : 0) + Σ_k A[m·lda + k] · B[k·ldb + n]   (into a layer's input: G[B,out] · W[out,in]). */
  gemmNN(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: boolean): void {
    this.k.gemm_nn(M, N, K, A, lda, B, ldb, C, ldc, acc ? 1 : 0);
  }

  /** C[m,n] = (acc ? C[m,n] : 0) + Σ_k A[k·lda + m] · B[k·ldb + n]   (a weight's gradient: gW[out,in] += Gᵀ · X). */
  gemmTN(M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number, C: number, ldc: number, acc: boolean): void {
    this.k.gemm_tn(M, N, K, A, lda, B, ldb, C, ldc, acc ? 1 : 0);
  }

  /** Y[m,n] ← act(Y[m,n] + bias[n]) in place; bias 0: none. */
  biasAct(M: number, N: number, Y: number, ldy: number, bias: number, act: KernelActivation): void {
    this.k.bias_act(M, N, Y, ldy, bias, ACTIVATION_CODE[act]);
  }

  /** G[m,n] ← G[m,n] · act'(a) in place, from Y = act(a): tanh 1 − Y², relu [Y > 0], linear 1. */
  actGrad(M: number, N: number, G: number, ldg: number, Y: number, ldy: number, act: KernelActivation): void {
    this.k.act_grad(M, N, G, ldg, Y, ldy, ACTIVATION_CODE[act]);
  }

  /** out[n] ← (acc ? out[n] : 0) + Σ_m G[m·ldg + n]   (a bias's gradient). */
  colSum(M: number, N: number, G: number, ldg: number, out: number, acc: boolean): void {
    this.k.col_sum(M, N, G, ldg, out, acc ? 1 : 0);
  }

  /**
   * Bernoulli head on the logits ℓ = Lg[M,N] (in place), target X: returns Σ x ℓ − softplus(ℓ) (float64;
   * 0 unless withValue) and leaves Lg ← scale · (x − σ(ℓ)).
   */
  bernoulliHead(M: number, N: number, Lg: number, ldl: number, X: number, ldx: number, scale: number, withValue: boolean): number {
    return this.k.bernoulli_head(M, N, Lg, ldl, X, ldx, scale, withValue ? 1 : 0);
  }

  /**
   * Gaussian head on R = raw mean and V = log σₓ² (both [M,N], in place), target X: μ = sigmoidMean ? σ(raw) : raw,
   * r = x − μ; returns Σ −½ log 2π − ½ v − ½ r² e^−v (float64; 0 unless withValue) and leaves
   * R ← scale · r e^−v · dμ/draw, V ← scale · ½ (r² e^−v − 1).
   */
  gaussianHead(
    M: number,
    N: number,
    R: number,
    ldr: number,
    V: number,
    ldv: number,
    X: number,
    ldx: number,
    sigmoidMean: boolean,
    scale: number,
    withValue: boolean,
  ): number {
    return this.k.gaussian_head(M, N, R, ldr, V, ldv, X, ldx, sigmoidMean ? 1 : 0, scale, withValue ? 1 : 0);
  }
}
