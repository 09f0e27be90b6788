/**
 * Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
 * as 1, 2, 3", SC 2011). A draw is a pure function of (key, counter), so the noise a datapoint gets
 * is fixed by (seed, step, global sample index, l) and never by which worker computes it, or in
 * which order.
 *
 * key     = (seed, stream)             stream separates uses: ε, binarisation, permutations, init
 * counter = (c0, c1, c2, c3)           e.g. (step, sample index, l, block of 4 values)
 */

/** Streams: one per use, so that no two uses ever share a (key, counter). */
export const Stream = Object.freeze({
  EPSILON: 1, // ε ~ N(0, I) for the reparameterisation z = μ + σ ⊙ ε (training)
  BINARIZE: 2, // u ~ U(0, 1) per pixel for dynamic binarisation
  PERMUTE: 3, // the per-epoch permutation of the training set
  INIT: 4, // initial parameters
  EVAL: 5, // ε for evaluation (ELBO and importance sampling); fixed across epochs
  SAMPLE: 6, // z ~ N(0, I) for samples from the generative model
  DREAM: 7, // wake-sleep's sleep phase: z' ~ N(0, I) and the noise of x' ~ p(x|z'), keyed by (step, minibatch position)
});

const M0 = 0xd2511f53,
  M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9,
  W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32, exactly (16-bit limbs keep every product < 2^53). */
function mulhi(a: number, b: number): number {
  const aL = a & 0xffff,
    aH = a >>> 16,
    bL = b & 0xffff,
    bH = b >>> 16;
  const lolo = aL * bL,
    lohi = aL * bH,
    hilo = aH * bL,
    hihi = aH * bH;
  const cross = (lolo >>> 16) + (lohi & 0xffff) + (hilo & 0xffff);
  return (hihi + (lohi >>> 16) + (hilo >>> 16) + Math.floor(cross / 65536)) >>> 0;
}

/** Philox4x32-10: writes 4 uint32 for (key, counter) into out. */
export function philox4x32(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array): void {
  let x0 = c0 >>> 0,
    x1 = c1 >>> 0,
    x2 = c2 >>> 0,
    x3 = c3 >>> 0;
  let key0 = k0 >>> 0,
    key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0),
      lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2),
      lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ key0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ key1) >>> 0;
    x3 = lo0;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

const TWO_PI = 2 * Math.PI;
const INV_2_32 = 1 / 4294967296;

/** A uint32 as a uniform in the open interval (0, 1): never 0, so log(u) is finite. */
export function toUnit(u: number): number {
  return (u + 0.5) * INV_2_32;
}

/**
 * A stateless generator for one stream of one seed. Every method is a pure function of its
 * arguments; the scratch array only avoids allocation.
 */
export class CounterRng {
  private readonly block = new Uint32Array(4);
  constructor(
    readonly seed: number,
    readonly stream: number,
  ) {}

  /**
   * Fill out[offset .. offset+n) with N(0, 1) draws for counter (c0, c1, c2, ·): value j comes from
   * block j/4 via Box–Muller, so a value depends only on its counter and index, never on n.
   */
  normals(c0: number, c1: number, c2: number, out: Float32Array, offset: number, n: number): void {
    const b = this.block;
    for (let j = 0; j < n; j += 4) {
      philox4x32(this.seed, this.stream, c0, c1, c2, j >>> 2, b);
      // Two Box–Muller pairs per block: (b0, b1) and (b2, b3).
      const r0 = Math.sqrt(-2 * Math.log(toUnit(b[0]))),
        t0 = TWO_PI * toUnit(b[1]);
      const r1 = Math.sqrt(-2 * Math.log(toUnit(b[2]))),
        t1 = TWO_PI * toUnit(b[3]);
      const vals = [r0 * Math.cos(t0), r0 * Math.sin(t0), r1 * Math.cos(t1), r1 * Math.sin(t1)];
      const m = Math.min(4, n - j);
      for (let k = 0; k < m; k++) out[offset + j + k] = vals[k];
    }
  }

  /** Fill out[offset .. offset+n) with U(0, 1) draws for counter (c0, c1, c2, ·). */
  uniforms(c0: number, c1: number, c2: number, out: Float32Array | Float64Array, offset: number, n: number): void {
    const b = this.block;
    for (let j = 0; j < n; j += 4) {
      philox4x32(this.seed, this.stream, c0, c1, c2, j >>> 2, b);
      const m = Math.min(4, n - j);
      for (let k = 0; k < m; k++) out[offset + j + k] = toUnit(b[k]);
    }
  }

  /** One uniform in (0, 1) for counter (c0, c1, c2, c3). */
  uniform(c0: number, c1: number, c2: number, c3: number): number {
    philox4x32(this.seed, this.stream, c0, c1, c2, c3, this.block);
    return toUnit(this.block[0]);
  }
}

/** The permutation of 0..n-1 used in epoch `epoch` (Fisher–Yates driven by the PERMUTE stream). */
export function epochPermutation(seed: number, epoch: number, n: number): Uint32Array {
  const rng = new CounterRng(seed, Stream.PERMUTE);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform(epoch, i, 0, 0) * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
