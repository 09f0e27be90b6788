/**
 * AevbErrors across comlink: the field, the code and the fix arrive, and everything else still
 * goes through comlink's own handler. Here both ends are in one thread on a real MessageChannel;
 * test/main/worker_errors.test.ts and the browser pool test do it across real workers.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { expose, wrap, releaseProxy } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { AevbError, configError, stateError } from '../../src/shared/errors.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { useAevbErrorTransfer, toWire, fromWire } from '../../src/shared/runtime/wire_errors.ts';

function caught(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('AevbError.field', () => {
  it('resolveConfig names the field on the error, and the message still reads as before', () => {
    const e = caught(() => resolveConfig({ lr: 0 })) as AevbError;
    expect(e).toBeInstanceOf(AevbError);
    expect(e).toMatchObject({
      code: 'CONFIG',
      field: 'lr',
      problem: 'is 0; it must be a finite number > 0 and ≤ 10',
      fix: 'Use a value in that range.',
      remedy: { id: 'range' },
    });
    expect(e.message).toBe('Config field "lr" is 0; it must be a finite number > 0 and ≤ 10. Use a value in that range.');
  });

  it('an unknown setting and a cross-field check name their field too', () => {
    expect(caught(() => resolveConfig({ colour: 'red' } as never))).toMatchObject({ field: 'colour' });
    expect(caught(() => resolveConfig({ binarize: true, decoder: 'gaussian' }))).toMatchObject({ field: 'binarize' });
  });

  it('errors about no one field have none', () => {
    expect(stateError('Not now.', 'Later.').field).toBeUndefined();
    expect('field' in stateError('Not now.', 'Later.')).toBe(false);
  });

  it('toWire / fromWire rebuild the same error, stack included', () => {
    const e = configError('batch', 'is 0; it must be an integer from 1 to 100000', 'Use a whole number in that range.', {
      id: 'whole-range',
    });
    const back = fromWire(structuredClone(toWire(e)));
    expect(back).toBeInstanceOf(AevbError);
    expect(back).toMatchObject({
      name: 'AevbError',
      code: 'CONFIG',
      field: 'batch',
      fix: e.fix,
      remedy: { id: 'whole-range' },
      problem: e.problem,
      message: e.message,
      stack: e.stack,
    });
  });
});

describe('through comlink on a MessageChannel', () => {
  useAevbErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  expose(
    {
      config() {
        resolveConfig({ latent: 0 });
      },
      state() {
        throw stateError('This worker was not initialised.', 'Call init() first.');
      },
      plain() {
        throw new TypeError('not an aevb error');
      },
      notAnError() {
        throw { why: 'a plain object' };
      },
    },
    nodeEndpoint(port1 as never),
  );
  const remote = wrap<{ config(): void; state(): void; plain(): void; notAnError(): void }>(nodeEndpoint(port2 as never));
  afterAll(() => {
    remote[releaseProxy]();
    port1.close();
    port2.close();
  });

  async function rejection(p: Promise<unknown>): Promise<unknown> {
    return p.then(
      () => {
        throw new Error('expected a rejection');
      },
      (e: unknown) => e,
    );
  }

  it('a config error arrives as an AevbError with its code, field and fix', async () => {
    const e = await rejection(remote.config());
    expect(e).toBeInstanceOf(AevbError);
    expect(e).toMatchObject({
      code: 'CONFIG',
      field: 'latent',
      fix: 'Use a whole number in that range.',
      remedy: { id: 'whole-range' },
      message: 'Config field "latent" is 0; it must be an integer from 1 to 1024. Use a whole number in that range.',
    });
  });

  it('an AevbError without a field arrives without one', async () => {
    const e = (await rejection(remote.state())) as AevbError;
    expect(e).toBeInstanceOf(AevbError);
    expect(e.code).toBe('STATE');
    expect(e.field).toBeUndefined();
  });

  it("other errors and thrown values still go through comlink's own handler", async () => {
    const plain = await rejection(remote.plain());
    expect(plain).toBeInstanceOf(Error);
    expect(plain).not.toBeInstanceOf(AevbError);
    expect((plain as Error).message).toBe('not an aevb error');
    expect(await rejection(remote.notAnError())).toEqual({ why: 'a plain object' });
  });
});
