/**
 * The aevb-kernel gradient as a step's gradient engine (the shape every path calls: θ and the
 * gradient slot as Float32Arrays): where they are views of the kernels' memory (the pool's shared
 * memory, LocalTrainer's own) their addresses are used as they are, so nothing is copied; otherwise
 * (the message path, a caller's plain arrays) θ is copied into a region of the engine's own memory
 * and the gradient copied out, and the time that takes is reported as upload / read-out.
 */
import type { ShardInputs } from '../training/minibatch.ts';
import type { ParamLayout } from './layout.ts';
import type { CopyTimes, ShardValue } from './gradients.ts';
import { KernelGradient, scratchPlan, type KernelModelCfg, type StepKernelOps } from './kernel_gradient.ts';

/** Makes the kernels on a memory (the WASM module of the build in use, bound to that memory). */
export type KernelFactory = (memory: WebAssembly.Memory) => { ops: StepKernelOps; build: string };

const WASM_PAGE = 65536;
const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Where the engine's scratch is: a region of a given memory (the pool's, for this worker), or none (own memory). */
export interface KernelPlace {
  memory: WebAssembly.Memory;
  /** Byte offset of this engine's scratch (KernelGradient's plan.bytes long). */
  scratch: number;
}

export class AevbStepGradient {
  readonly copyTimes: CopyTimes = { upload: 0, readout: 0 };
  /** Which build of the kernels runs ('relaxed' or 'simd128'). */
  readonly build: string;
  private readonly memory: WebAssembly.Memory;
  private readonly grad: KernelGradient;
  /** Own θ and gradient regions (for arrays that are not views of the memory), or −1 without. */
  private readonly ownParams: number;
  private readonly ownGrad: number;

  constructor(
    readonly cfg: KernelModelCfg,
    readonly layout: ParamLayout,
    factory: KernelFactory,
    place?: KernelPlace,
  ) {
    const P = align16(layout.size * 4);
    if (place) {
      this.memory = place.memory;
      this.ownParams = this.ownGrad = -1;
    } else {
      const bytes = 2 * P + scratchPlan(cfg).bytes;
      this.memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / WASM_PAGE) || 1, maximum: Math.ceil(bytes / WASM_PAGE) || 1 });
      this.ownParams = 0;
      this.ownGrad = P;
    }
    const k = factory(this.memory);
    this.build = k.build;
    this.grad = new KernelGradient(cfg, layout, k.ops, this.memory, place ? place.scratch : 2 * P);
  }

  /** The address of `a` in the kernels' memory, or −1 if it is not a view of it. */
  private addressOf(a: Float32Array): number {
    return a.buffer === this.memory.buffer && a.length === this.layout.size ? a.byteOffset : -1;
  }

  /** ∇ Σ_shard ℒ̃ into gradOut (layout order); the shard's ELBO terms if withValue. */
  compute(params: Float32Array, shard: ShardInputs, gradOut: Float32Array, withValue = true): ShardValue {
    let p = this.addressOf(params),
      g = this.addressOf(gradOut);
    const t0 = performance.now();
    if (p < 0) {
      if (this.ownParams < 0) throw new Error("the parameters are not in the kernels' memory (a bug in the caller)");
      new Float32Array(this.memory.buffer, this.ownParams, this.layout.size).set(params);
      p = this.ownParams;
    }
    const copyOut = g < 0;
    if (copyOut) {
      if (this.ownGrad < 0) throw new Error("the gradient slot is not in the kernels' memory (a bug in the caller)");
      g = this.ownGrad;
    }
    const t1 = performance.now();
    const v = this.grad.compute(p, shard, g, withValue);
    const t2 = performance.now();
    if (copyOut) gradOut.set(new Float32Array(this.memory.buffer, g, this.layout.size));
    this.copyTimes.upload = t1 - t0;
    this.copyTimes.readout = performance.now() - t2;
    return v;
  }

  dispose(): void {
    /* nothing held outside the memory */
  }
}
