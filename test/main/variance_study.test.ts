/**
 * `npm run variance` end to end on a tiny run of the embedded MNIST: the points (retrained and the
 * checkpoint), variance.json in the format the figures read, variance.md, and the CLI's errors.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect, beforeAll } from 'vitest';
import { datasetFingerprint, encodeCheckpoint } from '../../src/shared/formats/checkpoint.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { LocalTrainer } from '../../src/main/local_trainer.ts';
import { loadEmbeddedMnist } from '../../src/main/node/data_files.ts';
import { logGridSteps, runVarianceStudy } from '../../src/main/node/variance_study.ts';
import { useBackend } from '../helpers/backend.ts';

let dir: string;

beforeAll(async () => {
  await useBackend('wasm');
  const data = loadEmbeddedMnist();
  const cfg = resolveConfig({ inputSize: 784, hidden: 10, latent: 2, batch: 100, optimizer: 'adam', lr: 3e-3, init: 'pytorch', seed: 5 });
  const t = new LocalTrainer(cfg, data);
  for (let i = 0; i < 25; i++) t.step();
  const st = t.state,
    tr = data.train;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-variance-'));
  fs.writeFileSync(
    path.join(dir, 'checkpoint.aevb'),
    encodeCheckpoint({
      format: 'aevb-checkpoint',
      version: 1,
      config: cfg,
      step: st.step,
      samplesSeen: st.samplesSeen,
      params: st.params.slice(),
      optimizer: { kind: cfg.optimizer, slots: st.slots.map((s) => s.slice()) },
      data: { name: tr.name, n: tr.n, d: tr.d, fingerprint: datasetFingerprint(tr.x, tr.n, tr.d) },
      createdAt: new Date().toISOString(),
    }),
  );
  t.dispose();
});

describe('npm run variance', () => {
  it('log grid of steps: from 10 (or fewer) to the last, distinct, ascending', () => {
    expect(logGridSteps(1000, 4)).toEqual([10, 46, 215, 1000]);
    expect(logGridSteps(25, 3)).toEqual([10, 16, 25]);
    expect(logGridSteps(3, 4)).toEqual([3]);
    expect(logGridSteps(500, 1)).toEqual([500]);
  });

  it('writes variance.json (points × estimators × L rows) and variance.md', async () => {
    const out = path.join(dir, 'study');
    const logs: string[] = [];
    const r = await runVarianceStudy({ run: dir, out, points: 3, draws: 8, samples: [1, 5] }, (s) => logs.push(s));
    const json = JSON.parse(fs.readFileSync(path.join(out, 'variance.json'), 'utf8'));
    expect(json).toEqual(JSON.parse(JSON.stringify(r)));
    expect(json.version).toBe(1);
    expect(json.rows).toHaveLength(3 * 2 * 2);
    expect(json.rows.map((x: { step: number }) => x.step)).toEqual([10, 10, 10, 10, 16, 16, 16, 16, 25, 25, 25, 25]);
    expect(json.rows.map((x: { estimator: string; L: number }) => `${x.estimator}${x.L}`).slice(0, 4)).toEqual(['A1', 'A5', 'B1', 'B5']);
    const last = json.rows[json.rows.length - 1];
    expect(last).toMatchObject({ checkpoint: 'checkpoint.aevb', samplesSeen: 2500, estimator: 'B', L: 5 });
    expect(json.rows[0]).toMatchObject({ checkpoint: 'retrained', samplesSeen: 1000 });
    for (const row of json.rows) {
      expect(row.meanVariance).toBeGreaterThan(0);
      expect(row.medianVariance).toBeGreaterThan(0);
      expect(row.medianVariance).toBeLessThanOrEqual(row.meanVariance * 10);
      expect(Object.keys(row.perGroup)).toContain('enc.W4');
      expect(row.epsOnlyMeanVariance).toBeGreaterThan(0);
    }
    const md = fs.readFileSync(path.join(out, 'variance.md'), 'utf8');
    expect(md.split('\n').filter((l) => /^\| (retrained|checkpoint\.aevb) @ step/.test(l))).toHaveLength(12);
    expect(logs.some((l) => /Retraining .* to step 16/.test(l))).toBe(true);
  });

  it('refuses a directory without a checkpoint, and a bad --points', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-variance-empty-'));
    await expect(runVarianceStudy({ run: empty })).rejects.toMatchObject({
      code: 'CHECKPOINT',
      message: expect.stringMatching(/holds no checkpoint/),
    });
    await expect(runVarianceStudy({ run: dir, points: 0 })).rejects.toMatchObject({ code: 'CONFIG' });
  });
});
