/**
 * config.algorithm: its default and checks, and how it travels: in checkpoint.aevb (an older file
 * without it loads as 'aevb'), in the resume check, and in the safetensors metadata.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCompatible,
  datasetFingerprint,
  decodeCheckpoint,
  encodeCheckpoint,
  type Checkpoint,
} from '../../src/shared/formats/checkpoint.ts';
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { OPTIMIZER_SLOTS } from '../../src/shared/training/optimizers.ts';
import { exportSafetensors, importSafetensors } from '../../src/shared/formats/pytorch_state.ts';
import { decodeSafetensors, encodeSafetensors } from '../../src/shared/formats/safetensors.ts';

function refusal(f: () => unknown): AevbError {
  try {
    f();
  } catch (e) {
    if (e instanceof AevbError) return e;
    throw e;
  }
  throw new Error('expected an AevbError');
}

describe('config.algorithm', () => {
  it('defaults to aevb and takes wake-sleep', () => {
    expect(DEFAULT_CONFIG.algorithm).toBe('aevb');
    expect(resolveConfig().algorithm).toBe('aevb');
    expect(resolveConfig({ algorithm: 'wake-sleep' }).algorithm).toBe('wake-sleep');
  });

  it('refuses anything else with a CONFIG error on the field, the choices and a neutral fix (the CLI adds the flag)', () => {
    for (const bad of ['wakesleep', 'AEVB', '', null, 3]) {
      const e = refusal(() => resolveConfig({ algorithm: bad as never }));
      expect(e.code).toBe('CONFIG');
      expect(e.field).toBe('algorithm');
      expect(e.message).toMatch(/"algorithm" is .*; it must be one of aevb, wake-sleep/);
      expect(e).toMatchObject({ fix: 'Use one of those values.', remedy: { id: 'choice' } });
    }
  });

  it('refuses estimator A with wake-sleep (it would be silently ignored)', () => {
    const e = refusal(() => resolveConfig({ algorithm: 'wake-sleep', estimator: 'A' }));
    expect(e.field).toBe('estimator');
    expect(e.message).toMatch(/wake-sleep algorithm, which uses no SGVB estimator/);
    expect(resolveConfig({ algorithm: 'aevb', estimator: 'A' }).estimator).toBe('A');
  });
});

const data = (() => {
  const x = new Float32Array(2 * 12).map((_, i) => (i % 5) / 5);
  return { name: 'toy', n: 2, d: 12, fingerprint: datasetFingerprint(x, 2, 12) };
})();

function checkpoint(over: Partial<TrainConfig> = {}): Checkpoint {
  const config = resolveConfig({ inputSize: 12, hidden: 5, latent: 3, batch: 2, ...over });
  const P = buildLayout(config).size;
  const v = (salt: number) => new Float32Array(P).map((_, i) => Math.sin(i + salt) / 10);
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step: 7,
    samplesSeen: 14,
    params: v(1),
    optimizer: { kind: config.optimizer, slots: OPTIMIZER_SLOTS[config.optimizer].map((_, k) => v(2 + k).map(Math.abs)) },
    data,
    createdAt: '2026-11-28T00:00:00.000Z',
  };
}

/** checkpoint.aevb bytes with the header's JSON edited (preamble and alignment kept right). */
function editHeader(bytes: Uint8Array, edit: (h: Record<string, any>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = dv.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + n)));
  const payload = bytes.subarray((16 + n + 3) & ~3);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const start = (16 + json.length + 3) & ~3;
  const out = new Uint8Array(start + payload.length);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(payload, start);
  return out;
}

describe('the algorithm in checkpoints', () => {
  it('round-trips wake-sleep', () => {
    const c = checkpoint({ algorithm: 'wake-sleep' });
    const d = decodeCheckpoint(encodeCheckpoint(c), 'ws.aevb');
    expect(d.config.algorithm).toBe('wake-sleep');
    expect(d.config).toEqual(c.config);
  });

  it('an older checkpoint, whose config has no algorithm field, loads as aevb and resumes an aevb run', () => {
    const old = editHeader(encodeCheckpoint(checkpoint()), (h) => {
      delete h.config.algorithm;
    });
    expect(new TextDecoder().decode(old.subarray(16, 400))).not.toContain('algorithm');
    const d = decodeCheckpoint(old, 'old.aevb');
    expect(d.config.algorithm).toBe('aevb');
    expect(Array.from(d.params)).toEqual(Array.from(checkpoint().params));
    expect(() => checkCompatible(d, resolveConfig({ ...d.config }), data)).not.toThrow();
    // It is an AEVB run: wake-sleep cannot continue it.
    expect(() => checkCompatible(d, resolveConfig({ ...d.config, algorithm: 'wake-sleep' }), data, 'old.aevb')).toThrow(
      /config field "algorithm" is "aevb" in the checkpoint but "wake-sleep" in this run/,
    );
    // Saved again, it says so.
    expect(decodeCheckpoint(encodeCheckpoint(d), 're.aevb').config.algorithm).toBe('aevb');
  });

  it('a checkpoint with an unknown algorithm is refused as invalid, naming the field', () => {
    const bad = editHeader(encodeCheckpoint(checkpoint()), (h) => {
      h.config.algorithm = 'reinforce';
    });
    expect(() => decodeCheckpoint(bad, 'bad.aevb')).toThrow(/bad\.aevb has an invalid config: .*"algorithm" is "reinforce"/);
  });
});

describe('the algorithm in the safetensors export', () => {
  it('travels in the metadata config and comes back', () => {
    const bytes = exportSafetensors(checkpoint({ algorithm: 'wake-sleep' }));
    expect(JSON.parse(decodeSafetensors(bytes, 'm.safetensors').metadata.config).algorithm).toBe('wake-sleep');
    expect(importSafetensors(bytes, 'm.safetensors').config.algorithm).toBe('wake-sleep');
    // The run's own setting wins over the file's, as for every other field.
    expect(importSafetensors(bytes, 'm.safetensors', { algorithm: 'aevb' }).config.algorithm).toBe('aevb');
  });

  it('a file whose metadata config has no algorithm (older exports, PyTorch) imports as aevb', () => {
    const file = decodeSafetensors(exportSafetensors(checkpoint({ algorithm: 'wake-sleep' })), 'm.safetensors');
    const config = JSON.parse(file.metadata.config);
    delete config.algorithm;
    const bytes = encodeSafetensors(file.tensors, { ...file.metadata, config: JSON.stringify(config) });
    expect(importSafetensors(bytes, 'old.safetensors').config.algorithm).toBe('aevb');
  });
});
