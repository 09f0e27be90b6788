/**
 * A bound on the model's size, checked with the config (resolveConfig), before anything is
 * allocated. Every field can be in range while their product is not: D = 2²⁰, H = 8192, J = 1024
 * asks for 1.7·10¹⁰ parameters, and the first Float32Array of that length failed with a bare
 * "RangeError: Invalid typed array length". The step's memory holds θ, the optimizer state, the
 * transposed-weight mirror twice over and a gradient per worker, all in one WebAssembly.Memory of
 * at most 4 GiB; 2²⁶ parameters (256 MiB per vector) leaves room for that with a few workers.
 */
import { configError } from '../errors.ts';
import { modelLayers, parameterList, type LayerConfig } from './layers.ts';

export const MAX_PARAMETERS = 2 ** 26;

/** θ's length for a config: Σ over the layers of out·in + out. */
export function parameterCount(cfg: LayerConfig): number {
  return parameterList(modelLayers(cfg)).reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0);
}

export function checkModelSize(cfg: LayerConfig): void {
  const n = parameterCount(cfg);
  if (n <= MAX_PARAMETERS) return;
  throw configError(
    'hidden',
    `is ${JSON.stringify(cfg.hidden)} with latent ${cfg.latent} and ${cfg.inputSize} inputs: a model of ${n.toLocaleString('en-US')} parameters; at most ${MAX_PARAMETERS.toLocaleString('en-US')} fit in the step's memory`,
    'Use fewer hidden units (or fewer latent dimensions), or data with fewer values per datapoint.',
    { id: 'smaller-model', fields: ['hidden', 'latent'] },
  );
}
