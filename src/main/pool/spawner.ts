/**
 * How the pool gets a worker, per platform: a comlink endpoint, a way to learn that the worker
 * died, and a way to end it. The pool itself is platform-free.
 */
import type { Endpoint } from 'comlink';

export interface SpawnedWorker {
  readonly endpoint: Endpoint;
  /** Called once if the worker dies (exits, crashes, or is terminated). */
  onDeath(listener: (cause: string) => void): void;
  terminate(): Promise<void>;
}

export type Spawner = (rank: number) => SpawnedWorker;

/** Once-only death reporting shared by the spawners: die() records the first cause and tells every listener. */
export function deathNotice(): { die(cause: string): void; onDeath(listener: (cause: string) => void): void } {
  const listeners: Array<(cause: string) => void> = [];
  let dead: string | null = null;
  return {
    die(cause) {
      if (dead !== null) return;
      dead = cause;
      listeners.forEach((l) => l(cause));
    },
    onDeath(l) { if (dead !== null) l(dead); else listeners.push(l); },
  };
}
