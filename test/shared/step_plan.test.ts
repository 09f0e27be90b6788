/**
 * What the step memory holds for each choice of kernels (step_plan.ts) and where each worker's scratch
 * lies in it (shared_memory.ts): aevb's kernels keep no mirror and get scratch; tfjs, wake-sleep and an
 * engine without WebAssembly SIMD keep the mirror and get none.
 */
import { describe, it, expect } from 'vitest';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { buildLayout } from '../../src/shared/model/layout.ts';
import { runsOnAevbKernels, stepLayout, stepScratchBytes } from '../../src/shared/training/step_plan.ts';
import { scratchPlan, chunkPoints, CHUNK_ROWS } from '../../src/shared/model/kernel_gradient.ts';
import { allocatePoolMemory, memoryRegions } from '../../src/shared/runtime/shared_memory.ts';

describe('the step plan', () => {
  const cfg = resolveConfig({ inputSize: 20, hidden: [9, 7], latent: 3, samples: 2 });
  const full = buildLayout(cfg);

  it("aevb's kernels: no mirror, scratch for one chunk; tfjs, wake-sleep or no SIMD: the mirror, no scratch", () => {
    expect(runsOnAevbKernels(cfg, 'aevb', true)).toBe(true);
    expect(runsOnAevbKernels(cfg, 'aevb', false)).toBe(false);
    expect(runsOnAevbKernels(cfg, 'tfjs', true)).toBe(false);
    expect(runsOnAevbKernels({ ...cfg, algorithm: 'wake-sleep' }, 'aevb', true)).toBe(false);
    expect(stepLayout(cfg, 'aevb', full).mirrorSize).toBe(0);
    expect(stepLayout(cfg, 'aevb', full).specs).toBe(full.specs);
    expect(stepLayout(cfg, 'tfjs', full)).toBe(full);
    expect(full.mirrorSize).toBeGreaterThan(0);
    expect(stepScratchBytes(cfg, 'tfjs')).toBe(0);
    expect(stepScratchBytes(cfg, 'aevb')).toBe(scratchPlan(cfg).bytes);
  });

  it('the scratch is bounded by the chunk, whatever M, and a chunk holds at least one datapoint for any L', () => {
    expect(scratchPlan({ ...cfg, batch: 100_000 } as typeof cfg).bytes).toBe(scratchPlan(cfg).bytes);
    expect(chunkPoints(1)).toBe(CHUNK_ROWS);
    expect(chunkPoints(1000)).toBe(1);
    const p = scratchPlan(cfg);
    // Every array lies inside the scratch, 16-byte aligned, none overlapping.
    const arrays: Array<[number, number]> = [];
    const Bc = chunkPoints(cfg.samples),
      R = Bc * cfg.samples;
    arrays.push([p.x, Bc * 20], [p.mu, Bc * 3], [p.logvar, Bc * 3], [p.eps, R * 3], [p.z, R * 3], [p.gMu, Bc * 3], [p.gLogvar, Bc * 3]);
    p.enc.forEach((o, i) => arrays.push([o, Bc * [9, 7][i]]));
    p.dec.forEach((o, i) => arrays.push([o, R * [7, 9][i]]));
    p.head.forEach((o) => arrays.push([o, R * 20]));
    arrays.push([p.gA, R * 9], [p.gB, R * 9]);
    arrays.sort((a, b) => a[0] - b[0]);
    arrays.forEach(([o, n], i) => {
      expect(o % 16).toBe(0);
      expect(o + 4 * n).toBeLessThanOrEqual(i + 1 < arrays.length ? arrays[i + 1][0] : p.bytes);
    });
  });

  it("each worker's scratch region follows the gradient slots, one per worker, inside the memory", () => {
    const spec = {
      workers: 3,
      paramCount: full.size,
      slotCount: 1,
      mirrorSize: 0,
      scratchBytes: 1000,
      maxSteps: 2,
      trainLength: 4,
      testLength: 4,
    };
    const r = memoryRegions(spec);
    const mem = allocatePoolMemory(spec, false);
    expect(mem.scratch).toEqual([0, 1, 2].map((w) => r.grads + 3 * r.gradStride + w * r.scratchStride));
    expect(r.scratchStride).toBe(1008);
    expect(mem.scratch[2] + 1000).toBeLessThanOrEqual(mem.buffers.memory.buffer.byteLength);
    expect(mem.scratch[0]).toBeGreaterThanOrEqual(r.grads + 3 * r.gradStride);
  });
});
