/**
 * Keeping the current run in this browser (IndexedDB, store.ts) so that it survives a reload:
 * written when a run begins, at epoch ends (at most every SAVE_GAP_MS), on pause and when the tab
 * is hidden; never per step. Writes are queued one at a time, and a write for a run that is no
 * longer current is dropped. The checkpoint is encoded off the main thread (checkpoints.ts).
 */
import { checkpointBytes } from './checkpoints.ts';
import type { Run } from './run.ts';
import { clearSaved, loadSaved, saveRun, saveSource } from './store.ts';

/** Epoch ends closer together than this do not each write the run. */
const SAVE_GAP_MS = 3000;

export class RunKeeper {
  /** The step of the latest write for the current run (-1: none yet). */
  lastSavedStep = -1;
  private queue: Promise<void> = Promise.resolve();
  private lastSaveAt = -Infinity;

  constructor(private readonly current: () => Run | null) {}

  /** The saved run, if any (undefined also when IndexedDB cannot be read). */
  load() {
    return loadSaved().catch(() => undefined);
  }

  /** A new current run (started, or loaded from a file): its data source, then its state. */
  async begin(run: Run): Promise<void> {
    this.lastSavedStep = -1;
    await saveSource(run.data.source).catch((e) => console.warn('aevb: could not keep the run in this browser:', e));
    this.save(true);
  }

  /** Write the current run; `now` = false (an epoch's end) writes at most every SAVE_GAP_MS. */
  save(now: boolean): void {
    const run = this.current();
    if (!run || (!now && performance.now() - this.lastSaveAt < SAVE_GAP_MS)) return;
    this.lastSaveAt = performance.now();
    this.queue = this.queue.then(async () => {
      if (this.current() !== run) return;
      const { bytes, step } = await checkpointBytes(run.trainer, run.data.fingerprint);
      if (this.current() !== run) return;
      await saveRun({
        savedAt: Date.now(), step, workers: run.trainer.workers, wasRunning: run.phase === 'running',
        checkpoint: new Blob([bytes as BlobPart]), history: run.history.toJSON(),
      });
      this.lastSavedStep = step;
    }).catch((e) => console.warn('aevb: could not keep the run in this browser:', e));
  }

  /** No current run any more (reset, new data, a restore that failed). */
  forget(): Promise<void> {
    this.lastSavedStep = -1;
    return this.queue.then(() => clearSaved()).catch(() => undefined);
  }
}
