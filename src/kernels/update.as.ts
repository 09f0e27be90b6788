// The optimizer step of Algorithm 1, fused with the pool's reduce, as WASM SIMD (AssemblyScript).
//
// Built by `npm run build:kernels` (scripts/build-kernels.mjs) into update.wasm.ts, which every path
// loads: a pool worker on its slice of the shared state, the coordinator of the message path and the
// single-thread LocalTrainer on the whole vector. One arithmetic everywhere, so every path gives the
// same bits. Not type-checked by tsc (AssemblyScript types: f32, usize, v128).
//
// For i in the slice, with grads[w] worker w's Σ over its shard of ∇ℒ̃ (all in float32):
//   Σ   = grads[0][i] + grads[1][i] + … + grads[N−1][i]           (in worker order)
//   g   = scale · Σ + λ θ[i]                                        (scale = −1/M: maximise the ELBO)
//   sgd:      θ' = θ − η g
//   adagrad:  G' = G + g²;  θ' = θ − η g / (√G' + ε)                  (Duchi et al. 2011)
//   adam:     m' = β1 m + (1−β1) g;  v' = β2 v + (1−β2) g²;
//             θ' = θ − η (m'/c1) / (√(v'/c2) + ε),  c1 = 1 − β1ᵗ, c2 = 1 − β2ᵗ   (Kingma & Ba 2015)
//   rmsprop:  v' = ρ v + (1−ρ) g²;  θ' = θ − η g / (√v' + ε)                (Tieleman & Hinton 2012)
// One function per rule of the optimizer registry (src/shared/training/optimizers.ts), named after it,
// with the signature it documents: (n, θ, slots…, θ', slots'…, grads, stride, nGrads, scale, lr, wd,
// then the rule's constants and per-step values). The constants (ε, β1, β2, …) are arguments, not
// literals here: the registry is the one place that writes them down.
// Inputs are read from one state copy and outputs written to the other (or the same: in place is
// safe, every element is read before it is written). Each returns 1 when every g and θ' of the
// slice is finite, else 0: the caller then does not commit the step. (x − x is 0 only for finite x;
// the check accumulates it lane-wise, so a NaN or Inf anywhere survives to the end.)
//
// Pointers are byte offsets into the imported memory; no function allocates or touches anything
// else, so many threads can run them at once on disjoint slices of one shared memory.

// Σ_w grads[w] at element offset `o` (bytes), four lanes.
@inline function sum4(grads: usize, stride: usize, nGrads: i32, o: usize): v128 {
  let acc = v128.load(grads + o);
  let at = grads + stride + o;
  for (let w = 1; w < nGrads; w++) { acc = f32x4.add(acc, v128.load(at)); at += stride; }
  return acc;
}

@inline function sum1(grads: usize, stride: usize, nGrads: i32, o: usize): f32 {
  let acc = load<f32>(grads + o);
  let at = grads + stride + o;
  for (let w = 1; w < nGrads; w++) { acc += load<f32>(at); at += stride; }
  return acc;
}

@inline function finite4(chk: v128): i32 {
  return v128.any_true(f32x4.ne(chk, f32x4.splat(0))) ? 0 : 1;
}

export function sgd(n: i32, p: usize, q: usize, grads: usize, stride: usize, nGrads: i32,
  scale: f32, lr: f32, wd: f32): i32 {
  const S = f32x4.splat(scale), LR = f32x4.splat(lr), WD = f32x4.splat(wd);
  let chk = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const th = v128.load(p + o);
    const g = f32x4.add(f32x4.mul(S, sum4(grads, stride, nGrads, o)), f32x4.mul(WD, th));
    const th2 = f32x4.sub(th, f32x4.mul(LR, g));
    v128.store(q + o, th2);
    chk = f32x4.add(chk, f32x4.add(f32x4.sub(g, g), f32x4.sub(th2, th2)));
  }
  let c: f32 = 0;
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const g = scale * sum1(grads, stride, nGrads, o) + wd * th;
    const th2 = th - lr * g;
    store<f32>(q + o, th2);
    c += (g - g) + (th2 - th2);
  }
  return finite4(chk) & (c == 0 ? 1 : 0);
}

