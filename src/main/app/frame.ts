/**
 * Every visual update of the page goes through here: jobs are keyed (a later job for the same key
 * replaces an earlier one) and run together in one animation frame, at most every MIN_FRAME_MS,
 * with at most one heavy job (a chart redraw, a set of pictures) per frame. While the workers
 * keep every core busy, each frame the page renders costs the main thread layout, paint and commit
 * work: fewer frames, none of them overloaded, keep every task short.
 */
const MIN_FRAME_MS = 400;

interface Job {
  draw: () => void;
  heavy: boolean;
}

const jobs = new Map<unknown, Job>();
let scheduled = false;
let lastFrame = -Infinity;

function schedule(): void {
  if (scheduled || jobs.size === 0) return;
  scheduled = true;
  const wait = Math.max(0, lastFrame + MIN_FRAME_MS - performance.now());
  setTimeout(() => requestAnimationFrame(frame), wait);
}

function frame(): void {
  scheduled = false;
  lastFrame = performance.now();
  let heavyDone = false;
  for (const [key, job] of [...jobs]) {
    if (job.heavy && heavyDone) continue; // next frame
    heavyDone ||= job.heavy;
    jobs.delete(key);
    try {
      job.draw();
    } catch (e) {
      console.error('aevb: drawing failed', e);
    }
  }
  schedule();
}

/** Run `draw` in a coming shared frame (replacing any job already queued under `key`). */
export function drawSoon(key: unknown, draw: () => void, heavy = false): void {
  jobs.set(key, { draw, heavy });
  schedule();
}
