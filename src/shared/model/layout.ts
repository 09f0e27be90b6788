/**
 * The one source of truth for the parameter order. Every place that holds θ and φ — the flat
 * Float32Array the optimizer updates, the shared parameter buffer, the gradient slots, the
 * optimizer state and the checkpoint — uses this order and these shapes.
 *
 * Weights are stored as the paper writes them, W[out, in], so that a layer is W·x with x a
 * column: the production path keeps activations as [features, batch] columns and every weight
 * enters a matMul as its left operand (see gradients.ts for why that matters on WASM).
 *
 * Paper names (appendix C): encoder h = act(W3 x + b3), μ = W4 h + b4, log σ² = W5 h + b5;
 * Bernoulli decoder y = sigmoid(W2 act(W1 z + b1) + b2); Gaussian decoder h = act(W1 z + b1),
 * μₓ = W4' h + b4', log σₓ² = W5' h + b5' (the paper reuses W3..W5; we prefix enc/dec instead).
 * The μ and log σ² heads (and the Gaussian decoder's two heads) sit next to each other; each head is
 * its own matMul with the same right operand, which XNNPACK packs once.
 *
 * The list of parameters comes from the model's layers (model/layers.ts): deeper MLPs add their
 * layers' parameters after the first hidden layer's, and the paper's model keeps its order.
 */
import { modelLayers, parameterList, type LayerConfig } from './layers.ts';

export interface ParamSpec {
  /** Stable name, used in checkpoints and in the TF.js weights export. */
  readonly name: string;
  /** [out, in] for weights, [out] for biases. */
  readonly shape: readonly number[];
  /** Offset of the first element in the flat vector. */
  readonly offset: number;
  /** Number of elements. */
  readonly size: number;
  /** Inputs to this layer (for initialisation by fan-in). */
  readonly fanIn: number;
}

/**
 * A weight whose transpose the backward pass needs (every weight but enc.W3: nothing propagates
 * back into x), and where Wᵀ [cols, rows] sits in the state's mirror (see step_update.ts).
 */
export interface MirrorSpec {
  readonly name: string;
  /** W is [rows, cols] = [out, in] at `offset` in θ; Wᵀ is [cols, rows] at `mirrorOffset` in the mirror. */
  readonly rows: number;
  readonly cols: number;
  readonly offset: number;
  readonly size: number;
  readonly mirrorOffset: number;
}

export interface ParamLayout {
  readonly specs: readonly ParamSpec[];
  /** Total number of parameters. */
  readonly size: number;
  /** The transposed weights kept beside θ, and their total size. */
  readonly mirror: readonly MirrorSpec[];
  readonly mirrorSize: number;
  byName(name: string): ParamSpec;
}

export function buildLayout(cfg: LayerConfig): ParamLayout {
  const list = parameterList(modelLayers(cfg));
  let offset = 0;
  const specs: ParamSpec[] = list.map(([name, shape, fanIn]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const spec = Object.freeze({ name, shape: Object.freeze(shape), offset, size, fanIn });
    offset += size;
    return spec;
  });
  const index = new Map(specs.map((s) => [s.name, s]));
  let mirrorSize = 0;
  const mirror = specs
    .filter((s) => s.shape.length === 2 && s.name !== 'enc.W3')
    .map((s) => {
      const m = Object.freeze({
        name: s.name,
        rows: s.shape[0],
        cols: s.shape[1],
        offset: s.offset,
        size: s.size,
        mirrorOffset: mirrorSize,
      });
      mirrorSize += s.size;
      return m;
    });
  return Object.freeze({
    specs: Object.freeze(specs),
    size: offset,
    mirror: Object.freeze(mirror),
    mirrorSize,
    byName(name: string): ParamSpec {
      const s = index.get(name);
      if (!s) throw new Error(`No parameter named ${name} in this layout`);
      return s;
    },
  });
}

/**
 * The same layout with no mirror: for a step whose gradient needs no transposed weights (aevb's own
 * kernels read W as stored for every product), so no state copy holds one and no update writes one.
 */
export function withoutMirror(layout: ParamLayout): ParamLayout {
  if (layout.mirror.length === 0) return layout;
  return Object.freeze({ specs: layout.specs, size: layout.size, mirror: Object.freeze([]), mirrorSize: 0, byName: layout.byName });
}

/** A view of one parameter inside a flat vector (no copy). */
export function view(flat: Float32Array, spec: ParamSpec): Float32Array {
  return flat.subarray(spec.offset, spec.offset + spec.size);
}