export function adagrad(n: i32, p: usize, G: usize, q: usize, G2: usize, grads: usize, stride: usize, nGrads: i32,
  scale: f32, lr: f32, wd: f32, eps: f32): i32 {
  const S = f32x4.splat(scale), LR = f32x4.splat(lr), WD = f32x4.splat(wd), EPS = f32x4.splat(eps);
  let chk = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const th = v128.load(p + o);
    const g = f32x4.add(f32x4.mul(S, sum4(grads, stride, nGrads, o)), f32x4.mul(WD, th));
    const Gi = f32x4.add(v128.load(G + o), f32x4.mul(g, g));
    const th2 = f32x4.sub(th, f32x4.div(f32x4.mul(LR, g), f32x4.add(f32x4.sqrt(Gi), EPS)));
    v128.store(G2 + o, Gi);
    v128.store(q + o, th2);
    chk = f32x4.add(chk, f32x4.add(f32x4.sub(g, g), f32x4.sub(th2, th2)));
  }
  let c: f32 = 0;
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const g = scale * sum1(grads, stride, nGrads, o) + wd * th;
    const Gi = load<f32>(G + o) + g * g;
    const th2 = th - (lr * g) / (Mathf.sqrt(Gi) + eps);
    store<f32>(G2 + o, Gi);
    store<f32>(q + o, th2);
    c += (g - g) + (th2 - th2);
  }
  return finite4(chk) & (c == 0 ? 1 : 0);
}

export function adam(n: i32, p: usize, m: usize, v: usize, q: usize, m2: usize, v2: usize,
  grads: usize, stride: usize, nGrads: i32, scale: f32, lr: f32, wd: f32,
  beta1: f32, beta2: f32, eps: f32, c1: f32, c2: f32): i32 {
  const S = f32x4.splat(scale), LR = f32x4.splat(lr), WD = f32x4.splat(wd), EPS = f32x4.splat(eps);
  const b1c: f32 = 1 - beta1, b2c: f32 = 1 - beta2; // in float32, as the literals were
  const B1 = f32x4.splat(beta1), B1c = f32x4.splat(b1c);
  const B2 = f32x4.splat(beta2), B2c = f32x4.splat(b2c);
  const C1 = f32x4.splat(c1), C2 = f32x4.splat(c2);
  let chk = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const th = v128.load(p + o);
    const g = f32x4.add(f32x4.mul(S, sum4(grads, stride, nGrads, o)), f32x4.mul(WD, th));
    const mi = f32x4.add(f32x4.mul(B1, v128.load(m + o)), f32x4.mul(B1c, g));
    const vi = f32x4.add(f32x4.mul(B2, v128.load(v + o)), f32x4.mul(B2c, f32x4.mul(g, g)));
    const step = f32x4.div(f32x4.mul(LR, f32x4.div(mi, C1)), f32x4.add(f32x4.sqrt(f32x4.div(vi, C2)), EPS));
    const th2 = f32x4.sub(th, step);
    v128.store(m2 + o, mi);
    v128.store(v2 + o, vi);
    v128.store(q + o, th2);
    chk = f32x4.add(chk, f32x4.add(f32x4.sub(g, g), f32x4.sub(th2, th2)));
  }
  let c: f32 = 0;
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const g = scale * sum1(grads, stride, nGrads, o) + wd * th;
    const mi = beta1 * load<f32>(m + o) + b1c * g;
    const vi = beta2 * load<f32>(v + o) + b2c * (g * g);
    const th2 = th - (lr * (mi / c1)) / (Mathf.sqrt(vi / c2) + eps);
    store<f32>(m2 + o, mi);
    store<f32>(v2 + o, vi);
    store<f32>(q + o, th2);
    c += (g - g) + (th2 - th2);
  }
  return finite4(chk) & (c == 0 ? 1 : 0);
}

