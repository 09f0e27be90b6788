/**
 * How the pool gets a worker, per platform: a comlink endpoint, a way to learn that the worker
 * died, and a way to end it. The pool itself is platform-free.
 */
import type { Endpoint } from 'comlink';

export interface SpawnedWorker {
  readonly endpoint: Endpoint;
  /** Called once if the worker dies (exits, crashes, or is terminated); `fix`: advice, when the spawner knows the cause. */
  onDeath(listener: (cause: string, fix?: string) => void): void;
  terminate(): Promise<void>;
}

export type Spawner = (rank: number) => SpawnedWorker;

/** Once-only death reporting shared by the spawners: die() records the first cause and tells every listener. */
export function deathNotice(): { die(cause: string, fix?: string): void; onDeath(listener: (cause: string, fix?: string) => void): void } {
  const listeners: Array<(cause: string, fix?: string) => void> = [];
  let dead: { cause: string; fix?: string } | null = null;
  return {
    die(cause, fix) {
      if (dead !== null) return;
      dead = { cause, fix };
      listeners.forEach((l) => l(cause, fix));
    },
    onDeath(l) {
      if (dead !== null) l(dead.cause, dead.fix);
      else listeners.push(l);
    },
  };
}
