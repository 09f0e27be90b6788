/**
 * Vitest set-up for the benchmarks (bench/**\/*.run.ts), kept apart from the unit tests.
 *
 * Why vitest at all: the autodiff column needs '@tensorflow/tfjs-core/dist/register_all_gradients',
 * whose ESM build uses extensionless imports that plain Node and tsx cannot load; vite's resolver can.
 * One fork, one file at a time and no console capture: a benchmark must own the (shared) CPU, and
 * its progress should stream while it runs. Start it with `node bench/run.mjs [--json FILE] [--quick]`.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    include: ['bench/**/*.run.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    isolate: true,
    disableConsoleIntercept: true,
    testTimeout: 20 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});
