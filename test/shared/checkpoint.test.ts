/**
 * The checkpoint format: an exact round trip of every field for each optimizer, and every
 * rejection decodeCheckpoint and checkCompatible promise, each with the problem it must name.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCompatible,
  crc32,
  datasetFingerprint,
  decodeCheckpoint,
  encodeCheckpoint,
  RESUMABLE_FIELDS,
  type Checkpoint,
} from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig, type OptimizerKind, type TrainConfig } from '../../src/shared/training/config.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { createSlots } from '../../src/shared/training/training_state.ts';
import { OPTIMIZER_NAMES, OPTIMIZERS, OPTIMIZER_SLOTS, optimizerSpec } from '../../src/shared/training/optimizers.ts';

const SRC = 'runs/a/checkpoint.aevb';

/** Deterministic pseudo-random floats, with awkward values mixed in to test bit-exactness. */
function fill(a: Float32Array, seed: number): Float32Array {
  let s = seed >>> 0;
  for (let i = 0; i < a.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 2 ** ((s % 40) - 20);
  }
  a[0] = -0;
  a[1] = 1.4e-45;
  a[2] = 3.4028234663852886e38;
  return a;
}

function makeCheckpoint(kind: OptimizerKind = 'adam', over: Partial<TrainConfig> = {}): Checkpoint {
  const config = resolveConfig({ inputSize: 6, hidden: 4, latent: 2, optimizer: kind, lr: 0.02, ...over });
  const n = buildLayout(config).size;
  const x = fill(new Float32Array(10 * 6), 99);
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step: 1234,
    samplesSeen: 123_400,
    params: fill(new Float32Array(n), 1),
    // Adagrad's G and Adam's v are sums and means of squares: never negative (state_checks.ts).
    optimizer: { kind, slots: createSlots(kind, n).map((s, i) => fill(s, 10 + i).map(Math.abs)) },
    data: { name: 'mnist (embedded) train', n: 10, d: 6, fingerprint: datasetFingerprint(x, 10, 6) },
    createdAt: '2024-05-01T12:34:56.789Z',
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Split a file into its header object and payload, to forge edited files. */
function split(bytes: Uint8Array): { header: any; payload: Uint8Array } {
  const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len)));
  return { header, payload: bytes.slice((16 + len + 3) & ~3) };
}

/** Reassemble a file from a (possibly edited) header and payload, as encode would. */
function join(header: unknown, payload: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = (16 + json.length + 3) & ~3;
  const out = new Uint8Array(start + payload.length);
  out.set(new TextEncoder().encode('AEVBCKPT'));
  new DataView(out.buffer).setUint32(8, 1, true);
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(payload, start);
  return out;
}

function edit(c: Checkpoint, f: (h: any, payload: Uint8Array) => void): Uint8Array {
  const { header, payload } = split(encodeCheckpoint(c));
  f(header, payload);
  return join(header, payload);
}

