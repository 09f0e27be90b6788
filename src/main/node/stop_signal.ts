/**
 * A request to stop, from SIGINT (Ctrl-C) or SIGTERM (kill, a scheduler's stop). One run listens
 * to the process's signals itself; a sweep, with many runs in one process, listens once and hands
 * every run the same StopSignal (one handler per signal, however many runs: no listener pile-up,
 * and every run saves its current step).
 */
export type StopReason = 'SIGINT' | 'SIGTERM';

export class StopSignal {
  private why: StopReason | false = false;
  private readonly listeners = new Set<(r: StopReason) => void>();

  /** The first reason given, or false while no stop was asked. */
  get reason(): StopReason | false {
    return this.why;
  }

  /** Ask to stop; later calls keep the first reason. */
  stop(r: StopReason): void {
    if (this.why) return;
    this.why = r;
    for (const l of [...this.listeners]) l(r);
  }

  /** Call `fn` on the stop (now, if it was already asked). Returns a function that removes it. */
  onStop(fn: (r: StopReason) => void): () => void {
    if (this.why) {
      fn(this.why);
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}

/** SIGINT and SIGTERM stop `s` (instead of ending the process). Returns a function that removes the handlers. */
export function stopOnSignals(s: StopSignal): () => void {
  const int = () => s.stop('SIGINT'),
    term = () => s.stop('SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  return () => {
    process.off('SIGINT', int);
    process.off('SIGTERM', term);
  };
}
