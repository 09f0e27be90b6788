/**
 * The packaged worker's binaries: copies of tfjs-backend-wasm's two single-thread binaries beside
 * worker.js, named with `new URL('./…', import.meta.url)`, which Vite, webpack 5, Rollup and
 * esbuild resolve and emit as assets (no data: URLs, so a CSP of 'self' + 'wasm-unsafe-eval' is
 * enough). The library build (scripts/build-lib.mjs) uses this module in place of wasm_files.ts.
 */
const simd = new URL('./tfjs-backend-wasm-simd.wasm', import.meta.url).href;

export const wasmFiles: Record<string, string> = {
  'tfjs-backend-wasm.wasm': new URL('./tfjs-backend-wasm.wasm', import.meta.url).href,
  'tfjs-backend-wasm-simd.wasm': simd,
  // Never loaded (single-thread mode); setWasmPaths wants the name.
  'tfjs-backend-wasm-threaded-simd.wasm': simd,
};
