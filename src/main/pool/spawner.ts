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
