import { describe, it, expect } from 'vitest';
import { buildLayout } from '../../src/shared/model/layout.ts';

describe('parameter layout', () => {
  it('orders parameters contiguously, and mirrors every weight but enc.W3', () => {
    for (const decoder of ['bernoulli', 'gaussian'] as const) {
      const layout = buildLayout({ inputSize: 6, hidden: 4, latent: 2, decoder });
      let next = 0;
      for (const s of layout.specs) {
        expect(s.offset).toBe(next);
        next += s.size;
      }
      expect(layout.size).toBe(next);
      const weights = layout.specs.filter((s) => s.shape.length === 2 && s.name !== 'enc.W3');
      expect(layout.mirror.map((m) => m.name)).toEqual(weights.map((s) => s.name));
      let m0 = 0;
      layout.mirror.forEach((m, i) => {
        const s = weights[i];
        expect([m.rows, m.cols, m.offset, m.size, m.mirrorOffset]).toEqual([s.shape[0], s.shape[1], s.offset, s.size, m0]);
        m0 += m.size;
      });
      expect(layout.mirrorSize).toBe(m0);
    }
  });
});
