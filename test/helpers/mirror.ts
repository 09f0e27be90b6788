/**
 * The transposed-weight mirror as the update kernel lays it out (each mirrored W [rows, cols] stored as
 * Wᵀ at its mirrorOffset), built here in plain loops so the gradient tests do not lean on the kernel.
 */
import type { ParamLayout } from '../../src/shared/model/layout.ts';

export function transposedMirror(layout: ParamLayout, params: Float32Array): Float32Array {
  const mirror = new Float32Array(layout.mirrorSize);
  for (const m of layout.mirror) {
    for (let r = 0; r < m.rows; r++)
      for (let k = 0; k < m.cols; k++) mirror[m.mirrorOffset + k * m.rows + r] = params[m.offset + r * m.cols + k];
  }
  return mirror;
}
