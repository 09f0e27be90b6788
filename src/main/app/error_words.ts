/**
 * The library's errors in the page's words. An AevbError says what is wrong (`problem`, of its
 * config `field`) and what to do in neutral words (`fix`, with a `remedy` as structure); here the
 * field becomes the label of its control and each remedy a sentence about the page's controls,
 * both from the field table (config_fields.ts). The one place the page phrases a library error.
 */
import { AevbError, type Remedy, type RemedyId } from '../../shared/errors.ts';
import { CONFIG_FIELDS, fieldRow } from '../../shared/training/config_fields.ts';
import { ADAPTIVE_OPTIMIZERS, optimizerSpec, orList } from '../../shared/training/optimizers.ts';

/** The labels of the page's settings that are not config fields (settings_form.ts builds their controls). */
export const OWN_SETTING_LABELS: Readonly<Record<'workers' | 'kernels', string>> = { workers: 'Workers', kernels: 'Kernels' };

/** How the page names a setting: its label ("lr" → "Learning rate"); a name it does not know, quoted. */
export function labelOf(field: string): string {
  return fieldRow(field)?.label ?? OWN_SETTING_LABELS[field as 'workers'] ?? `The setting "${field}"`;
}

/** A label inside a sentence: quoted, as the page writes a control's name. */
const q = (field: string) => `"${labelOf(field)}"`;

/** The optimizers to suggest when a run diverges, as the page names them ("Adagrad, Adam or RMSProp"). */
const adaptiveLabels = () => orList(ADAPTIVE_OPTIMIZERS.map((k) => optimizerSpec(k).label));

type Phrase = (r: Remedy, e: AevbError) => string;

/** Each remedy as the page says it. */
const PAGE_FIXES: Readonly<Record<RemedyId, Phrase>> = {
  range: () => 'Enter a value in that range.',
  'whole-range': () => 'Enter a whole number in that range.',
  choice: () => 'Pick one of those values.',
  switch: () => '', // a checkbox is never anything else
  'layer-widths': () => 'Enter one width (500) or a comma list, one per layer from the input on (512,256).',
  'layer-activations': () => `Enter one of ${fieldRow('activation')!.choices!.join(', ')}, or a comma list with one per hidden layer.`,
  'binarize-decoder': () =>
    `Binarisation draws binary targets for a Bernoulli decoder: choose the Bernoulli decoder or untick ${q('binarize')}.`,
  'wake-sleep-estimator': () => `Pick B as the ${q('estimator')} with wake-sleep, or AEVB as the ${q('algorithm')}.`,
  'smaller-model': () => `Enter fewer ${q('hidden')} (or a smaller ${q('latent')}), or load data with fewer values per datapoint.`,
  'diverged-save': () => `Training diverged; the previous checkpoint is kept. Lower the ${q('lr')} or load the last good checkpoint.`,
  'diverged-step': () =>
    `Lower the ${q('lr')} (or pick ${adaptiveLabels()} as the ${q('optimizer')}), or check the data for extreme values.`,
  'diverged-run': (r) =>
    `Start a new run with a smaller ${q('lr')}, e.g. ${r.value}${r.fields?.includes('optimizer') ? ` (or pick ${adaptiveLabels()} as the ${q('optimizer')})` : ''}.`,
  'same-model': () =>
    `It continues only on data of the size it was trained on, with its ${q('hidden')}, ${q('latent')} and ${q('decoder')}; or start a new run.`,
  'same-optimizer': (r) => `It continues only with the ${r.value} optimizer; or start a new run.`,
  'same-data': () => 'Load the data it was trained on first, or start a new run.',
  'same-value': (r) =>
    `It continues only with its own ${(r.fields ?? []).map(q).join(', ')} (only ${CONFIG_FIELDS.filter((f) => f.resumable)
      .map((f) => q(f.field))
      .join(', ')} may change); or start a new run.`,
  'file-model': () => `Train with the file's ${q('hidden')}, ${q('latent')} and ${q('decoder')}, or save the model that matches this run.`,
  'file-optimizer': () => `Train with the ${q('optimizer')} that wrote it, or save the state_dict without optimizer state.`,
  'gaussian-for-data': () => `Rescale the data to [0, 1] (e.g. divide grey values by 255), or pick the Gaussian ${q('decoder')}.`,
  'batch-at-least': (r) => `Enter ${r.value} or more for ${q('batch')}, or fewer ${q('workers')}.`,
  'batch-at-most': (r) => `Enter ${r.value} or fewer for ${q('batch')}.`,
  workers: () => 'Enter 1 or more workers.',
  'eval-schedule': (_r, e) => e.fix,
};

/** What to do, in terms of the page's controls: the remedy in the page's words, else the library's fix. */
export function pageFix(e: AevbError): string {
  return e.remedy === undefined ? e.fix : PAGE_FIXES[e.remedy.id](e.remedy, e);
}

/** What is wrong, with the setting named by its label: "Learning rate is 0; it must be …." */
export function pageProblem(e: AevbError): string {
  return e.field === undefined ? e.problem : `${labelOf(e.field)} ${e.problem}.`;
}

/** Any error as the page shows it: an AevbError phrased here; anything else, its message. */
export function pageMessage(e: unknown): string {
  if (e instanceof AevbError) return `${pageProblem(e)} ${pageFix(e)}`.trim();
  return e instanceof Error ? e.message : String(e);
}
