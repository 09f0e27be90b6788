/**
 * An AevbError thrown in a real worker_threads pool worker reaches the caller as an AevbError,
 * with its code, field and fix (wire_errors.ts on both ends), not as comlink's bare Error.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { wrap, releaseProxy } from 'comlink';
import { nodeSpawner } from '../../src/main/pool/spawn_node.ts';
import { useAevbErrorTransfer } from '../../src/shared/runtime/wire_errors.ts';
import { AevbError } from '../../src/shared/errors.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import type { WorkerApi, WorkerInit } from '../../src/shared/runtime/protocol.ts';

useAevbErrorTransfer();
const handle = nodeSpawner()(0);
const api = wrap<WorkerApi>(handle.endpoint);
afterAll(async () => {
  api[releaseProxy]();
  await handle.terminate();
});

const meta = { name: 'none', n: 1, d: 4 };
const init = (config: WorkerInit['config']): WorkerInit => ({
  rank: 0,
  workers: 1,
  config,
  transport: 'message',
  train: meta,
  test: meta,
  valueEvery: 1,
  trainX: new Float32Array(4),
  testX: new Float32Array(4),
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('errors from a worker_threads worker', () => {
  it('a bad config field arrives as an AevbError with code, field and fix', async () => {
    const config = { ...resolveConfig({ inputSize: 4, hidden: 3, latent: 2 }), lr: -1 };
    const e = await rejection(api.init(init(config)));
    expect(e).toBeInstanceOf(AevbError);
    expect(e).toMatchObject({
      name: 'AevbError',
      code: 'CONFIG',
      field: 'lr',
      problem: 'is -1; it must be a finite number > 0 and ≤ 10',
      fix: 'Use a value in that range.',
      remedy: { id: 'range' }, // crossed the worker boundary: the CLI and the page can still phrase it
      message: 'Config field "lr" is -1; it must be a finite number > 0 and ≤ 10. Use a value in that range.',
    });
    // The stack is the worker's: it was thrown in worker_core, not here.
    expect((e as Error).stack).toMatch(/worker_core/);
  });

  it('a state error arrives with its code and no field', async () => {
    const e = await rejection(api.runSteps(0, 1, 1, false));
    expect(e).toBeInstanceOf(AevbError);
    expect(e).toMatchObject({ code: 'STATE', fix: 'Call init() first.' });
    expect((e as AevbError).field).toBeUndefined();
  });
});
