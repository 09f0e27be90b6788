/**
 * Our model as a PyTorch state_dict, in safetensors (docs/safetensors.md): export a checkpoint so
 * that examples/pytorch/aevb_model.py's `AEVB` module loads it with load_state_dict, and import
 * what that module saved — with or without optimizer state — as a checkpoint to train on.
 *
 * Names. Our parameters (layout.ts, the paper's appendix C) ↔ the module's nn.Linear layers:
 *   enc.W3, enc.b3  ↔ encoder.hidden.{weight,bias}    h = act(W3 x + b3)
 *   enc.W4, enc.b4  ↔ encoder.mu.{weight,bias}        μ = W4 h + b4
 *   enc.W5, enc.b5  ↔ encoder.logvar.{weight,bias}    log σ² = W5 h + b5
 *   dec.W1, dec.b1  ↔ decoder.hidden.{weight,bias}    h' = act(W1 z + b1)
 *   dec.W2, dec.b2  ↔ decoder.logits.{weight,bias}    Bernoulli: y = sigmoid(W2 h' + b2)
 *   dec.W4, dec.b4  ↔ decoder.mean.{weight,bias}      Gaussian: μₓ = W4' h' + b4'
 *   dec.W5, dec.b5  ↔ decoder.logvar.{weight,bias}    Gaussian: log σₓ² = W5' h' + b5'
 * A deeper MLP (model/layers.ts) adds its hidden layers k ≥ 2, numbered from the MLP's input:
 *   enc.W3_k, enc.b3_k  ↔ encoder.hidden{k}.{weight,bias}   (encoder.hidden2, encoder.hidden3, …)
 *   dec.W1_k, dec.b1_k  ↔ decoder.hidden{k}.{weight,bias}
 * The names come from the layers (torchNames), so they follow the model whatever its depth.
 * Shapes need no transpose: our weights are [out, in], as nn.Linear.weight is.
 * Optimizer state: `optimizer.<slot>.<parameter name>`, slot = torch.optim's state key of the
 * rule's slot (the optimizer registry, training/optimizers.ts: Adagrad's G is `sum`, Adam's m and v
 * `exp_avg` and `exp_avg_sq`), which holds exactly our value.
 * Metadata (strings): format, config (JSON), step, samples_seen, seed, optimizer, data (JSON).
 */
import { checkCompatible, CHECKPOINT_MAGIC, decodeCheckpoint, type Checkpoint } from './checkpoint.ts';
import { modelKey, resolveConfig, type OptimizerKind, type TrainConfig } from '../training/config.ts';
import { checkpointError, type Remedy } from '../errors.ts';
import { checkTrainableState } from '../training/state_checks.ts';
import { buildLayout, view } from '../model/layout.ts';
import { modelLayers, type DenseLayer, type LayerConfig } from '../model/layers.ts';
import { OPTIMIZER_NAMES, OPTIMIZER_SLOTS, optimizerSpec } from '../training/optimizers.ts';
import { decodeSafetensors, encodeSafetensors, looksLikeSafetensors, type NamedTensor } from './safetensors.ts';

export const SAFETENSORS_FORMAT = 'aevb-pytorch';

/**
 * Layout name → state_dict name, from the model's layers: each dense layer is one nn.Linear, whose
 * weight and bias are `<module>.weight` and `<module>.bias`.
 */
export function torchNames(cfg: LayerConfig): Readonly<Record<string, string>> {
  const { encoder, decoder } = modelLayers(cfg);
  const names: Record<string, string> = {};
  const linear = (l: DenseLayer, module: string) => {
    names[l.W] = `${module}.weight`;
    names[l.b] = `${module}.bias`;
  };
  const nth = (mlp: string, k: number) => `${mlp}.hidden${k === 0 ? '' : k + 1}`;
  encoder.hidden.forEach((l, k) => linear(l, nth('encoder', k)));
  linear(encoder.mu, 'encoder.mu');
  linear(encoder.logvar, 'encoder.logvar');
  decoder.hidden.forEach((l, k) => linear(l, nth('decoder', k)));
  if (decoder.head.kind === 'bernoulli') linear(decoder.head.logits, 'decoder.logits');
  else {
    linear(decoder.head.mean, 'decoder.mean');
    linear(decoder.head.logvar, 'decoder.logvar');
  }
  return Object.freeze(names);
}

