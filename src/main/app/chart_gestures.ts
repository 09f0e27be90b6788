/**
 * How the ELBO chart's x-range follows the hand, as in TensorBoard's scalar charts and on a map:
 * the wheel zooms around the pointer, Shift+drag pans, one finger pans and two fingers pinch-zoom.
 * (A plain mouse drag selects a range to zoom to: uPlot's own selection, elbo_chart.ts.)
 *
 * All of it is done in the axis's own space t(x) (ln x on the log axis, x on the linear one), where
 * a pixel is the same amount everywhere. With the plot W px wide showing [t0, t1], the value under
 * pixel p is
 *     t(p) = t0 + (p / W)·(t1 − t0),
 * so a gesture that keeps the value a (grabbed at pixel p) under the finger now at pixel q, with s
 * axis units per pixel, shows
 *     t0' = a − q·s,   t1' = t0' + W·s.
 * A pan keeps s; a pinch sets s from the fingers' distance: s = (a₂ − a₁)/(q₂ − q₁).
 */

/** What a gesture needs from the chart: its range in axis space, and a way to show another. */
export interface GestureTarget {
  /** The plot area (uPlot's .u-over). */
  readonly over: HTMLElement;
  /** [t0, t1]: the x-range now, in axis space. */
  axisRange(): [number, number];
  /** Show [t0, t1] (axis space). */
  showAxisRange(t0: number, t1: number): void;
}

/** [t0', t1'] with value `a` at pixel `q`, `s` axis units a pixel, in a plot `width` px wide (above). */
export function rangeHolding(a: number, q: number, s: number, width: number): [number, number] {
  const t0 = a - q * s;
  return [t0, t0 + width * s];
}

/** The wheel zooms around the pointer by 1.25 a notch (out) or 0.8 (in). */
function wireWheel(g: GestureTarget): void {
  g.over.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const [t0, t1] = g.axisRange(),
        w = g.over.clientWidth;
      const s = (t1 - t0) / w,
        a = t0 + e.offsetX * s;
      g.showAxisRange(...rangeHolding(a, e.offsetX, s * (e.deltaY > 0 ? 1.25 : 0.8), w));
    },
    { passive: false },
  );
}

/** Shift+drag with the mouse pans: the value grabbed stays under the pointer. */
function wireShiftDrag(g: GestureTarget): void {
  g.over.addEventListener('mousedown', (e) => {
    if (!e.shiftKey || e.button !== 0) return;
    const [t0, t1] = g.axisRange(),
      w = g.over.clientWidth;
    const s = (t1 - t0) / w,
      left = g.over.getBoundingClientRect().left;
    const a = t0 + (e.clientX - left) * s;
    const move = (m: MouseEvent) => g.showAxisRange(...rangeHolding(a, m.clientX - left, s, w));
    const up = () => {
      removeEventListener('mousemove', move);
      removeEventListener('mouseup', up);
    };
    addEventListener('mousemove', move);
    addEventListener('mouseup', up);
  });
}

/**
 * Touch: one finger pans, two pinch. Each finger keeps the value it first touched under it; when
 * the count of fingers changes, the grip starts afresh from the range shown.
 */
function wireTouch(g: GestureTarget): void {
  const fingers = new Map<number, number>(); // pointerId → x in px within the plot
  let grip: { ids: number[]; a: number[]; s: number } | null = null;
  const px = (e: PointerEvent) => e.clientX - g.over.getBoundingClientRect().left;
  const regrip = () => {
    const [t0, t1] = g.axisRange(),
      s = (t1 - t0) / g.over.clientWidth;
    const ids = [...fingers.keys()].slice(0, 2);
    grip = ids.length ? { ids, a: ids.map((id) => t0 + fingers.get(id)! * s), s } : null;
  };
  g.over.addEventListener('pointerdown', (e) => {
    if (e.pointerType !== 'touch') return;
    g.over.setPointerCapture(e.pointerId);
    fingers.set(e.pointerId, px(e));
    regrip();
  });
  g.over.addEventListener('pointermove', (e) => {
    if (e.pointerType !== 'touch' || !fingers.has(e.pointerId) || !grip) return;
    fingers.set(e.pointerId, px(e));
    const w = g.over.clientWidth,
      q = grip.ids.map((id) => fingers.get(id)!);
    if (grip.ids.length === 1) {
      g.showAxisRange(...rangeHolding(grip.a[0], q[0], grip.s, w));
      return;
    }
    if (Math.abs(q[1] - q[0]) < 10) return; // fingers too close to tell a scale
    const s = (grip.a[1] - grip.a[0]) / (q[1] - q[0]);
    if (s > 0) g.showAxisRange(...rangeHolding(grip.a[0], q[0], s, w));
  });
  const lift = (e: PointerEvent) => {
    if (!fingers.delete(e.pointerId)) return;
    regrip();
  };
  g.over.addEventListener('pointerup', lift);
  g.over.addEventListener('pointercancel', lift);
}

/** Wire every gesture to the chart. */
export function wireGestures(g: GestureTarget): void {
  // The page neither scrolls nor zooms under the fingers on the plot: they move the chart.
  g.over.style.touchAction = 'none';
  wireWheel(g);
  wireShiftDrag(g);
  wireTouch(g);
}

/** The words for the gestures of the device in hand: touch (a coarse pointer) or mouse. */
export function gestureWords(touch: boolean): string {
  return touch
    ? 'drag to pan, pinch to zoom, tap a point for its values; Reset zoom shows everything'
    : 'drag or wheel to zoom, Shift+drag to pan, hover for values, double-click for all';
}
