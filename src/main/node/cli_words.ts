/**
 * The library's errors in the CLI's words. An AevbError says what is wrong (`problem`, of its
 * config `field`) and what to do in neutral words (`fix`, with a `remedy` as structure); here each
 * remedy becomes a sentence with the flags the user types, named from the field table
 * (config_fields.ts): field lr → --lr. The one place the CLI phrases a library error; every
 * command's error tail (cli_main.ts) and the sweep's per-run messages go through cliMessage.
 */
import type { AevbError, Remedy, RemedyId } from '../../shared/errors.ts';
import { CONFIG_FIELDS, fieldRow } from '../../shared/training/config_fields.ts';
import { ADAPTIVE_OPTIMIZERS, orList } from '../../shared/training/optimizers.ts';

/** `--flag` of a config field (`lr` → `--lr`); a name that is no config field is taken as a flag of the CLI's own (`workers`). */
export function flagOf(field: string): string {
  const r = fieldRow(field);
  return `--${r ? (r.cli?.flag ?? field) : field}`;
}

const NEW_RUN = 'or start a new run with --out elsewhere';

/** The flags of the fields a resumed run may change (--epochs and --eval-samples and …). */
const resumableFlags = () =>
  CONFIG_FIELDS.filter((r) => r.resumable)
    .map((r) => flagOf(r.field))
    .join(' and ');

type Phrase = (flag: string, r: Remedy) => string;

/** Each remedy as the CLI says it; `flag` is the flag of the error's field. */
const CLI_FIXES: Readonly<Record<RemedyId, Phrase>> = {
  range: (f) => `Pass ${f} with a value in that range.`,
  'whole-range': (f) => `Pass ${f} with a whole number in that range.`,
  choice: (f) => `Pass ${f} with one of those values.`,
  switch: (f) => `Pass ${f} or leave it out.`,
  'layer-widths': () => `Pass ${flagOf('hidden')} with one width (500) or a comma list, one per layer from the input on (512,256).`,
  'layer-activations': () =>
    `Pass ${flagOf('activation')} with one of ${fieldRow('activation')!.choices!.join(', ')}, or a comma list with one per hidden layer.`,
  'binarize-decoder': () =>
    `Binarisation draws binary targets for a Bernoulli decoder: use ${flagOf('decoder')} bernoulli or drop ${flagOf('binarize')}.`,
  'wake-sleep-estimator': () =>
    `Drop ${flagOf('estimator')} (or pass B) with ${flagOf('algorithm')} wake-sleep, or use ${flagOf('algorithm')} aevb.`,
  'smaller-model': () => `Pass a smaller ${flagOf('hidden')} (or ${flagOf('latent')}), or data with fewer values per datapoint.`,
  'diverged-save': () =>
    `Training diverged; the previous checkpoint is kept. Lower ${flagOf('lr')} or resume from the last good checkpoint.`,
  'diverged-step': () =>
    `Lower ${flagOf('lr')} (or use ${flagOf('optimizer')} ${orList(ADAPTIVE_OPTIMIZERS)}), or check the data for extreme values.`,
  'diverged-run': (_f, r) =>
    `Start a new run with a smaller ${flagOf('lr')}, e.g. ${flagOf('lr')} ${r.value}${r.fields?.includes('optimizer') ? ` (or use ${flagOf('optimizer')} ${orList(ADAPTIVE_OPTIMIZERS)})` : ''}.`,
  'same-model': () => `Resume with the same data size, ${flagOf('hidden')}, ${flagOf('latent')} and ${flagOf('decoder')}, ${NEW_RUN}.`,
  'same-optimizer': (_f, r) => `Resume with ${flagOf('optimizer')} ${r.value}, ${NEW_RUN}.`,
  'same-data': () => `Resume with the same --data, ${NEW_RUN}.`,
  'same-value': () => `Resume with the checkpoint's value (only ${resumableFlags()} may change on resume), ${NEW_RUN}.`,
  'file-model': () =>
    `Train with the ${flagOf('hidden')}, ${flagOf('latent')} and ${flagOf('decoder')} of the file, or save the model that matches this run.`,
  'file-optimizer': () =>
    `Train with the optimizer that wrote it (${flagOf('optimizer')}), or save the state_dict without optimizer state.`,
  'gaussian-for-data': () => `Rescale the data to [0, 1] (e.g. divide grey values by 255), or use ${flagOf('decoder')} gaussian.`,
  'batch-at-least': (_f, r) => `Use ${flagOf('batch')} ${r.value} or more, or fewer --workers.`,
  'batch-at-most': (_f, r) => `Use ${flagOf('batch')} ${r.value} or fewer.`,
  workers: () => 'Pass --workers N with N ≥ 1 (default: the number of cores).',
  'eval-schedule': (f, r) =>
    `Pass ${f} epochs (after every epoch) or e.g. ${f} log:${r.value} (a log grid of samples seen, as in Figure 2).`,
};

/** The remedies that ask for another value of the error's field: said with its flag, where it has one. */
const VALUE_REMEDIES: ReadonlySet<RemedyId> = new Set(['range', 'whole-range', 'choice', 'switch']);

/** What to do, with the flags to pass: the remedy in the CLI's words, else the library's fix. */
export function cliFix(e: AevbError): string {
  if (e.remedy === undefined) return e.fix;
  // A field with no flag (inputSize: set from the data) keeps the library's neutral fix.
  if (VALUE_REMEDIES.has(e.remedy.id) && e.field !== undefined && fieldRow(e.field) && !fieldRow(e.field)!.cli) return e.fix;
  return CLI_FIXES[e.remedy.id](flagOf(e.field ?? e.remedy.fields?.[0] ?? ''), e.remedy);
}

/**
 * What is wrong: `Config field "lr" is 0; …` as the library says it, its flag added where the fix
 * does not name it (`Config field "lr" (--lr) …`); or the problem as it is.
 */
export function cliProblem(e: AevbError): string {
  if (e.field === undefined) return e.problem;
  const flag = fieldRow(e.field)?.cli && !cliFix(e).includes(flagOf(e.field)) ? ` (${flagOf(e.field)})` : '';
  return `Config field "${e.field}"${flag} ${e.problem}.`;
}

/** The error as the CLI prints it: the problem, then the fix with the flags to pass. */
export function cliMessage(e: AevbError): string {
  return `${cliProblem(e)} ${cliFix(e)}`.trim();
}
