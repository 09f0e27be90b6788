#!/usr/bin/env node
/**
 * Runs the single-worker benchmark through vitest (see vitest.bench.config.ts for why vitest).
 *
 *   node bench/run.mjs               all configurations, H ∈ {400, 500} × M ∈ {25, 50, 100} (~5 min)
 *   node bench/run.mjs --quick       H = 400, M = 100 only: a smoke check (~30 s)
 *   node bench/run.mjs --json FILE   also write the results as JSON to FILE
 *   node bench/run.mjs --browser     the pool in Chromium against the pool in Node (bench/browser.ts, via tsx)
 *   node bench/run.mjs --sweep       two models on two workers (a sweep) against one on one (bench/sweep.ts, via tsx)
 *   node bench/run.mjs --step        one worker's step on aevb's kernels (both builds) against tfjs (bench/step_kernels.ts)
 *   node bench/run.mjs --page        the app while it trains: long tasks, frame times, event-loop delay (bench/page.ts, via tsx)
 *   node bench/run.mjs --kernels     the step kernels' register tiles, both builds, against tfjs's matMul (bench/kernels.ts)
 *
 * The flags become environment variables (AEVB_BENCH_QUICK, AEVB_BENCH_JSON) for the test file.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--quick') env.AEVB_BENCH_QUICK = '1';
  else if (a === '--browser') env.AEVB_BENCH_BROWSER = '1';
  else if (a === '--sweep') env.AEVB_BENCH_SWEEP = '1';
  else if (a === '--step') env.AEVB_BENCH_STEP = '1';
  else if (a === '--page') env.AEVB_BENCH_PAGE = '1';
  else if (a === '--kernels') env.AEVB_BENCH_KERNELS = '1';
  else if (a === '--json' || a.startsWith('--json=')) {
    const file = a === '--json' ? args[++i] : a.slice('--json='.length);
    if (!file) fail('--json needs a file name: node bench/run.mjs --json results.json');
    env.AEVB_BENCH_JSON = path.resolve(file);
  } else if (a === '--help' || a === '-h') {
    console.log('usage: node bench/run.mjs [--json FILE] [--quick] [--browser] [--sweep] [--step] [--page] [--kernels]');
    process.exit(0);
  } else fail(`Unknown option ${a}. Usage: node bench/run.mjs [--json FILE] [--quick]`);
}

function fail(msg) {
  console.error(msg);
  process.exit(2);
}

// The project's own vitest, run by this Node (no npx look-up, no shell).
const vitest = path.join(path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
const tsx = path.join(path.dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
// Relaxed SIMD is on by default from Node 22; on Node 20 the step benchmark turns it on, so both builds run
// (through --import tsx: the tsx CLI would start a child node without the flag).
const relaxedFlag = Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
const command = env.AEVB_BENCH_STEP
  ? [...relaxedFlag, '--import', 'tsx', 'bench/step_kernels.ts', ...(env.AEVB_BENCH_JSON ? ['--json', env.AEVB_BENCH_JSON] : [])]
  : env.AEVB_BENCH_BROWSER
    ? [tsx, 'bench/browser.ts'] // no tfjs autodiff here, so plain tsx will do
    : env.AEVB_BENCH_SWEEP
      ? [tsx, 'bench/sweep.ts'] // reads AEVB_BENCH_JSON too
      : env.AEVB_BENCH_PAGE
        ? [tsx, 'bench/page.ts'] // and this one (AEVB_BENCH_PAGE_SECONDS: how long it records)
        : env.AEVB_BENCH_KERNELS
          ? [tsx, 'bench/kernels.ts', ...(env.AEVB_BENCH_JSON ? ['--json', env.AEVB_BENCH_JSON] : [])]
          : [vitest, 'run', '--config', 'bench/vitest.bench.config.ts'];
const child = spawn(process.execPath, command, { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
