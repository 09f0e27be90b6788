/**
 * The numbers beside the chart: where the run is, how fast it goes, the two terms of the bound
 * (reconstruction E_q[log p(x|z)] and KL(q(z|x) ‖ p(z)); ELBO = reconstruction − KL), and who does
 * the work (workers, SIMD, transport). Drawn in the page's shared frames (frame.ts).
 */
import type { WorkerInfo } from '../../shared/runtime/protocol.ts';
import { h } from './dom.ts';
import { drawSoon } from './frame.ts';
import type { Run } from './run.ts';

const ROWS = [
  ['phase', 'Status'],
  ['step', 'Step'],
  ['seen', 'Samples seen'],
  ['speed', 'Speed'],
  ['minibatch', 'Minibatch ELBO'],
  ['terms', 'Recon. / KL'],
  ['train', 'Train ELBO'],
  ['test', 'Test ELBO'],
  ['testTerms', 'Test recon. / KL'],
  ['loglik', 'Test log p(x) ≥ (IS)'],
] as const;

type RowKey = (typeof ROWS)[number][0];

const PHASE_TEXT = { running: 'training', pausing: 'pausing…', paused: 'paused', done: 'done (all epochs)' } as const;

const num = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
/** "−135.52 ± 0.08": a Monte Carlo estimate with its standard error (none when S = 1 or K = 1). */
const withSe = (v: number | undefined, se: number | null | undefined) =>
  `${num(v)}${se === null || se === undefined ? '' : ` ± ${num(se)}`}`;

export class StatsPanel {
  private cells = new Map<RowKey, HTMLElement>();
  private run: Run | null = null;
  /** With workers 'auto': how many train, and what the tuner measured. */
  private readonly autoEl = h('span', { id: 'workers-auto' }, '');

  constructor(
    list: HTMLElement,
    private readonly workersEl: HTMLElement,
  ) {
    for (const [key, label] of ROWS) {
      const dd = h('dd', { id: `stat-${key}` }, '–');
      this.cells.set(key, dd);
      list.append(h('div', { className: 'stat' }, h('dt', {}, label), dd));
    }
  }

  show(run: Run | null): void {
    this.run = run;
    this.showWorkers(run);
    this.update();
  }

  /** Redraw the numbers in the page's next shared frame (frame.ts). */
  update(): void {
    drawSoon(this, () => this.render());
  }

  private set(key: RowKey, text: string, title = ''): void {
    const el = this.cells.get(key)!;
    if (el.textContent !== text) el.textContent = text;
    if (el.title !== title) el.title = title;
  }

