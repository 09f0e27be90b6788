/** The committed kernel bytes (src/kernels/update.wasm.ts, step.wasm.ts) are what the AssemblyScript sources compile to. */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildKernelsSource, buildStepKernelsSource } from '../../scripts/build-kernels.mjs';

describe('kernel build', () => {
  it('rebuilding src/kernels/update.as.ts gives the committed update.wasm.ts byte for byte', async () => {
    const committed = readFileSync(path.resolve(import.meta.dirname, '../../src/kernels/update.wasm.ts'), 'utf8');
    const rebuilt: string = await buildKernelsSource();
    expect(rebuilt === committed, 'src/kernels/update.wasm.ts is stale: run npm run build:kernels').toBe(true);
  }, 60_000);

  it('rebuilding src/kernels/step.as.ts (four builds, the committed tiles) gives the committed step.wasm.ts byte for byte', async () => {
    const committed = readFileSync(path.resolve(import.meta.dirname, '../../src/kernels/step.wasm.ts'), 'utf8');
    const rebuilt: string = await buildStepKernelsSource();
    expect(rebuilt === committed, 'src/kernels/step.wasm.ts is stale: run npm run build:kernels').toBe(true);
  }, 120_000);
});
