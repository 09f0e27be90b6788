/**
 * `npm run sweep`: many trainings at once in one Node process. Each run is runTraining (the very
 * function behind `npm run train`) with its own Trainer and its own worker thread(s); P runs train
 * at a time and the next one starts as one ends. A model whose minibatch is too small to split
 * many ways thus still fills the machine: P models on P cores.
 *
 * One process, many runs:
 *   - signals: the sweep listens to SIGINT and SIGTERM once and hands every run the same
 *     StopSignal; each running run saves its current step; no new run starts;
 *   - directories: the sweep owns DIR (DIR/.lock), each run its DIR/<name> (DIR/<name>/.lock);
 *   - data: loaded once per source, shared read-only by the runs;
 *   - failures: a run that fails (diverged, bad settings for its data, a full disk) is marked
 *     failed in sweep.json with its error; the others go on.
 * Started again with the same command, the sweep skips done runs and resumes the others from
 * their checkpoints (train's --resume), so it ends with what an uninterrupted sweep ends with.
 */
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { isAevbError } from '../../shared/errors.ts';
import { cliMessage } from './cli_words.ts';
import { formatEvalSchedule } from './eval_at_flag.ts';
import { CHECKPOINT_FILE } from './checkpoint_files.ts';
import { acquireRunLock, checkNotHeld } from './run_lock.ts';
import { checkOutPath, makeRunDir, readRunCheckpoint } from './run_dir.ts';
import type { Checkpoint } from '../../shared/formats/checkpoint.ts';
import { modelKey } from '../../shared/training/config.ts';
import { runTraining } from './train_run.ts';
import type { SweepRequest } from './sweep_args.ts';
import { checkNewSweepDir, checkSameSweep, readSweepFile, writeSweepFile, type RunStatus, type SweepFile } from './sweep_file.ts';
import { planSweep, sharedLoader, trainCommand, type DataLoader, type PlannedRun } from './sweep_plan.ts';
import { SweepProgress } from './sweep_progress.ts';
import type { StopReason, StopSignal } from './stop_signal.ts';

export interface SweepOptions {
  /** The sweep's flags as given (kept in sweep.json, to say how to continue it). */
  argv: string[];
  stop: StopSignal;
  /** The display; default: live lines on a terminal's stderr, plain lines on stdout. */
  progress?: (names: string[]) => SweepProgress;
  loader?: DataLoader;
  cores?: number;
}

export interface SweepResult {
  dir: string;
  runs: Array<{ name: string; status: RunStatus; error?: string }>;
  interrupted: false | StopReason;
}

/** Flags that do not change the runs (free to differ when a sweep is resumed). */
const FREE_FLAGS = new Set(['--parallel', '--quiet']);

function normalizedCommand(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].split('=')[0];
    if (!FREE_FLAGS.has(flag)) {
      out.push(argv[i]);
      continue;
    }
    if (!argv[i].includes('=') && flag === '--parallel') i++; // and its value
  }
  return out;
}

function describeFile(req: SweepRequest, runs: PlannedRun[], argv: string[], old: SweepFile | null): SweepFile {
  const schedules = new Set(runs.map((r) => formatEvalSchedule(r.req.evalAt)));
  return {
    // One schedule for all runs, or (--eval-at itself swept) 'per run': see each run's train flags.
    version: 1,
    command: normalizedCommand(argv),
    evalAt: schedules.size === 1 ? [...schedules][0] : 'per run',
    budgetSamples: req.budgetSamples,
    workersPerRun: req.workersPerRun,
    runs: runs.map((r) => {
      const before = old?.runs.find((o) => o.name === r.name);
      // done stays done; a run stopped midway stays running (it has a checkpoint); a failed one is tried again.
      const status = before?.status === 'done' || before?.status === 'running' ? before.status : 'pending';
      return { name: r.name, dir: r.dir, config: r.config, status, values: r.values, train: r.trainArgs, samples: r.totalSamples };
    }),
  };
}

