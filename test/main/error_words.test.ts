/**
 * The field table (config_fields.ts) and the two front ends that phrase the library's neutral
 * errors from it: the page (error_words.ts: a field by its label, no flag) and the CLI
 * (cli_words.ts: a field by its flag). Every error code × every field, every remedy × every
 * field, and every field's real out-of-range error.
 */
import { describe, it, expect } from 'vitest';
import { AevbError, type AevbErrorCode, type RemedyId } from '../../src/shared/errors.ts';
import { CONFIG_FIELDS, type FieldRow } from '../../src/shared/training/config_fields.ts';
import { checkField, DEFAULT_CONFIG, resolveConfig, type TrainConfig } from '../../src/shared/training/config.ts';
import { pageMessage, OWN_SETTING_LABELS } from '../../src/main/app/error_words.ts';
import { cliMessage } from '../../src/main/node/cli_words.ts';
import { HELP, parseCli } from '../../src/main/node/cli_args.ts';
import { exportSafetensors } from '../../src/shared/formats/pytorch_state.ts';
import { decodeSafetensors } from '../../src/shared/formats/safetensors.ts';
import { initialState } from '../../src/shared/training/training_state.ts';
import { OPTIMIZER_NAMES, optimizerSpec } from '../../src/shared/training/optimizers.ts';

// Records over the unions: the compiler refuses a code, remedy or field added without a line here.
const CODES: Record<AevbErrorCode, true> = {
  CONFIG: true,
  DATA: true,
  IDX: true,
  CHECKPOINT: true,
  NUMERIC: true,
  STATE: true,
  ARGUMENT: true,
  WORKER: true,
  FILE: true,
};
const REMEDIES: Record<RemedyId, true> = {
  range: true,
  'whole-range': true,
  choice: true,
  switch: true,
  'layer-widths': true,
  'layer-activations': true,
  'binarize-decoder': true,
  'wake-sleep-estimator': true,
  'smaller-model': true,
  'diverged-save': true,
  'diverged-step': true,
  'diverged-run': true,
  'same-model': true,
  'same-optimizer': true,
  'same-data': true,
  'same-value': true,
  'file-model': true,
  'file-optimizer': true,
  'gaussian-for-data': true,
  'batch-at-least': true,
  'batch-at-most': true,
  workers: true,
  'eval-schedule': true,
};
const EVERY_FIELD: Record<keyof TrainConfig, true> = {
  inputSize: true,
  hidden: true,
  latent: true,
  activation: true,
  decoder: true,
  sigmoidMean: true,
  init: true,
  algorithm: true,
  estimator: true,
  samples: true,
  batch: true,
  epochs: true,
  optimizer: true,
  lr: true,
  weightDecay: true,
  binarize: true,
  seed: true,
  evalSamples: true,
  evalElboSamples: true,
  earlyStop: true,
};

