/**
 * safetensors in and out (src/shared/formats/safetensors.ts, src/shared/formats/pytorch_state.ts): our export
 * round-trips bit for bit; a file assembled by hand the way PyTorch writes a state_dict (its
 * own tensor order, no metadata, optionally "module."-prefixed or float64) imports into the right
 * places; damaged and mismatched files are refused with one line that names the problem.
 */
import { describe, expect, it } from 'vitest';
import { datasetFingerprint, decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { buildLayout, view } from '../../src/shared/model/layout.ts';
import { OPTIMIZER_NAMES, OPTIMIZER_SLOTS, optimizerSpec } from '../../src/shared/training/optimizers.ts';
import { exportSafetensors, importSafetensors, readCheckpointBytes, torchNames } from '../../src/shared/formats/pytorch_state.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/shared/formats/safetensors.ts';

const small: Partial<TrainConfig> = { inputSize: 12, hidden: 5, latent: 3, batch: 4 };

/** Deterministic values with many distinct bit patterns (including tiny and negative ones). */
function values(n: number, salt: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898 + salt * 78.233) * 10 ** ((i % 7) - 3);
  return a;
}

function checkpoint(over: Partial<TrainConfig> = {}): Checkpoint {
  const config = resolveConfig({ ...small, ...over });
  const P = buildLayout(config).size;
  const x = values(24, 9);
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step: 1234,
    samplesSeen: 4936,
    params: values(P, 1),
    optimizer: { kind: config.optimizer, slots: OPTIMIZER_SLOTS[config.optimizer].map((_, k) => values(P, 2 + k).map(Math.abs)) },
    data: { name: 'toy', n: 2, d: 12, fingerprint: datasetFingerprint(x, 2, 12) },
    createdAt: '2026-11-28T00:00:00.000Z',
  };
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** What torch writes for a state_dict: an 8-byte length, the JSON header (sorted names, here), the tensors back to back. */
function handMade(
  tensors: { name: string; shape: number[]; data: Float32Array | Float64Array; dtype?: 'F32' | 'F64' }[],
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let off = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype ?? 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header));
  const out = Buffer.alloc(8 + json.length + off);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  let at = 8 + json.length;
  for (const t of tensors) {
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, at);
    at += t.data.byteLength;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** The state_dict of examples/pytorch/aevb_model.py's AEVB for a config, with random values, in sorted-name order. */
