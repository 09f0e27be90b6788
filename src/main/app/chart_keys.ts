/**
 * The ELBO chart by keyboard, on the focused chart (it is a Tab stop): ← → move the readout from
 * point to point (the points in view), Home/End go to the first and last, + − zoom around the point
 * read (0.8 and 1.25 of the range, in the axis's own space), Shift+← → pan by a tenth, 0 or Escape
 * show everything. The same as the mouse's hover, wheel and drag (chart_gestures.ts).
 */
import type uPlot from 'uplot';

/** What the keys need from the chart. */
export interface KeyTarget {
  plot(): uPlot;
  /** x into the axis's own space (ln x on the log axis) and back. */
  toAxis(v: number): number;
  fromAxis(v: number): number;
  zoomTo(min: number, max: number): void;
  resetZoom(): void;
}

export function wireChartKeys(c: HTMLElement, chart: KeyTarget): void {
  c.tabIndex = 0;
  c.addEventListener('keydown', (e) => {
    const u = chart.plot(),
      x = u.data[0] as number[];
    if (!x.length) return;
    const [t0, t1] = [chart.toAxis(u.scales.x.min!), chart.toAxis(u.scales.x.max!)];
    const inView = x
      .map((v, i) => [v, i] as const)
      .filter(([v]) => v >= u.scales.x.min! && v <= u.scales.x.max!)
      .map(([, i]) => i);
    const now = u.cursor.idx != null && (u.cursor.left ?? -1) >= 0 ? u.cursor.idx : null;
    const go = (i: number | undefined) => {
      if (i !== undefined) u.setCursor({ left: u.valToPos(x[i], 'x'), top: u.over.clientHeight / 2 });
    };
    const zoomAround = (f: number) => {
      const a = now !== null ? chart.toAxis(x[now]) : (t0 + t1) / 2;
      chart.zoomTo(chart.fromAxis(a + (t0 - a) * f), chart.fromAxis(a + (t1 - a) * f));
      if (now !== null) go(now);
    };
    if (e.key === 'ArrowRight' && e.shiftKey) chart.zoomTo(chart.fromAxis(t0 + (t1 - t0) / 10), chart.fromAxis(t1 + (t1 - t0) / 10));
    else if (e.key === 'ArrowLeft' && e.shiftKey) chart.zoomTo(chart.fromAxis(t0 - (t1 - t0) / 10), chart.fromAxis(t1 - (t1 - t0) / 10));
    else if (e.key === 'ArrowRight') go(now === null ? inView[0] : (inView.find((i) => i > now) ?? now));
    else if (e.key === 'ArrowLeft') go(now === null ? inView[inView.length - 1] : ([...inView].reverse().find((i) => i < now) ?? now));
    else if (e.key === 'Home') go(inView[0]);
    else if (e.key === 'End') go(inView[inView.length - 1]);
    else if (e.key === '+' || e.key === '=') zoomAround(0.8);
    else if (e.key === '-' || e.key === '_') zoomAround(1.25);
    else if (e.key === '0' || e.key === 'Escape') chart.resetZoom();
    else return;
    e.preventDefault();
  });
  c.addEventListener('blur', () => {
    if (!chart.plot().over.matches(':hover')) chart.plot().setCursor({ left: -10, top: -10 });
  });
}
