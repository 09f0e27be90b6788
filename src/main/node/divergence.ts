/**
 * The CLI's divergence stop. A step whose gradient is not finite is skipped (the model is left as
 * it was), which rides out a rare bad minibatch; but when the parameters themselves have been driven
 * where every gradient overflows (too large a step size), every later step is skipped too and the
 * run would go on for ever, learning nothing. After `limit` consecutive skipped steps the run stops.
 *
 * It listens to the trainer's `failure` events (kind 'non-finite'); a worker's death is not a
 * numeric problem and neither counts nor breaks the streak. Kept apart so it can later defer to
 * the library's own bound once the trainer has one.
 */
import type { PoolFailure } from '../pool/pool.ts';
import type { TrainConfig } from '../../shared/training/config.ts';
import { numericError, type AevbError } from '../../shared/errors.ts';

export const DEFAULT_MAX_SKIPPED_STEPS = 50;

export class DivergenceGuard {
  private streak = 0;
  private lastStep = -2;
  private firstStep = -1;
  /** Set once the bound is reached: the error to report. */
  tripped: { step: number; firstStep: number; cause: string } | null = null;

  constructor(readonly limit: number = DEFAULT_MAX_SKIPPED_STEPS) {}

  /** Feed one failure; returns true when the run must stop (the first time the bound is reached). */
  onFailure(f: PoolFailure): boolean {
    if (f.kind !== 'non-finite' || this.tripped) return false;
    if (f.step === this.lastStep) return false; // the same step reported again (a retry)
    if (f.step === this.lastStep + 1) this.streak++;
    else {
      this.streak = 1;
      this.firstStep = f.step;
    }
    this.lastStep = f.step;
    if (this.streak < this.limit) return false;
    this.tripped = { step: f.step, firstStep: this.firstStep, cause: f.cause };
    return true;
  }

  /** The one line the CLI prints: the step, the likely cause, the fix; and what was kept. */
  error(cfg: TrainConfig, kept: string): AevbError {
    const t = this.tripped!;
    const smaller = Number((cfg.lr / 10).toPrecision(2));
    return numericError(
      `Training diverged: steps ${t.firstStep} to ${t.step} (${this.limit} in a row) had a gradient that is not finite (NaN or Inf) ` +
        `and were skipped; the likely cause is too large a step size (--optimizer ${cfg.optimizer} --lr ${cfg.lr}). ${kept}`,
      `Start a new run with a smaller --lr, e.g. --lr ${smaller}.`,
    );
  }
}
