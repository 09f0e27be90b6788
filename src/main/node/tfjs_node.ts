/**
 * TF.js set-up for code that runs on Node's main thread (CLI, benchmarks, tests): the WASM
 * binaries are read from the installed package's dist folder.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { setupBackend, type BackendInfo, type BackendName } from '../../workers/backend_setup.ts';

export function wasmDirForNode(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@tensorflow/tfjs-backend-wasm');
  // entry is .../tfjs-backend-wasm/dist/index.js (or a bundle in dist/): the binaries sit beside it.
  return path.dirname(entry) + path.sep;
}

export async function setupNodeBackend(backend: BackendName = 'wasm'): Promise<BackendInfo> {
  if (backend === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  return setupBackend(backend, backend === 'wasm' ? wasmDirForNode() : undefined);
}
