/**
 * Node's file-system errors as one line: what could not be done to which path, why in words, and
 * what to do. The CLI prints these instead of a stack trace (a full disk is a user's problem to
 * fix, not a bug to debug).
 */
import { fileError, type AevbError } from '../../shared/errors.ts';

const WHY: Record<string, [string, string]> = {
  ENOSPC: ['the disk is full', 'Free some space on that disk, or pass --out a directory on another disk.'],
  EDQUOT: ['the disk quota is used up', 'Free some space, or pass --out a directory on another disk.'],
  EACCES: ['permission denied', 'Pass --out a directory you can write to, or fix its permissions.'],
  EPERM: ['the operation is not permitted there', 'Pass --out a directory you can write to.'],
  EROFS: ['the file system is read-only', 'Pass --out a directory on a writable disk.'],
  ENOTDIR: ['a part of the path is a file, not a directory', 'Pass a path whose parent directories are directories.'],
  EISDIR: ['it is a directory, not a file', 'Move that directory out of the way, or pass --out another directory.'],
  ENOENT: ['a part of the path does not exist or cannot hold files', 'Pass --out a path in an ordinary, writable directory.'],
  EEXIST: ['something is already there', 'Move it out of the way, or pass --out another directory.'],
  EMFILE: ['too many files are open', 'Close other programs or raise the open-file limit (ulimit -n).'],
  EIO: ['the disk reported an input/output error', 'Check the disk, or pass --out a directory on another disk.'],
  ENAMETOOLONG: ['the name is too long for the file system', 'Pass --out a shorter path.'],
  ELOOP: ['the path loops through symbolic links', 'Pass --out a path without a link loop.'],
  ENXIO: ['it is a device or a pipe without a writer', 'Pass --out an ordinary file or directory.'],
};

/**
 * `Cannot <action> <path>: <why> (<CODE>).` + the fix; unknown codes keep Node's own message.
 * `flag` is what the fix tells the user to change (default --out; e.g. --to, --write-idx, --png).
 */
export function describeFileError(e: unknown, action: string, path: string, extraFix = '', flag = '--out'): AevbError {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  const [why, fix] = WHY[code] ?? [
    ((e as Error)?.message ?? String(e)).split('\n')[0],
    'Check the path and the disk, or pass --out another directory.',
  ];
  const fixFor = fix.replace(/--out/g, flag);
  return fileError(
    `Cannot ${action} ${path}: ${why}${code && WHY[code] ? ` (${code})` : ''}.`,
    `${fixFor}${extraFix ? ` ${extraFix}` : ''}`,
  );
}

/** Run fn; a Node file-system error becomes describeFileError's one line, anything else passes through. */
export function withFileErrors<T>(action: string, path: string, fn: () => T, extraFix = '', flag = '--out'): T {
  try {
    return fn();
  } catch (e) {
    throw isErrno(e) ? describeFileError(e, action, path, extraFix, flag) : e;
  }
}

export function isErrno(e: unknown): e is NodeJS.ErrnoException {
  return (
    e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((e as NodeJS.ErrnoException).code!)
  );
}

/** withFileErrors for async work (an atomic write). */
export async function withFileErrorsAsync<T>(action: string, path: string, fn: () => Promise<T>, flag = '--out'): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw isErrno(e) ? describeFileError(e, action, path, '', flag) : e;
  }
}
