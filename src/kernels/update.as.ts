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
// Inputs are read from one state copy and outputs written to the other (or the same: in place is
// safe, every element is read before it is written). Each returns 1 when every g and θ' of the
// slice is finite, else 0: the caller then does not commit the step. (x − x is 0 only for finite x;
// the check accumulates it lane-wise, so a NaN or Inf anywhere survives to the end.)
//
// Pointers are byte offsets into the imported memory; no function allocates or touches anything
// else, so many threads can run them at once on disjoint slices of one shared memory.

const ADAGRAD_EPS: f32 = 1e-8;
const ADAM_BETA1: f32 = 0.9;
const ADAM_BETA2: f32 = 0.999;
const ADAM_EPS: f32 = 1e-8;

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
  scale: f32, lr: f32, wd: f32): i32 {
  const S = f32x4.splat(scale), LR = f32x4.splat(lr), WD = f32x4.splat(wd), EPS = f32x4.splat(ADAGRAD_EPS);
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
    const th2 = th - (lr * g) / (Mathf.sqrt(Gi) + ADAGRAD_EPS);
    store<f32>(G2 + o, Gi);
    store<f32>(q + o, th2);
    c += (g - g) + (th2 - th2);
  }
  return finite4(chk) & (c == 0 ? 1 : 0);
}

export function adam(n: i32, p: usize, m: usize, v: usize, q: usize, m2: usize, v2: usize,
  grads: usize, stride: usize, nGrads: i32, scale: f32, lr: f32, wd: f32, c1: f32, c2: f32): i32 {
  const S = f32x4.splat(scale), LR = f32x4.splat(lr), WD = f32x4.splat(wd), EPS = f32x4.splat(ADAM_EPS);
  const B1 = f32x4.splat(ADAM_BETA1), B1c = f32x4.splat(1 - ADAM_BETA1);
  const B2 = f32x4.splat(ADAM_BETA2), B2c = f32x4.splat(1 - ADAM_BETA2);
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
    const mi = ADAM_BETA1 * load<f32>(m + o) + (1 - ADAM_BETA1) * g;
    const vi = ADAM_BETA2 * load<f32>(v + o) + (1 - ADAM_BETA2) * (g * g);
    const th2 = th - (lr * (mi / c1)) / (Mathf.sqrt(vi / c2) + ADAM_EPS);
    store<f32>(m2 + o, mi);
    store<f32>(v2 + o, vi);
    store<f32>(q + o, th2);
    c += (g - g) + (th2 - th2);
  }
  return finite4(chk) & (c == 0 ? 1 : 0);
}
