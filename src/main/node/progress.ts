/**
 * A one-line progress bar on stderr (only when stderr is a terminal: logs and CI get the
 * per-epoch lines alone).
 */
export class ProgressBar {
  private lastDraw = 0;
  private readonly enabled: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    enabled = true,
  ) {
    this.enabled = enabled && Boolean(stream.isTTY);
  }

  /** Redraw at most ~10 times a second. */
  update(label: string, done: number, total: number, samplesPerSecond: number, elbo?: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    const width = 30,
      filled = Math.round((done / Math.max(total, 1)) * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = ((100 * done) / Math.max(total, 1)).toFixed(0).padStart(3);
    const rate = `${Math.round(samplesPerSecond).toLocaleString('en-US')} samples/s`;
    const e = elbo === undefined || !Number.isFinite(elbo) ? '' : `  minibatch ELBO ${elbo.toFixed(1)}`;
    this.stream.write(`\r${label} ${bar} ${pct}%  ${rate}${e}\x1b[K`);
  }

  clear(): void {
    if (this.enabled) this.stream.write('\r\x1b[K');
  }
}
