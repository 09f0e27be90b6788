/**
 * The one argument parser of every command (train, sweep's own flags, export, variance, figures):
 * node's parseArgs, strict, with two things it lacks:
 *   - a value that starts with a dash (`--latent -Infinity`, `--seed -1`) is the flag's value, not an
 *     unknown option, so the range check can name the flag and its range in one line (parseArgs
 *     itself refuses it as "ambiguous" in three lines);
 *   - its errors become one AevbError line with the command's help as the fix.
 * And the one number reader: plain decimal or exponent form only, checked against a range.
 */
import { parseArgs } from 'node:util';
import { AevbError, configError } from '../../shared/errors.ts';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;
export type FlagValues = Record<string, string | boolean | undefined>;

/**
 * The number forms a flag accepts: plain decimal (`100`, `-3`, `0.001`) and exponent form (`1e-3`,
 * `2.5E4`). Number() alone also reads `0x10`, `0b11`, `" 5"`, `+3`, `5.`, `.5` and `''` (as 0); a
 * typo in one of those shapes would silently mean something else, so they are refused and named.
 */
const PLAIN_NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

export function parseNumber(flag: string, raw: string, integer: boolean): number {
  const v = Number(raw);
  const accepted = integer
    ? 'a whole number written in plain decimal, e.g. 100 (or 1e3)'
    : 'a number written in plain decimal or exponent form, e.g. 0.001 or 1e-3';
  if (!PLAIN_NUMBER.test(raw) || !Number.isFinite(v)) {
    throw configError(
      flag,
      `got ${JSON.stringify(raw)}, which is not ${integer ? 'a whole number' : 'a number'} in a form aevb accepts` +
        (Number.isFinite(v) && raw.trim() !== '' ? ` (Number() would read it as ${v})` : ''),
      `Pass --${flag} as ${accepted}.`,
    );
  }
  if (integer && !Number.isInteger(v)) {
    throw configError(flag, `got ${JSON.stringify(raw)}, which is not a whole number`, `Pass --${flag} as ${accepted}.`);
  }
  return v;
}

/** A number flag in [min, max] (whole if `integer`), or `fallback` when absent; one line naming the flag and its range otherwise. */
export function numberFlag(values: FlagValues, flag: string, o: { integer: boolean; min: number; max: number; fallback: number }): number;
export function numberFlag(values: FlagValues, flag: string, o: { integer: boolean; min: number; max: number }): number | undefined;
export function numberFlag(
  values: FlagValues,
  flag: string,
  o: { integer: boolean; min: number; max: number; fallback?: number },
): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return o.fallback;
  const v = parseNumber(flag, String(raw), o.integer);
  if (v < o.min || v > o.max) {
    const range = `${o.integer ? 'a whole number' : 'a number'} from ${o.min.toLocaleString('en-US')} to ${o.max.toLocaleString('en-US')}`;
    throw configError(flag, `is ${raw}; it must be ${range}`, `Pass --${flag} with ${range}.`);
  }
  return v;
}

/**
 * `--flag -3` → `--flag=-3` for every string-valued flag whose next token is not itself a flag of
 * the command, so a value that starts with a dash (a negative number, -Infinity, a dashed path)
 * reaches the flag's own check.
 */
export function joinDashedValues(argv: readonly string[], spec: FlagSpec): string[] {
  const isFlag = (a: string) => {
    if (a === '--') return true;
    if (a.startsWith('--')) return Object.hasOwn(spec, a.slice(2).split('=')[0]);
    return Object.values(spec).some((o) => o.short !== undefined && a === `-${o.short}`);
  };
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i],
      name = a.startsWith('--') && !a.includes('=') ? a.slice(2) : '';
    if (
      name &&
      Object.hasOwn(spec, name) &&
      spec[name].type === 'string' &&
      i + 1 < argv.length &&
      argv[i + 1].startsWith('-') &&
      !isFlag(argv[i + 1])
    ) {
      out.push(`${a}=${argv[++i]}`);
    } else out.push(a);
  }
  return out;
}

/** parseArgs (strict) over `spec`; its errors as one line whose fix is `npm run <command> -- --help`. */
export function parseFlags(
  argv: readonly string[],
  spec: FlagSpec,
  command: string,
  positionals = false,
): { values: FlagValues; positionals: string[] } {
  try {
    const r = parseArgs({ args: joinDashedValues(argv, spec), options: spec as never, strict: true, allowPositionals: positionals });
    return { values: r.values as FlagValues, positionals: r.positionals };
  } catch (e) {
    // parseArgs's messages run over several lines ("… is ambiguous.\nDid you forget …\nTo specify …"): the first says it.
    const first = (e as Error).message.split('\n')[0].replace(/\.$/, '');
    throw new AevbError('CONFIG', `${first}.`, `Run npm run ${command} -- --help for the flags.`);
  }
}
