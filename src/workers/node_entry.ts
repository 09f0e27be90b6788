/** Pool worker for Node (worker_threads): TF.js WASM set-up, then expose the worker API over comlink. */
import { parentPort } from 'node:worker_threads';
import { createRequire } from 'node:module';
import path from 'node:path';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { createWorkerApi } from '../shared/worker_core.ts';
import { setupBackend } from './backend_setup.ts';

const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
// process.exit in a worker thread ends that thread only: the test hook's crash (DeathPoint).
const exit = (): never => process.exit(70);
expose(createWorkerApi((paths) => setupBackend('wasm', (paths as string | undefined) ?? wasmDir), exit), nodeEndpoint(parentPort as never));
