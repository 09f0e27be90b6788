/**
 * The real command line as a child process (`node --import tsx src/main/node/cli.ts ...`), as a
 * user runs it with `npm run train --`: its exit code, its stdout and stderr, and a way to wait
 * for a line while it runs (to send it a signal at a known point, or start a second run beside it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'src/main/node/cli.ts');
/** `npm run sweep`'s entry, for CliOptions.script. */
export const SWEEP_CLI = path.join(ROOT, 'src/main/node/sweep_cli.ts');

/** Tiny runs: a few steps of a small model on two workers. */
export const TINY = ['--hidden', '8', '--latent', '2', '--batch', '900', '--workers', '2', '--quiet'];

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once `re` matches the output so far (stdout + stderr); rejects if the process exits first. */
  waitFor(re: RegExp): Promise<void>;
  exited: Promise<CliExit>;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Modules loaded before the CLI (`--import`), e.g. a fault injector. */
  preload?: string[];
  /** The entry to run instead of `npm run train`'s (e.g. SWEEP_CLI). */
  script?: string;
}

/** Children still running: a test that fails or times out must not leave a training run behind. */
const live = new Set<ChildProcess>();

/** Kill (SIGKILL) every CLI child this process started that is still running; for afterAll. */
export function killLeftoverClis(): void {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

export function startCli(args: string[], opts: CliOptions = {}): CliProcess {
  const preload = (opts.preload ?? []).flatMap((p) => ['--import', p]);
  const child = spawn(process.execPath, ['--import', 'tsx', ...preload, opts.script ?? CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '',
    stderr = '';
  const waiters: Array<{ re: RegExp; resolve: () => void; reject: (e: Error) => void }> = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', (d) => {
    stdout += d;
    check();
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
    check();
  });
  const exited = new Promise<CliExit>((resolve) => {
    child.on('close', (code, signal) => {
      live.delete(child);
      for (const w of waiters.splice(0))
        w.reject(new Error(`the CLI exited (${code ?? signal}) before printing ${w.re}:\n${stdout}${stderr}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    waitFor(re) {
      if (re.test(stdout + stderr)) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ re, resolve, reject }));
    },
    exited,
  };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliExit> {
  return startCli(args, opts).exited;
}

/** A run's one-line refusal: exit code 2, a single `error:` line on stderr, no stack trace. */
export function expectOneLine(r: CliExit): string {
  const lines = r.stderr.trim().split('\n');
  if (r.code !== 2 || lines.length !== 1 || !lines[0].startsWith('error: ') || /\n\s+at /.test(r.stderr)) {
    throw new Error(`expected exit 2 and one error line, got exit ${r.code ?? r.signal}:\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return lines[0];
}
