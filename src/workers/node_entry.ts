/** Pool worker for Node (worker_threads): TF.js WASM set-up, then expose the worker API over comlink. */
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { createWorkerApi } from './worker_core.ts';
import { setupBackend } from './backend_setup.ts';
import { useAevbErrorTransfer } from '../shared/runtime/wire_errors.ts';

const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
// An AevbError thrown here reaches the caller as an AevbError (code, fix, field), not a bare Error.
useAevbErrorTransfer();
expose(
  createWorkerApi((paths) => setupBackend('wasm', (paths as string | undefined) ?? wasmDir)),
  nodeEndpoint(parentPort as never),
);
