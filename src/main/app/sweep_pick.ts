/**
 * Which of the files a user picked or dropped make a sweep's Figure 2: its sweep.json and each
 * run's metrics.jsonl, matched by path. A picked directory (<input webkitdirectory>) or a dropped
 * folder gives every file its path inside the folder; loose dropped files have only their names.
 *
 *   SWEEP/sweep.json + SWEEP/<run dir>/metrics.jsonl   (the folder: the way that always works)
 *   sweep.json + <run dir>.metrics.jsonl               (loose files renamed after their runs)
 *   sweep.json + one metrics.jsonl                     (loose, when exactly one run lacks its file)
 *
 * Other files (checkpoints, decoders, figures) are never read. A pick with no sweep.json, or with
 * loose metrics.jsonl files that cannot be told apart, gets an error that says what to drop instead.
 */
import { dataError } from '../../shared/errors.ts';
import { parseSweepJson, type Sweep, type SweepRun } from '../../shared/report/sweep_files.ts';

/** A file and its path ('/'-separated) inside what the user picked; a loose file's path is its name. */
export interface PickedFile {
  path: string;
  file: Blob;
}

export interface PickedSweep {
  /** sweep.json's path, for messages. */
  sweepPath: string;
  sweepText: string;
  sweep: Sweep;
  /** The runs' metrics, by run directory. */
  metrics: { dir: string; path: string; text: string }[];
}

const dirname = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const HOW = "Pick the sweep's directory (the --out of npm run sweep), or drop that folder here.";

export async function pickSweep(files: PickedFile[]): Promise<PickedSweep> {
  const sweeps = files
    .filter((f) => f.path === 'sweep.json' || f.path.endsWith('/sweep.json'))
    .sort((a, b) => a.path.split('/').length - b.path.split('/').length);
  if (sweeps.length === 0) {
    throw dataError(
      `No sweep.json among the ${files.length} file${files.length === 1 ? '' : 's'} given (${files
        .slice(0, 3)
        .map((f) => f.path)
        .join(', ')}${files.length > 3 ? ', …' : ''}).`,
      HOW,
    );
  }
  const top = sweeps[0];
  const base = dirname(top.path);
  const sweepText = await top.file.text();
  const sweep = parseSweepJson(sweepText, top.path);
  const byPath = new Map(files.map((f) => [f.path, f]));
  const inBase = (p: string) => (base ? `${base}/${p}` : p);
  const matched = new Map<SweepRun, PickedFile>();
  for (const run of sweep.runs) {
    const f = byPath.get(inBase(`${run.dir}/metrics.jsonl`)) ?? byPath.get(inBase(`${run.dir.replaceAll('/', '_')}.metrics.jsonl`));
    if (f) matched.set(run, f);
  }
  // Loose metrics.jsonl files (no folder): one can only belong to the one run still without a file.
  const loose = files.filter((f) => f.path === 'metrics.jsonl');
  const unmatched = sweep.runs.filter((r) => !matched.has(r));
  if (loose.length === 1 && unmatched.length === 1) {
    matched.set(unmatched[0], loose[0]);
  } else if (loose.length > 0) {
    throw dataError(
      `${loose.length} metrics.jsonl file${loose.length === 1 ? '' : 's'} came without ${loose.length === 1 ? 'its folder' : 'their folders'}, and ${unmatched.length} run${unmatched.length === 1 ? '' : 's'} of ${top.path} lack ${unmatched.length === 1 ? 'its' : 'their'} metrics: which file belongs to which run cannot be told.`,
      `${HOW} Or rename each run's file to <run dir>.metrics.jsonl (e.g. ${unmatched[0]?.dir ?? 'J20-aevb'}.metrics.jsonl).`,
    );
  }
  if (matched.size === 0) {
    throw dataError(
      `${top.path} names ${sweep.runs.length} run${sweep.runs.length === 1 ? '' : 's'}, but none of their metrics.jsonl files came with it.`,
      HOW,
    );
  }
  const metrics = await Promise.all([...matched].map(async ([run, f]) => ({ dir: run.dir, path: f.path, text: await f.file.text() })));
  return { sweepPath: top.path, sweepText, sweep, metrics };
}

/** The files of an <input type=file webkitdirectory> (or multiple): paths relative to the picked folder's parent. */
export function pickedFromInput(list: FileList | File[]): PickedFile[] {
  return [...list].map((f) => ({ path: f.webkitRelativePath || f.name, file: f }));
}

/**
 * The files of a drop: dropped folders are walked (FileSystemEntry), loose files keep their names.
 * Only the files a figure may need are listed; nothing is read here.
 */
export async function pickedFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = [...dt.items].map((i) => (i.kind === 'file' ? (i.webkitGetAsEntry?.() ?? null) : null));
  if (entries.length === 0 || entries.some((e) => e === null)) {
    // A synthetic drop, or a browser without entries: the plain files, by name.
    return [...dt.files].map((f) => ({ path: f.name, file: f }));
  }
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      if (entry.name === 'sweep.json' || entry.name.endsWith('metrics.jsonl')) {
        out.push({ path, file: await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej)) });
      }
      return;
    }
    const reader = (entry as FileSystemDirectoryEntry).createReader();
    for (;;) {
      // readEntries answers in batches; an empty one means the end
      const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, path);
    }
  };
  for (const e of entries) await walk(e!, '');
  return out;
}
