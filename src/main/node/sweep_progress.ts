/**
 * A sweep's progress: in a terminal, one live line per run (on stderr, in the style of
 * progress.ts), redrawn in place below the log lines; elsewhere (a log file, CI, --quiet) plain
 * lines only: each run's own log lines, prefixed with its name, and a line when it starts and ends.
 */
import type { RunProgress } from './train_run.ts';
import type { RunStatus } from './sweep_file.ts';

interface Line {
  status: RunStatus;
  progress?: RunProgress;
  note?: string;
}

type Stream = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number; rows?: number };

export class SweepProgress {
  private readonly lines = new Map<string, Line>();
  private readonly width: number;
  private drawn = 0;
  private lastDraw = 0;
  readonly live: boolean;

  constructor(
    names: string[],
    private readonly logStream: Stream = process.stdout,
    private readonly liveStream: Stream = process.stderr,
    live = true,
  ) {
    this.live = live && Boolean(liveStream.isTTY);
    for (const n of names) this.lines.set(n, { status: 'pending' });
    this.width = Math.max(...names.map((n) => n.length), 3);
  }

  /** A log line (a run's, prefixed by the caller, or the sweep's), above the live lines. */
  log(line: string): void {
    this.erase();
    this.logStream.write(`${line}\n`);
    this.draw(true);
  }

  status(name: string, status: RunStatus, note?: string): void {
    const l = this.lines.get(name)!;
    l.status = status;
    l.note = note;
    this.draw(true);
  }

  progress(name: string, p: RunProgress): void {
    this.lines.get(name)!.progress = p;
    this.draw(false);
  }

  /** Leave the live lines as they are (final) and stop drawing. */
  close(): void {
    this.draw(true);
    this.drawn = 0;
  }

  /** The line of one run, as shown live. */
  render(name: string): string {
    const l = this.lines.get(name)!;
    const head = `${name.padEnd(this.width)}  ${l.status.padEnd(7)}`;
    const p = l.progress;
    if (l.status === 'failed') return `${head}  ${l.note ?? ''}`;
    if (!p) return head;
    const width = 24,
      frac = p.totalSteps > 0 ? Math.min(1, p.step / p.totalSteps) : 0;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const pct = `${(100 * frac).toFixed(0).padStart(3)}%`;
    const rate = l.status === 'running' ? `  ${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s` : '';
    const elbo = p.elbo === undefined || !Number.isFinite(p.elbo) || l.status !== 'running' ? '' : `  minibatch ELBO ${p.elbo.toFixed(1)}`;
    return `${head}  ${bar} ${pct}  epoch ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs}  ${p.samplesSeen.toLocaleString('en-US')} samples${rate}${elbo}`;
  }

  /** The live block: every run, or (in a short terminal) the running ones and a count of the rest. */
  private block(): string[] {
    const names = [...this.lines.keys()];
    const room = Math.max(2, (this.liveStream.rows ?? 24) - 2);
    if (names.length <= room) return names.map((n) => this.render(n));
    const running = names.filter((n) => this.lines.get(n)!.status === 'running').slice(0, room - 1);
    const counts = new Map<RunStatus, number>();
    for (const n of names)
      if (!running.includes(n)) counts.set(this.lines.get(n)!.status, (counts.get(this.lines.get(n)!.status) ?? 0) + 1);
    const rest = [...counts].map(([s, c]) => `${c} ${s}`).join(', ');
    return [...running.map((n) => this.render(n)), `… ${names.length - running.length} more: ${rest}`];
  }

  private erase(): void {
    if (!this.live || this.drawn === 0) return;
    // To the first live line, then clear to the end of the screen.
    this.liveStream.write(`\x1b[${this.drawn}F\x1b[J`);
    this.drawn = 0;
  }

  private draw(force: boolean): void {
    if (!this.live) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const cols = Math.max(20, (this.liveStream.columns ?? 100) - 1);
    // A line longer than the terminal would wrap and throw off the count of lines to redraw.
    const text = this.block().map((l) => (l.length > cols ? `${l.slice(0, cols - 1)}…` : l));
    const up = this.drawn ? `\x1b[${this.drawn}F` : '';
    this.liveStream.write(`${up}${text.map((l) => `${l}\x1b[K\n`).join('')}\x1b[J`);
    this.drawn = text.length;
  }
}
