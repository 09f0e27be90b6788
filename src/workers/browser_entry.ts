/**
 * Pool worker for a page: TF.js WASM set-up with binaries served by our own build (never a CDN),
 * then expose the worker API over comlink.
 */
import { expose } from 'comlink';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { createWorkerApi } from './worker_core.ts';
import { setupBackend } from './backend_setup.ts';

const files = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  // Listed because setWasmPaths wants all three; never loaded (WASM_HAS_MULTITHREAD_SUPPORT is off).
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};
expose(createWorkerApi((paths) => setupBackend('wasm', paths ?? files)));
