/**
 * The decoder export, read back as another app would: tf.io.decodeWeights on weights.bin with
 * the manifest must give exactly the dec.* parameters, and the documented formula, written
 * here with plain tf ops from the decoded weights and the metadata only, must agree with a
 * float64 plain-JS evaluation of the same math from the flat parameter vector.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig, type ModelConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { exportDecoder, type DecoderMetadata } from '../../src/shared/formats/decoder_export.ts';
import { importDecoder } from '../../src/shared/formats/decoder_import.ts';
import { buildLayout, view } from '../../src/shared/model/layout.ts';
import { referenceHidden } from '../helpers/reference_layers.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Deterministic values of order `scale`, large enough that every nonlinearity bends. */
function randn(n: number, seed: number, scale = 0.7): Float32Array {
  let s = seed >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return new Float32Array(n).map(() => scale * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next()));
}

function setup(over: Partial<TrainConfig>) {
  const cfg = resolveConfig({ inputSize: 12, hidden: 7, latent: 3, ...over });
  const params = randn(buildLayout(cfg).size, 42);
  return { cfg, params, exp: exportDecoder(cfg, params, { imageShape: [3, 4] }) };
}

const act64 = (a: string, v: number) => (a === 'tanh' ? Math.tanh(v) : a === 'relu' ? Math.max(0, v) : v);
const sigmoid64 = (v: number) => 1 / (1 + Math.exp(-v));

/** y = W·x + b in float64, with W [out, in] read from the flat vector by the layout. */
function affine64(cfg: ModelConfig, p: Float32Array, W: string, b: string, x: number[]): number[] {
  const l = buildLayout(cfg),
    w = view(p, l.byName(W)),
    bias = view(p, l.byName(b));
  const out = l.byName(W).shape[0],
    inn = l.byName(W).shape[1];
  return Array.from({ length: out }, (_, o) => x.reduce((s, xi, i) => s + w[o * inn + i] * xi, bias[o]));
}

/** The decoder's outputs for one z in float64: [y] (Bernoulli) or [mean, logvar] (Gaussian). */
function decode64(cfg: ModelConfig, p: Float32Array, z: number[]): number[][] {
  const h = referenceHidden(cfg, 'dec').reduce((v, l) => affine64(cfg, p, l.W, l.b, v).map((a) => act64(l.act, a)), z);
  if (cfg.decoder === 'bernoulli') return [affine64(cfg, p, 'dec.W2', 'dec.b2', h).map(sigmoid64)];
  const mean = affine64(cfg, p, 'dec.W4', 'dec.b4', h).map((v) => (cfg.sigmoidMean ? sigmoid64(v) : v));
  return [mean, affine64(cfg, p, 'dec.W5', 'dec.b5', h)];
}

/**
 * What a consumer writes from docs/decoder-export.md: weights [out, in], z as columns [J, B]. The hidden
 * layers are the manifest's dec.W1, dec.W1_2, … in order; each one's activation is the metadata's (one for
 * all, or one per layer in the encoder's order, so the decoder's layer k has the (n − k + 1)-th).
 */
function decodeTf(w: tf.NamedTensorMap, meta: DecoderMetadata, z: number[][]): number[][][] {
  return tf.tidy(() => {
    const Z = tf.transpose(tf.tensor2d(z)); // [J, B] (functional ops: tfjs-core alone registers no chained ops)
    const lin = (W: string, b: string, x: tf.Tensor) => tf.add(tf.matMul(w[W] as tf.Tensor2D, x as tf.Tensor2D), tf.reshape(w[b], [-1, 1]));
    const acts = [meta.activation].flat(),
      n = [meta.hidden].flat().length;
    const actTf = (a: string, x: tf.Tensor) => (a === 'tanh' ? tf.tanh(x) : a === 'relu' ? tf.relu(x) : x);
    let h: tf.Tensor = Z;
    for (let k = 1; k <= n; k++) {
      const sfx = k === 1 ? '' : `_${k}`;
      h = actTf(acts.length === 1 ? acts[0] : acts[n - k], lin(`dec.W1${sfx}`, `dec.b1${sfx}`, h)); // [H, B]
    }
    const rows = (t: tf.Tensor) => tf.transpose(t).arraySync() as number[][]; // [B, D]
    if (meta.decoder === 'bernoulli') return [rows(tf.sigmoid(lin('dec.W2', 'dec.b2', h)))];
    const mean = lin('dec.W4', 'dec.b4', h);
    return [rows(meta.sigmoidMean ? tf.sigmoid(mean) : mean), rows(lin('dec.W5', 'dec.b5', h))];
  });
}

const variants: [string, Partial<TrainConfig>][] = [
  ['bernoulli, tanh', { decoder: 'bernoulli', activation: 'tanh' }],
  ['bernoulli, relu', { decoder: 'bernoulli', activation: 'relu' }],
  ['gaussian, tanh, sigmoid mean', { decoder: 'gaussian', activation: 'tanh', sigmoidMean: true }],
  ['gaussian, relu, sigmoid mean', { decoder: 'gaussian', activation: 'relu', sigmoidMean: true }],
  ['gaussian, tanh, linear mean', { decoder: 'gaussian', activation: 'tanh', sigmoidMean: false }],
  ['gaussian, relu, linear mean', { decoder: 'gaussian', activation: 'relu', sigmoidMean: false }],
  ['bernoulli, two hidden layers relu then tanh', { decoder: 'bernoulli', hidden: [7, 5], activation: ['relu', 'tanh'] }],
  ['gaussian, three hidden layers tanh, sigmoid mean', { decoder: 'gaussian', hidden: [7, 6, 5], activation: 'tanh', sigmoidMean: true }],
];

