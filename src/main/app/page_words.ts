/**
 * The library's errors say what to do in the CLI's words ("Pass --lr with a value in that range.",
 * "Checkpoint the checkpoint is …", "start a new run with --out elsewhere"). The page shows them in
 * its own: the setting's label for its field, the control to use for the flag. The problem part
 * of a message is kept word for word; only the CLI wording is rephrased.
 */
const REWRITES: readonly [RegExp, string][] = [
  [/Pass --workers N with N ≥ 1 \(default: the number of cores\)\./, 'Enter 1 or more workers.'],
  [/Pass --[\w-]+ with a whole number in that range\./, 'Enter a whole number in that range.'],
  [/Pass --[\w-]+ with a value in that range\./, 'Enter a value in that range.'],
  [/Pass --[\w-]+ with one of those values\./, 'Pick one of those values.'],
  [/ ?Pass --[\w-]+ or leave it out\./, ''],
  [/use --decoder bernoulli or drop --binarize\./, 'choose the Bernoulli decoder or untick "Binarise each minibatch".'],
  [/Resume with the same --data, or start a new run with --out elsewhere\./, 'Load the data it was trained on first, or start a new run.'],
  [
    /Resume with the same data size, --hidden, --latent and --decoder, or start a new run with --out elsewhere\./,
    'Load data of the size it was trained on, or start a new run.',
  ],
  [
    /Resume with --optimizer (\w+), or start a new run with --out elsewhere\./,
    'It continues only with the $1 optimizer; or start a new run.',
  ],
  [/, or start a new run with --out elsewhere\./, ', or start a new run.'],
  [/^Checkpoint the checkpoint /, 'This checkpoint '],
  [/^Cannot resume from the checkpoint: /, 'This checkpoint cannot continue here: '],
  [/resume from another copy or start a new run/, 'load another copy or start a new run'],
  [/resume from an earlier checkpoint/, 'load an earlier checkpoint'],
];

/** `message` in the page's words; `label` names a setting (e.g. "lr" → "Learning rate"). */
export function inPageWords(message: string, label: (field: string) => string | undefined = () => undefined): string {
  let out = message.replace(/Config field "(\w+)"/g, (_m, f: string) => label(f) ?? `The setting "${f}"`);
  for (const [re, to] of REWRITES) out = out.replace(re, to);
  return out.trim();
}
