/**
 * The update rules of Algorithm 1 ("θ, φ ← update using g"), one entry each: the one place that says
 * which rules exist, the state vectors each keeps, their constants, the step size to start from and
 * their names in PyTorch. Everything that enumerates optimizers reads this table: the config's
 * validator, the checkpoint format and its checks (checkpoint.ts, state_checks.ts), the safetensors
 * names (pytorch_state.ts), the pool's shared memory, and the update itself (step_update.ts).
 *
 * The rules run as WASM SIMD kernels, one exported function per entry, named after it, in
 * src/kernels/update.as.ts (where the maths is written out). A kernel takes its constants as plain
 * numbers at call time (`kernelArgs`), so they are written here only. With
 *   g = −(1/M) Σ ∇ℒ̃ + λθ    (the gradient of the negative ELBO: every rule descends it, ascending the ELBO)
 * the kernel of a rule with slots s₁ … s_k is called as
 *   rule(n, θ, s₁ … s_k, θ', s₁' … s_k', grads, stride, nGrads, scale, lr, λ, …kernelArgs(t))
 * reading (θ, s) and writing (θ', s'), t the 1-based number of the update.
 *
 * Adding a rule: an entry here (its slots with their torch.optim state keys, constants, kernelArgs),
 * its function in update.as.ts, `npm run build:kernels`, its float64 reference in
 * test/kernels/update_kernel.test.ts, and (Python cannot read this file) its torch.optim form in
 * examples/pytorch/aevb_model.py with the fixture rewritten (test/kernels/optimizer_fixture.test.ts);
 * the config, files, pool and the other tests follow from this table.
 */

/** One state vector of a rule, as long as θ. */
export interface OptimizerSlot {
  /** Its name in a checkpoint.aevb (`optimizer.<name>`, docs/checkpoint-format.md). */
  readonly name: string;
  /** torch.optim's state key for it: `optimizer.<torch>.<parameter>` in a model.safetensors (docs/safetensors.md). */
  readonly torch: string;
  /** What it holds, in words, for messages ("accumulator G"). */
  readonly what: string;
  /**
   * A sum or a mean of squares (≥ 0 in any state the rule can reach): the rule divides by its √, so a
   * loaded state with a negative value would skip every step and is refused (state_checks.ts).
   */
  readonly nonNegative: boolean;
}

export interface OptimizerSpec {
  /** The name in prose and on the page ("Adam"). */
  readonly label: string;
  readonly slots: readonly OptimizerSlot[];
  /** The rule's constants (β1, β2, ε, ρ, …), PyTorch's defaults unless said. */
  readonly constants: Readonly<Record<string, number>>;
  /** A step size η to start from: torch.optim's default for the rule (SGD has none: the paper's 0.01). */
  readonly lr: number;
  /**
   * Whether each parameter's step is scaled by a running size of its own gradient: the rules to suggest
   * when SGD diverges (ADAPTIVE_OPTIMIZERS: the divergence messages of train_loop.ts and local_trainer.ts,
   * and their wording on the CLI and the page).
   */
  readonly adaptive: boolean;
  /** The same rule in PyTorch: torch.optim.<optimizer>(params, lr=η, weight_decay=λ, **options). */
  readonly torch: { readonly optimizer: string; readonly options: Readonly<Record<string, number | readonly number[]>> };
  /** The kernel's arguments after λ for update number t (1-based): its constants and any per-step values, plain numbers. */
  kernelArgs(t: number): number[];
}

// Adagrad (Duchi et al. 2011), the paper's rule:  G ← G + g²;  θ ← θ − η g / (√G + ε)
const ADAGRAD = Object.freeze({ eps: 1e-8 });
// Adam (Kingma & Ba 2015, Algorithm 1):  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
//   θ ← θ − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β1ᵗ),  v̂ = v / (1 − β2ᵗ)
const ADAM = Object.freeze({ beta1: 0.9, beta2: 0.999, eps: 1e-8 });
// RMSProp (Tieleman & Hinton 2012; torch.optim.RMSprop's defaults, without momentum or centring):
//   v ← ρ v + (1−ρ) g²;  θ ← θ − η g / (√v + ε)
const RMSPROP = Object.freeze({ rho: 0.99, eps: 1e-8 });

