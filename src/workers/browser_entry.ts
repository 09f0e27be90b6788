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
import { useAevbErrorTransfer } from '../shared/wire_errors.ts';

const files = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  // Listed because setWasmPaths wants all three; never loaded (WASM_HAS_MULTITHREAD_SUPPORT is off).
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};
// An AevbError thrown here reaches the caller as an AevbError (code, fix, field), not a bare Error.
useAevbErrorTransfer();
expose(createWorkerApi((paths) => setupBackend('wasm', paths ?? files)));
