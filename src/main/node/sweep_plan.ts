/**
 * A sweep request → its runs: one per combination of the swept values (the first flag outermost),
 * each with a name built from its swept values (J3-aevb, J3-wake-sleep, …), the train flags that
 * make it (checked by train's own parser), its full config, and the request runTraining takes.
 *
 * A budget in samples (--samples N) becomes whole epochs: E = ⌈N / (⌊n/M⌋·M)⌉, where n is the
 * training set's size and ⌊n/M⌋·M the samples of one epoch (a partial last minibatch is not
 * drawn). Each run then sees E·⌊n/M⌋·M ≥ N samples; the plan says how many.
 */
import path from 'node:path';
import { resolveConfig, type TrainConfig } from '../../shared/training/config.ts';
import { CONFIG_FIELDS } from '../../shared/training/config_fields.ts';
import type { DataSplit } from '../../shared/data/dataset.ts';
import { AevbError, configError, isAevbError } from '../../shared/errors.ts';
import { parseCli, type CliRequest } from './cli_args.ts';
import { cliFix, cliProblem } from './cli_words.ts';
import { loadData } from './train_run.ts';
import { LAYER_FLAGS, trainFlagOf, type SweepRequest } from './sweep_args.ts';

export type DataLoader = (req: CliRequest, decoder: TrainConfig['decoder']) => DataSplit;

export interface PlannedRun {
  name: string;
  /** Its directory, relative to the sweep's (= name). */
  dir: string;
  /** The swept flags' values of this run (flag as the user wrote it → value). */
  values: Record<string, string>;
  /** Its flags for `npm run train --` (without --out): the same run trained alone. */
  trainArgs: string[];
  /** Parsed, with out = DIR/<dir>. */
  req: CliRequest;
  config: TrainConfig;
  /** Training samples the run will have seen at its end (epochs × the samples of an epoch). */
  totalSamples: number;
}

/** Short labels for run names, from the field table's `cli.short`: latent 3 → J3 (the paper's letters where it has them). */
const LABEL: ReadonlyMap<string, string> = new Map(
  CONFIG_FIELDS.flatMap((r) => (r.cli?.short === undefined ? [] : [[r.cli.flag, r.cli.short] as const])),
);

function label(flag: string, value: string): string {
  // A layer list (train's 512,256; relu,tanh) as H512x256 and relu-tanh.
  if (LAYER_FLAGS.has(flag)) value = value.replaceAll(',', flag === 'hidden' ? 'x' : '-');
  const short = LABEL.get(trainFlagOf(flag));
  if (short !== undefined) return `${short}${value}`;
  // A word (aevb, wake-sleep, relu, adam) names itself; a number needs its flag.
  return /^[A-Za-z]/.test(value) ? value : `${flag}${value}`;
}

/** A file-name-safe run name. */
function safe(name: string): string {
  return name.replace(/[^A-Za-z0-9._+=-]/g, '_');
}

function* product(axes: SweepRequest['axes']): Generator<Array<[string, string]>> {
  if (axes.length === 0) {
    yield [];
    return;
  }
  const [first, ...rest] = axes;
  for (const v of first.values) for (const tail of product(rest)) yield [[first.flag, v], ...tail];
}

/** One load per distinct data source and decoder: a sweep's runs share the (read-only) data. */
export function sharedLoader(load: DataLoader = loadData): DataLoader {
  const cache = new Map<string, DataSplit>();
  return (req, decoder) => {
    const key = JSON.stringify([req.data, req.labels, req.testFraction, decoder]);
    let d = cache.get(key);
    if (!d) {
      d = load(req, decoder);
      cache.set(key, d);
    }
    return d;
  };
}

/** Train's parser on one run's flags; its errors say which run they are about. */
function parseRun(argv: string[], which: string): CliRequest {
  try {
    return parseCli(argv);
  } catch (e) {
    if (!isAevbError(e) || !which) throw e;
    throw new AevbError(e.code, `In the run ${which}: ${cliProblem(e)}`, cliFix(e));
  }
}

export function planSweep(req: SweepRequest, load: DataLoader): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const combo of product(req.axes)) {
    const values = Object.fromEntries(combo);
    const name = combo.length ? safe(combo.map(([f, v]) => label(f, v)).join('-')) : 'run';
    const which = combo.map(([f, v]) => `--${f} ${v}`).join(' ');
    const args = [...req.fixed, ...combo.flatMap(([f, v]) => [`--${trainFlagOf(f)}`, v]), '--workers', String(req.workersPerRun)];
    const first = parseRun([...args, '--quiet'], which);
    const data = load(first, first.explicit.decoder ?? 'bernoulli');
    let config = resolveConfig({ ...first.explicit, inputSize: data.train.d });
    const perEpoch = Math.floor(data.train.n / config.batch) * config.batch;
    if (req.budgetSamples !== null) {
      // perEpoch = 0 (a minibatch larger than the data): the run fails at its start with train's own error.
      const epochs = perEpoch > 0 ? Math.ceil(req.budgetSamples / perEpoch) : 1;
      if (epochs > 1_000_000) {
        throw configError(
          'samples',
          `is ${req.budgetSamples}, ${epochs} epochs of ${perEpoch} samples for the run ${name}; at most 1,000,000 epochs`,
          'Pass a smaller --samples.',
        );
      }
      args.push('--epochs', String(epochs));
    }
    const dir = name;
    const run = parseRun([...args, '--quiet', '--out', path.join(req.out, dir)], which);
    config = resolveConfig({ ...run.explicit, inputSize: data.train.d });
    runs.push({ name, dir, values, trainArgs: args, req: run, config, totalSamples: config.epochs * perEpoch });
  }
  const names = new Set<string>();
  for (const r of runs) {
    if (names.has(r.name)) {
      throw new AevbError(
        'CONFIG',
        `The sweep would hold two runs named ${r.name}.`,
        'Make the listed values differ by more than punctuation.',
      );
    }
    names.add(r.name);
  }
  for (let i = 0; i < runs.length; i++) {
    for (let j = 0; j < i; j++) {
      if (!sameRun(runs[i], runs[j])) continue;
      throw new AevbError(
        'CONFIG',
        `The runs ${runs[j].name} and ${runs[i].name} would be the same run (one setting written two ways).`,
        'List each value once.',
      );
    }
  }
  return runs;
}

/** Same config and the same run options (evaluation schedule, workers, kernels, data). */
function sameRun(a: PlannedRun, b: PlannedRun): boolean {
  const opts = (r: PlannedRun) =>
    JSON.stringify([r.req.evalAt, r.req.workers, r.req.kernels, r.req.data, r.req.labels, r.req.testFraction, r.req.maxSkippedSteps]);
  return JSON.stringify(a.config) === JSON.stringify(b.config) && opts(a) === opts(b);
}

/** `npm run train -- …` for the run alone, in the sweep directory `out`. */
export function trainCommand(run: PlannedRun, out: string): string {
  const quote = (a: string) => (/^[A-Za-z0-9._+=:,/@%-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['npm', 'run', 'train', '--', ...run.trainArgs, '--out', path.join(out, run.dir)].map(quote).join(' ');
}