export async function runSweep(req: SweepRequest, opts: SweepOptions): Promise<SweepResult> {
  const dir = req.out;
  checkOutPath(dir);
  const loader = opts.loader ?? sharedLoader();
  const runs = planSweep(req, loader);
  const old = readSweepFile(dir);
  const file = describeFile(req, runs, opts.argv, old);
  if (old) checkSameSweep(dir, old, file);
  else checkNewSweepDir(dir);
  checkNotHeld(dir);
  makeRunDir(dir);
  const lock = acquireRunLock(dir);
  const show =
    opts.progress?.(runs.map((r) => r.name)) ??
    new SweepProgress(
      runs.map((r) => r.name),
      process.stdout,
      process.stderr,
      !req.quiet,
    );
  try {
    // Again, now that the sweep owns DIR (another sweep may have written it meanwhile).
    const now = readSweepFile(dir);
    if (now) checkSameSweep(dir, now, file);
    else checkNewSweepDir(dir);
    return await schedule(req, opts, runs, file, show, loader);
  } finally {
    show.close();
    lock.release();
  }
}

async function schedule(
  req: SweepRequest,
  opts: SweepOptions,
  runs: PlannedRun[],
  file: SweepFile,
  show: SweepProgress,
  loader: DataLoader,
): Promise<SweepResult> {
  const dir = req.out;
  let writing: Promise<void> = Promise.resolve();
  // Serialised: the file on disk always holds the latest statuses, written whole.
  const save = () => {
    const snapshot = structuredClone(file);
    writing = writing.then(() => writeSweepFile(dir, snapshot));
    return writing;
  };
  const entry = (name: string) => file.runs.find((r) => r.name === name)!;
  const setStatus = (name: string, status: RunStatus, error?: string) => {
    const e = entry(name);
    e.status = status;
    if (error === undefined) delete e.error;
    else e.error = error;
    show.status(name, status, error);
    return save();
  };
  // A run marked done is skipped only if its directory still holds it (sweep.json says what was, not what is).
  const broken = new Set<string>();
  for (const r of runs) {
    if (entry(r.name).status !== 'done') continue;
    const problem = doneRunProblem(path.join(dir, r.dir), r);
    if (problem === null) continue;
    const e = entry(r.name);
    if (problem === 'gone') {
      e.status = 'pending';
      show.log(`[${r.name}] was done, but ${path.join(dir, r.dir)} is gone: it trains again.`);
    } else {
      e.status = 'failed';
      e.error = `It was done, but ${problem}. Restore the run's files, or delete ${path.join(dir, r.dir)} to train it again.`;
      broken.add(r.name);
      show.log(`[${r.name}] failed: ${e.error}`);
    }
  }
  for (const r of file.runs) if (r.status !== 'pending') show.status(r.name, r.status, r.error);
  await save();

  // Runs stopped midway first: their results come soonest. A done run found broken just now waits for the user.
  const todo = [
    ...runs.filter((r) => entry(r.name).status === 'running'),
    ...runs.filter((r) => !['done', 'running'].includes(entry(r.name).status) && !broken.has(r.name)),
  ];
  const parallel = Math.max(1, Math.min(req.parallel, todo.length));
  const cores = opts.cores ?? os.availableParallelism();
  const done = runs.length - todo.length;
  const budget =
    req.budgetSamples === null ? '' : `; budget ${req.budgetSamples.toLocaleString('en-US')} samples → ${describeBudget(runs)}`;
  show.log(
    `sweep ${dir}: ${runs.length} run${runs.length > 1 ? 's' : ''}${done ? ` (${done} done before)` : ''}, ${parallel} at a time, ` +
      `${req.workersPerRun} worker${req.workersPerRun > 1 ? 's' : ''} each${budget}`,
  );

  const runOne = async (r: PlannedRun) => {
    const runDir = path.join(dir, r.dir);
    const resume = fs.existsSync(path.join(runDir, CHECKPOINT_FILE));
    await setStatus(r.name, 'running');
    if (!show.live)
      show.log(`[${r.name}] ${resume ? 'continues' : 'starts'}: ${trainCommand(r, dir)}${resume ? ` --resume ${runDir}` : ''}`);
    try {
      const result = await runTraining(resume ? { ...r.req, resume: runDir } : r.req, (s) => show.log(`[${r.name}] ${s}`), {
        stop: opts.stop,
        loadData: loader,
        cores: Math.max(1, Math.floor(cores / parallel)),
        onProgress: (p) => show.progress(r.name, p),
      });
      const last = result.metrics.at(-1);
      await setStatus(r.name, result.interrupted ? 'running' : 'done');
      if (!result.interrupted) {
        show.log(
          `[${r.name}] done: step ${result.state.step}, ${result.state.samplesSeen.toLocaleString('en-US')} samples` +
            (last ? `, test ELBO ${last.testElbo.toFixed(2)}` : ''),
        );
      }
    } catch (e) {
      const msg = isAevbError(e) ? cliMessage(e) : ((e as Error)?.stack ?? String(e));
      await setStatus(r.name, 'failed', isAevbError(e) ? cliMessage(e) : String((e as Error)?.message ?? e));
      show.log(`[${r.name}] failed: ${msg}`);
    }
  };

  const queue = [...todo];
  const lanes = Array.from({ length: parallel }, async () => {
    while (!opts.stop.reason && queue.length) await runOne(queue.shift()!);
  });
  await Promise.all(lanes);
  await writing;

  const result: SweepResult = {
    dir,
    interrupted: opts.stop.reason,
    runs: file.runs.map((r) => ({ name: r.name, status: r.status, ...(r.error ? { error: r.error } : {}) })),
  };
  const count = (s: RunStatus) => result.runs.filter((r) => r.status === s).length;
  const failed = result.runs.filter((r) => r.status === 'failed').map((r) => r.name);
  show.log(
    `sweep ${dir}: ${count('done')} done, ${count('failed')} failed${failed.length ? ` (${failed.join(', ')})` : ''}` +
      `${count('running') ? `, ${count('running')} stopped with their current step saved` : ''}${count('pending') ? `, ${count('pending')} not started` : ''}.` +
      (result.interrupted
        ? ' Start the same command again to go on.'
        : failed.length
          ? ' The same command tries the failed runs again.'
          : ''),
  );
  return result;
}

