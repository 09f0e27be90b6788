/**
 * The model's pictures, refreshed while it trains: test digits beside their reconstructions,
 * samples from the prior, the 2-D manifold (J = 2) and the test set in latent space. A refresh
 * asks the workers (encode/decode run there, between training requests) and paints the four
 * pictures in one of the page's shared frames; refreshes are throttled and never overlap.
 */
import type { Trainer } from '../trainer.ts';
import type { Dataset } from '../../shared/data/dataset.ts';
import { drawSoon } from './frame.ts';
import { paintGrid, row, shapeOf, type Shape } from './digit_grid.ts';
import { drawLatent, fillLegend } from './latent_plot.ts';
import { LatentExplorer, type LatentExplorerElements } from './latent_explorer.ts';
import { manifoldGrid } from '../../shared/report/probit.ts';

/** At most one refresh per this many ms while training (a request for "now" skips the wait). */
const MIN_GAP_MS = 2500;
const RECON_COLS = 6,
  RECON_PAIRS = 12;
const SAMPLE_COLS = 8,
  SAMPLES = 64;
const MANIFOLD_N = 12;
/** Test datapoints encoded for the latent plot. */
const LATENT_POINTS = 1000;

export interface ExplorerElements extends Omit<LatentExplorerElements, 'latent' | 'manifold'> {
  recon: HTMLCanvasElement;
  samples: HTMLCanvasElement;
  manifold: HTMLCanvasElement;
  manifoldNote: HTMLElement;
  latent: HTMLCanvasElement;
  latentAxes: HTMLElement;
  legend: HTMLElement;
}

/** Evenly spaced rows of a dataset (the test sets are ordered by class, so this mixes classes). */
function spread(ds: Dataset, count: number): { x: Float32Array; n: number; labels?: Uint8Array } {
  const n = Math.min(count, ds.n);
  const x = new Float32Array(n * ds.d);
  const labels = ds.labels ? new Uint8Array(n) : undefined;
  for (let i = 0; i < n; i++) {
    const g = Math.floor((i * ds.n) / n);
    x.set(row(ds.x, g, ds.d), i * ds.d);
    if (labels) labels[i] = ds.labels![g];
  }
  return { x, n, labels };
}

export class Explorer {
  private test: Dataset | null = null;
  private shape: Shape = [28, 28];
  private reconSet: { x: Float32Array; n: number } = { x: new Float32Array(0), n: 0 };
  private latentSet: { x: Float32Array; n: number; labels?: Uint8Array } = { x: new Float32Array(0), n: 0 };
  private trainer: Trainer | null = null;
  private generation = 0;
  private busy = false;
  private wanted = false;
  private last = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waiters: (() => void)[] = [];
  /** Completed refreshes of the model pictures (the debug hook reports it). */
  refreshes = 0;
  /** The step the pictures show. */
  shownStep = -1;
  /** Decoding a point picked by hand (latent_explorer.ts). */
  readonly picker: LatentExplorer;

  constructor(private readonly el: ExplorerElements) {
    this.picker = new LatentExplorer(el);
  }

  /** New data: pick the digits to show and draw the originals. */
  setData(test: Dataset): void {
    this.test = test;
    this.shape = shapeOf(test);
    this.reconSet = spread(test, RECON_PAIRS);
    this.latentSet = spread(test, LATENT_POINTS);
    fillLegend(this.el.legend, this.latentSet.labels);
    this.setTrainer(null);
  }

  /** The model to draw (null: none; the model pictures are cleared). */
  setTrainer(trainer: Trainer | null): void {
    this.trainer = trainer;
    this.generation++;
    this.shownStep = -1;
    this.paintRecon(null);
    const blank = (c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      ctx.fillStyle = '#282828';
      ctx.fillRect(0, 0, c.width, c.height);
    };
    blank(this.el.samples);
    blank(this.el.manifold);
    const lctx = this.el.latent.getContext('2d')!;
    lctx.fillStyle = '#fff';
    lctx.fillRect(0, 0, this.el.latent.width, this.el.latent.height);
    this.el.latentAxes.textContent = '';
    this.el.manifoldNote.hidden = !trainer || trainer.config.latent === 2;
    this.picker.latentView = null;
    this.picker.setModel(trainer, this.test, this.shape, MANIFOLD_N);
    if (trainer) this.request(true);
  }