/** The raw field name as a word, case as written ("batch" in "Minibatch M" is not one). */
const rawName = (r: FieldRow) => new RegExp(`\\b${r.field}\\b`);
const FLAG = /(^|\s|\()--[a-z]/;

/** What the page says opens with the field's label, never its quoted name or a flag. */
function pageSays(e: AevbError, r: FieldRow): string {
  const said = pageMessage(e);
  expect(said.length, `${e.code}/${r.field}`).toBeGreaterThan(r.label.length + 2);
  expect(said.startsWith(`${r.label} `), said).toBe(true);
  expect(said).not.toContain(`"${r.field}"`);
  expect(said).not.toContain('Config field');
  expect(said).not.toMatch(FLAG);
  return said;
}

/** What the CLI says names the field's flag (a field without one, inputSize, by its name). */
function cliSays(e: AevbError, r: FieldRow): void {
  const said = cliMessage(e);
  expect(said).toContain(r.cli ? `--${r.cli.flag}` : `"${r.field}"`);
}

describe('every error code × every config field', () => {
  for (const code of Object.keys(CODES) as AevbErrorCode[]) {
    it(`${code}: the page names the field by its label, the CLI by its flag`, () => {
      for (const r of CONFIG_FIELDS) {
        const e = new AevbError(code, 'is not what this run needs', 'Use another value.', r.field);
        expect(pageSays(e, r)).not.toMatch(rawName(r)); // the label, not the name ("batch" in "Minibatch M" is no word)
        cliSays(e, r);
      }
    });
  }
});

describe('every remedy × every config field', () => {
  for (const id of Object.keys(REMEDIES) as RemedyId[]) {
    it(`${id}: a sentence on the page without a flag, one with a flag on the CLI`, () => {
      for (const r of CONFIG_FIELDS) {
        const e = new AevbError('CONFIG', 'is not what this run needs', 'Use another value.', r.field, { id, fields: [r.field], value: 3 });
        pageSays(e, r);
        cliSays(e, r);
        // Without a field (a checkpoint that does not match): still a sentence, still no flag on the page.
        const loose = new AevbError('CHECKPOINT', 'Cannot resume from x: something differs.', 'Use another value.', undefined, {
          id,
          fields: [r.field],
          value: 3,
        });
        expect(pageMessage(loose)).toMatch(/^Cannot resume from x: something differs\./);
        expect(pageMessage(loose)).not.toMatch(FLAG);
      }
    });
  }
});

/** A value out of each row's range (or of its type). */
function outOfRange(r: FieldRow): unknown[] {
  if (r.type === 'int') return [r.min! - 1, r.max! + 1, r.min! + 0.5];
  if (r.type === 'real') return [r.openMin ? r.min! : r.min! - 1, r.max! * 2, Number.NaN];
  if (r.type === 'enum') return ['no-such-value', 7];
  if (r.type === 'bool') return ['yes', 1];
  return r.choices ? ['no-such-value', ['tanh', 'no-such-value']] : [0, r.max! + 1, [r.max! + 1, 3]];
}

describe('the field table', () => {
  it('has a row for every TrainConfig field, in the order of DEFAULT_CONFIG, and only those', () => {
    expect(CONFIG_FIELDS.map((r) => r.field).sort()).toEqual(Object.keys(EVERY_FIELD).sort());
    expect(Object.keys(DEFAULT_CONFIG)).toEqual(CONFIG_FIELDS.map((r) => r.field));
  });

  it('its defaults pass the validator, each on its own and all together', () => {
    for (const r of CONFIG_FIELDS) if (r.type !== 'layers') expect(() => checkField(r, r.default)).not.toThrow();
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
  });

  it('every flag, address key and label is unique, and every flag is in --help and parsed', () => {
    const flags = CONFIG_FIELDS.flatMap((r) => (r.cli ? [r.cli.flag] : []));
    expect(new Set(flags).size).toBe(flags.length);
    for (const f of flags) expect(HELP).toMatch(new RegExp(`^  --${f}\\b`, 'm'));
    for (const f of ['data', 'out', 'workers', 'kernels', 'resume', 'quiet']) expect(flags).not.toContain(f); // the command's own
    const addresses = [...CONFIG_FIELDS.flatMap((r) => (r.address ? [r.address] : [])), ...Object.keys(OWN_SETTING_LABELS)];
    expect(new Set(addresses).size).toBe(addresses.length);
    const labels = [...CONFIG_FIELDS.map((r) => r.label), ...Object.values(OWN_SETTING_LABELS)];
    expect(new Set(labels).size).toBe(labels.length);
    // A row with a page control has an address key (a link carries every control).
    for (const r of CONFIG_FIELDS) if (r.page) expect(r.address, r.field).toBeDefined();
  });

  it("every row's range refuses a value outside it, naming that field, with a remedy both front ends phrase", () => {
    for (const r of CONFIG_FIELDS) {
      for (const bad of outOfRange(r)) {
        let caught: unknown;
        try {
          resolveConfig({ [r.field]: bad } as Partial<TrainConfig>);
        } catch (e) {
          caught = e;
        }
        expect(caught, `${r.field} = ${JSON.stringify(bad)}`).toBeInstanceOf(AevbError);
        const e = caught as AevbError;
        expect(e).toMatchObject({ code: 'CONFIG', field: r.field });
        expect(e.remedy, `${r.field} = ${JSON.stringify(bad)}`).toBeDefined();
        expect(e.message).not.toMatch(FLAG); // the library's own message is neutral
        pageSays(e, r);
        cliSays(e, r);
      }
    }
  });

  it("its safetensors names are the keys a model.safetensors header carries, with the config's values", () => {
    const config = resolveConfig({ inputSize: 4, hidden: 3, latent: 2, seed: 7, optimizer: 'adam' });
    const st = initialState(config);
    const bytes = exportSafetensors({
      format: 'aevb-checkpoint',
      version: 1,
      config,
      step: 0,
      samplesSeen: 0,
      params: st.params,
      optimizer: { kind: config.optimizer, slots: st.slots },
      data: { name: 'x', n: 1, d: 4, fingerprint: '' },
      createdAt: new Date(0).toISOString(),
    });
    const { metadata } = decodeSafetensors(bytes, 'x');
    const named = CONFIG_FIELDS.filter((r) => r.pytorch);
    expect(named.map((r) => r.field)).toEqual(['optimizer', 'seed']);
    for (const r of named) expect(metadata[r.pytorch!], r.field).toBe(String(config[r.field]));
    expect(JSON.parse(metadata.config)).toEqual(config); // and the config JSON names every field as the table does
  });

  it('each flag sets its field: a value within the range, or a switch to the opposite of the default', () => {
    for (const r of CONFIG_FIELDS) {
      if (!r.cli) continue;
      const argv =
        r.type === 'bool'
          ? [`--${r.cli.flag}`]
          : [
              `--${r.cli.flag}`,
              String(r.type === 'enum' ? r.choices!.find((c) => c !== r.default) : r.type === 'layers' && r.choices ? 'relu' : r.max),
            ];
      const extra = r.field === 'estimator' ? ['--algorithm', 'aevb'] : [];
      const explicit = parseCli([...argv, ...extra]).explicit as Record<string, unknown>;
      expect(explicit[r.field], r.field).not.toBeUndefined();
      expect(explicit[r.field], r.field).not.toEqual(r.default);
    }
  });
});

describe('the divergence remedies', () => {
  it('name every adaptive rule of the optimizer registry (and no other): by name on the CLI, by label on the page', () => {
    const adaptive = OPTIMIZER_NAMES.filter((k) => optimizerSpec(k).adaptive);
    const others = OPTIMIZER_NAMES.filter((k) => !optimizerSpec(k).adaptive);
    expect(adaptive.length).toBeGreaterThan(1);
    for (const id of ['diverged-step', 'diverged-run'] as const) {
      const e = new AevbError('NUMERIC', 'Training diverged.', 'Use a smaller step size.', undefined, {
        id,
        fields: ['lr', 'optimizer'],
        value: 0.1,
      });
      const cli = cliMessage(e),
        page = pageMessage(e);
      for (const k of adaptive) {
        expect(cli, id).toMatch(new RegExp(`\\b${k}\\b`));
        expect(page, id).toContain(optimizerSpec(k).label);
      }
      for (const k of others) expect(cli, id).not.toMatch(new RegExp(`\\b${k}\\b`));
      expect(cli).toContain('--optimizer');
      expect(page).not.toMatch(FLAG);
    }
    // A run that diverged with an adaptive rule is told only to lower the step size.
    const run = new AevbError('NUMERIC', 'Training diverged.', 'Use a smaller step size.', undefined, {
      id: 'diverged-run',
      fields: ['lr'],
      value: 0.1,
    });
    expect(cliMessage(run)).toMatch(/Start a new run with a smaller --lr, e\.g\. --lr 0\.1\.$/);
    expect(pageMessage(run)).toMatch(/Start a new run with a smaller "Learning rate", e\.g\. 0\.1\.$/);
  });
});