describe.each(variants)('exportDecoder (%s)', (_, over) => {
  const { cfg, params, exp } = setup(over);
  const manifest = exp.modelJson.weightsManifest[0];

  it('lists only the dec.* parameters, in layout order, with their shapes', () => {
    const dec = buildLayout(cfg).specs.filter((s) => s.name.startsWith('dec.'));
    expect(manifest.paths).toEqual(['weights.bin']);
    expect(manifest.weights).toEqual(dec.map((s) => ({ name: s.name, shape: [...s.shape], dtype: 'float32' })));
    expect(exp.weightsBin.byteOffset).toBe(0);
    expect(exp.weightsBin.buffer.byteLength).toBe(dec.reduce((a, s) => a + 4 * s.size, 0));
  });

  it('tf.io.decodeWeights gives back exactly the dec.* arrays', () => {
    const w = tf.io.decodeWeights(exp.weightsBin.buffer as ArrayBuffer, manifest.weights);
    const layout = buildLayout(cfg);
    expect(Object.keys(w)).toEqual(manifest.weights.map((e) => e.name));
    for (const [name, t] of Object.entries(w)) {
      expect(t.shape).toEqual([...layout.byName(name).shape]);
      expect(Array.from(t.dataSync())).toEqual(Array.from(view(params, layout.byName(name))));
    }
    tf.dispose(w);
  });

  it('describes the architecture in userDefinedMetadata', () => {
    const m = exp.modelJson.userDefinedMetadata;
    expect(exp.modelJson.format).toBe('aevb-decoder');
    expect(exp.modelJson.generatedBy).toMatch(/aevb/);
    expect(m).toMatchObject({
      latent: 3,
      hidden: cfg.hidden,
      outputSize: 12,
      activation: cfg.activation,
      decoder: cfg.decoder,
      sigmoidMean: cfg.sigmoidMean,
      imageShape: [3, 4],
    });
    expect(m.math).toContain(cfg.decoder === 'bernoulli' ? 'dec.W2' : 'dec.W5');
    if (typeof cfg.hidden === 'number') expect(m.math).toContain(`act = ${cfg.activation}`);
    // A deeper decoder's line names every hidden layer in the order it runs, with its activation.
    else for (const l of referenceHidden(cfg, 'dec')) expect(m.math).toContain(`${l.act}(${l.W} · `);
    expect(JSON.parse(JSON.stringify(exp.modelJson))).toEqual(exp.modelJson);
  });

  it("importDecoder reads it back: the model's shape and the dec.* parameters in the training layout", () => {
    const d = importDecoder(JSON.parse(JSON.stringify(exp.modelJson)), exp.weightsBin, 'model.json');
    expect(buildLayout(d.cfg).specs).toEqual(buildLayout(cfg).specs);
    expect(d.cfg).toMatchObject({ hidden: cfg.hidden, activation: cfg.activation, decoder: cfg.decoder });
    for (const s of buildLayout(cfg).specs)
      if (s.name.startsWith('dec.')) expect(Array.from(view(d.params, s)), s.name).toEqual(Array.from(view(params, s)));
  });

  it('plain tf ops on the decoded weights agree with a float64 evaluation of the math', () => {
    const z = [
      [0, 0, 0],
      [1.5, -0.7, 0.2],
      [-2, 1, 3],
      [0.3, 0.3, -1.2],
    ];
    const w = tf.io.decodeWeights(exp.weightsBin.buffer as ArrayBuffer, manifest.weights);
    const got = decodeTf(w, exp.modelJson.userDefinedMetadata, z);
    tf.dispose(w);
    z.forEach((zi, b) => {
      const want = decode64(cfg, params, zi);
      expect(got.length).toBe(want.length);
      want.forEach((out, k) => out.forEach((v, d) => expect(Math.abs(got[k][b][d] - v)).toBeLessThan(1e-5 * (1 + Math.abs(v)))));
    });
  });
});

describe('exportDecoder refuses', () => {
  const cfg = resolveConfig({ inputSize: 12, hidden: 7, latent: 3 });
  it('parameters that do not fit the model', () => {
    expect(() => exportDecoder(cfg, new Float32Array(10))).toThrow(/got 10 parameters/);
  });
  it('non-finite decoder weights', () => {
    const p = randn(buildLayout(cfg).size, 1);
    p[buildLayout(cfg).byName('dec.b2').offset + 2] = NaN;
    expect(() => exportDecoder(cfg, p)).toThrow(/dec\.b2\[2\] is NaN/);
  });
  it('leaves imageShape out when not given', () => {
    const p = randn(buildLayout(cfg).size, 1);
    expect('imageShape' in exportDecoder(cfg, p).modelJson.userDefinedMetadata).toBe(false);
  });
});