export const OPTIMIZERS = Object.freeze({
  sgd: {
    label: 'SGD',
    slots: [],
    constants: {},
    lr: 0.01,
    adaptive: false,
    torch: { optimizer: 'SGD', options: {} },
    kernelArgs: () => [],
  },
  adagrad: {
    label: 'Adagrad',
    slots: [{ name: 'sumSquares', torch: 'sum', what: 'accumulator G', nonNegative: true }],
    constants: ADAGRAD,
    lr: 0.01,
    adaptive: true,
    torch: { optimizer: 'Adagrad', options: { eps: ADAGRAD.eps } },
    kernelArgs: () => [ADAGRAD.eps],
  },
  adam: {
    label: 'Adam',
    slots: [
      { name: 'm', torch: 'exp_avg', what: 'first moment m', nonNegative: false },
      { name: 'v', torch: 'exp_avg_sq', what: 'second moment v', nonNegative: true },
    ],
    constants: ADAM,
    lr: 0.001,
    adaptive: true,
    torch: { optimizer: 'Adam', options: { betas: [ADAM.beta1, ADAM.beta2], eps: ADAM.eps } },
    // The bias corrections c1 = 1 − β1ᵗ and c2 = 1 − β2ᵗ in double; the kernel uses them in float32.
    kernelArgs: (t: number) => [ADAM.beta1, ADAM.beta2, ADAM.eps, 1 - ADAM.beta1 ** t, 1 - ADAM.beta2 ** t],
  },
  rmsprop: {
    label: 'RMSProp',
    slots: [{ name: 'meanSquares', torch: 'square_avg', what: 'mean square v', nonNegative: true }],
    constants: RMSPROP,
    lr: 0.01,
    adaptive: true,
    // torch calls ρ alpha.
    torch: { optimizer: 'RMSprop', options: { alpha: RMSPROP.rho, eps: RMSPROP.eps } },
    kernelArgs: () => [RMSPROP.rho, RMSPROP.eps],
  },
} satisfies Record<string, OptimizerSpec>);

/** The name of an update rule: a key of OPTIMIZERS. */
export type OptimizerKind = keyof typeof OPTIMIZERS;

/** Every rule's name, in the table's order: the config field's choices. */
export const OPTIMIZER_NAMES: readonly OptimizerKind[] = Object.freeze(Object.keys(OPTIMIZERS) as OptimizerKind[]);

/** The rules with `adaptive` set, in the table's order: what to suggest when a run with SGD diverges. */
export const ADAPTIVE_OPTIMIZERS: readonly OptimizerKind[] = Object.freeze(OPTIMIZER_NAMES.filter((k) => OPTIMIZERS[k].adaptive));

/** Names or labels in prose: "a", "a or b", "a, b or c". */
export function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Whether `v` names a rule (an own key: not "toString" or "__proto__"). */
export function isOptimizerKind(v: unknown): v is OptimizerKind {
  return typeof v === 'string' && Object.hasOwn(OPTIMIZERS, v);
}

/** The entry of a rule, typed as the general spec. */
export function optimizerSpec(kind: OptimizerKind): OptimizerSpec {
  return OPTIMIZERS[kind];
}

/** Names (in checkpoint.aevb) of the state vectors each rule keeps, each as long as θ. */
export const OPTIMIZER_SLOTS: Readonly<Record<OptimizerKind, readonly string[]>> = Object.freeze(
  Object.fromEntries(OPTIMIZER_NAMES.map((k) => [k, Object.freeze(optimizerSpec(k).slots.map((s) => s.name))])) as Record<
    OptimizerKind,
    readonly string[]
  >,
);

/** Index of the first NaN or ±Inf in a[start, end), or −1. (x − x is 0 only for finite x.) */
export function firstNonFinite(a: Float32Array, start = 0, end = a.length): number {
  for (let i = start; i < end; i++) if (a[i] - a[i] !== 0) return i;
  return -1;
}
