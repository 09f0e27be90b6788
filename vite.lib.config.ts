/**
 * The library builds (`npm run build:lib`):
 *   --mode node     dist/node/index.js + dist/node/node_worker.js (worker_threads entry), ESM
 *   --mode browser  dist/browser/index.js + its Web Worker chunk and the WASM binaries, ESM
 * Dependencies stay external: an app installs them once (and Node loads tfjs's own builds).
 * Type declarations come from tsc (tsconfig.build.json) into dist/types.
 */
import { defineConfig } from 'vite';
import { builtinModules } from 'node:module';
import pkg from './package.json' with { type: 'json' };

const deps = Object.keys(pkg.dependencies);
const external = (id: string) =>
  deps.some((d) => id === d || id.startsWith(`${d}/`)) || id.startsWith('node:') || builtinModules.includes(id);

export default defineConfig(({ mode }) => {
  const node = mode === 'node';
  return {
    publicDir: false,
    build: {
      outDir: node ? 'dist/node' : 'dist/browser',
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      sourcemap: true,
      ssr: node ? true : undefined,
      lib: {
        entry: node
          ? { index: 'src/main/node/index.ts', node_worker: 'src/workers/node_entry.ts' }
          : { index: 'src/main/index.ts' },
        formats: ['es'],
      },
      rollupOptions: {
        // In a page the worker chunk must carry its own copy of tfjs (workers share no modules),
        // so only the Node build leaves the dependencies to the app's node_modules.
        external: node ? external : (id: string) => deps.includes(id) && false,
        output: { entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
    ssr: node ? { noExternal: [], external: deps } : undefined,
    worker: { format: 'es' },
  };
});
