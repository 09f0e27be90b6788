/**
 * Keeping the current run in this browser (IndexedDB, store.ts) so that it survives a reload:
 * written when a run begins, every SAVE_GAP_MS while it trains, on pause and when the tab is
 * hidden; never per step. Writes are queued one at a time, and a write for a run that is no
 * longer current is dropped. The checkpoint is encoded off the main thread (checkpoints.ts), and
 * the chart history saved with it ends at the checkpoint's samples seen, so a restored run's
 * curves and state agree. A run that is replaced is first written at its latest step, then kept
 * as the previous run (retire()).
 */
import { checkpointBytes } from './checkpoints.ts';
import type { Run } from './run.ts';
import { clearPrevious, clearSaved, loadPrevious, loadSaved, retireCurrent, saveRun, saveSource } from './store.ts';

/** Saves while training come at most this often (the issue: "at least every few seconds"). */
const SAVE_GAP_MS = 5000;

export class RunKeeper {
  /** The step of the latest write for the current run (-1: none yet). */
  lastSavedStep = -1;
  /** Points of chart history in that write. */
  lastSavedHistory = 0;
  private queue: Promise<void> = Promise.resolve();
  private lastSaveAt = -Infinity;

  constructor(private readonly current: () => Run | null) {}

  /** The saved run, if any (undefined also when IndexedDB cannot be read). */
  load() {
    return loadSaved().catch(() => undefined);
  }

  /** The previous run, if any. */
  previous() {
    return loadPrevious().catch(() => undefined);
  }

  /** A new current run (started, loaded from a file, restored): its data source, then its state. */
  async begin(run: Run): Promise<void> {
    this.lastSavedStep = -1;
    this.lastSavedHistory = 0;
    await saveSource(run.data.source).catch((e) => console.warn('aevb: could not keep the run in this browser:', e));
    this.save(true);
  }

  /** Write the current run; `now` = false (while training) writes at most every SAVE_GAP_MS. */
  save(now: boolean): void {
    const run = this.current();
    if (!run || (!now && performance.now() - this.lastSaveAt < SAVE_GAP_MS)) return;
    this.lastSaveAt = performance.now();
    this.queue = this.queue
      .then(async () => {
        if (this.current() !== run) return;
        const { bytes, step, samplesSeen } = await checkpointBytes(run.trainer, run.data.fingerprint);
        if (this.current() !== run) return;
        const history = run.history.toJSON(samplesSeen);
        await saveRun({
          savedAt: Date.now(),
          step,
          workers: run.trainer.autoWorkers ? 'auto' : run.trainer.workers,
          wasRunning: run.phase === 'running',
          checkpoint: new Blob([bytes as BlobPart]),
          history,
        });
        this.lastSavedStep = step;
        this.lastSavedHistory = history.x.length;
      })
      .catch((e) => console.warn('aevb: could not keep the run in this browser:', e));
  }

  /**
   * Before the current run is replaced: write it at its latest step and keep it as the previous run.
   * With no current run (the previous one is being restored), there is no previous run after.
   */
  async retire(): Promise<void> {
    if (!this.current()) {
      await clearPrevious().catch(() => undefined);
      return;
    }
    this.save(true);
    await this.queue;
    this.lastSavedStep = -1;
    this.lastSavedHistory = 0;
    await retireCurrent().catch((e) => console.warn('aevb: could not keep the previous run:', e));
  }

  /** The saved run, not opened (a link's settings start afresh), becomes the previous run: restorable. */
  async keepSavedAsPrevious(): Promise<void> {
    await this.queue;
    await retireCurrent().catch((e) => console.warn('aevb: could not keep the saved run:', e));
  }

  /** No current run any more (a restore that failed). */
  forget(): Promise<void> {
    this.lastSavedStep = -1;
    return this.queue.then(() => clearSaved()).catch(() => undefined);
  }
}
