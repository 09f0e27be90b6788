/**
 * A page: pool workers are module Web Workers (bundled by vite from the static `new URL` below).
 * A browser fires no event when a worker is terminated, so terminate() reports the death itself.
 */
import { deathNotice, type Spawner, type SpawnedWorker } from './spawner.ts';

export function browserSpawner(): Spawner {
  return (rank: number): SpawnedWorker => {
    const worker = new Worker(new URL('../../workers/browser_entry.ts', import.meta.url), { type: 'module', name: `aevb-worker-${rank}` });
    const { die, onDeath } = deathNotice();
    worker.addEventListener('error', (e) => { e.preventDefault(); die(`uncaught error: ${e.message || 'the worker script failed to load'}`); });
    return {
      endpoint: worker,
      onDeath,
      async terminate() { worker.terminate(); die('terminated'); },
    };
  };
}