/**
 * Why a run marked done is not done on disk: 'gone' (its directory was removed), a sentence (its
 * checkpoint missing, unreadable, of another config, or short of the run's end), or null (done).
 */
function doneRunProblem(runDir: string, r: PlannedRun): string | null {
  if (!fs.existsSync(runDir)) return 'gone';
  const file = path.join(runDir, CHECKPOINT_FILE);
  let c: Checkpoint | null;
  try {
    c = readRunCheckpoint(runDir);
  } catch (e) {
    return `${file} cannot be read (${(isAevbError(e) ? e.problem : String((e as Error)?.message ?? e)).replace(/\.$/, '')})`;
  }
  if (!c) return `${runDir} holds no ${CHECKPOINT_FILE}`;
  const sorted = (o: object) => JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  if (sorted(c.config) !== sorted(r.config)) return `${file} holds another run's model (${modelKey(c.config)}, seed ${c.config.seed})`;
  if (c.samplesSeen < r.totalSamples) {
    return `${file} is at ${c.samplesSeen.toLocaleString('en-US')} samples, short of the run's ${r.totalSamples.toLocaleString('en-US')}`;
  }
  return null;
}

/** "334 epochs (3,006,000 samples)" per distinct outcome. */
function describeBudget(runs: PlannedRun[]): string {
  const kinds = new Map<string, string[]>();
  for (const r of runs) {
    const k = `${r.config.epochs} epoch${r.config.epochs > 1 ? 's' : ''} (${r.totalSamples.toLocaleString('en-US')} samples)`;
    kinds.set(k, [...(kinds.get(k) ?? []), r.name]);
  }
  return kinds.size === 1 ? `${[...kinds.keys()][0]} per run` : [...kinds].map(([k, names]) => `${k} for ${names.join(', ')}`).join('; ');
}