export function rmsprop(n: i32, p: usize, V: usize, q: usize, V2: usize, grads: usize, stride: usize, nGrads: i32,
  scale: f32, lr: f32, wd: f32, rho: f32, eps: f32): i32 {
  const rc: f32 = 1 - rho;
  const S = f32x4.splat(scale), LR = f32x4.splat(lr), WD = f32x4.splat(wd), EPS = f32x4.splat(eps);
  const R = f32x4.splat(rho), Rc = f32x4.splat(rc);
  let chk = f32x4.splat(0);
  const n4 = n & ~3;
  for (let i = 0; i < n4; i += 4) {
    const o = <usize>i << 2;
    const th = v128.load(p + o);
    const g = f32x4.add(f32x4.mul(S, sum4(grads, stride, nGrads, o)), f32x4.mul(WD, th));
    const Vi = f32x4.add(f32x4.mul(R, v128.load(V + o)), f32x4.mul(Rc, f32x4.mul(g, g)));
    const th2 = f32x4.sub(th, f32x4.div(f32x4.mul(LR, g), f32x4.add(f32x4.sqrt(Vi), EPS)));
    v128.store(V2 + o, Vi);
    v128.store(q + o, th2);
    chk = f32x4.add(chk, f32x4.add(f32x4.sub(g, g), f32x4.sub(th2, th2)));
  }
  let c: f32 = 0;
  for (let i = n4; i < n; i++) {
    const o = <usize>i << 2;
    const th = load<f32>(p + o);
    const g = scale * sum1(grads, stride, nGrads, o) + wd * th;
    const Vi = rho * load<f32>(V + o) + rc * (g * g);
    const th2 = th - (lr * g) / (Mathf.sqrt(Vi) + eps);
    store<f32>(V2 + o, Vi);
    store<f32>(q + o, th2);
    c += (g - g) + (th2 - th2);
  }
  return finite4(chk) & (c == 0 ? 1 : 0);
}

// The transposed mirror of a weight: dst[c·rows + r] = src[r·cols + c] for the elements
// [i0, i1) of the row-major [rows, cols] matrix src. The backward pass needs Wᵀ of the weights it
// propagates through; a worker writes the transposes of the rows it has just updated, so the pool
// shares the transposing instead of every worker transposing every weight every step. Whole
// groups of 4 rows go through 4×4 register transposes (four 16-byte stores instead of sixteen
// scattered ones); partial rows and the rest go one element at a time.
export function transpose(src: usize, rows: i32, cols: i32, dst: usize, i0: i32, i1: i32): void {
  if (i1 <= i0) return;
  let r = i0 / cols;
  const c0 = i0 - r * cols;
  // A first partial row.
  if (c0 > 0) {
    const cEnd = min(cols, c0 + (i1 - i0));
    for (let c = c0; c < cEnd; c++) store<f32>(dst + ((<usize>c * rows + r) << 2), load<f32>(src + ((<usize>r * cols + c) << 2)));
    r++;
  }
  const rEnd = i1 / cols; // rows [r, rEnd) are whole
  // Groups of 4 whole rows.
  const cols4 = cols & ~3;
  for (; r + 4 <= rEnd; r += 4) {
    const s0 = src + ((<usize>r * cols) << 2), s1 = s0 + (<usize>cols << 2), s2 = s1 + (<usize>cols << 2), s3 = s2 + (<usize>cols << 2);
    for (let c = 0; c < cols4; c += 4) {
      const o = <usize>c << 2;
      const a = v128.load(s0 + o), b = v128.load(s1 + o), e = v128.load(s2 + o), f = v128.load(s3 + o);
      const t0 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), t1 = v128.shuffle<f32>(a, b, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(e, f, 0, 4, 1, 5), t3 = v128.shuffle<f32>(e, f, 2, 6, 3, 7);
      const d = dst + ((<usize>c * rows + r) << 2), stride = <usize>rows << 2;
      v128.store(d, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(d + stride, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(d + 2 * stride, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(d + 3 * stride, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
    for (let c = cols4; c < cols; c++) {
      for (let k = 0; k < 4; k++) store<f32>(dst + ((<usize>c * rows + r + k) << 2), load<f32>(src + ((<usize>(r + k) * cols + c) << 2)));
    }
  }
  // The remaining whole rows, then a last partial row.
  for (; r < rEnd; r++) {
    for (let c = 0; c < cols; c++) store<f32>(dst + ((<usize>c * rows + r) << 2), load<f32>(src + ((<usize>r * cols + c) << 2)));
  }
  // (r > rEnd only when the whole slice was inside the first partial row.)
  if (r == rEnd && r * cols < i1) {
    const cEnd = i1 - r * cols;
    for (let c = 0; c < cEnd; c++) store<f32>(dst + ((<usize>c * rows + r) << 2), load<f32>(src + ((<usize>r * cols + c) << 2)));
  }
}
