/**
 * Checkpoint files on disk: the atomic save (a failed save — refused encode, a write that dies
 * half-way, a failed rename — leaves the previous good checkpoint byte for byte and no temp
 * file), the load errors for a missing directory or file, and the decoder export's two files.
 * Failures are injected by wrapping node:fs/promises, since running as root defeats chmod.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCheckpointFile, saveCheckpointFile, saveDecoderExport } from '../../src/main/node/checkpoint_files.ts';
import { datasetFingerprint, type Checkpoint } from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { exportDecoder } from '../../src/shared/formats/decoder_export.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { createSlots } from '../../src/shared/training/training_state.ts';

/** Which fs step to break for the next save. */
const fault = vi.hoisted(() => ({ write: false, rename: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const enospc = () => Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  return {
    ...fs,
    // A temp-file write that gets half the bytes out, then fails: the crash-mid-write case.
    open: async (...args: Parameters<typeof fs.open>) => {
      const handle = await fs.open(...args);
      if (fault.write && String(args[0]).endsWith('.tmp')) {
        const write = handle.writeFile.bind(handle);
        handle.writeFile = async (data: any) => {
          await write(data.subarray(0, data.length >> 1));
          throw enospc();
        };
      }
      return handle;
    },
    rename: async (...args: Parameters<typeof fs.rename>) => {
      if (fault.rename) throw Object.assign(new Error('EXDEV: rename failed'), { code: 'EXDEV' });
      return fs.rename(...args);
    },
  };
});

function makeCheckpoint(step: number): Checkpoint {
  const config = resolveConfig({ inputSize: 6, hidden: 4, latent: 2, optimizer: 'adam' });
  const n = buildLayout(config).size;
  const params = new Float32Array(n).map((_, i) => Math.sin(i + step));
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step,
    samplesSeen: step * 100,
    params,
    optimizer: { kind: 'adam', slots: createSlots('adam', n).map((s, k) => s.fill(k + step)) },
    data: { name: 'toy', n: 2, d: 6, fingerprint: datasetFingerprint(new Float32Array(12), 2, 6) },
    createdAt: '2024-01-01T00:00:00.000Z',
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aevb-ckpt-'));
});
afterEach(async () => {
  fault.write = false;
  fault.rename = false;
  await rm(dir, { recursive: true, force: true });
});

describe('saveCheckpointFile', () => {
  it('writes DIR/checkpoint.aevb (creating DIR) and leaves no temp file', async () => {
    const out = join(dir, 'runs', 'a');
    const path = await saveCheckpointFile(out, makeCheckpoint(1));
    expect(path).toBe(join(out, 'checkpoint.aevb'));
    expect(await readdir(out)).toEqual(['checkpoint.aevb']);
    const back = await loadCheckpointFile(out);
    expect(back.step).toBe(1);
    expect(Array.from(back.params)).toEqual(Array.from(makeCheckpoint(1).params));
  });

  it('replaces an older checkpoint', async () => {
    await saveCheckpointFile(dir, makeCheckpoint(1));
    await saveCheckpointFile(dir, makeCheckpoint(2));
    expect((await loadCheckpointFile(dir)).step).toBe(2);
    expect(await readdir(dir)).toEqual(['checkpoint.aevb']);
  });

  describe('a failed save keeps the old checkpoint intact', () => {
    let before: Buffer;
    beforeEach(async () => {
      await saveCheckpointFile(dir, makeCheckpoint(1));
      before = await readFile(join(dir, 'checkpoint.aevb'));
    });
    const expectIntact = async () => {
      expect(await readFile(join(dir, 'checkpoint.aevb'))).toEqual(before);
      expect(await readdir(dir)).toEqual(['checkpoint.aevb']);
      expect((await loadCheckpointFile(dir)).step).toBe(1);
    };

    it('when encoding refuses (NaN parameters)', async () => {
      const bad = makeCheckpoint(2);
      bad.params[3] = NaN;
      await expect(saveCheckpointFile(dir, bad)).rejects.toThrow(/Cannot save: params holds NaN/);
      await expectIntact();
    });
    it('when the write dies half-way', async () => {
      fault.write = true;
      await expect(saveCheckpointFile(dir, makeCheckpoint(2))).rejects.toThrow(/ENOSPC/);
      await expectIntact();
    });
    it('when the rename fails', async () => {
      fault.rename = true;
      await expect(saveCheckpointFile(dir, makeCheckpoint(2))).rejects.toThrow(/EXDEV/);
      await expectIntact();
    });
  });
});

describe('loadCheckpointFile', () => {
  it('names a missing directory', async () => {
    await expect(loadCheckpointFile(join(dir, 'nope'))).rejects.toThrow(/Checkpoint directory .*nope does not exist.*--out/);
  });
  it('names a directory without a checkpoint', async () => {
    await expect(loadCheckpointFile(dir)).rejects.toThrow(/No checkpoint\.aevb in .*no run has saved/);
  });
  it('names a path that is a file', async () => {
    await writeFile(join(dir, 'f'), 'x');
    await expect(loadCheckpointFile(join(dir, 'f'))).rejects.toThrow(/is a file, not a run directory/);
  });
  it("passes the file path to the decoder's errors", async () => {
    await writeFile(join(dir, 'checkpoint.aevb'), 'PK not a checkpoint at all');
    await expect(loadCheckpointFile(dir)).rejects.toThrow(new RegExp(`${join(dir, 'checkpoint.aevb')} is not an aevb checkpoint`));
  });
});

describe('saveDecoderExport', () => {
  it('writes DIR/decoder/model.json and DIR/decoder/weights.bin', async () => {
    const c = makeCheckpoint(1);
    const exp = exportDecoder(c.config, c.params, { imageShape: [2, 3] });
    const out = await saveDecoderExport(dir, exp);
    expect(out).toBe(join(dir, 'decoder'));
    expect((await readdir(out)).sort()).toEqual(['model.json', 'weights.bin']);
    expect(JSON.parse(await readFile(join(out, 'model.json'), 'utf8'))).toEqual(exp.modelJson);
    expect(new Uint8Array(await readFile(join(out, 'weights.bin')))).toEqual(exp.weightsBin);
  });
});
