/// <reference types="vitest/config" />
import { defineConfig } from 'vite';

// Cross-origin isolation (COOP + COEP) is what makes SharedArrayBuffer available in a page;
// the pool needs it for its fast path. Both dev and preview servers send the headers.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  server: { headers: isolation },
  preview: { headers: isolation },
  optimizeDeps: {
    // Imported only from workers, these would be discovered late and force a reload.
    include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'comlink'],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
