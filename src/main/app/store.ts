/**
 * The current run, kept in IndexedDB so that it survives a reload: the latest checkpoint, the
 * curves, the worker count, and where its data came from (the user's File objects are stored as
 * they are). The data record is written when a run begins; the run record every few seconds of
 * training, on pause and when the tab is hidden (run_keeper.ts). A run that a reset, new data or a
 * loaded checkpoint replaces is kept as the previous run, restorable until another replaces it.
 */
import type { DataSource } from './data_source.ts';
import type { HistoryJson } from './history.ts';

export interface SavedRun {
  /** Date.now() of the save. */
  savedAt: number;
  step: number;
  workers: number | 'auto';
  /** Whether it was training when saved (else paused or done). */
  wasRunning: boolean;
  /** checkpoint.aevb bytes (a Blob: IndexedDB stores it without a structured-clone copy on this thread). */
  checkpoint: Blob;
  history: HistoryJson;
}

const DB_NAME = 'aevb-app',
  STORE = 'current',
  RUN_KEY = 'run',
  DATA_KEY = 'data';
/** The run that the latest reset, new data, loaded checkpoint or restore replaced. */
const PREV_RUN_KEY = 'previous-run',
  PREV_DATA_KEY = 'previous-data';

function promised<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return dbPromise;
}

async function write(entries: Record<string, unknown>, remove: string[] = []): Promise<void> {
  const tx = (await db()).transaction(STORE, 'readwrite');
  const store = tx.objectStore(STORE);
  for (const [k, v] of Object.entries(entries)) store.put(v, k);
  for (const k of remove) store.delete(k);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error);
  });
}

/** A new run on this data: forget the old run, remember the data source. */
export function saveSource(source: DataSource): Promise<void> {
  return write({ [DATA_KEY]: source }, [RUN_KEY]);
}

export function saveRun(run: SavedRun): Promise<void> {
  return write({ [RUN_KEY]: run });
}

export type Saved = { run: SavedRun; source: DataSource };

async function read(runKey: string, dataKey: string): Promise<Saved | undefined> {
  const store = (await db()).transaction(STORE, 'readonly').objectStore(STORE);
  const [run, source] = await Promise.all([promised(store.get(runKey)), promised(store.get(dataKey))]);
  return run && source ? { run: run as SavedRun, source: source as DataSource } : undefined;
}

export function loadSaved(): Promise<Saved | undefined> {
  return read(RUN_KEY, DATA_KEY);
}

export function loadPrevious(): Promise<Saved | undefined> {
  return read(PREV_RUN_KEY, PREV_DATA_KEY);
}

/** No previous run (it became the current run again, with no other run to take its place). */
export function clearPrevious(): Promise<void> {
  return write({}, [PREV_RUN_KEY, PREV_DATA_KEY]);
}

/** The current run becomes the previous run (replacing any older one); nothing is current after. */
export async function retireCurrent(): Promise<void> {
  const cur = await loadSaved();
  if (cur) await write({ [PREV_RUN_KEY]: cur.run, [PREV_DATA_KEY]: cur.source }, [RUN_KEY, DATA_KEY]);
}

export function clearSaved(): Promise<void> {
  return write({}, [RUN_KEY, DATA_KEY]);
}
