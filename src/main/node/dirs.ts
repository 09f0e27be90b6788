/**
 * The one directory maker of every command (train's and sweep's --out, export's --write-idx and
 * --to, figures' --out, variance's --out): mkdir -p, one level at a time. Node's own recursive
 * mkdir loops for ever when a parent exists but cannot hold directories (e.g. /proc/x: mkdir gives
 * ENOENT and Node retries the parent), so it is never used. Errors are one line naming the path
 * and the flag to change (file_errors.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileError } from '../../shared/errors.ts';
import { withFileErrors } from './file_errors.ts';

/** Create DIR and its missing parents; refuse a non-directory in the way. Returns whether DIR was created. */
export function makeDirs(dir: string, flag = '--out'): boolean {
  const abs = path.resolve(dir);
  const info = withFileErrors('create the directory', dir, () => fs.statSync(abs, { throwIfNoEntry: false }), '', flag);
  if (info?.isDirectory()) return false;
  if (info) throw fileError(`${flag} ${dir} is a file, not a directory.`, `Pass ${flag} a directory (it is created if missing).`);
  const parent = path.dirname(abs);
  if (parent !== abs) makeDirs(parent, flag);
  withFileErrors(
    'create the directory',
    dir,
    () => {
      try {
        fs.mkdirSync(abs);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process made it meanwhile: fine
      }
    },
    '',
    flag,
  );
  return true;
}
