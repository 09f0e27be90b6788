/**
 * Exploring the decoder by hand: pick a latent point z and see p(x|z)'s mean at once. A point comes
 * from a click in the latent scatter (its axes are μ₁, μ₂), a click in the 2-D manifold (the
 * inverse-CDF grid of the paper's Figure 4, read continuously: z = Φ⁻¹ of the clicked position),
 * one slider per latent dimension (the first MAX_SLIDERS), or the interpolation
 *     z(t) = (1 − t)·μ(x_a) + t·μ(x_b)
 * between the encoder means of two test digits (a strip of STRIP steps and a slider for t).
 * Decodes go to worker 0 between training requests; while one is out, only the latest z waits.
 */
import type { Dataset } from '../../shared/data/dataset.ts';
import type { Trainer } from '../trainer.ts';
import { h } from './dom.ts';
import { paintGrid, row, type Shape } from './digit_grid.ts';
import { probit } from '../../shared/report/probit.ts';

const MAX_SLIDERS = 6;
const SLIDER_RANGE = 3;
const STRIP = 10;

export interface LatentExplorerElements {
  latent: HTMLCanvasElement;
  manifold: HTMLCanvasElement;
  decoded: HTMLCanvasElement;
  sliders: HTMLElement;
  from: HTMLInputElement;
  to: HTMLInputElement;
  t: HTMLInputElement;
  strip: HTMLCanvasElement;
}

export class LatentExplorer {
  private trainer: Trainer | null = null;
  private test: Dataset | null = null;
  private shape: Shape = [28, 28];
  /** The latent scatter's view, [μ₁ lo, μ₁ hi, μ₂ lo, μ₂ hi] (latent_plot.ts). */
  latentView: [number, number, number, number] | null = null;
  /** The z shown (or about to be), and the decoded mean shown with it. */
  z = new Float32Array(0);
  shownZ = new Float32Array(0);
  decoded: Float32Array | null = null;
  /** Completed decodes (the debug hook reports it). */
  decodes = 0;
  private inFlight = false;
  private wanted = false;
  private ends: { a: Float32Array; b: Float32Array } | null = null;
  private manifoldN = 12;
  /** What chose the z shown: a point (click, slider) or the interpolation (which follows new ends). */
  private mode: 'point' | 'interp' = 'point';
  /**
   * The decoded z also shows where it was picked: a small picture in the corner of the tapped plot
   * (on a phone the Explore z panel is a screen or more away from the plots). Null: not picked by a tap.
   */
  private tapped: HTMLCanvasElement | null = null;
  private readonly tapResults = new Map<HTMLCanvasElement, HTMLCanvasElement>();

  constructor(private readonly el: LatentExplorerElements) {
    for (const plot of [el.latent, el.manifold]) {
      const c = Object.assign(document.createElement('canvas'), { className: 'tap-result', width: 28, height: 28, hidden: true });
      c.id = `${plot.id}-tap-result`;
      c.setAttribute('role', 'img');
      c.setAttribute('aria-label', 'The decoded picked z');
      plot.after(c);
      this.tapResults.set(plot, c);
    }
    el.latent.addEventListener('click', (e) => {
      this.tapped = el.latent;
      this.clickLatent(e);
    });
    el.manifold.addEventListener('click', (e) => {
      this.tapped = el.manifold;
      this.clickManifold(e);
    });
    el.t.addEventListener('input', () => {
      this.mode = 'interp';
      this.untapped();
      this.interpolate();
    });
    for (const box of [el.from, el.to])
      box.addEventListener('input', () => {
        this.mode = 'interp';
        void this.encodeEnds();
      });
  }

  /** The model and data to explore (null: none; the controls are disabled). */
  setModel(trainer: Trainer | null, test: Dataset | null, shape: Shape, manifoldN: number): void {
    this.trainer = trainer;
    this.test = test;
    this.shape = shape;
    this.manifoldN = manifoldN;
    this.ends = null;
    const J = trainer?.config.latent ?? 0;
    this.z = new Float32Array(J);
    this.decoded = null;
    this.el.sliders.replaceChildren(
      ...Array.from({ length: Math.min(J, MAX_SLIDERS) }, (_, j) => {
        const s = h('input', {
          type: 'range',
          id: `z-slider-${j}`,
          min: String(-SLIDER_RANGE),
          max: String(SLIDER_RANGE),
          step: '0.01',
          value: '0',
        });
        s.addEventListener('input', () => {
          this.mode = 'point';
          this.untapped();
          this.z[j] = s.valueAsNumber;
          this.show();
        });
        return h('label', { className: 'z-slider', htmlFor: s.id }, `z${j + 1}`, s);
      }),
    );
    if (J > MAX_SLIDERS)
      this.el.sliders.append(h('span', { className: 'hint' }, `z${MAX_SLIDERS + 1}…z${J} stay at the picked value (0 at first).`));
    for (const c of [this.el.from, this.el.to, this.el.t]) c.disabled = !trainer;
    if (test) {
      this.el.from.max = this.el.to.max = String(test.n - 1);
      if (Number(this.el.to.value) === 1 || Number(this.el.to.value) >= test.n) this.el.to.value = String(Math.floor(test.n / 2));
    }
    this.blank();
    if (trainer) {
      this.show();
      void this.encodeEnds();
    }
  }