/** torch.optim's state keys of each rule's slots, in OPTIMIZER_SLOTS order (from the registry). */
export const TORCH_SLOTS: Readonly<Record<OptimizerKind, readonly string[]>> = Object.freeze(
  Object.fromEntries(OPTIMIZER_NAMES.map((k) => [k, Object.freeze(optimizerSpec(k).slots.map((s) => s.torch))])) as Record<
    OptimizerKind,
    readonly string[]
  >,
);

const OPT_PREFIX = 'optimizer.';
const DDP_PREFIX = 'module.';

/** Every tensor of the model and (optionally) of its optimizer state, in layout order. */
function namedTensors(config: TrainConfig, params: Float32Array, slots: readonly Float32Array[]): NamedTensor[] {
  const layout = buildLayout(config),
    torch = torchNames(config);
  const out: NamedTensor[] = layout.specs.map((s) => ({ name: torch[s.name], shape: s.shape, data: view(params, s) }));
  TORCH_SLOTS[config.optimizer].forEach((slot, k) => {
    for (const s of layout.specs) out.push({ name: `${OPT_PREFIX}${slot}.${torch[s.name]}`, shape: s.shape, data: view(slots[k], s) });
  });
  return out;
}

function firstNonFinite(tensors: readonly NamedTensor[]): string | null {
  for (const t of tensors) {
    for (let i = 0; i < t.data.length; i++) if (!Number.isFinite(t.data[i])) return `${t.name}[${i}] is ${t.data[i]}`;
  }
  return null;
}

/** model.safetensors bytes of a checkpoint: parameters, optimizer state and metadata. */
export function exportSafetensors(c: Checkpoint): Uint8Array {
  const layout = buildLayout(c.config);
  const fix = 'This is a bug in the caller; nothing was written.';
  if (c.params.length !== layout.size)
    throw checkpointError(`Cannot export: ${c.params.length} parameters, the model has ${layout.size}.`, fix);
  if (
    c.optimizer.kind !== c.config.optimizer ||
    c.optimizer.slots.length !== OPTIMIZER_SLOTS[c.optimizer.kind].length ||
    c.optimizer.slots.some((s) => s.length !== layout.size)
  ) {
    throw checkpointError(
      `Cannot export: the ${c.optimizer.kind} state does not fit the model (config.optimizer ${c.config.optimizer}).`,
      fix,
    );
  }
  const tensors = namedTensors(c.config, c.params, c.optimizer.slots);
  const bad = firstNonFinite(tensors);
  if (bad) throw checkpointError(`Cannot export: ${bad}.`, 'Training diverged: export an earlier checkpoint.');
  return encodeSafetensors(tensors, {
    format: SAFETENSORS_FORMAT,
    format_version: '1',
    config: JSON.stringify(c.config),
    step: String(c.step),
    samples_seen: String(c.samplesSeen),
    seed: String(c.config.seed),
    optimizer: c.optimizer.kind,
    data: JSON.stringify(c.data),
    created_at: c.createdAt,
  });
}

