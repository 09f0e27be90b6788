/**
 * The run directory (--out DIR) before training starts: it must be a directory we can create, and
 * what it holds must belong to the run about to write there. A fresh run needs an empty one (as far
 * as aevb's files go); a resumed run writes into its own directory, or into one that is empty or
 * holds an earlier point of the same run. Left-overs of a kill -9 (temp files of an atomic write,
 * metrics lines written after the last checkpoint) are cleaned once the run owns DIR.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeCheckpoint, resumeDifference, resumeDifferenceWords, type Checkpoint } from '../../shared/formats/checkpoint.ts';
import type { TrainConfig } from '../../shared/training/config.ts';
import { checkpointError, fileError, stateError } from '../../shared/errors.ts';
import { CHECKPOINT_FILE, DECODER_DIR } from './checkpoint_files.ts';
import { makeDirs } from './dirs.ts';
import { readFileBounded, readTextBounded } from './read_file.ts';
import { withFileErrors } from './file_errors.ts';

export const METRICS_FILE = 'metrics.jsonl';

/** Refuse an --out that is a file (or other non-directory) before any work. */
export function checkOutPath(dir: string): void {
  const info = withFileErrors('use --out', dir, () => fs.statSync(dir, { throwIfNoEntry: false }));
  if (info && !info.isDirectory()) {
    throw fileError(`--out ${dir} is a file, not a directory.`, 'Pass --out a directory (it is created if missing).');
  }
}

/** mkdir -p for --out, one level at a time (dirs.ts: the one directory maker). Returns whether DIR was created. */
export function makeRunDir(dir: string): boolean {
  return makeDirs(dir, '--out');
}

/** The checkpoint in DIR: absent, or decoded (an unreadable one is an error naming it). */
export function readRunCheckpoint(dir: string): Checkpoint | null {
  const file = path.join(dir, CHECKPOINT_FILE);
  const info = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!info) return null;
  if (!info.isFile()) {
    throw fileError(
      `${file} is ${info.isDirectory() ? 'a directory' : 'not a regular file'}, not a checkpoint.`,
      `Move it out of the way, or pass ${'--out'} another directory.`,
    );
  }
  return decodeCheckpoint(readFileBounded(file, '--out'), file);
}

function metricsLines(dir: string): string[] {
  const file = path.join(dir, METRICS_FILE);
  const text = fs.existsSync(file) ? readTextBounded(file, '--out') : '';
  return text.split('\n').filter((l) => l.trim() !== '');
}

export interface RunStart {
  /** Where the run starts from: a checkpoint's path and contents, or nothing (fresh). */
  source?: { file: string; checkpoint: Checkpoint };
  /** The run's full config and data identity, to compare with what DIR holds. */
  config: TrainConfig;
  data: { n: number; d: number; fingerprint: string };
}

/**
 * Throw unless DIR may take this run's files: a fresh run needs DIR without a checkpoint and
 * metrics; a resumed run into another DIR needs DIR empty of them, or DIR's checkpoint to be an
 * earlier (or the same) point of the same run, i.e. same model, optimizer, data and every
 * non-resumable setting, seed included (training is deterministic, so these fix the trajectory).
 */
