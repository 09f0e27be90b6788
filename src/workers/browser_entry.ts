/**
 * Pool worker for a page: TF.js WASM set-up with binaries served by the app itself (never a CDN):
 * the ones createTrainer's `wasmPaths` names, or those of wasm_files.ts. Then expose the worker API
 * over comlink.
 */
import { expose } from 'comlink';
import { createWorkerApi } from './worker_core.ts';
import { setupBackend } from './backend_setup.ts';
import { wasmFiles } from './wasm_files.ts';
import { useAevbErrorTransfer } from '../shared/runtime/wire_errors.ts';

// An AevbError thrown here reaches the caller as an AevbError (code, fix, field), not a bare Error.
useAevbErrorTransfer();
expose(createWorkerApi((paths) => setupBackend('wasm', paths ?? wasmFiles)));