function stateDict(config: TrainConfig) {
  const layout = buildLayout(config);
  const torch = torchNames(config);
  return layout.specs
    .map((s, k) => ({ name: torch[s.name], shape: [...s.shape], data: values(s.size, 100 + k), ours: s.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Runs f and returns the AevbError it throws (failing the test if it throws none or another kind). */
function refusal(f: () => unknown): AevbError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AevbError);
    expect((e as AevbError).code).toBe('CHECKPOINT');
    expect((e as Error).message).not.toContain('\n');
    return e as AevbError;
  }
  throw new Error('expected a refusal');
}

describe('export → import', () => {
  for (const over of [
    { optimizer: 'adagrad' },
    { optimizer: 'adam' },
    { optimizer: 'sgd' },
    { decoder: 'gaussian', optimizer: 'adam' },
    { hidden: [5, 4], activation: ['relu', 'tanh'], optimizer: 'adam' },
    { hidden: [6, 5, 4], decoder: 'gaussian', optimizer: 'adagrad' },
  ] as Partial<TrainConfig>[]) {
    it(`round-trips parameters, optimizer state, step and config bit for bit (${JSON.stringify(over)})`, () => {
      const c = checkpoint(over);
      const bytes = exportSafetensors(c);
      const back = importSafetensors(bytes, 'model.safetensors');
      expect(bits(back.params).equals(bits(c.params))).toBe(true);
      expect(back.optimizer.slots).toHaveLength(c.optimizer.slots.length);
      back.optimizer.slots.forEach((s, k) => expect(bits(s).equals(bits(c.optimizer.slots[k]))).toBe(true));
      expect({ ...back, params: 0, optimizer: back.optimizer.kind }).toEqual({ ...c, params: 0, optimizer: c.optimizer.kind });
      // …so the checkpoint it becomes is byte for byte the one it came from, and exporting again gives the same file.
      expect(Buffer.from(encodeCheckpoint(back)).equals(Buffer.from(encodeCheckpoint(c)))).toBe(true);
      expect(Buffer.from(exportSafetensors(back)).equals(Buffer.from(bytes))).toBe(true);
    });
  }

  for (const kind of OPTIMIZER_NAMES) {
    it(`${kind}: each slot is written as optimizer.<its torch.optim state key>.<parameter> and read back into that slot`, () => {
      const c = checkpoint({ optimizer: kind });
      const f = decodeSafetensors(exportSafetensors(c), 'm');
      const keys = optimizerSpec(kind).slots.map((s) => s.torch);
      const stateKeys = new Set(f.tensors.filter((t) => t.name.startsWith('optimizer.')).map((t) => t.name.split('.')[1]));
      expect([...stateKeys]).toEqual(keys);
      const torch = torchNames(c.config),
        layout = buildLayout(c.config);
      keys.forEach((key, k) => {
        const t = f.tensors.find((x) => x.name === `optimizer.${key}.${torch['dec.b1']}`)!;
        expect(bits(t.data as Float32Array).equals(bits(view(c.optimizer.slots[k], layout.byName('dec.b1'))))).toBe(true);
      });
      // A torch-written file (its own order, no metadata) with this state imports it into the same slots.
      const sd = stateDict(c.config);
      const state = keys.flatMap((key, k) =>
        sd.map((t) => ({ ...t, name: `optimizer.${key}.${t.name}`, data: view(c.optimizer.slots[k], layout.byName(t.ours)) })),
      );
      const back = importSafetensors(handMade([...sd, ...state]), 'torch.safetensors', { optimizer: kind });
      expect(back.optimizer.slots).toHaveLength(OPTIMIZER_SLOTS[kind].length);
      back.optimizer.slots.forEach((sl, k) => expect(bits(sl).equals(bits(c.optimizer.slots[k]))).toBe(true));
    });
  }

  it('writes the state_dict names and shapes, config, step and seed in the metadata, tensors 8-byte aligned', () => {
    const c = checkpoint({ optimizer: 'adam', seed: 77 });
    const bytes = exportSafetensors(c);
    const f = decodeSafetensors(bytes, 'm');
    expect(f.tensors.map((t) => `${t.name} ${t.shape.join('x')}`).slice(0, 3)).toEqual([
      'encoder.hidden.weight 5x12',
      'encoder.hidden.bias 5',
      'encoder.mu.weight 3x5',
    ]);
    expect(f.tensors.some((t) => t.name === 'optimizer.exp_avg_sq.decoder.logits.bias')).toBe(true);
    expect(JSON.parse(f.metadata.config)).toEqual(c.config);
    expect(f.metadata).toMatchObject({ step: '1234', seed: '77', optimizer: 'adam', format: 'aevb-pytorch' });
    expect(Number(Buffer.from(bytes).readBigUInt64LE(0)) % 8).toBe(0);
    // enc.W3 row 2 = encoder.hidden.weight[2, :]: the same [out, in] row-major values, no transpose.
    const w3 = f.tensors[0].data,
      ours = view(c.params, buildLayout(c.config).byName('enc.W3'));
    expect(bits(w3.subarray(24, 36)).equals(bits(ours.subarray(24, 36)))).toBe(true);
  });

  it('content detection: readCheckpointBytes takes checkpoint.aevb and model.safetensors alike', () => {
    const c = checkpoint();
    expect(readCheckpointBytes(encodeCheckpoint(c), 'a').imported).toBe(false);
    const st = readCheckpointBytes(exportSafetensors(c), 'b');
    expect(st.imported).toBe(true);
    expect(bits(st.checkpoint.params).equals(bits(decodeCheckpoint(encodeCheckpoint(c), 'a').params))).toBe(true);
    expect(refusal(() => readCheckpointBytes(new TextEncoder().encode('hello, this is text'), 'notes.txt')).message).toMatch(
      /notes\.txt is neither an aevb checkpoint .* nor a safetensors file/,
    );
  });
});

describe('a file written by PyTorch from the AEVB module', () => {
  const config = resolveConfig({ ...small, optimizer: 'adagrad' });
  const layout = buildLayout(config);

  it('imports a bare state_dict (sorted names, no metadata): every tensor lands on its parameter, state starts at zero', () => {
    const sd = stateDict(config);
    const c = importSafetensors(handMade(sd), 'torch.safetensors', { optimizer: 'adagrad' });
    expect(c.config).toMatchObject({ inputSize: 12, hidden: 5, latent: 3, decoder: 'bernoulli' });
    for (const t of sd) expect(bits(view(c.params, layout.byName(t.ours))).equals(bits(t.data as Float32Array))).toBe(true);
    expect(c.optimizer.slots[0].every((v) => v === 0)).toBe(true);
    expect(c.step).toBe(0);
  });

  it('imports optimizer state under optimizer.<torch state key>.<name>, a "module." (DDP) prefix, and float64 tensors', () => {
    const sd = stateDict(config);
    const sums = sd.map((t) => ({ ...t, name: `optimizer.sum.${t.name}`, data: (t.data as Float32Array).map(Math.abs) }));
    const f64 = sd.map((t) => ({ ...t, name: `module.${t.name}`, data: Float64Array.from(t.data), dtype: 'F64' as const }));
    const c = importSafetensors(handMade([...f64, ...sums], { step: '90' }), 'ddp.safetensors', { optimizer: 'adagrad' });
    for (const t of sd) expect(bits(view(c.params, layout.byName(t.ours))).equals(bits(t.data as Float32Array))).toBe(true);
    for (const t of sums) expect(bits(view(c.optimizer.slots[0], layout.byName(t.ours))).equals(bits(t.data))).toBe(true);
    expect(c.step).toBe(90);
  });

  it('reads a deeper model: encoder.hidden2, decoder.hidden2, the widths from the shapes', () => {
    const deep = resolveConfig({ ...small, hidden: [5, 4], optimizer: 'adagrad' });
    const sd = stateDict(deep);
    expect(sd.map((t) => t.name)).toEqual(expect.arrayContaining(['encoder.hidden2.weight', 'decoder.hidden2.bias']));
    expect(sd.find((t) => t.name === 'encoder.hidden2.weight')!.shape).toEqual([4, 5]);
    const c = importSafetensors(handMade(sd), 'deep.safetensors', { optimizer: 'adagrad' });
    expect(c.config).toMatchObject({ inputSize: 12, hidden: [5, 4], latent: 3 });
    for (const t of sd) expect(bits(view(c.params, buildLayout(deep).byName(t.ours))).equals(bits(t.data as Float32Array))).toBe(true);
  });

  it('reads the Gaussian decoder from decoder.mean / decoder.logvar', () => {
    const g = resolveConfig({ ...small, decoder: 'gaussian' });
    const c = importSafetensors(handMade(stateDict(g)), 'g.safetensors');
    expect(c.config.decoder).toBe('gaussian');
    expect(
      bits(view(c.params, buildLayout(g).byName('dec.W5'))).equals(
        bits(stateDict(g).find((t) => t.ours === 'dec.W5')!.data as Float32Array),
      ),
    ).toBe(true);
  });
});

describe('refused with one line naming the problem', () => {
  const good = exportSafetensors(checkpoint({ optimizer: 'adam' }));
  const config = resolveConfig({ ...small, optimizer: 'adam' });
  const sd = stateDict(config);
  const cases: [string, () => Uint8Array, RegExp, Partial<TrainConfig>?][] = [
    ['an empty file', () => new Uint8Array(0), /truncated: 0 bytes/],
    ['a file cut inside the header', () => good.slice(0, 40), /truncated: the header claims \d+ bytes but only 32 follow/],
    [
      'a file cut inside the tensors',
      () => good.slice(0, good.length - 6),
      /places tensor optimizer\.exp_avg_sq\.decoder\.logits\.bias at bytes .* \(truncated\)/,
    ],
    [
      'a header length over the limit',
      () => {
        const b = good.slice();
        new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
        return b;
      },
      /over the format's 100000000-byte limit|neither/,
    ],
    [
      'a header that is not JSON',
      () => {
        const b = good.slice();
        b[9] = 0x7d;
        return b;
      },
      /header that is not UTF-8 JSON/,
    ],
    [
      'trailing bytes no tensor owns',
      () => {
        const b = new Uint8Array(good.length + 4);
        b.set(good);
        return b;
      },
      /4 bytes after the last tensor/,
    ],
    [
      'a tensor of the wrong byte size',
      () =>
        patchHeader(handMade(sd), (h) => {
          h['encoder.mu.bias'].shape = [4];
        }),
      /tensor encoder\.mu\.bias 12 bytes; its shape \[4\] of F32 takes 16/,
    ],
    [
      'an unsupported dtype',
      () =>
        patchHeader(handMade(sd), (h) => {
          h['encoder.mu.bias'].dtype = 'F16';
        }),
      /encoder\.mu\.bias as F16; aevb reads F32 and F64 only/,
    ],
    [
      'a shape mismatch',
      () => handMade(sd),
      /tensor encoder\.hidden\.weight of shape \[5,12\]; the model \(D12-H6-J3-bernoulli\) needs \[6,12\]/,
      { hidden: 6 },
    ],
    [
      'a missing tensor',
      () => handMade(sd.filter((t) => t.name !== 'decoder.logits.bias')),
      /has no tensor decoder\.logits\.bias; the model .* needs it with shape \[12\]/,
    ],
    [
      'an unknown tensor',
      () => handMade([...sd, { name: 'encoder.extra.weight', shape: [2], data: new Float32Array(2), ours: '' }]),
      /has tensor encoder\.extra\.weight, which the AEVB module .* does not have/,
    ],
    [
      'state of another optimizer',
      () => handMade([...sd, ...sd.map((t) => ({ ...t, name: `optimizer.sum.${t.name}` }))]),
      /has optimizer state optimizer\.sum\.decoder\.hidden\.bias, which adam does not keep \(it keeps optimizer\.exp_avg, optimizer\.exp_avg_sq\)/,
      { optimizer: 'adam' },
    ],
    [
      'incomplete optimizer state',
      () => handMade([...sd, ...sd.slice(1).map((t) => ({ ...t, name: `optimizer.exp_avg.${t.name}` }))]),
      /has no tensor optimizer\.exp_avg\.decoder\.hidden\.bias; the model .* needs it/,
      { optimizer: 'adam' },
    ],
    [
      'state for another optimizer than the run uses',
      () => good,
      /has optimizer state optimizer\.exp_avg\.encoder\.hidden\.weight, which adagrad does not keep/,
      { optimizer: 'adagrad' },
    ],
    [
      'a NaN',
      () =>
        handMade(
          sd.map((t) =>
            t.name === 'decoder.hidden.weight' ? { ...t, data: Float32Array.from(t.data, (v, i) => (i === 3 ? NaN : v)) } : t,
          ),
        ),
      /is unusable: tensor decoder\.hidden\.weight\[3\] is NaN/,
    ],
    // Optimizer state that cannot train: Adagrad's G at −1e30 skipped every step and the run exited 0.
    [
      'a negative Adagrad accumulator (optimizer.sum.*)',
      () => handMade([...sd, ...sd.map((t) => ({ ...t, name: `optimizer.sum.${t.name}`, data: t.data.map(() => -1e30) }))]),
      /holds the Adagrad accumulator G .* of -1\.0\d*e\+30 at parameter 0; it is a sum of squares and cannot be negative/,
      { optimizer: 'adagrad' },
    ],
    [
      'a negative Adam second moment (optimizer.exp_avg_sq.*)',
      () =>
        handMade([
          ...sd,
          ...sd.map((t) => ({ ...t, name: `optimizer.exp_avg.${t.name}` })),
          ...sd.map((t) => ({ ...t, name: `optimizer.exp_avg_sq.${t.name}`, data: t.data.map((v) => -Math.abs(v) - 1) })),
        ]),
      /holds the Adam second moment v .* cannot be negative/,
      { optimizer: 'adam' },
    ],
    [
      'a step of 2^53 − 1 (was "epoch 692861481133922 of 3")',
      () => handMade(sd, { step: String(2 ** 53 - 1) }),
      /is at step 9007199254740991; a run can reach at most step 4,294,967,295/,
    ],
    [
      'a config whose every field is in range but whose model is 1.7e10 parameters (was a RangeError)',
      () => handMade(sd, { config: JSON.stringify({ inputSize: 2 ** 20, hidden: 8192, latent: 1024 }) }),
      /cannot be used: .*a model of 17,\d{3},\d{3},\d{3} parameters; at most 67,108,864 fit/,
    ],
  ];
  for (const [name, make, msg, over] of cases) {
    it(name, () => {
      const e = refusal(() => readCheckpointBytes(make(), 'm.safetensors', over ?? {}));
      expect(e.message).toMatch(msg);
    });
  }
  it('overlapping tensors and holes in the buffer', () => {
    const f = handMade(sd);
    expect(
      refusal(() =>
        decodeSafetensors(
          patchHeader(f, (h) => {
            h['decoder.hidden.bias'].data_offsets = h['decoder.hidden.weight'].data_offsets.map((o: number) => o);
            h['decoder.hidden.bias'].shape = h['decoder.hidden.weight'].shape;
          }),
          'o',
        ),
      ).message,
    ).toMatch(/overlapping|after the last tensor|hole/);
    const h0 = JSON.parse(Buffer.from(f.subarray(8, 8 + Number(Buffer.from(f).readBigUInt64LE(0)))).toString());
    const first = Object.keys(h0)[0];
    expect(
      refusal(() =>
        decodeSafetensors(
          patchHeader(f, (h) => {
            const [b, e] = h[first].data_offsets;
            h[first].data_offsets = [b + 4, e + 4];
          }),
          'o',
        ),
      ).message,
    ).toMatch(new RegExp(`hole in its buffer: bytes \\[0, 4\\) before tensor ${first.replace(/\./g, '\\.')}|overlapping`));
    expect(
      refusal(() =>
        decodeSafetensors(
          patchHeader(f, (h) => {
            const [b, e] = h[first].data_offsets;
            h[first].data_offsets = [b + 2, e + 2];
          }),
          'o',
        ),
      ).message,
    ).toMatch(/not a multiple of its 4-byte F32 values/);
  });
  it('a decoded file re-encodes to equal tensors (the container alone)', () => {
    const f = decodeSafetensors(good, 'g');
    const again = decodeSafetensors(encodeSafetensors(f.tensors, f.metadata), 'g');
    expect(again.tensors.map((t) => t.name)).toEqual(f.tensors.map((t) => t.name));
    again.tensors.forEach((t, k) => expect(bits(t.data).equals(bits(f.tensors[k].data))).toBe(true));
  });
});

/** Rewrite a hand-made file's header (same buffer), keeping the length field right. */
function patchHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const h = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString());
  edit(h);
  const json = Buffer.from(JSON.stringify(h));
  const out = Buffer.alloc(8 + json.length + bytes.length - 8 - n);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  json.copy(out, 8);
  Buffer.from(bytes.subarray(8 + n)).copy(out, 8 + json.length);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
