/**
 * The `{ signal }` option of start, runSteps, evaluate, sample and events: checked before anything
 * runs, so a wrong value gets an AevbError ARGUMENT naming the call, never a TypeError from inside.
 */
import { argumentError } from '../shared/errors.ts';

export function checkSignalOption(options: unknown, call: string): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) {
    throw argumentError(
      `${call} was given ${options === null ? 'null' : typeof options} as its options; they must be an object such as { signal }.`,
      'Pass { signal: controller.signal } or nothing.',
    );
  }
  const { signal } = options as { signal?: unknown };
  if (signal === undefined) return undefined;
  const ok =
    typeof signal === 'object' &&
    signal !== null &&
    typeof (signal as AbortSignal).aborted === 'boolean' &&
    typeof (signal as AbortSignal).addEventListener === 'function' &&
    typeof (signal as AbortSignal).throwIfAborted === 'function';
  if (!ok) {
    throw argumentError(
      `The option "signal" of ${call} is not an AbortSignal.`,
      "Pass an AbortController's signal (or AbortSignal.timeout(ms)), or leave it out.",
    );
  }
  return signal as AbortSignal;
}
