// Development only: lets a worker_thread run the TypeScript worker entry from source.
// (Node 20 does not carry the parent's tsx loader into workers, and --import in a worker's
// execArgv is not honoured; the built library runs plain JavaScript and never uses this file.)
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.aevbEntry);
