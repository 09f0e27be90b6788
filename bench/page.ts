/**
 * The page while it trains (`npm run bench -- --page`): how long the main thread's tasks are and how
 * often the page renders a frame, which is what a user feels. This is a measurement, not a test: on
 * a machine busy with other work every number grows, so the numbers live here and in BENCHMARKS.md,
 * and `npm test` only checks bounds that load cannot break (the chart's redraw cap).
 *
 * The app (index.html, vite dev server with COOP/COEP) in Chromium at 1366×768 trains the page's
 * defaults (H 500, J 2, M 100, 2 workers) on the embedded digits; after the first epoch the
 * benchmark records for AEVB_BENCH_PAGE_SECONDS (default 30) s of training:
 *   - long tasks: the browser's own 'longtask' entries (> 50 ms) that overlapped training
 *     (window.aevbApp.longTasks), their count, longest and total;
 *   - frames: the intervals between requestAnimationFrame callbacks of a loop that asks for every
 *     frame, as a user scrolling or hovering the chart does (16.7 ms at 60 Hz when nothing blocks;
 *     the page's own redraws come at most every 400 ms, frame.ts);
 *   - event-loop delay: a 100 ms timer's lateness (how long an input event would wait).
 * The machine's load average is printed beside them.
 */
import os from 'node:os';
import fs from 'node:fs';
import { startServer, launchChromium } from '../test/helpers/browser.ts';

const seconds = Number(process.env.AEVB_BENCH_PAGE_SECONDS ?? 30);
const pct = (a: number[], p: number) => (a.length ? [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : '–');

interface AppState {
  ready: boolean;
  phase: string;
  epochs: unknown[];
  step: number;
  samplesSeen: number;
  longTasks: { supported: boolean; duringTraining: { start: number; duration: number }[] };
}
interface Probe {
  frames: number[];
  lags: number[];
  stop: boolean;
}

/**
 * Installed in the page (as source text: tsx would wrap named functions in a helper the page lacks):
 * a requestAnimationFrame loop recording each frame's interval, and a 100 ms timer recording its lateness.
 */
const PROBE = `(() => {
  const probe = { frames: [], lags: [], stop: false };
  globalThis.aevbBenchProbe = probe;
  let last = performance.now();
  const frame = (t) => { probe.frames.push(t - last); last = t; if (!probe.stop) requestAnimationFrame(frame); };
  requestAnimationFrame((t) => { last = t; requestAnimationFrame(frame); });
  const tick = (due) => setTimeout(() => { probe.lags.push(performance.now() - due); if (!probe.stop) tick(performance.now() + 100); }, 100);
  tick(performance.now() + 100);
  return performance.now();
})()`;

const { server, url } = await startServer();
const browser = await launchChromium();
try {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 768 } })).newPage();
  const state = () =>
    page.evaluate(() => {
      const a = (globalThis as unknown as { aevbApp: AppState }).aevbApp;
      return { ready: a.ready, phase: a.phase, epochs: a.epochs.length, step: a.step, samplesSeen: a.samplesSeen, longTasks: a.longTasks };
    });
  const until = async (ok: (s: Awaited<ReturnType<typeof state>>) => boolean) => {
    for (;;) {
      const s = await state();
      if (ok(s)) return s;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await page.goto(url);
  await until((s) => s.ready);
  await page.fill('#setting-workers', '2');
  await page.fill('#setting-epochs', '1000');
  await page.click('#start');
  await until((s) => s.phase === 'running' && s.epochs >= 1);

  // From here on: frames, event-loop delay and long tasks, for `seconds` of training.
  const t0 = (await page.evaluate(PROBE)) as number;
  const first = await state();
  const load = os.loadavg()[0];
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const probe = await page.evaluate(() => {
    const p = (globalThis as unknown as { aevbBenchProbe: Probe }).aevbBenchProbe;
    p.stop = true;
    return p;
  });
  const last = await state();
  const tasks = last.longTasks.duringTraining.filter((t) => t.start + t.duration >= t0);
  const durations = tasks.map((t) => t.duration);
  const rate = (last.samplesSeen - first.samplesSeen) / seconds;
  const rows = {
    seconds,
    samplesPerSecond: Math.round(rate),
    epochs: last.epochs - first.epochs,
    loadAverageAtStart: load,
    loadAverageAtEnd: os.loadavg()[0],
    longTasks: {
      supported: last.longTasks.supported,
      count: tasks.length,
      maxMs: Math.max(0, ...durations),
      totalMs: durations.reduce((s, d) => s + d, 0),
    },
    frameMs: { count: probe.frames.length, median: pct(probe.frames, 0.5), p95: pct(probe.frames, 0.95), max: Math.max(...probe.frames) },
    eventLoopDelayMs: { median: pct(probe.lags, 0.5), p95: pct(probe.lags, 0.95), max: Math.max(...probe.lags) },
  };
  console.log(
    `\nThe page while training: ${seconds} s after the first epoch, H 500 J 2 M 100, 2 workers, 1366×768 — ${os.cpus()[0]?.model}, ${os.availableParallelism()} cores, load average ${load.toFixed(2)} → ${rows.loadAverageAtEnd.toFixed(2)}`,
  );
  console.log('| measure | value |');
  console.log('|---|---|');
  console.log(`| training | ${rows.samplesPerSecond} samples/s, ${rows.epochs} epochs |`);
  console.log(
    `| long tasks (> 50 ms) during training | ${rows.longTasks.count}${rows.longTasks.count ? `, longest ${ms(rows.longTasks.maxMs)} ms, ${ms(rows.longTasks.totalMs)} ms in all` : ''} |`,
  );
  console.log(
    `| frame interval (rAF), median / p95 / max | ${ms(rows.frameMs.median)} / ${ms(rows.frameMs.p95)} / ${ms(rows.frameMs.max)} ms over ${rows.frameMs.count} frames |`,
  );
  console.log(
    `| event-loop delay (100 ms timer), median / p95 / max | ${ms(rows.eventLoopDelayMs.median)} / ${ms(rows.eventLoopDelayMs.p95)} / ${ms(rows.eventLoopDelayMs.max)} ms |`,
  );
  if (process.env.AEVB_BENCH_JSON) fs.writeFileSync(process.env.AEVB_BENCH_JSON, JSON.stringify(rows, null, 2));
} finally {
  await browser.close();
  await server.close();
}
