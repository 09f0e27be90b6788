/**
 * What a loaded training state must satisfy to be trained on, beyond being finite: checked on
 * every load, of a checkpoint.aevb (checkpoint.ts) and of a model.safetensors (pytorch_state.ts),
 * so that a state that cannot train is refused in one line instead of skipping every step and
 * saving a run that never moves.
 *
 *   a slot that holds a sum or a mean of squares (nonNegative in optimizers.ts: Adagrad's G = Σ g²,
 *            Adam's v) is ≥ 0: the step divides by its √, and √ of a negative value is NaN, every
 *            step skipped.
 *   step     < 2³²: the training noise is keyed by the step as one 32-bit counter word (rng.ts), so
 *            past it the draws would repeat; and samples seen a safe integer.
 */
import type { Checkpoint } from '../formats/checkpoint.ts';
import { checkpointError } from '../errors.ts';
import { isOptimizerKind, optimizerSpec } from './optimizers.ts';

/** The largest step a state may hold: the ε of step s is keyed by s as a uint32 counter word. */
export const MAX_STEP = 2 ** 32 - 1;

/** The slots of a rule that hold sums or means of squares, with what they are and their names in files. */
function nonNegativeSlots(kind: string): Array<[number, string]> {
  if (!isOptimizerKind(kind)) return [];
  const { label, slots } = optimizerSpec(kind);
  return slots.flatMap(
    (s, k): Array<[number, string]> =>
      s.nonNegative ? [[k, `the ${label} ${s.what} (optimizer.${s.name} in checkpoint.aevb; optimizer.${s.torch}.* in safetensors)`]] : [],
  );
}

/** `c`, or a CHECKPOINT error naming `source`, the value and the fix where it cannot be trained on. */
export function checkTrainableState(c: Checkpoint, source: string): Checkpoint {
  if (!Number.isSafeInteger(c.step) || c.step < 0 || c.step > MAX_STEP) {
    throw checkpointError(
      `${source} is at step ${c.step}; a run can reach at most step ${MAX_STEP.toLocaleString('en-US')} (2^32 − 1).`,
      'The file is damaged or was written by hand: fix its step, or export the model again.',
    );
  }
  if (!Number.isSafeInteger(c.samplesSeen) || c.samplesSeen < 0) {
    throw checkpointError(`${source} has seen ${c.samplesSeen} samples; that must be a whole number ≥ 0.`, 'Export the model again.');
  }
  for (const [slot, what] of nonNegativeSlots(c.optimizer.kind)) {
    const v = c.optimizer.slots[slot];
    if (!v) continue;
    for (let i = 0; i < v.length; i++) {
      if (v[i] >= 0) continue;
      throw checkpointError(
        `${source} holds ${what} of ${v[i]} at parameter ${i}; it is a sum of squares and cannot be negative, and training from it would skip every step.`,
        'Export the optimizer state again, or leave it out of the file (a fresh state: zeros).',
      );
    }
  }
  return c;
}
