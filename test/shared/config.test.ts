/**
 * resolveConfig: defaults, and the refusal of keys that are not settings, including the names
 * every JS object carries on its prototype (a `key in obj` check would let those through).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { AevbError } from '../../src/shared/errors.ts';

function refusal(partial: unknown): AevbError {
  try {
    resolveConfig(partial as Partial<TrainConfig>);
  } catch (e) {
    return e as AevbError;
  }
  throw new Error(`resolveConfig accepted ${JSON.stringify(partial)}`);
}

describe('resolveConfig', () => {
  it("fills the paper's defaults and returns a frozen copy", () => {
    const c = resolveConfig({ latent: 3 });
    expect(c).toEqual({ ...DEFAULT_CONFIG, latent: 3 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('refuses a model whose fields are each in range but whose size is not (D = 2^20, H = 8192, J = 1024), before anything is allocated', () => {
    const e = refusal({ inputSize: 2 ** 20, hidden: 8192, latent: 1024 });
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(
      /a model of 17,\d{3},\d{3},\d{3} parameters; at most 67,108,864 fit in the step's memory.*Use fewer hidden units/,
    );
    expect(e.remedy).toEqual({ id: 'smaller-model', fields: ['hidden', 'latent'] });
    expect(resolveConfig({ inputSize: 784, hidden: 8192, latent: 1024 }).hidden).toBe(8192); // 14.6 M parameters: fine
  });

  it('refuses an unknown setting, naming it and listing the settings', () => {
    const e = refusal({ latnet: 3 });
    expect(e.code).toBe('CONFIG');
    expect(e.message).toMatch(/"latnet" is not a known setting.*the settings are: inputSize, hidden/);
  });

  for (const key of ['toString', 'constructor', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__proto__']) {
    it(`refuses "${key}", a name every object inherits`, () => {
      // Own properties, as JSON.parse or a spread of user input would make them.
      const viaJson = JSON.parse(`{"${key}": 1}`);
      const viaDefine = Object.defineProperty({}, key, { value: 'x', enumerable: true });
      for (const partial of [viaJson, viaDefine]) {
        const e = refusal(partial);
        expect(e).toBeInstanceOf(AevbError);
        expect(e.message).toContain(`"${key}" is not a known setting`);
      }
    });
  }

  it('a resolved config has exactly the known settings as own keys', () => {
    expect(Object.keys(resolveConfig({}))).toEqual(Object.keys(DEFAULT_CONFIG));
  });
});