  /** Ask for a refresh: now (after a pause, a load) or when the throttle allows. */
  request(now = false): void {
    if (!this.trainer) return;
    this.wanted = true;
    if (now) this.last = -Infinity;
    this.pump();
  }

  /** Refresh now and resolve once the pictures are painted (before a run starts training). */
  async refreshNow(): Promise<void> {
    this.request(true);
    while (this.busy || this.wanted) await new Promise<void>((r) => this.waiters.push(r));
  }

  private pump(): void {
    if (this.busy || !this.wanted || this.timer) return;
    const wait = this.last + MIN_GAP_MS - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, wait);
      return;
    }
    this.wanted = false;
    this.busy = true;
    this.last = performance.now();
    this.refresh()
      .catch(() => undefined)
      .finally(() => {
        this.busy = false;
        this.pump();
        this.waiters.splice(0).forEach((r) => r());
      });
  }

  private paintRecon(recon: Float32Array | null): void {
    const { x, n } = this.reconSet,
      d = this.test?.d ?? 0;
    const cells: (Float32Array | null)[] = [];
    for (let band = 0; band < Math.ceil(n / RECON_COLS); band++) {
      for (let c = 0; c < RECON_COLS; c++) {
        const i = band * RECON_COLS + c;
        cells.push(i < n ? row(x, i, d) : null);
      }
      for (let c = 0; c < RECON_COLS; c++) {
        const i = band * RECON_COLS + c;
        cells.push(i < n && recon ? row(recon, i, d) : null);
      }
    }
    paintGrid(this.el.recon, cells, RECON_COLS, this.shape);
  }

  private async refresh(): Promise<void> {
    const trainer = this.trainer,
      gen = this.generation,
      test = this.test;
    if (!trainer || !test) return;
    const J = trainer.config.latent,
      d = test.d;
    const step = trainer.step;
    // Four requests to worker 0, answered between training requests, in this order.
    const [recon, samples, manifold, { mu }] = await Promise.all([
      trainer.reconstruct(this.reconSet.x, this.reconSet.n),
      trainer.sample(SAMPLES),
      J === 2 ? trainer.decode(manifoldGrid(MANIFOLD_N), MANIFOLD_N * MANIFOLD_N) : Promise.resolve(null),
      trainer.encode(this.latentSet.x, this.latentSet.n),
    ]);
    if (gen !== this.generation) return;
    // All four pictures in one frame: each rendered frame costs the page layout and paint work.
    await new Promise<void>((resolve) =>
      drawSoon(
        this,
        () => {
          resolve();
          if (gen !== this.generation) return;
          this.paintRecon(recon);
          paintGrid(
            this.el.samples,
            Array.from({ length: SAMPLES }, (_, i) => row(samples, i, d)),
            SAMPLE_COLS,
            this.shape,
          );
          if (manifold)
            paintGrid(
              this.el.manifold,
              Array.from({ length: MANIFOLD_N * MANIFOLD_N }, (_, i) => row(manifold, i, d)),
              MANIFOLD_N,
              this.shape,
            );
          const { axes, view } = drawLatent(this.el.latent, mu, this.latentSet.n, J, this.latentSet.labels);
          this.picker.latentView = view;
          if (this.el.latentAxes.textContent !== axes) this.el.latentAxes.textContent = axes;
          this.shownStep = step;
          this.refreshes++;
        },
        true,
      ),
    );
    if (gen === this.generation) this.picker.refresh();
  }
}
