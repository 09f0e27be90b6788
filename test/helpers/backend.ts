/** Test set-up: a TF.js backend for the math tests (wasm by default, as in production). */
import * as tf from '@tensorflow/tfjs-core';
import { setupNodeBackend } from '../../src/main/node/tfjs_node.ts';
import type { BackendName } from '../../src/workers/backend_setup.ts';

export async function useBackend(name: BackendName = 'wasm'): Promise<void> {
  if (tf.getBackend() === name) return;
  await setupNodeBackend(name);
}

/** ‖a − b‖ / ‖b‖ over all elements. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}
