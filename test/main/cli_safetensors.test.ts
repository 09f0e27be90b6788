/**
 * The command line's way to PyTorch and back: `npm run export -- --from RUN` writes
 * RUN/model.safetensors, and `npm run train -- --resume model.safetensors` continues from it
 * exactly as from the run itself; a finished model is evaluated instead of trained.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../../src/main/node/cli_args.ts';
import { runTraining } from '../../src/main/node/train_run.ts';
import { decodeSafetensors } from '../../src/shared/formats/safetensors.ts';
import { useBackend } from '../helpers/backend.ts';

const root = path.resolve(import.meta.dirname, '../..');
let tmp: string;
const logs: string[] = [];
const log = (s: string) => {
  logs.push(s);
};
const small = ['--hidden', '32', '--latent', '4', '--batch', '300', '--workers', '2', '--quiet'];

beforeAll(async () => {
  await useBackend('wasm');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-st-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('npm run export and train --resume model.safetensors', () => {
  it('exports a run, resumes from the file bit for bit like the run itself, and evaluates a finished model', async () => {
    const a = path.join(tmp, 'a');
    await runTraining(parseCli([...small, '--epochs', '1', '--out', a]), log);
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/main/node/export_cli.ts'), '--from', a], {
      cwd: root,
      encoding: 'utf8',
    });
    const file = path.join(a, 'model.safetensors');
    expect(out).toMatch(/Wrote .*model\.safetensors: adagrad model at step 30/);
    expect(decodeSafetensors(new Uint8Array(fs.readFileSync(file)), file).metadata.step).toBe('30');

    // Next to a checkpoint.aevb, a run from the file needs its own --out: nothing is overwritten.
    await expect(runTraining(parseCli(['--resume', file, '--epochs', '2', '--quiet']), log)).rejects.toThrow(
      /already holds a checkpoint .* --out/,
    );
    const fromFile = await runTraining(
      parseCli(['--resume', file, '--epochs', '2', '--out', path.join(tmp, 'b'), '--workers', '2', '--quiet']),
      log,
    );
    const fromRun = await runTraining(
      parseCli(['--resume', a, '--epochs', '2', '--out', path.join(tmp, 'c'), '--workers', '2', '--quiet']),
      log,
    );
    expect(fromFile.state.step).toBe(60);
    expect(Buffer.from(fromFile.state.params.buffer).equals(Buffer.from(fromRun.state.params.buffer))).toBe(true);
    expect(Buffer.from(fromFile.state.slots[0].buffer).equals(Buffer.from(fromRun.state.slots[0].buffer))).toBe(true);

    logs.length = 0;
    const done = await runTraining(
      parseCli(['--resume', file, '--epochs', '1', '--out', path.join(tmp, 'd'), '--workers', '2', '--quiet']),
      log,
    );
    expect(done.state.step).toBe(30);
    expect(logs.join('\n')).toMatch(
      /Already at step 30 \(epoch 1 of 1\): train ELBO -\d+\.\d\d ± \d+\.\d\d {2}test ELBO -\d+\.\d\d ± \d+\.\d\d \(S=2/,
    );
  });
});
