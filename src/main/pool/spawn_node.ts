/**
 * Node: pool workers are worker_threads, driven through comlink's node adapter.
 * From source (tests, `npm run train`) the worker is TypeScript and runs through tsx; from the
 * built library it is the bundled node_worker.js beside this module.
 */
import { Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { deathNotice, type Spawner, type SpawnedWorker } from './spawner.ts';

export function nodeSpawner(): Spawner {
  const fromSource = import.meta.url.endsWith('.ts');
  const entry = new URL(fromSource ? '../../workers/node_entry.ts' : './node_worker.js', import.meta.url);
  const url = fromSource ? new URL('../../workers/node_dev_bootstrap.mjs', import.meta.url) : entry;
  return (rank: number): SpawnedWorker => {
    const worker = new Worker(url, { name: `aevb-worker-${rank}`, workerData: { aevbEntry: entry.href } });
    const { die, onDeath } = deathNotice();
    worker.on('error', (e) => die(`uncaught error: ${e.message}`));
    worker.on('exit', (code) => die(`exited with code ${code}`));
    return {
      endpoint: nodeEndpoint(worker as never),
      onDeath,
      async terminate() { await worker.terminate(); },
    };
  };
}
