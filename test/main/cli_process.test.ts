/**
 * The command line as users run it: a child process per case (tests/helpers/cli.ts), its exit
 * code and output. Runs are tiny (a 8-unit hidden layer, one or two steps per epoch) so a case
 * costs little more than the process start and the digits' load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneLine, runCli } from '../helpers/cli.ts';

let tmp: string;
beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-cli-proc-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('flags refused before any work starts', () => {
  it('a loosely written number (0x10) stops with one line instead of training with latent 16', async () => {
    const out = path.join(tmp, 'hex');
    const line = expectOneLine(await runCli(['--latent', '0x10', '--out', out, '--quiet']));
    expect(line).toMatch(/"latent" got "0x10".*would read it as 16.*plain decimal/);
    expect(fs.existsSync(out)).toBe(false);
  });

  it('--resume "" stops instead of starting a fresh default run', async () => {
    const line = expectOneLine(await runCli(['--resume', '', '--quiet']));
    expect(line).toMatch(/"resume" was given an empty path/);
  });

  it('--test-fraction with the embedded MNIST is an error, not ignored', async () => {
    expect(expectOneLine(await runCli(['--test-fraction', '0.3', '--quiet']))).toMatch(/embedded MNIST.*--data FILE/);
  });
});
