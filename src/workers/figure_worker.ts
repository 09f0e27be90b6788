/**
 * The figure worker: a sweep's Figure 2 from the texts of its files to SVG text, off the main
 * thread (Vega-Lite compiles, Vega lays out and writes SVG). The spec is the one `npm run figures`
 * draws (src/shared/report), so the page and the CLI show the same chart. The worker, and with it
 * Vega, loads only when the user first asks for a figure.
 */
import { expose } from 'comlink';
import { figure2Rows, figure2Runs, figure2Spec, seriesKey } from '../shared/report/figure2.ts';
import { renderSvg } from '../shared/report/render.ts';
import { parseSweepJson } from '../shared/report/sweep_files.ts';

export type Figure2Result = { ok: true; svg: string; series: string[]; panels: number[]; notes: string[] } | { ok: false; message: string };

export interface FigureWorkerApi {
  figure2(sweepPath: string, sweepText: string, metrics: { dir: string; path: string; text: string }[]): Promise<Figure2Result>;
}

const api: FigureWorkerApi = {
  async figure2(sweepPath, sweepText, metrics) {
    try {
      const sweep = parseSweepJson(sweepText, sweepPath);
      const byDir = new Map(metrics.map((m) => [m.dir, m]));
      const notes: string[] = [];
      const runs = figure2Runs(
        sweep,
        (run) => {
          const m = byDir.get(run.dir);
          return m && { text: m.text, file: m.path };
        },
        (line) => notes.push(line),
      );
      const rows = figure2Rows(runs);
      if (rows.length === 0) {
        return {
          ok: false,
          message: `No run of ${sweepPath} has evaluated after training yet: there is nothing to plot. Wait for the sweep to write its first metrics.`,
        };
      }
      return {
        ok: true,
        svg: await renderSvg(figure2Spec(rows)),
        series: [...new Set(rows.map(seriesKey))],
        panels: [...new Set(rows.map((r) => r.J))].sort((a, b) => a - b),
        notes,
      };
    } catch (e) {
      // AevbErrors name the file, the line and the fix; their message is what the page shows.
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  },
};

expose(api);