export function checkRunDir(dir: string, start: RunStart): void {
  const file = path.join(dir, CHECKPOINT_FILE);
  let here: Checkpoint | null;
  try {
    here = readRunCheckpoint(dir);
  } catch (e) {
    if (start.source && path.resolve(start.source.file) === path.resolve(file)) throw e;
    throw checkpointError(
      `${dir} holds a ${CHECKPOINT_FILE} that cannot be read, and this run would replace it: ${(e as Error).message}`,
      'Pass --out another directory.',
    );
  }
  const hasMetrics = metricsLines(dir).length > 0;
  if (!start.source) {
    if (here) {
      throw stateError(
        `${dir} already holds a checkpoint (${CHECKPOINT_FILE}); starting over would overwrite it.`,
        `Continue it with --resume ${dir}, or choose another --out.`,
      );
    }
    if (hasMetrics) {
      throw stateError(
        `${dir} holds ${METRICS_FILE} of an earlier run but no checkpoint; this run's metrics would be mixed into it.`,
        `Choose another --out, or delete ${path.join(dir, METRICS_FILE)}.`,
      );
    }
    return;
  }
  const from = start.source;
  if (path.resolve(from.file) === path.resolve(file)) return; // resuming in place
  const both = `Cannot resume ${from.file} into ${dir}`;
  if (!here) {
    if (hasMetrics) {
      throw stateError(
        `${both}: ${dir} holds ${METRICS_FILE} of another run (but no checkpoint).`,
        'Pass --out an empty or new directory.',
      );
    }
    return;
  }
  const differs = resumeDifference(here, start.config, start.data);
  if (differs) {
    throw stateError(
      `${both}: ${file} holds a different run, which this run would overwrite (${resumeDifferenceWords(differs)}).`,
      `Pass --out an empty or new directory, or resume ${dir} itself with --resume ${dir}.`,
    );
  }
  if (here.step > from.checkpoint.step) {
    throw stateError(
      `${both}: ${file} holds the same run further on (step ${here.step}; ${from.file} is at step ${from.checkpoint.step}), which this run would set back.`,
      `Resume the later one with --resume ${dir}.`,
    );
  }
}

const TEMP_FILE =
  /^\.(checkpoint\.aevb|weights\.bin|model\.json)\.\d+\.[0-9a-f]{8}\.tmp$|^\.metrics\.jsonl\.\d+\.tmp$|^\.lock\.\d+\.[0-9a-f]+\.tmp$|^\.lock\.stale\.\d+$/;

/**
 * Delete the temp files of atomic writes that a killed run left (`.checkpoint.aevb.PID.XXXXXXXX.tmp`
 * and the decoder's), in DIR and DIR/decoder. Only call it while holding DIR's lock: then no other
 * run is writing them. Returns the names removed.
 */
export function cleanStaleTemps(dir: string): string[] {
  const removed: string[] = [];
  for (const d of [dir, path.join(dir, DECODER_DIR)]) {
    const names = fs.existsSync(d) && fs.statSync(d).isDirectory() ? fs.readdirSync(d) : [];
    for (const name of names) {
      if (!TEMP_FILE.test(name) || name.includes(`.${process.pid}.`)) continue;
      withFileErrors('remove the stale temp file', path.join(d, name), () => fs.rmSync(path.join(d, name), { force: true }));
      removed.push(path.join(d, name));
    }
  }
  return removed;
}

/**
 * Keep only the metrics lines of epochs the checkpoint includes (step ≤ the checkpoint's step);
 * drops lines of epochs whose checkpoint was never written (a kill or a full disk in between,
 * also the duplicate epoch lines a kill -9 used to leave) and a torn last line. Atomic rewrite.
 * Returns how many lines were dropped.
 */
export function truncateMetrics(dir: string, step: number): number {
  const file = path.join(dir, METRICS_FILE);
  const lines = metricsLines(dir);
  const keep: string[] = [];
  const seen = new Set<number>();
  for (const l of lines) {
    let m: unknown;
    try {
      m = JSON.parse(l);
    } catch {
      break;
    } // a torn line: it and anything after are not trustworthy
    // Not a metrics object (null, a number, an array): a line no run wrote; dropped like one past the checkpoint.
    const s = typeof m === 'object' && m !== null ? (m as { step?: unknown }).step : undefined;
    if (typeof s !== 'number' || s > step || seen.has(s)) continue;
    const mStep = s;
    seen.add(mStep);
    keep.push(l);
  }
  if (keep.length === lines.length) return 0;
  const tmp = path.join(dir, `.${METRICS_FILE}.${process.pid}.tmp`);
  withFileErrors('rewrite', file, () => {
    fs.writeFileSync(tmp, keep.map((l) => `${l}\n`).join(''));
    fs.renameSync(tmp, file);
  });
  return lines.length - keep.length;
}
