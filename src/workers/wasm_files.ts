/**
 * Where a page's worker finds tfjs-backend-wasm's binaries, as the file map setWasmPaths takes.
 * From source (the app, the browser tests) Vite serves them through `?url` imports; the library
 * build swaps this module for wasm_files.lib.ts, which names copies shipped beside worker.js.
 * setWasmPaths wants all three names; the threaded binary is never loaded
 * (WASM_HAS_MULTITHREAD_SUPPORT is off: backend_setup.ts), so it points at the SIMD one.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';

export const wasmFiles: Record<string, string> = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmSimd,
};