/** A whole number ≥ 0 from a metadata string, or the fallback. */
function metaCount(v: string | undefined, fallback: number): number {
  const n = v === undefined ? NaN : Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

/**
 * D, H, J and the decoder from the tensors' shapes, for a file that carries no config. The hidden
 * widths are encoder.hidden's rows, then encoder.hidden2's, … for as many as the file has.
 */
function inferShape(t: ReadonlyMap<string, NamedTensor>, fail: (p: string, f?: string) => never): Partial<TrainConfig> {
  const w3 = t.get('encoder.hidden.weight'),
    w4 = t.get('encoder.mu.weight');
  if (!w3 || !w4) {
    fail(
      `has no tensor ${w3 ? 'encoder.mu.weight' : 'encoder.hidden.weight'}, so it is not a state_dict of the AEVB module`,
      "Save examples/pytorch/aevb_model.py's AEVB with save_safetensors(model.state_dict(), …); the names are in docs/safetensors.md.",
    );
  }
  if (w3!.shape.length !== 2 || w4!.shape.length !== 2)
    fail(
      `has encoder weights of shapes ${JSON.stringify(w3!.shape)} and ${JSON.stringify(w4!.shape)}; nn.Linear weights are 2-D [out, in]`,
    );
  const widths = [w3!.shape[0]];
  for (let k = 2; t.has(`encoder.hidden${k}.weight`); k++) widths.push(t.get(`encoder.hidden${k}.weight`)!.shape[0]);
  return {
    inputSize: w3!.shape[1],
    hidden: widths.length === 1 ? widths[0] : widths,
    latent: w4!.shape[0],
    decoder: t.has('decoder.mean.weight') ? 'gaussian' : 'bernoulli',
  };
}

/**
 * A checkpoint from a safetensors file in our naming (ours, or saved by PyTorch from the AEVB
 * module's state_dict). Config: `override` over the file's metadata config over defaults, with
 * D, H, J and the decoder read from the shapes when the metadata has no config. Every tensor must
 * have its name and shape; optimizer state is optional (zeros when absent) but must be complete
 * and for config.optimizer when present. Step and samples seen come from the metadata (else 0).
 */
export function importSafetensors(bytes: Uint8Array, source: string, override: Partial<TrainConfig> = {}): Checkpoint {
  const fail = (
    problem: string,
    fix = "Save the AEVB module's state_dict again (docs/safetensors.md lists the names and shapes).",
    remedy?: Remedy,
  ): never => {
    throw checkpointError(`${source} ${problem}.`, fix, remedy);
  };
  const file = decodeSafetensors(bytes, source);
  // A DistributedDataParallel wrapper's state_dict prefixes every name with "module.".
  const strip = file.tensors.length > 0 && file.tensors.every((t) => t.name.startsWith(DDP_PREFIX) || t.name.startsWith(OPT_PREFIX));
  const tensors = new Map(file.tensors.map((t) => [strip && t.name.startsWith(DDP_PREFIX) ? t.name.slice(DDP_PREFIX.length) : t.name, t]));
  let saved: Partial<TrainConfig> = {};
  if (file.metadata.config !== undefined) {
    try {
      saved = JSON.parse(file.metadata.config) as Partial<TrainConfig>;
    } catch (e) {
      fail(`has a metadata config that is not JSON (${(e as Error).message})`);
    }
  }
  let config: TrainConfig;
  try {
    config = resolveConfig({ ...inferShape(tensors, fail), ...saved, ...override });
  } catch (e) {
    return fail(`cannot be used: ${(e as Error).message}`, '');
  }
  const layout = buildLayout(config),
    torch = torchNames(config);
  const params = new Float32Array(layout.size);
  const expected = new Set<string>();
  const take = (name: string, shape: readonly number[], into: Float32Array) => {
    expected.add(name);
    const t = tensors.get(name);
    if (!t) fail(`has no tensor ${name}; the model (${modelKey(config)}) needs it with shape ${JSON.stringify(shape)}`);
    if (JSON.stringify(t!.shape) !== JSON.stringify(shape)) {
      fail(
        `has tensor ${name} of shape ${JSON.stringify(t!.shape)}; the model (${modelKey(config)}) needs ${JSON.stringify(shape)}`,
        'Train with the hidden, latent and decoder of the file, or save the model that matches this run.',
        { id: 'file-model', fields: ['hidden', 'latent', 'decoder'] },
      );
    }
    into.set(t!.data);
  };
  for (const s of layout.specs) take(torch[s.name], s.shape, view(params, s));
  const stateNames = [...tensors.keys()].filter((n) => n.startsWith(OPT_PREFIX));
  const slots = OPTIMIZER_SLOTS[config.optimizer].map(() => new Float32Array(layout.size));
  const keeps = TORCH_SLOTS[config.optimizer];
  const foreign = stateNames.find((n) => !keeps.includes(n.slice(OPT_PREFIX.length).split('.')[0]));
  if (foreign) {
    fail(
      `has optimizer state ${foreign}, which ${config.optimizer} does not keep (it keeps ${keeps.map((s) => OPT_PREFIX + s).join(', ') || 'none'})`,
      'Train with the optimizer that wrote it, or save the state_dict without optimizer state.',
      { id: 'file-optimizer', fields: ['optimizer'] },
    );
  }
  if (stateNames.length > 0) {
    TORCH_SLOTS[config.optimizer].forEach((slot, k) => {
      for (const s of layout.specs) take(`${OPT_PREFIX}${slot}.${torch[s.name]}`, s.shape, view(slots[k], s));
    });
  }
  for (const name of tensors.keys()) {
    if (expected.has(name)) continue;
    fail(`has tensor ${name}, which the AEVB module (${modelKey(config)}) does not have`);
  }
  const bad = firstNonFinite(namedTensors(config, params, slots));
  if (bad) fail(`is unusable: tensor ${bad}`, 'Training had diverged when it was saved: save an earlier model.');
  const step = metaCount(file.metadata.step, 0);
  let data: Checkpoint['data'] = { name: source, n: 0, d: config.inputSize, fingerprint: '' };
  try {
    const d = JSON.parse(file.metadata.data ?? 'null') as Checkpoint['data'] | null;
    if (d && typeof d.name === 'string' && typeof d.fingerprint === 'string' && Number.isSafeInteger(d.n) && Number.isSafeInteger(d.d))
      data = d;
  } catch {
    /* no data identity: an imported model is not tied to a dataset */
  }
  return checkTrainableState(
    {
      // state_checks.ts: step in range, optimizer accumulators ≥ 0
      format: 'aevb-checkpoint',
      version: 1,
      config,
      step,
      samplesSeen: metaCount(file.metadata.samples_seen, step * config.batch),
      params,
      optimizer: { kind: config.optimizer, slots },
      data,
      createdAt: file.metadata.created_at ?? new Date(0).toISOString(),
    },
    source,
  );
}

export interface LoadedCheckpoint {
  checkpoint: Checkpoint;
  /** True for safetensors: a model from elsewhere, whose data and config are not checked against the run's. */
  imported: boolean;
}

/** checkpoint.aevb or model.safetensors bytes, told apart by their content. */
export function readCheckpointBytes(bytes: Uint8Array, source: string, override: Partial<TrainConfig> = {}): LoadedCheckpoint {
  const magic = String.fromCharCode(...bytes.subarray(0, CHECKPOINT_MAGIC.length));
  if (magic === CHECKPOINT_MAGIC || !looksLikeSafetensors(bytes)) {
    if (magic !== CHECKPOINT_MAGIC && bytes.length >= 8) {
      throw checkpointError(
        `${source} is neither an aevb checkpoint (it does not start with ${CHECKPOINT_MAGIC}) nor a safetensors file.`,
        'Pass a checkpoint.aevb written by aevb or a model.safetensors (docs/safetensors.md).',
      );
    }
    return { checkpoint: decodeCheckpoint(bytes, source), imported: false };
  }
  return { checkpoint: importSafetensors(bytes, source, override), imported: true };
}

/**
 * Check that a loaded checkpoint can start a run with `config` on data of width d: the full
 * resume check for our own checkpoints; for imported models the model's input width only
 * (the config was built from the run's settings, and the data may be other than it was trained on).
 */
export function checkLoadable(
  loaded: LoadedCheckpoint,
  config: TrainConfig,
  data: { n: number; d: number; fingerprint: string },
  source: string,
): void {
  if (!loaded.imported) {
    checkCompatible(loaded.checkpoint, config, data, source);
    return;
  }
  if (loaded.checkpoint.config.inputSize !== data.d) {
    throw checkpointError(
      `Cannot start from ${source}: tensor encoder.hidden.weight takes ${loaded.checkpoint.config.inputSize} inputs but the data has ${data.d} values per datapoint.`,
      'Train on data of the width the model was trained on.',
    );
  }
  if (modelKey(loaded.checkpoint.config) !== modelKey(config) || loaded.checkpoint.optimizer.kind !== config.optimizer) {
    throw checkpointError(
      `Cannot start from ${source}: it holds a ${modelKey(loaded.checkpoint.config)} model with ${loaded.checkpoint.optimizer.kind} state; this run is ${modelKey(config)} with ${config.optimizer}.`,
      'Pass the model settings of the file, or leave them out.',
    );
  }
}
