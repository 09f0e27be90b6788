/**
 * The numbers beside the chart: where the run is, how fast it goes, the two terms of the bound
 * (reconstruction E_q[log p(x|z)] and KL(q(z|x) ‖ p(z)); ELBO = reconstruction − KL), and who does
 * the work (workers, SIMD, transport). Rendered in an animation frame, at most four times a second.
 */
import type { WorkerInfo } from '../../shared/protocol.ts';
import { h } from './dom.ts';
import type { Run } from './run.ts';

const ROWS = [
  ['phase', 'Status'],
  ['step', 'Step'],
  ['seen', 'Samples seen'],
  ['speed', 'Speed'],
  ['minibatch', 'Minibatch ELBO'],
  ['terms', 'Reconstruction / KL'],
  ['train', 'Training-set ELBO'],
  ['test', 'Test-set ELBO'],
  ['testTerms', 'Test reconstruction / KL'],
  ['loglik', 'Test log p(x)'],
] as const;

type RowKey = (typeof ROWS)[number][0];

const MIN_RENDER_MS = 250;

const PHASE_TEXT = { running: 'training', pausing: 'pausing…', paused: 'paused', done: 'done (all epochs)' } as const;

const num = (v: number | undefined, digits = 2) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export class StatsPanel {
  private cells = new Map<RowKey, HTMLElement>();
  private pending = false;
  private lastRender = -Infinity;
  private run: Run | null = null;

  constructor(list: HTMLElement, private readonly workersEl: HTMLElement) {
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

  /** Schedule a redraw of the numbers: coalesced, in an animation frame, at most every MIN_RENDER_MS. */
  update(): void {
    if (this.pending) return;
    this.pending = true;
    const wait = Math.max(0, this.lastRender + MIN_RENDER_MS - performance.now());
    setTimeout(() => requestAnimationFrame(() => { this.pending = false; this.lastRender = performance.now(); this.render(); }), wait);
  }

  private set(key: RowKey, text: string): void {
    const el = this.cells.get(key)!;
    if (el.textContent !== text) el.textContent = text;
  }

  private render(): void {
    const run = this.run;
    if (!run) { for (const [key] of ROWS) this.set(key, key === 'phase' ? 'no run yet' : '–'); return; }
    const t = run.trainer, p = run.lastProgress, e = run.lastEpoch, ev = run.evaluation;
    const spe = t.stepsPerEpoch;
    const within = Math.round(((t.step % spe) / spe) * 100);
    this.set('phase', PHASE_TEXT[run.phase]);
    this.set('step', `${t.step.toLocaleString('en')} · epoch ${Math.floor(t.step / spe)} of ${t.config.epochs}${within ? ` (+${within} %)` : ''}`);
    this.set('seen', t.samplesSeen.toLocaleString('en'));
    this.set('speed', p && run.phase === 'running' ? `${Math.round(p.samplesPerSecond).toLocaleString('en')} samples/s` : '–');
    this.set('minibatch', p?.elbo !== undefined ? `${num(p.elbo)} nats` : '–');
    this.set('terms', p?.recon !== undefined ? `${num(p.recon)} / ${num(p.kl)}` : '–');
    const at = (s: number) => ` (step ${s.toLocaleString('en')})`;
    const tr = ev?.trainElbo !== undefined ? ev : e?.trainElbo !== undefined ? e : undefined;
    this.set('train', tr ? `${num(tr.trainElbo)}${at(tr.step)}` : '–');
    this.set('test', ev ? `${num(ev.testElbo)}${at(ev.step)}` : '–');
    this.set('testTerms', ev?.testRecon !== undefined ? `${num(ev.testRecon)} / ${num(ev.testKl)}` : '–');
    this.set('loglik', ev?.logLikelihood !== undefined ? `${num(ev.logLikelihood)} nats (K = ${ev.samples})${at(ev.step)}` : '–');
    this.workersEl.classList.toggle('busy', run.phase === 'running');
  }

  private showWorkers(run: Run | null): void {
    this.workersEl.replaceChildren();
    if (!run) { this.workersEl.textContent = 'Workers start with the run.'; return; }
    const infos: WorkerInfo[] = run.trainer.workerInfo;
    const simd = infos.every((i) => i.simd);
    const transport = run.trainer.transport === 'shared' ? 'shared memory (SharedArrayBuffer)' : 'messages (no shared memory: slower)';
    this.workersEl.append(
      h('span', {}, `${infos.length} worker${infos.length === 1 ? '' : 's'} · ${simd ? 'WASM SIMD in every worker' : 'some workers without SIMD'} · ${transport}`),
      h('span', { className: 'chips' }, ...infos.map((i) =>
        h('span', { className: `chip${i.simd ? '' : ' warn'}`, title: `worker ${i.rank}: ${i.backend}${i.simd ? ' with SIMD' : ' without SIMD'}` },
          `#${i.rank} ${i.backend}${i.simd ? '+simd' : ''}`))),
    );
  }
}