/** Decode must throw a CHECKPOINT error that names the source and matches `pattern`. */
function expectReject(bytes: Uint8Array, pattern: RegExp): void {
  let err: unknown;
  try {
    decodeCheckpoint(bytes, SRC);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(AevbError);
  expect((err as AevbError).code).toBe('CHECKPOINT');
  expect((err as AevbError).message).toContain(SRC);
  expect((err as AevbError).message).toMatch(pattern);
}

describe('round trip', () => {
  for (const kind of OPTIMIZER_NAMES) {
    it(`keeps every field bit for bit (${kind})`, () => {
      const c = makeCheckpoint(kind);
      const bytes = encodeCheckpoint(c);
      // The payload holds params, then the rule's slots under their registry names.
      expect(split(bytes).header.arrays.map((a: { name: string }) => a.name)).toEqual([
        'params',
        ...OPTIMIZER_SLOTS[kind].map((n) => `optimizer.${n}`),
      ]);
      expect(bytes.length % 4).toBe(0);
      const d = decodeCheckpoint(bytes, SRC);
      expect(d.config).toEqual(c.config);
      expect({ ...d, params: 0, optimizer: 0 }).toEqual({ ...c, params: 0, optimizer: 0 });
      expect(bits(d.params)).toEqual(bits(c.params));
      expect(d.optimizer.kind).toBe(kind);
      expect(d.optimizer.slots.length).toBe(c.optimizer.slots.length);
      d.optimizer.slots.forEach((s, i) => expect(bits(s)).toEqual(bits(c.optimizer.slots[i])));
      expect(Object.is(d.params[0], -0)).toBe(true);
      // Encoding the decoded checkpoint gives the same bytes.
      expect(encodeCheckpoint(d)).toEqual(bytes);
    });
  }

  it("keeps a deeper model's layer lists and parameters (hidden [4, 3], relu then tanh)", () => {
    const c = makeCheckpoint('adam', { hidden: [4, 3], activation: ['relu', 'tanh'] });
    const bytes = encodeCheckpoint(c);
    const d = decodeCheckpoint(bytes, SRC);
    expect(d.config.hidden).toEqual([4, 3]);
    expect(d.config.activation).toEqual(['relu', 'tanh']);
    expect(d.config).toEqual(c.config);
    expect(bits(d.params)).toEqual(bits(c.params));
    expect(split(bytes).header.layout.map((e: { name: string }) => e.name)).toContain('enc.W3_2');
    expect(encodeCheckpoint(d)).toEqual(bytes);
    // Resuming compares the lists by value (the run's config is a fresh object), and a depth is a model shape.
    const data = { n: 10, d: 6, fingerprint: c.data.fingerprint };
    expect(() => checkCompatible(d, resolveConfig({ ...c.config, hidden: [4, 3], activation: ['relu', 'tanh'] }), data)).not.toThrow();
    expect(() => checkCompatible(d, resolveConfig({ ...c.config, hidden: 4, activation: 'relu' }), data)).toThrow(
      /the model shape is "D6-H4x3-J2-bernoulli" in the checkpoint but "D6-H4-J2-bernoulli"/,
    );
    expect(() => checkCompatible(d, resolveConfig({ ...c.config, activation: ['tanh', 'tanh'] }), data))
      // (a list of one repeated activation is normalised to that activation: one model, one config)
      .toThrow(/config field "activation" is \["relu","tanh"\] in the checkpoint but "tanh" in this run/);
  });

  it('reads from a view at an odd offset (e.g. a pooled Node Buffer)', () => {
    const bytes = encodeCheckpoint(makeCheckpoint('adagrad'));
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(bits(decodeCheckpoint(big.subarray(3), SRC).params)).toEqual(bits(makeCheckpoint('adagrad').params));
  });

  it('writes the documented preamble and header', () => {
    const bytes = encodeCheckpoint(makeCheckpoint('adam'));
    expect(new TextDecoder().decode(bytes.subarray(0, 8))).toBe('AEVBCKPT');
    const { header, payload } = split(bytes);
    expect(header.layout[0]).toEqual({ name: 'enc.W3', shape: [4, 6] });
    expect(header.arrays.map((a: any) => a.name)).toEqual(['params', 'optimizer.m', 'optimizer.v']);
    expect(header.crc32).toBe(crc32(payload));
    expect(header.params).toBeUndefined();
  });
});

describe('decode rejects', () => {
  const good = () => encodeCheckpoint(makeCheckpoint('adam'));

  it('a flipped payload byte: checksum', () => {
    const b = good();
    b[b.length - 5] ^= 0x40;
    expectReject(b, /corrupt: checksum/);
  });
  it('a truncated payload', () => expectReject(good().slice(0, -8), /payload of \d+ bytes.*truncated/));
  it('a truncated header', () => expectReject(good().slice(0, 40), /truncated: the header claims/));
  it('a file shorter than the preamble', () => expectReject(good().slice(0, 10), /truncated: 10 bytes/));
  it('an empty file', () => expectReject(new Uint8Array(0), /truncated/));
  it('wrong magic', () => {
    const b = good();
    b.set(new TextEncoder().encode('PK\x03\x04zip!'));
    expectReject(b, /not an aevb checkpoint/);
  });
  it('an unsupported version', () => {
    const b = good();
    new DataView(b.buffer).setUint32(8, 2, true);
    expectReject(b, /format version 2/);
  });
  it('a header that is not JSON', () => {
    const b = good();
    b[16] = '!'.charCodeAt(0);
    expectReject(b, /header that is not JSON/);
  });
  it('a missing field', () => {
    expectReject(
      edit(makeCheckpoint(), (h) => {
        delete h.samplesSeen;
      }),
      /"samplesSeen" is missing/,
    );
    expectReject(
      edit(makeCheckpoint(), (h) => {
        delete h.data.fingerprint;
      }),
      /"data.fingerprint" is missing/,
    );
    expectReject(
      edit(makeCheckpoint(), (h) => {
        h.step = -1;
      }),
      /"step" is -1/,
    );
  });
  it('a layout that does not match the config (hidden size edited)', () => {
    const b = edit(makeCheckpoint(), (h) => {
      h.config.hidden = 5;
    });
    expectReject(b, /layout that does not match.*parameter 0 is enc\.W3 \[4,6\], expected enc\.W3 \[5,6\]/);
  });
  it('a layout entry renamed', () => {
    expectReject(
      edit(makeCheckpoint(), (h) => {
        h.layout[7].name = 'dec.bias';
      }),
      /parameter 7 is dec\.bias \[4\], expected dec\.b1 \[4\]/,
    );
  });
  it("an invalid config, wrapping resolveConfig's message", () => {
    expectReject(
      edit(makeCheckpoint(), (h) => {
        h.config.lr = -1;
      }),
      /invalid config: Config field "lr" is -1/,
    );
    expectReject(
      edit(makeCheckpoint(), (h) => {
        h.config.colour = 'red';
      }),
      /invalid config: Config field "colour"/,
    );
  });
  it('a config key that every JS object has (toString, constructor, hasOwnProperty, __proto__)', () => {
    // JSON.parse makes "__proto__" an own key, exactly as a crafted file would.
    for (const key of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const b = edit(makeCheckpoint(), (h) => {
        Object.defineProperty(h.config, key, { value: 1, enumerable: true });
      });
      expect(new TextDecoder().decode(b)).toContain(`"${key}":1`);
      expectReject(b, new RegExp(`invalid config: Config field "${key}" is not a known setting`));
    }
  });
  it('an optimizer kind that every JS object has (toString, __proto__)', () => {
    for (const kind of ['toString', 'constructor', '__proto__']) {
      expectReject(
        edit(makeCheckpoint(), (h) => {
          h.optimizer.kind = kind;
        }),
        new RegExp(`field "optimizer.kind" is "${kind}"`),
      );
    }
  });
  it('optimizer state that does not match the config', () => {
    expectReject(
      edit(makeCheckpoint('adam'), (h) => {
        h.optimizer.kind = 'sgd';
      }),
      /holds sgd state but its config says optimizer adam/,
    );
  });
  it('a payload length that disagrees with the header', () => {
    const c = makeCheckpoint('adam');
    const { header, payload } = split(encodeCheckpoint(c));
    expectReject(join(header, new Uint8Array([...payload, 0, 0, 0, 0])), /payload of \d+ bytes; the header says/);
  });
  it('NaN in params, even with a recomputed checksum', () => {
    const b = edit(makeCheckpoint(), (h, p) => {
      new DataView(p.buffer).setFloat32(4 * 3, NaN, true);
      h.crc32 = crc32(p);
    });
    expectReject(b, /params holds NaN at enc\.W3\[3\]/);
  });
  it('Inf in optimizer state, even with a recomputed checksum', () => {
    const c = makeCheckpoint('adam');
    const n = c.params.length;
    const b = edit(c, (h, p) => {
      new DataView(p.buffer).setFloat32(4 * (2 * n + n - 1), -Infinity, true);
      h.crc32 = crc32(p);
    });
    expectReject(b, /optimizer\.v holds -Infinity at dec\.b2\[5\]/);
  });
  it('a negative Adagrad accumulator or Adam second moment: state that cannot train (every step would be skipped)', () => {
    for (const [kind, slot] of [
      ['adagrad', 0],
      ['adam', 1],
    ] as const) {
      const c = makeCheckpoint(kind);
      const n = c.params.length;
      const b = edit(c, (h, p) => {
        new DataView(p.buffer).setFloat32(4 * ((1 + slot) * n + 7), -1e30, true);
        h.crc32 = crc32(p);
      });
      expectReject(
        b,
        new RegExp(
          `holds the ${kind === 'adagrad' ? 'Adagrad accumulator G' : 'Adam second moment v'} .* of -1\\.0\\d*e\\+30 at parameter 7; it is a sum of squares and cannot be negative`,
        ),
      );
    }
  });
  it("every slot the optimizer registry marks as a sum or mean of squares is refused when negative, named by the rule's words", () => {
    const checked = OPTIMIZER_NAMES.flatMap((kind) => optimizerSpec(kind).slots.flatMap((s, k) => (s.nonNegative ? [{ kind, k, s }] : [])));
    expect(checked.map(({ kind, s }) => `${kind}.${s.name}`)).toEqual(expect.arrayContaining(['adagrad.sumSquares', 'adam.v']));
    for (const { kind, k, s } of checked) {
      const c = makeCheckpoint(kind);
      const n = c.params.length;
      const b = edit(c, (h, p) => {
        new DataView(p.buffer).setFloat32(4 * ((1 + k) * n + 3), -2, true);
        h.crc32 = crc32(p);
      });
      expectReject(
        b,
        new RegExp(
          `holds the ${OPTIMIZERS[kind].label} ${s.what} \\(optimizer\\.${s.name} in checkpoint\\.aevb; optimizer\\.${s.torch}\\.\\* in safetensors\\) of -2 at parameter 3`,
        ),
      );
    }
  });
  it('a step past the 32-bit counter that keys the noise', () => {
    expectReject(
      edit(makeCheckpoint(), (h) => {
        h.step = 2 ** 53 - 1;
      }),
      /is at step 9007199254740991; a run can reach at most step 4,294,967,295/,
    );
  });
});

describe('encode refuses what decode would refuse', () => {
  it('NaN parameters', () => {
    const c = makeCheckpoint();
    c.params[5] = NaN;
    expect(() => encodeCheckpoint(c)).toThrow(/Cannot save: params holds NaN/);
  });
  it('slots of the wrong size or count', () => {
    const c = makeCheckpoint('adam');
    c.optimizer.slots.pop();
    expect(() => encodeCheckpoint(c)).toThrow(/adam keeps 2 state vectors, got 1/);
    const d = makeCheckpoint('adagrad');
    d.optimizer.slots[0] = new Float32Array(3);
    expect(() => encodeCheckpoint(d)).toThrow(/optimizer\.sumSquares has 3 values/);
  });
});

describe('datasetFingerprint', () => {
  const x = fill(new Float32Array(1000 * 6), 7);
  it('is stable and sensitive to values, n and d', () => {
    const f = datasetFingerprint(x, 1000, 6);
    expect(f).toMatch(/^[0-9a-f]{8}$/);
    expect(datasetFingerprint(x.slice(), 1000, 6)).toBe(f);
    expect(datasetFingerprint(x, 999, 6)).not.toBe(f);
    expect(datasetFingerprint(x, 500, 12)).not.toBe(f);
    const y = x.slice();
    y[999 * 6 + 2] += 1; // the last row is always sampled
    expect(datasetFingerprint(y, 1000, 6)).not.toBe(f);
  });
  it('reads a subarray view correctly', () => {
    const big = new Float32Array(6 + x.length);
    big.set(x, 6);
    expect(datasetFingerprint(big.subarray(6), 1000, 6)).toBe(datasetFingerprint(x, 1000, 6));
  });
});

describe('checkCompatible', () => {
  const c = makeCheckpoint('adam');
  const data = { n: c.data.n, d: c.data.d, fingerprint: c.data.fingerprint };
  const cfg = (over: Partial<TrainConfig>) => resolveConfig({ ...c.config, ...over });

  it('accepts the same run, with only epochs, evalSamples, evalElboSamples and earlyStop changed', () => {
    expect(RESUMABLE_FIELDS).toEqual(['epochs', 'evalSamples', 'evalElboSamples', 'earlyStop']);
    expect(() => checkCompatible(c, cfg({ epochs: 99, evalSamples: 50, evalElboSamples: 3, earlyStop: 4 }), data)).not.toThrow();
  });
  const cases: [string, () => void, RegExp][] = [
    [
      'model shape',
      () => checkCompatible(c, cfg({ hidden: 8 }), data),
      /model shape is "D6-H4-J2-bernoulli" in the checkpoint but "D6-H8-J2-bernoulli".*same data size, hidden, latent and decoder/,
    ],
    [
      'optimizer',
      () => checkCompatible(c, cfg({ optimizer: 'sgd' }), data),
      /optimizer is "adam" .* but "sgd".*Resume with the adam optimizer, or start a new run/,
    ],
    ['d', () => checkCompatible(c, cfg({}), { ...data, d: 7 }), /\(d\) is 6 .* but 7.*same data, or start a new run/],
    ['n', () => checkCompatible(c, cfg({}), { ...data, n: 11 }), /size \(n.*is 10 .* but 11/],
    [
      'fingerprint',
      () => checkCompatible(c, cfg({}), { ...data, fingerprint: '00000000' }),
      new RegExp(`fingerprint .* is "${c.data.fingerprint}" .* but "00000000".*same data`),
    ],
    ['another field', () => checkCompatible(c, cfg({ lr: 0.1 }), data), /config field "lr" is 0.02 .* but 0.1.*epochs and evalSamples/],
  ];
  for (const [what, run, pattern] of cases) {
    it(`rejects a different ${what}`, () => {
      expect(run).toThrow(AevbError);
      expect(run).toThrow(pattern);
    });
  }
});
