/**
 * DIR/sweep.json: what a sweep directory holds and how far each run got.
 *
 *   { "version": 1, "command": [...], "evalAt": "log:5", "budgetSamples": 3000000, "workersPerRun": 1,
 *     "runs": [ { "name": "J20-aevb", "dir": "J20-aevb", "config": { ...full TrainConfig... },
 *                 "status": "done" | "running" | "pending" | "failed", "values": { "latent": "20", … },
 *                 "train": [ "--latent", "20", … ], "samples": 3006000, "error"?: "…" } ] }
 *
 * `status`: pending (not started), running (started and not finished: training now, or stopped
 * with its current step saved; the same command continues it), done, failed (`error` says why;
 * the same command tries it again). `train`: the flags of `npm run train` that give the same run
 * alone (add --out DIR). Written atomically at every change of status.
 *
 * The same command over an existing sweep resumes it; a different one is refused, naming the
 * first difference, since its runs would mix with the ones already there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TrainConfig } from '../../shared/training/config.ts';
import { fileError, stateError } from '../../shared/errors.ts';
import { writeFileAtomic } from './checkpoint_files.ts';
import { withFileErrors } from './file_errors.ts';
import { readTextBounded } from './read_file.ts';
import { LOCK_FILE } from './run_lock.ts';

export const SWEEP_FILE = 'sweep.json';

export type RunStatus = 'pending' | 'running' | 'done' | 'failed';

export interface SweepRunEntry {
  name: string;
  dir: string;
  config: TrainConfig;
  status: RunStatus;
  values: Record<string, string>;
  train: string[];
  samples: number;
  error?: string;
}

export interface SweepFile {
  version: 1;
  /** The sweep's flags (without --parallel and --quiet, which do not change the runs). */
  command: string[];
  evalAt: string;
  budgetSamples: number | null;
  workersPerRun: number;
  runs: SweepRunEntry[];
}

export function readSweepFile(dir: string): SweepFile | null {
  const file = path.join(dir, SWEEP_FILE);
  const text = withFileErrors('read', file, () => fs.existsSync(file)) ? readTextBounded(file, '--out') : null;
  if (text === null) return null;
  let v: SweepFile;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw fileError(`${file} is not valid JSON (${(e as Error).message}).`, 'Restore it, or pass --out a new directory for a new sweep.');
  }
  if (v?.version !== 1 || !Array.isArray(v.runs) || !Array.isArray(v.command)) {
    throw fileError(
      `${file} is not a sweep file of this version (version ${JSON.stringify(v?.version)}).`,
      'Pass --out a new directory for a new sweep.',
    );
  }
  v.runs.forEach((r, i) => checkRunEntry(r, i, file));
  return v;
}

const STATUSES: readonly RunStatus[] = ['pending', 'running', 'done', 'failed'];

/** Every field a run entry is read for, with its type: a damaged sweep.json is named, not a TypeError. */
function checkRunEntry(r: unknown, i: number, file: string): void {
  const e = r as Partial<SweepRunEntry> | null;
  const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  const problems: Array<[string, boolean]> = [
    ['an object', isObj(e)],
    ['a "name" string', typeof e?.name === 'string'],
    ['a "dir" string', typeof e?.dir === 'string'],
    [`a "status" (${STATUSES.join(', ')})`, STATUSES.includes(e?.status as RunStatus)],
    ['a "config" object', isObj(e?.config)],
    ['a "train" list of strings', strings(e?.train)],
  ];
  const bad = problems.find(([, ok]) => !ok);
  if (bad) {
    throw fileError(
      `${file} is damaged: its run ${i + 1} (${JSON.stringify(r)?.slice(0, 80)}) is not ${bad[0]}.`,
      'Restore sweep.json from a copy, or pass --out a new directory for a new sweep.',
    );
  }
}

export async function writeSweepFile(dir: string, s: SweepFile): Promise<void> {
  await writeFileAtomic(path.join(dir, SWEEP_FILE), dir, new TextEncoder().encode(`${JSON.stringify(s, null, 2)}\n`));
}

/** A directory without sweep.json must hold nothing (but a lock a dead sweep left) to become one. */
export function checkNewSweepDir(dir: string): void {
  const entries = fs.existsSync(dir) && fs.statSync(dir).isDirectory() ? fs.readdirSync(dir) : [];
  const other = entries.filter((e) => !e.startsWith(LOCK_FILE));
  if (other.length) {
    throw stateError(
      `${dir} is not empty and holds no ${SWEEP_FILE} (it has ${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}); a sweep there would mix its runs with what is there.`,
      'Pass --out a new or empty directory.',
    );
  }
}

/** Flag → value of a train argv (a switch maps to ''). */
function flagMap(args: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    if (!args[i].startsWith('--')) continue;
    m.set(args[i], args[i + 1] !== undefined && !args[i + 1].startsWith('--') ? args[++i] : '');
  }
  return m;
}

function firstDifference(had: SweepRunEntry, want: SweepRunEntry): string | null {
  const a = flagMap(had.train),
    b = flagMap(want.train);
  for (const f of new Set([...a.keys(), ...b.keys()])) {
    if (a.get(f) !== b.get(f)) {
      const show = (m: Map<string, string>) => (m.has(f) ? `${f}${m.get(f) ? ` ${m.get(f)}` : ''}` : `no ${f}`);
      return `its run ${had.name} was trained with ${show(a)}, this command asks for ${show(b)}`;
    }
  }
  // Fields both configs have (a sweep from before a field existed reads as that field's default).
  for (const k of Object.keys(want.config) as Array<keyof TrainConfig>) {
    if (k in had.config && JSON.stringify(had.config[k]) !== JSON.stringify(want.config[k])) {
      return `its run ${had.name} has ${k} ${JSON.stringify(had.config[k])}, this command's has ${JSON.stringify(want.config[k])}`;
    }
  }
  return null;
}

/** Throw, naming the first difference and the fix, unless `want` is the sweep `had` describes. */
export function checkSameSweep(dir: string, had: SweepFile, want: SweepFile): void {
  const fix = `Run the command that made it to continue it (npm run sweep -- ${had.command.join(' ')}), or pass --out a new directory for this sweep.`;
  const names = (s: SweepFile) => s.runs.map((r) => r.name);
  const hadNames = names(had),
    wantNames = names(want);
  const added = wantNames.filter((n) => !hadNames.includes(n)),
    missing = hadNames.filter((n) => !wantNames.includes(n));
  const list = (xs: string[]) => `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? `, … (${xs.length})` : ''}`;
  let diff: string | null = null;
  if (added.length || missing.length) {
    diff = [
      added.length ? `this command adds the run${added.length > 1 ? 's' : ''} ${list(added)}` : '',
      missing.length ? `leaves out ${list(missing)}` : '',
    ]
      .filter(Boolean)
      .join(' and ');
  } else {
    for (const w of want.runs) {
      diff = firstDifference(had.runs.find((r) => r.name === w.name)!, w);
      if (diff) break;
    }
  }
  if (diff) throw stateError(`${dir} holds another sweep (${path.join(dir, SWEEP_FILE)}): ${diff}.`, fix);
}
