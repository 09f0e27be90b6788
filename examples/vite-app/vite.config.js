// The two things an app needs for aevb under Vite (docs/embedding.md in the aevb package):
// 1. cross-origin isolation (COOP + COEP), for SharedArrayBuffer: the shared-memory path;
// 2. aevb left out of dependency pre-bundling, so that its `new URL('./worker.js', import.meta.url)`
//    and the WASM files beside it resolve against the package's own folder in dev.
// A Content-Security-Policy of 'self' + 'wasm-unsafe-eval' is enough (sent by preview below).
import { defineConfig } from 'vite';

const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
const csp = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; base-uri 'none'; object-src 'none'";

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: { ...isolation, 'Content-Security-Policy': csp } },
  optimizeDeps: { exclude: ['aevb'] },
  worker: { format: 'es' },
});
