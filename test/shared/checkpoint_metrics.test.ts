/**
 * The checkpoint's optional metrics section (the run's metrics history in the header): it round-trips,
 * a file without it (every file written before it existed) loads as before and has none, it can be
 * read from the header alone, and a bad one is refused naming the entry.
 */
import { describe, expect, it } from 'vitest';
import {
  decodeCheckpoint,
  encodeCheckpoint,
  readCheckpointMetrics,
  type Checkpoint,
  type CheckpointMetrics,
} from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';

function checkpoint(metrics?: CheckpointMetrics): Checkpoint {
  const config = resolveConfig({ inputSize: 6, hidden: 4, latent: 2, optimizer: 'adagrad' });
  const n = buildLayout(config).size;
  const params = Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step: 20,
    samplesSeen: 2000,
    params,
    optimizer: { kind: 'adagrad', slots: [Float32Array.from({ length: n }, (_, i) => 1 + (i % 3))] },
    data: { name: 'toy', n: 100, d: 6, fingerprint: '0123abcd' },
    createdAt: '2026-12-06T00:00:00.000Z',
    ...(metrics ? { metrics } : {}),
  };
}

const METRICS: CheckpointMetrics = {
  rows: [
    { epoch: 1, step: 10, point: 'epoch', samplesSeen: 1000, trainElbo: -180.5, testElbo: -181.25, logLikelihood: null, workers: 2 },
    { epoch: 2, step: 20, point: 'estimate', samplesSeen: 2000, testElbo: -170, logLikelihood: -165.5, logLikelihoodK: 100 },
  ],
  minibatch: [
    [100, -540.5],
    [200, -400],
    [1000, -190.25],
  ],
};

/** The header's JSON, as a reader of the file would see it. */
function header(bytes: Uint8Array): Record<string, unknown> {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + n))) as Record<string, unknown>;
}

/** The bytes with the header's metrics replaced (the payload and its CRC untouched). */
function withMetrics(bytes: Uint8Array, metrics: unknown): Uint8Array {
  const h = header(bytes);
  h.metrics = metrics;
  const json = new TextEncoder().encode(JSON.stringify(h));
  const oldStart = (16 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(12, true) + 3) & ~3;
  const start = (16 + json.length + 3) & ~3;
  const out = new Uint8Array(start + bytes.length - oldStart);
  out.set(bytes.subarray(0, 16));
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(bytes.subarray(oldStart), start);
  return out;
}

describe("the checkpoint's metrics section", () => {
  it('round-trips exactly, and is read from the header alone', () => {
    const bytes = encodeCheckpoint(checkpoint(METRICS));
    const back = decodeCheckpoint(bytes, 'x.aevb');
    expect(back.metrics).toEqual(METRICS);
    expect(readCheckpointMetrics(bytes, 'x.aevb')).toEqual(METRICS);
    expect(back.params).toEqual(checkpoint().params);
  });

  it('is optional: a file without it (as every older file) has no "metrics" key, loads as before, and has none', () => {
    const bytes = encodeCheckpoint(checkpoint());
    expect(Object.keys(header(bytes))).not.toContain('metrics');
    const back = decodeCheckpoint(bytes, 'old.aevb');
    expect('metrics' in back).toBe(false);
    expect(back.step).toBe(20);
    expect(readCheckpointMetrics(bytes, 'old.aevb')).toBeUndefined();
    // The same state with and without metrics: the same payload, so the same parameters load.
    const withIt = decodeCheckpoint(encodeCheckpoint(checkpoint(METRICS)), 'new.aevb');
    expect(withIt.params).toEqual(back.params);
    expect(withIt.optimizer.slots).toEqual(back.optimizer.slots);
  });

  it('a file that is not an .aevb (e.g. a .safetensors) has no metrics to read', () => {
    expect(readCheckpointMetrics(new TextEncoder().encode('{"__metadata__":{}}'), 'model.safetensors')).toBeUndefined();
  });

  it('a bad section is refused, naming the entry', () => {
    const good = encodeCheckpoint(checkpoint());
    const cases: [unknown, RegExp][] = [
      [[1, 2], /field "metrics" is \[1,2\]; expected an object \{rows, minibatch\}/],
      [{ rows: 'x', minibatch: [] }, /field "metrics\.rows" is "x"; expected an array of objects/],
      [{ rows: [{ step: 1 }], minibatch: [] }, /field "metrics\.rows\[0\]\.samplesSeen" is missing; expected a number ≥ 0/],
      [
        { rows: [{ samplesSeen: 5, testElbo: { a: 1 } }], minibatch: [] },
        /field "metrics\.rows\[0\]\.testElbo" is \{"a":1\}; expected a finite number, a string or null/,
      ],
      [{ rows: [], minibatch: [[1, 2], [3]] }, /field "metrics\.minibatch\[1\]" is \[3\]; expected a pair of finite numbers/],
    ];
    for (const [m, message] of cases) {
      const bytes = withMetrics(good, m);
      expect(() => decodeCheckpoint(bytes, 'bad.aevb')).toThrow(message);
      expect(() => readCheckpointMetrics(bytes, 'bad.aevb')).toThrow(/^Checkpoint bad\.aevb has a header whose field "metrics/);
    }
  });
});