  private render(): void {
    const run = this.run;
    if (!run) {
      for (const [key] of ROWS) this.set(key, key === 'phase' ? 'no run yet' : '–');
      return;
    }
    const t = run.trainer,
      p = run.lastProgress,
      e = run.lastEpoch,
      ev = run.evaluation;
    const spe = t.stepsPerEpoch;
    const within = Math.round(((t.step % spe) / spe) * 100);
    this.set('phase', PHASE_TEXT[run.phase]);
    this.set(
      'step',
      `${t.step.toLocaleString('en')} (epoch ${Math.floor(t.step / spe)}${within ? `.${String(within).padStart(2, '0')}` : ''} of ${t.config.epochs})`,
    );
    this.set('seen', t.samplesSeen.toLocaleString('en'));
    this.set('speed', p && run.phase === 'running' ? `${Math.round(p.samplesPerSecond).toLocaleString('en')} samples/s` : '–');
    const v = run.lastValued;
    this.set('minibatch', v ? num(v.elbo) : '–');
    this.set('terms', v ? `${num(v.recon)} / ${num(v.kl)}` : '–');
    const at = (s: number) => ` @ ${s.toLocaleString('en')}`;
    const tr = ev?.trainElbo !== undefined ? ev : e?.trainElbo !== undefined ? e : undefined;
    // S (draws of ε per datapoint) goes in the tooltip: with it, the step the value is at did not fit the column.
    const draws = (x: { elboSamples?: number; step: number } | undefined) =>
      x?.elboSamples ? `S ${x.elboSamples} draws per datapoint, at step ${x.step.toLocaleString('en')}` : '';
    this.set('train', tr ? `${withSe(tr.trainElbo, tr.trainElboSe)}${at(tr.step)}` : '–', draws(tr));
    this.set('test', ev ? `${withSe(ev.testElbo, ev.testElboSe)}${at(ev.step)}` : '–', draws(ev));
    this.set('testTerms', ev?.testRecon !== undefined ? `${num(ev.testRecon)} / ${num(ev.testKl)}` : '–');
    // The importance-sampled estimate with K samples: a stochastic lower bound on log p(x).
    const ll = ev?.logLikelihood !== undefined ? ev : run.lastEstimate;
    // K goes in the tooltip too (with it the step did not fit the column at 1366 px); the result line under the button names it.
    this.set(
      'loglik',
      ll?.logLikelihood !== undefined ? `${withSe(ll.logLikelihood, ll.logLikelihoodSe)}${at(ll.step)}` : '–',
      ll?.logLikelihood !== undefined
        ? `IS, K ${ll.logLikelihoodK} importance samples per test datapoint, at step ${ll.step.toLocaleString('en')}`
        : '',
    );
    this.workersEl.classList.toggle('busy', run.phase === 'running');
    const auto = t.autoWorkers ? autoText(t.workerChoice, t.workers, run.phase === 'running') : '';
    if (this.autoEl.textContent !== auto) this.autoEl.textContent = auto;
  }

  private showWorkers(run: Run | null): void {
    this.workersEl.replaceChildren();
    if (!run) {
      this.workersEl.textContent = 'Workers start with the run.';
      return;
    }
    const infos: WorkerInfo[] = run.trainer.workerInfo;
    const simd = infos.every((i) => i.simd);
    const transport = run.trainer.transport === 'shared' ? 'shared memory (SharedArrayBuffer)' : 'messages (no shared memory: slower)';
    this.workersEl.append(
      h('span', {}, `${infos.length} worker${infos.length === 1 ? '' : 's'} · ${kernelsText(run.trainer.kernels, simd)} · ${transport}.`),
      ' ',
      this.autoEl,
      h(
        'span',
        { className: 'chips' },
        ...infos.map((i) =>
          h(
            'span',
            { className: `chip${i.simd ? '' : ' warn'}`, title: `worker ${i.rank}: ${kernelsText(i.kernels, i.simd)}` },
            `#${i.rank} ${i.kernels === 'tfjs' ? `tfjs ${i.backend}${i.simd ? '+simd' : ''}` : i.kernels}`,
          ),
        ),
      ),
    );
  }
}

/**
 * What computes the step, in words: aevb's kernels and their build, or tfjs (asked for, wake-sleep, or an
 * engine without WebAssembly SIMD, where tfjs runs its scalar binary).
 */
export function kernelsText(kernels: WorkerInfo['kernels'], simd: boolean): string {
  if (kernels === 'aevb-relaxed') return "aevb's kernels, relaxed SIMD (fused multiply-add)";
  if (kernels === 'aevb-simd128') return "aevb's kernels, SIMD128 (this browser has no relaxed SIMD)";
  return simd ? 'TensorFlow.js, WASM SIMD' : 'TensorFlow.js without SIMD (this browser has no WebAssembly SIMD: slower)';
}

/** "auto: 2 of 4 train (samples/s: 1 → 3,100 · 2 → 5,400 · 4 → 5,000)", or that it is still measuring. */
function autoText(c: { workers: number; measured: Record<number, number> } | null, pool: number, running: boolean): string {
  if (!c)
    return running
      ? `auto: measuring which of 1…${pool} workers train fastest.`
      : `auto: which of 1…${pool} workers train fastest is measured once training runs.`;
  const rates = Object.entries(c.measured)
    .map(([n, r]) => `${n} → ${Math.round(r).toLocaleString('en')}`)
    .join(' · ');
  return `auto: ${c.workers} of ${pool} train (samples/s: ${rates}).`;
}
