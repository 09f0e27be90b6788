import { describe, it, expect } from 'vitest';
import { buildLayout, flatten, unflatten } from '../../src/shared/layout.ts';

describe('parameter layout', () => {
  it('orders parameters contiguously, and unflatten/flatten round-trip', () => {
    for (const decoder of ['bernoulli', 'gaussian'] as const) {
      const layout = buildLayout({ inputSize: 6, hidden: 4, latent: 2, decoder });
      let next = 0;
      for (const s of layout.specs) { expect(s.offset).toBe(next); next += s.size; }
      expect(layout.size).toBe(next);
      const flat = Float32Array.from({ length: layout.size }, (_, i) => i * 0.5);
      const named = unflatten(flat, layout);
      expect(named.get('enc.W3')).toEqual(flat.slice(0, 24));
      expect(flatten(named, layout)).toEqual(flat);
      named.delete('dec.W1');
      expect(() => flatten(named, layout)).toThrow(/dec\.W1: expected 8 values, got none/);
    }
  });
});
