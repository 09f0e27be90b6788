/**
 * The one place that sets TF.js up: the WASM backend in single-thread SIMD mode.
 *
 * Why single-thread: the pool is the parallelism. On a cross-origin-isolated page the backend
 * would otherwise load its threaded binary, which starts 8 threads of its own per worker (and
 * hangs in minified builds), so WASM_HAS_MULTITHREAD_SUPPORT is forced off before setBackend.
 * setWasmPaths must run before setBackend, or the backend fetches its binaries from the wrong place.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

export type BackendName = 'wasm' | 'cpu';

export interface BackendInfo {
  readonly backend: BackendName;
  readonly simd: boolean;
  readonly threads: boolean;
}

/**
 * Select and initialise a backend. `wasmDir` is where the tfjs-backend-wasm *.wasm files are
 * served from (a URL prefix in a page, a directory ending in '/' in Node).
 */
export async function setupBackend(backend: BackendName, wasmDir?: string | Record<string, string>): Promise<BackendInfo> {
  // The cpu backend (tests and benchmarks in Node only) is registered by the caller beforehand,
  // so that a page never references it.
  if (backend === 'wasm') {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (wasmDir) setWasmPaths(wasmDir as never);
  }
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`TF.js could not initialise the ${backend} backend.`);
  await tf.ready();
  // Gradients are registered only where the autodiff reference is used (the tests' test/helpers/sgvb_autodiff.ts).
  return Object.freeze({
    backend,
    simd: backend === 'wasm' ? Boolean(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) : false,
    threads: false,
  });
}
