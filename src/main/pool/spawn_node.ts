/// <reference path="../../env.d.ts" />
/**
 * Node: pool workers are worker_threads, driven through comlink's node adapter.
 * From source (tests, `npm run train`) the worker is TypeScript and runs through tsx; from the
 * built library it is the bundled node_worker.js beside this module.
 *
 * A worker keeps the process alive only while the pool awaits an answer from it: each thread is
 * unref'd, and ref'd from a request (a comlink message with an id) until its answer arrives. So a
 * script that forgets dispose() still exits when its last await is done.
 */
import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Endpoint } from 'comlink';
import { deathNotice, type Spawner, type SpawnedWorker } from './spawner.ts';

/**
 * `workerUrl`: the worker script (default: aevb's own, which exposes createWorkerApi; as the browser
 * spawner's). A TypeScript one runs from source, through the development bootstrap (tsx).
 */
export function nodeSpawner(workerUrl?: URL): Spawner {
  const entry = workerUrl ?? new URL(import.meta.url.endsWith('.ts') ? '../../workers/node_entry.ts' : './node_worker.js', import.meta.url);
  const url = entry.pathname.endsWith('.ts') ? new URL('../../workers/node_dev_bootstrap.mjs', import.meta.url) : entry;
  return (rank: number): SpawnedWorker => {
    const worker = new Worker(url, { name: `aevb-worker-${rank}`, workerData: { aevbEntry: entry.href } });
    const { die, onDeath } = deathNotice();
    worker.on('error', (e) => die(`uncaught error: ${e.message}`));
    worker.on('exit', (code) => die(`exited with code ${code}`));
    return {
      endpoint: refWhileAwaited(worker, nodeEndpoint(worker as never)),
      onDeath,
      // A caller awaiting dispose() must not see the process exit first: the thread's own handle is gone
      // before its 'exit' event (which resolves terminate()) is emitted, so nothing else would keep the
      // event loop alive in between, and Node would end with "unsettled top-level await" (exit 13).
      async terminate() {
        const alive = setInterval(() => undefined, 1000);
        try {
          await worker.terminate();
        } finally {
          clearInterval(alive);
        }
      },
    };
  };
}

/** The endpoint, with the worker ref'd exactly while a request sent through it awaits its answer. */
function refWhileAwaited(worker: Worker, endpoint: Endpoint): Endpoint {
  const pending = new Set<string>();
  worker.unref();
  endpoint.addEventListener('message', (ev) => {
    const id = (ev as MessageEvent).data?.id;
    if (pending.delete(id) && pending.size === 0) worker.unref();
  });
  return {
    postMessage(message: unknown, transfer?: Transferable[]) {
      const id = (message as { id?: string } | null)?.id;
      if (id !== undefined) {
        if (pending.size === 0) worker.ref();
        pending.add(id);
      }
      endpoint.postMessage(message, transfer);
    },
    addEventListener: endpoint.addEventListener.bind(endpoint),
    removeEventListener: endpoint.removeEventListener.bind(endpoint),
  };
}
