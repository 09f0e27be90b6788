/**
 * Deeper MLPs: the config's layer lists (validation, normalisation, modelKey), the layers that
 * model/layers.ts derives from them (names, widths, activations, the decoder mirroring the encoder) and
 * the parameter layout and mirror built from those layers. The gradients of deeper models are tested
 * against autodiff and finite differences in gradients.test.ts, finite_differences.test.ts and the
 * wake-sleep tests.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { modelKey, resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { cliMessage } from '../../src/main/node/cli_words.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { modelLayers } from '../../src/shared/model/layers.ts';
import { torchNames } from '../../src/shared/formats/pytorch_state.ts';
import { decode, disposeParams, encode, initParams, logLikelihood, paramTensors } from '../../src/shared/model/model.ts';
import { useBackend } from '../helpers/backend.ts';
import { affine, hiddenLayers, softplus } from '../helpers/float64_mlp.ts';
import { referenceHidden } from '../helpers/reference_layers.ts';

function refusal(partial: Partial<TrainConfig>): AevbError {
  try {
    resolveConfig(partial);
  } catch (e) {
    return e as AevbError;
  }
  throw new Error(`resolveConfig accepted ${JSON.stringify(partial)}`);
}

describe('hidden and activation lists in the config', () => {
  it('a one-element list is the same model as its number', () => {
    const a = resolveConfig({ hidden: [500], activation: ['relu'] }),
      b = resolveConfig({ hidden: 500, activation: 'relu' });
    expect(a).toEqual(b);
    expect(a.hidden).toBe(500);
    expect(modelKey(a)).toBe('D784-H500-J20-bernoulli');
  });

  it('keeps a deeper list, copied and frozen, and its modelKey names every width', () => {
    const hidden = [512, 256];
    const c = resolveConfig({ hidden, activation: ['relu', 'tanh'] });
    hidden[0] = 7;
    expect(c.hidden).toEqual([512, 256]);
    expect(Object.isFrozen(c.hidden)).toBe(true);
    expect(modelKey(c)).toBe('D784-H512x256-J20-bernoulli');
    expect(modelKey(resolveConfig({ hidden: [256, 512] }))).not.toBe(modelKey(c));
  });

  it('one activation applies to every layer, and a list of one repeated activation is that activation', () => {
    expect(resolveConfig({ hidden: [8, 6], activation: ['relu', 'relu'] })).toEqual(resolveConfig({ hidden: [8, 6], activation: 'relu' }));
    const { encoder, decoder } = modelLayers(resolveConfig({ hidden: [8, 6, 4], activation: 'relu' }));
    expect([...encoder.hidden, ...decoder.hidden].map((l) => l.activation)).toEqual(Array(6).fill('relu'));
  });

  const bad: Array<[string, Partial<TrainConfig>, RegExp]> = [
    ['an empty list', { hidden: [] }, /"hidden".*\[\].*1 to 8 hidden-layer widths/],
    ['nine layers', { hidden: Array(9).fill(10) }, /1 to 8 hidden-layer widths/],
    ['a width of 0', { hidden: [10, 0] }, /\[10,0\].*each a whole number from 1 to 8192/],
    ['a width over 8192', { hidden: [8193] }, /8193/],
    ['a fractional width', { hidden: [10, 2.5] }, /2\.5/],
    [
      'an unknown activation in a list',
      { hidden: [4, 4], activation: ['relu', 'gelu' as 'relu'] },
      /"gelu" is not one of tanh, relu, linear/,
    ],
    ['more activations than layers', { hidden: [4, 4], activation: ['relu', 'tanh', 'relu'] }, /3 activations for 2 hidden layers/],
    ['a list of activations for one layer', { hidden: 4, activation: ['relu', 'tanh'] }, /2 activations for 1 hidden layer /],
  ];
  for (const [what, partial, message] of bad) {
    it(`refuses ${what}, naming the field and the fix`, () => {
      const e = refusal(partial);
      expect(e).toBeInstanceOf(AevbError);
      expect(e.code).toBe('CONFIG');
      expect(e.message).toMatch(message);
      // The library's fix is neutral (no flag); the CLI words it with the field's flag.
      expect(e.fix.length).toBeGreaterThan(0);
      expect(e.message).not.toMatch(/--[a-z]/);
      expect(cliMessage(e)).toMatch(/--hidden|--activation/);
    });
  }
});

describe('the layers of a deeper model (hidden [7, 5], relu then tanh)', () => {
  const cfg = resolveConfig({ inputSize: 12, hidden: [7, 5], latent: 3, activation: ['relu', 'tanh'] });
  const { encoder, decoder } = modelLayers(cfg);
  const shape = (l: { W: string; b: string; in: number; out: number; activation: string }) => [l.W, l.b, l.in, l.out, l.activation];

  it("encoder D → 7 → 5 → J, decoder J → 5 → 7 → D, each layer keeping its width's activation", () => {
    expect(encoder.hidden.map(shape)).toEqual([
      ['enc.W3', 'enc.b3', 12, 7, 'relu'],
      ['enc.W3_2', 'enc.b3_2', 7, 5, 'tanh'],
    ]);
    expect([shape(encoder.mu), shape(encoder.logvar)]).toEqual([
      ['enc.W4', 'enc.b4', 5, 3, 'linear'],
      ['enc.W5', 'enc.b5', 5, 3, 'linear'],
    ]);
    expect(decoder.hidden.map(shape)).toEqual([
      ['dec.W1', 'dec.b1', 3, 5, 'tanh'],
      ['dec.W1_2', 'dec.b1_2', 5, 7, 'relu'],
    ]);
    expect(decoder.head.kind === 'bernoulli' && shape(decoder.head.logits)).toEqual(['dec.W2', 'dec.b2', 7, 12, 'linear']);
  });

  it("lays out the parameters in the paper's order with the deeper layers after the first", () => {
    const layout = buildLayout(cfg);
    expect(layout.specs.map((s) => `${s.name}[${s.shape.join(',')}]`)).toEqual([
      'enc.W3[7,12]',
      'enc.b3[7]',
      'enc.W3_2[5,7]',
      'enc.b3_2[5]',
      'enc.W4[3,5]',
      'enc.W5[3,5]',
      'enc.b4[3]',
      'enc.b5[3]',
      'dec.W1[5,3]',
      'dec.b1[5]',
      'dec.W1_2[7,5]',
      'dec.b1_2[7]',
      'dec.W2[12,7]',
      'dec.b2[12]',
    ]);
    // Fan-in (for the pytorch initialisation) is each layer's input width.
    expect(layout.specs.map((s) => s.fanIn)).toEqual([12, 12, 7, 7, 5, 5, 5, 5, 3, 3, 5, 5, 7, 7]);
    // Every weight the backward multiplies by its transpose is mirrored; only enc.W3 (into x) is not.
    expect(layout.mirror.map((m) => m.name)).toEqual(['enc.W3_2', 'enc.W4', 'enc.W5', 'dec.W1', 'dec.W1_2', 'dec.W2']);
  });

  it('a Gaussian decoder keeps its two heads after the deeper hidden layers', () => {
    const layout = buildLayout({ ...cfg, decoder: 'gaussian' });
    expect(layout.specs.map((s) => s.name).slice(8)).toEqual([
      'dec.W1',
      'dec.b1',
      'dec.W1_2',
      'dec.b1_2',
      'dec.W4',
      'dec.W5',
      'dec.b4',
      'dec.b5',
    ]);
  });

  it("names the PyTorch module's layers hidden, hidden2, … (k = 1 keeps the old name)", () => {
    expect(torchNames(cfg)).toEqual({
      'enc.W3': 'encoder.hidden.weight',
      'enc.b3': 'encoder.hidden.bias',
      'enc.W3_2': 'encoder.hidden2.weight',
      'enc.b3_2': 'encoder.hidden2.bias',
      'enc.W4': 'encoder.mu.weight',
      'enc.b4': 'encoder.mu.bias',
      'enc.W5': 'encoder.logvar.weight',
      'enc.b5': 'encoder.logvar.bias',
      'dec.W1': 'decoder.hidden.weight',
      'dec.b1': 'decoder.hidden.bias',
      'dec.W1_2': 'decoder.hidden2.weight',
      'dec.b1_2': 'decoder.hidden2.bias',
      'dec.W2': 'decoder.logits.weight',
      'dec.b2': 'decoder.logits.bias',
    });
  });
});

describe('the evaluation forward pass of a deeper model (model.ts: encode, decode, logLikelihood)', () => {
  beforeAll(() => useBackend('wasm'));

  it('equals a float64 layer-by-layer reference', () => {
    const cfg = resolveConfig({ inputSize: 10, hidden: [7, 5], latent: 3, activation: ['relu', 'tanh'], init: 'pytorch' });
    const layout = buildLayout(cfg);
    const params = initParams(cfg, 4, layout).map((v) => 2 * v);
    const theta = Float64Array.from(params),
      o = (n: string) => layout.byName(n).offset;
    const B = 4,
      x = Array.from({ length: B }, (_, i) => Array.from({ length: 10 }, (_, d) => (((i * 10 + d) * 37) % 23) / 22));
    const p = paramTensors(params, layout);
    const X = tf.transpose(tf.tensor2d(x)) as tf.Tensor2D; // [D, B]
    const { mu, logvar } = encode(cfg, p, X);
    const out = decode(cfg, p, mu);
    const ll = logLikelihood(cfg, out, X);
    const got = {
      mu: tf.transpose(mu).arraySync() as number[][],
      lv: tf.transpose(logvar).arraySync() as number[][],
      ll: Array.from(ll.dataSync()),
    };
    tf.dispose([X, mu, logvar, out.mean, out.logits!, ll]);
    disposeParams(p);
    x.forEach((xi, i) => {
      const h = hiddenLayers(theta, o, referenceHidden(cfg, 'enc'), xi, []);
      const m = affine(theta, o('enc.W4'), o('enc.b4'), 3, h, []),
        v = affine(theta, o('enc.W5'), o('enc.b5'), 3, h, []);
      const hd = hiddenLayers(theta, o, referenceHidden(cfg, 'dec'), m, []);
      const logits = affine(theta, o('dec.W2'), o('dec.b2'), 10, hd, []);
      const want = logits.reduce((s, l, d) => s + xi[d] * l - softplus(l), 0);
      m.forEach((w, j) => expect(got.mu[i][j]).toBeCloseTo(w, 5));
      v.forEach((w, j) => expect(got.lv[i][j]).toBeCloseTo(w, 5));
      expect(got.ll[i]).toBeCloseTo(want, 4);
    });
  });
});
