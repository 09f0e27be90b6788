/**
 * A run owns its directory: DIR/.lock, created exclusively, names the process that holds it. A
 * second run into DIR stops with one line naming that process; a lock whose process is gone (a
 * kill -9, a power cut) is stale and is taken over.
 *
 * The lock appears whole or not at all: its JSON is written to a private temp file first, then
 * hard-linked to DIR/.lock, and link(2) fails with EEXIST if the name exists (O_EXCL semantics,
 * like open 'wx', without the window in which another run would read an empty lock).
 * A stale lock is renamed away before the takeover, and the renamed file is checked to be the one
 * judged stale, so two runs that find the same stale lock cannot both take the directory.
 */
import { hostname } from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import { stateError } from '../../shared/errors.ts';
import { withFileErrors } from './file_errors.ts';

export const LOCK_FILE = '.lock';

export interface LockInfo {
  pid: number;
  /** ISO time the run took the lock. */
  startedAt: string;
  host: string;
  /** The process's start time in clock ticks since boot (Linux /proc/PID/stat), to tell a reused pid. */
  procStart?: string;
}

export interface RunLock {
  readonly file: string;
  /** Remove the lock if it is still ours. Idempotent; also runs at process exit. */
  release(): void;
}

/** The fields of /proc/PID/stat after the command name (field 3 on); undefined where /proc is not there. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat: when the process started; undefined where /proc is not there. */
function processStart(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/**
 * Field 3 of /proc/PID/stat: Z (zombie: exited, not yet reaped by its parent) and X (dead) hold
 * nothing any more, though kill(pid, 0) still succeeds for them.
 */
export function processGone(pid: number): boolean {
  const state = procStat(pid)?.[0];
  return state === 'Z' || state === 'X';
}

/** Is the process that wrote `info` still running? Unknowable for another host: then yes. */
export function holderAlive(info: LockInfo): boolean {
  if (info.host !== hostname()) return true;
  try {
    process.kill(info.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // A zombie (killed, not yet reaped) holds nothing: the directory is free.
  if (processGone(info.pid)) return false;
  // Alive, unless the pid was reused by a process that started at another time.
  const now = processStart(info.pid);
  return !(info.procStart && now && now !== info.procStart);
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
    return Number.isInteger(v?.pid) && typeof v.host === 'string' ? v : null;
  } catch {
    return null;
  }
}

function heldError(dir: string, file: string, info: LockInfo | null): Error {
  const who = info
    ? `another aevb run (pid ${info.pid}${info.host !== hostname() ? ` on ${info.host}` : ''}, started ${info.startedAt})`
    : 'another aevb run (its lock file cannot be read)';
  return stateError(
    `${dir} is in use by ${who}; two runs in one directory would mix their metrics and checkpoints.`,
    `Wait for that run to end, or pass --out another directory${info && info.host === hostname() ? '' : `; if no run uses it, delete ${file}`}.`,
  );
}

/**
 * Locks to release at process exit. One 'exit' listener for all of them: a sweep holds many locks
 * at once in one process, and a listener each would pile up (and trip Node's leak warning).
 */
const heldLocks = new Set<() => void>();
function releaseAllAtExit(): void {
  for (const release of [...heldLocks]) release();
}

/** Throw if a live run holds DIR (a quick look before the real acquire, for the clearer message). */
export function checkNotHeld(dir: string): void {
  const file = path.join(dir, LOCK_FILE);
  if (!fs.existsSync(file)) return;
  const holder = readLock(file);
  if (holder && holderAlive(holder)) throw heldError(dir, file, holder);
}

/** Take DIR/.lock (DIR must exist), or throw naming the run that holds it. */
export function acquireRunLock(dir: string): RunLock {
  const file = path.join(dir, LOCK_FILE);
  const info: LockInfo = { pid: process.pid, startedAt: new Date().toISOString(), host: hostname(), procStart: processStart(process.pid) };
  const text = JSON.stringify(info);
  const tmp = path.join(dir, `${LOCK_FILE}.${process.pid}.${Math.random().toString(16).slice(2, 10)}.tmp`);
  withFileErrors('write the lock file in', dir, () => fs.writeFileSync(tmp, `${text}\n`, { flag: 'wx' }));
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(tmp, file);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw withFileErrors('create', file, () => {
            throw e;
          });
        }
      }
      const holder = readLock(file);
      // An unreadable lock is a run being born or a foreign file: treat it as held, the safe side.
      if (!holder || holderAlive(holder) || attempt > 0) throw heldError(dir, file, holder);
      takeOverStale(file, holder);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    heldLocks.delete(release);
    if (heldLocks.size === 0) process.off('exit', releaseAllAtExit);
    // Only our own lock: never delete one a later run took over.
    if (readLock(file)?.pid === process.pid && readLock(file)?.startedAt === info.startedAt) fs.rmSync(file, { force: true });
  };
  if (heldLocks.size === 0) process.on('exit', releaseAllAtExit);
  heldLocks.add(release);
  return { file, release };
}

/** Move a stale lock aside; if what was moved is not the lock judged stale (another run won the race), put it back. */
function takeOverStale(file: string, stale: LockInfo): void {
  const aside = `${file}.stale.${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it: try again
    throw e;
  }
  const moved = readLock(aside);
  if (moved && (moved.pid !== stale.pid || moved.startedAt !== stale.startedAt)) {
    try {
      fs.linkSync(aside, file);
    } catch {
      /* the other run re-created it meanwhile */
    }
  }
  fs.rmSync(aside, { force: true });
}