  /** The model has trained on: decode the picked z (or the interpolation's, from the new encoder) and the strip again. */
  refresh(): void {
    if (!this.trainer) return;
    if (this.mode === 'point') this.show();
    void this.encodeEnds();
  }

  private blank(): void {
    for (const c of [this.el.decoded, this.el.strip]) {
      const ctx = c.getContext('2d')!;
      ctx.fillStyle = '#282828';
      ctx.fillRect(0, 0, c.width, c.height);
    }
  }

  /** Show the decoder's mean at z (a copy is taken). */
  pick(z: ArrayLike<number>): void {
    this.z.set(Array.from(z).slice(0, this.z.length));
    this.el.sliders.querySelectorAll<HTMLInputElement>('input').forEach((s, j) => {
      s.value = String(this.z[j]);
    });
    this.show();
  }

  private clickLatent(e: MouseEvent): void {
    const v = this.latentView;
    if (!this.trainer || !v) return;
    const r = this.el.latent.getBoundingClientRect();
    const fx = (e.clientX - r.left) / r.width,
      fy = (e.clientY - r.top) / r.height;
    const z = Float32Array.from(this.z);
    z[0] = v[0] + fx * (v[1] - v[0]);
    if (z.length > 1) z[1] = v[3] - fy * (v[3] - v[2]); // up is larger
    this.mode = 'point';
    this.pick(z);
  }

  private clickManifold(e: MouseEvent): void {
    if (!this.trainer || this.z.length !== 2) return;
    const r = this.el.manifold.getBoundingClientRect(),
      n = this.manifoldN;
    this.mode = 'point';
    // Cell c's centre is at p = (c + 1)/(n + 1) (probit.ts manifoldGrid); read between the centres too.
    const p = (f: number) => Math.min(1 - 1e-6, Math.max(1e-6, (f * n + 0.5) / (n + 1)));
    this.pick([probit(p((e.clientX - r.left) / r.width)), probit(1 - p((e.clientY - r.top) / r.height))]);
  }

  /** The encoder means of the two chosen test digits, and the strip between them. */
  private async encodeEnds(): Promise<void> {
    const trainer = this.trainer,
      test = this.test;
    if (!trainer || !test) return;
    const pickIndex = (box: HTMLInputElement) => Math.min(test.n - 1, Math.max(0, Math.round(box.valueAsNumber) || 0));
    const ia = pickIndex(this.el.from),
      ib = pickIndex(this.el.to);
    const x = new Float32Array(2 * test.d);
    x.set(row(test.x, ia, test.d), 0);
    x.set(row(test.x, ib, test.d), test.d);
    const { mu } = await trainer.encode(x, 2);
    if (trainer !== this.trainer) return;
    const J = trainer.config.latent;
    this.ends = { a: mu.slice(0, J), b: mu.slice(J, 2 * J) };
    const zs = new Float32Array(STRIP * J);
    for (let s = 0; s < STRIP; s++) zs.set(this.lerp(s / (STRIP - 1)), s * J);
    const imgs = await trainer.decode(zs, STRIP);
    if (trainer !== this.trainer) return;
    paintGrid(
      this.el.strip,
      Array.from({ length: STRIP }, (_, s) => row(imgs, s, test.d)),
      STRIP,
      this.shape,
    );
    if (this.mode === 'interp') this.interpolate();
  }

  /** A pick that was not a tap on a plot (a slider, the interpolation): the corner pictures go. */
  untapped(): void {
    this.tapped = null;
    for (const c of this.tapResults.values()) c.hidden = true;
  }

  private lerp(t: number): Float32Array {
    const { a, b } = this.ends!;
    return a.map((v, j) => (1 - t) * v + t * b[j]);
  }

  private interpolate(): void {
    if (this.ends) this.pick(this.lerp(this.el.t.valueAsNumber));
  }

  /** Decode the current z now, or as soon as the decode in flight returns. */
  private show(): void {
    this.wanted = true;
    if (this.inFlight || !this.trainer) return;
    const trainer = this.trainer;
    this.wanted = false;
    this.inFlight = true;
    const z = Float32Array.from(this.z);
    trainer
      .decode(z, 1)
      .then(
        (img) => {
          if (trainer !== this.trainer) return;
          paintGrid(this.el.decoded, [img], 1, this.shape);
          for (const [plot, c] of this.tapResults) {
            c.hidden = plot !== this.tapped;
            if (plot === this.tapped) {
              c.width = this.shape[1];
              c.height = this.shape[0];
              paintGrid(c, [img], 1, this.shape);
            }
          }
          this.decoded = img;
          this.shownZ = z;
          this.decodes++;
        },
        () => undefined,
      )
      .finally(() => {
        this.inFlight = false;
        if (this.wanted) this.show();
      });
  }
}
