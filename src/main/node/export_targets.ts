/**
 * What `npm run export` may write over: never its source, never a file of a run, never something
 * that is not what it writes. `--to RUN/checkpoint.aevb` used to write safetensors over the run's
 * checkpoint (the run could no longer resume) and `--to RUN/metrics.jsonl` wiped the metrics.
 *
 * Rules: the target's name ends in what is written (.safetensors, .png); it is none of the names a
 * run, a sweep or the variance study keep (RUN_FILES); it is not the source; and where a file is
 * already there, it must be one of the same kind (an earlier export, an earlier PNG), so the
 * overwrite replaces like with like.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileError } from '../../shared/errors.ts';
import { CHECKPOINT_FILE, DECODER_DIR } from './checkpoint_files.ts';
import { withFileErrors } from './file_errors.ts';
import { METRICS_FILE } from './run_dir.ts';
import { LOCK_FILE } from './run_lock.ts';

/** Files that runs, sweeps and the variance study keep in their directories. */
export const RUN_FILES: ReadonlySet<string> = new Set([
  CHECKPOINT_FILE,
  METRICS_FILE,
  LOCK_FILE,
  'sweep.json',
  'variance.json',
  'variance.md',
  'model.json',
  'weights.bin',
]);

/** Refuse a path that names a file of a run (checkpoint.aevb, metrics.jsonl, …, or anything in a run's decoder/). */
export function checkNotRunFile(file: string, flag: string): void {
  const name = path.basename(file);
  if (RUN_FILES.has(name) || path.basename(path.dirname(path.resolve(file))) === DECODER_DIR) {
    throw fileError(
      `${flag} ${file} names a file that a run keeps (${name}); writing there would destroy it.`,
      `Pass ${flag} another file name.`,
    );
  }
}

/** The first bytes of an existing target, or null where nothing is there; a non-file is refused. */
function existing(file: string, flag: string, n: number): Uint8Array | null {
  const info = withFileErrors('use', file, () => fs.lstatSync(file, { throwIfNoEntry: false }), '', flag);
  if (!info) return null;
  if (!info.isFile()) {
    throw fileError(
      `${flag} ${file} is ${info.isDirectory() ? 'a directory' : info.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}; export writes a file.`,
      `Pass ${flag} a file name${info.isDirectory() ? ` inside it, e.g. ${path.join(file, flag === '--png' ? 'samples.png' : 'model.safetensors')}` : ''}.`,
    );
  }
  const fd = withFileErrors('read', file, () => fs.openSync(file, 'r'), '', flag);
  try {
    const b = Buffer.alloc(n);
    return b.subarray(0, fs.readSync(fd, b, 0, n, 0));
  } finally {
    fs.closeSync(fd);
  }
}

const same = (a: string, b: string) => {
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return real(a) === real(b);
};

/** `--to FILE` (or the default RUN/model.safetensors) for the model read from `source`. */
export function checkExportTarget(out: string, source: string): void {
  if (same(out, source))
    throw fileError(
      `--to ${out} is the file being exported; export never writes over its source.`,
      'Pass --to another file, e.g. model.safetensors.',
    );
  checkNotRunFile(out, '--to');
  if (!out.endsWith('.safetensors')) {
    throw fileError(
      `--to ${out} does not end in .safetensors; export writes safetensors and names them so.`,
      'Pass --to a file name ending in .safetensors.',
    );
  }
  const head = existing(out, '--to', 9);
  // safetensors: an 8-byte little-endian header length, then the JSON header's '{'.
  if (head && !(head.length === 9 && head[8] === 0x7b && head[6] === 0 && head[7] === 0)) {
    throw fileError(
      `--to ${out} exists and is not a safetensors file; export only replaces an earlier export.`,
      'Move it away, or pass --to another file.',
    );
  }
}

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** `--png FILE`: a .png name, no file of a run, and only an earlier PNG replaced. */
export function checkPngTarget(png: string): void {
  checkNotRunFile(png, '--png');
  if (!png.toLowerCase().endsWith('.png'))
    throw fileError(`--png ${png} does not end in .png.`, 'Pass --png a file name ending in .png, e.g. samples.png.');
  const head = existing(png, '--png', 8);
  if (head && !PNG_SIGNATURE.every((b, i) => head[i] === b)) {
    throw fileError(
      `--png ${png} exists and is not a PNG image; export only replaces an earlier PNG.`,
      'Move it away, or pass --png another file.',
    );
  }
}
