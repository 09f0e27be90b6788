/**
 * `npm run figures -- DIR`: the paper's figures from a sweep directory (docs/figures.md), each as
 * SVG (Vega, from the Vega-Lite specs of src/shared/report) and PNG (that SVG rasterised by resvg).
 *
 *   figure2  lower bound against training samples evaluated, AEVB and wake-sleep, one panel per J
 *            (every run's metrics.jsonl)
 *   figure4  the learned 2-D manifold: decoder means at z on a grid of Gaussian quantiles (J = 2 runs)
 *   figure5  decoder means at z ~ N(0, I) for the runs with J = 2, 5, 10, 20
 *   variance gradient variance of estimators A and B (DIR/variance.json, from npm run variance)
 *
 * A figure whose inputs are not there (no J = 2 run, no variance.json, a run not started) is
 * skipped with a line saying so; a malformed file stops with an error naming it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import * as tf from '@tensorflow/tfjs-core';
import { fileError } from '../../shared/errors.ts';
import { ALGORITHM_LABEL, figure2Rows, figure2Runs, figure2Spec, seriesKey } from '../../shared/report/figure2.ts';
import { imagePanelsSpec, tileImages, type ImagePanel } from '../../shared/report/image_grid.ts';
import { renderSvg, type TopLevelSpec } from '../../shared/report/render.ts';
import { parseSweepJson, parseVarianceJson, type SweepRun } from '../../shared/report/sweep_files.ts';
import { varianceRows, varianceSpec } from '../../shared/report/variance_figure.ts';
import { CounterRng, Stream } from '../../shared/training/rng.ts';
import { manifoldGrid } from '../../shared/report/probit.ts';
import { writeFileAtomic } from './checkpoint_files.ts';
import { decoderMeans, loadRunDecoder, type RunDecoder } from './figure_models.ts';
import { makeDirs } from './dirs.ts';
import { readTextBounded } from './read_file.ts';
import { METRICS_FILE } from './run_dir.ts';
import { setupNodeBackend } from './tfjs_node.ts';

export const SWEEP_FILE = 'sweep.json';
export const VARIANCE_FILE = 'variance.json';
/** The latent sizes of the paper's Figure 5. */
export const FIGURE5_LATENTS = [2, 5, 10, 20] as const;
export const GAUSSIAN_LABEL = 'embedded MNIST digits as continuous data (the paper used Frey Face)';

/** What a Gaussian-decoder panel shows: the embedded digits unless the checkpoint names other data. */
function gaussianLabel(d: RunDecoder): string {
  return d.dataName === undefined || d.dataName.startsWith('mnist (embedded)') ? GAUSSIAN_LABEL : `${d.dataName} as continuous data`;
}

export interface FiguresRequest {
  /** The sweep directory (holds sweep.json). */
  dir: string;
  /** Where the figures go (default DIR/figures). */
  out?: string;
  /** Figure 4: an n × n grid of latent points (default 20, as the paper's). */
  manifold?: number;
  /** Figure 5: samples per panel, drawn 10 to a row (default 100). */
  samples?: number;
}

export interface FiguresResult {
  outDir: string;
  /** Every file written. */
  written: string[];
  /** One line per figure or run left out, saying why. */
  skipped: string[];
}

/** PNG pixels per SVG pixel: sharp on a high-density screen. Image tiles stay blocky (no smoothing). */
export const PNG_ZOOM = 2;

/**
 * The PNG's fonts: DejaVu from the npm package dejavu-fonts-ttf, so the text is drawn the same on any
 * machine, one without a single system font included (resvg draws no text it has no font for). The
 * charts ask for sans-serif, and for serif where Vega falls back to its default.
 */
const FONT_DIR = path.join(path.dirname(createRequire(import.meta.url).resolve('dejavu-fonts-ttf/package.json')), 'ttf');
const FONT_FILES = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSerif.ttf', 'DejaVuSerif-Bold.ttf'].map((f) =>
  path.join(FONT_DIR, f),
);

export function svgToPng(svg: string): Uint8Array {
  const png = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_ZOOM },
    imageRendering: 1,
    font: {
      fontFiles: FONT_FILES,
      loadSystemFonts: false,
      defaultFontFamily: 'DejaVu Sans',
      sansSerifFamily: 'DejaVu Sans',
      serifFamily: 'DejaVu Serif',
    },
  })
    .render()
    .asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

const readText = (file: string) => readTextBounded(file, 'DIR');

export function readSweep(dir: string) {
  const info = fs.statSync(dir, { throwIfNoEntry: false });
  if (!info?.isDirectory())
    throw fileError(`${dir} is not a directory.`, 'Pass the --out directory of a sweep (npm run sweep -- --out DIR).');
  const file = path.join(dir, SWEEP_FILE);
  if (!fs.existsSync(file))
    throw fileError(
      `${dir} holds no ${SWEEP_FILE}: it is not a sweep directory.`,
      'Pass the --out directory of npm run sweep, which writes DIR/sweep.json.',
    );
  return parseSweepJson(readText(file), file);
}

/** A J = 2 run's Figure 4 panel title; the Gaussian decoder's data are said plainly. */
function runLabel(run: SweepRun): string {
  return `${run.name}: ${ALGORITHM_LABEL[run.algorithm]}, J = ${run.latent}, ${run.decoder} decoder`;
}

export async function writeFigures(req: FiguresRequest, log: (s: string) => void = console.log): Promise<FiguresResult> {
  const sweep = readSweep(req.dir);
  const outDir = req.out ?? path.join(req.dir, 'figures');
  const written: string[] = [],
    skipped: string[] = [];
  const skip = (line: string) => {
    skipped.push(line);
    log(line);
  };
  makeDirs(outDir, '--out');

  const write = async (name: string, spec: TopLevelSpec, what: string) => {
    const svg = await renderSvg(spec);
    const svgFile = path.join(outDir, `${name}.svg`),
      pngFile = path.join(outDir, `${name}.png`);
    await writeFileAtomic(svgFile, outDir, new TextEncoder().encode(svg));
    await writeFileAtomic(pngFile, outDir, svgToPng(svg));
    written.push(svgFile, pngFile);
    log(`Wrote ${svgFile} and ${name}.png: ${what}.`);
  };

  // Figure 2: every run that has metrics.
  const runs = figure2Runs(
    sweep,
    (run) => {
      const file = path.join(req.dir, run.dir, METRICS_FILE);
      return fs.existsSync(file) ? { text: readText(file), file } : undefined;
    },
    (line, leftOut) => (leftOut ? skip(line) : log(line)),
  );
  const rows = figure2Rows(runs);
  if (rows.length === 0) {
    skip('Figure 2 skipped: no run has evaluated after training yet.');
  } else {
    const series = new Set(rows.map(seriesKey)).size,
      panels = new Set(rows.map((r) => r.J)).size;
    await write(
      'figure2',
      figure2Spec(rows),
      `${series} lines (train and test of ${runs.length} runs) in ${panels} panel${panels > 1 ? 's' : ''}`,
    );
  }

  // Figures 4 and 5 decode: the runs' decoders, loaded once each.
  const decoders = new Map<SweepRun, RunDecoder | null>();
  const decoderOf = (run: SweepRun) => {
    if (!decoders.has(run)) decoders.set(run, loadRunDecoder(path.join(req.dir, run.dir)));
    return decoders.get(run)!;
  };
  let backendReady = false;
  const means = async (d: RunDecoder, z: Float32Array, n: number) => {
    if (!backendReady) {
      if (tf.getBackend() !== 'wasm') await setupNodeBackend('wasm');
      backendReady = true;
    }
    return decoderMeans(d, z, n);
  };
  const usable = (run: SweepRun, figure: string): RunDecoder | null => {
    const d = decoderOf(run);
    if (!d) {
      skip(`${figure}: run ${run.name} (${run.status}) has neither a checkpoint nor a decoder export; left out.`);
      return null;
    }
    if (!d.imageShape) {
      skip(`${figure}: run ${run.name}'s data (${d.cfg.inputSize} values per datapoint) are not square pictures; left out.`);
      return null;
    }
    return d;
  };

  // Figure 4: the learned manifold of every J = 2 run.
  const n4 = req.manifold ?? 20;
  const manifoldPanels: ImagePanel[] = [];
  const twoD = sweep.runs.filter((r) => r.latent === 2);
  if (twoD.length === 0) skip(`Figure 4 skipped: ${path.join(req.dir, SWEEP_FILE)} has no run with J = 2 (add --latent 2 to the sweep).`);
  for (const run of twoD) {
    const d = usable(run, 'Figure 4');
    if (!d) continue;
    const [h, w] = d.imageShape!;
    const z = manifoldGrid(n4);
    manifoldPanels.push({
      title: runLabel(run),
      subtitle: d.cfg.decoder === 'gaussian' ? gaussianLabel(d) : `decoder means at z = Φ⁻¹ of a ${n4} × ${n4} grid on the unit square`,
      image: tileImages(await means(d, z, n4 * n4), n4 * n4, h, w, n4),
    });
  }
  if (manifoldPanels.length > 0) {
    await write(
      'figure4',
      imagePanelsSpec('Learned 2-D manifolds (Kingma & Welling 2013, Figure 4)', manifoldPanels),
      `the manifold of ${manifoldPanels.length} J = 2 run${manifoldPanels.length > 1 ? 's' : ''} on a ${n4} × ${n4} grid`,
    );
  } else if (twoD.length > 0) {
    skip('Figure 4 skipped: no J = 2 run has a decoder to draw.');
  }

  // Figure 5: samples from one run per J (AEVB first, then the Bernoulli decoder, then sweep order).
  const n5 = req.samples ?? 100;
  const samplePanels: ImagePanel[] = [];
  for (const J of FIGURE5_LATENTS) {
    const candidates = sweep.runs
      .filter((r) => r.latent === J)
      .sort(
        (a, b) =>
          Number(b.algorithm === 'aevb') - Number(a.algorithm === 'aevb') ||
          Number(b.decoder === 'bernoulli') - Number(a.decoder === 'bernoulli'),
      );
    const run = candidates.find((r) => decoderOf(r)?.imageShape);
    if (!run) {
      skip(
        `Figure 5: no run with J = ${J}${candidates.length ? ' has a decoder to draw' : ` in ${path.join(req.dir, SWEEP_FILE)}`}; its panel is left out.`,
      );
      continue;
    }
    const d = decoderOf(run)!;
    const [h, w] = d.imageShape!;
    samplePanels.push({
      title: `J = ${J}`,
      subtitle: `${run.name} (${ALGORITHM_LABEL[run.algorithm]})${d.cfg.decoder === 'gaussian' ? `: ${gaussianLabel(d)}` : ''}`,
      image: tileImages(await means(d, priorDraws(seedOf(run, d), J, n5), n5), n5, h, w, 10),
    });
  }
  if (samplePanels.length > 0) {
    await write(
      'figure5',
      imagePanelsSpec(
        'Random samples from the generative model: decoder means at z ~ N(0, I) (Kingma & Welling 2013, Figure 5)',
        samplePanels,
      ),
      `${n5} samples for J = ${samplePanels.map((p) => p.title.slice(4)).join(', ')}`,
    );
  } else {
    skip('Figure 5 skipped: no run with J = 2, 5, 10 or 20 has a decoder to draw.');
  }

  // The variance figure, when the study has run.
  const varianceFile = path.join(req.dir, VARIANCE_FILE);
  if (fs.existsSync(varianceFile)) {
    const vrows = parseVarianceJson(readText(varianceFile), varianceFile);
    await write('variance', varianceSpec(varianceRows(vrows)), `${vrows.length} rows of ${varianceFile}`);
  } else {
    skip(`Variance figure skipped: no ${varianceFile} (npm run variance writes it).`);
  }
  return { outDir, written, skipped };
}

/** The run's seed: its checkpoint's config, else the sweep's config, else 1. */
function seedOf(run: SweepRun, d: RunDecoder): number {
  const s = (d.cfg as { seed?: unknown }).seed ?? run.config.seed;
  return typeof s === 'number' && Number.isInteger(s) ? s : 1;
}

/** n draws z ~ N(0, I) (rows [n, J]) from the SAMPLE stream, exactly those of Trainer.sample(n, seed). */
export function priorDraws(seed: number, J: number, n: number): Float32Array {
  const z = new Float32Array(n * J);
  const rng = new CounterRng(seed, Stream.SAMPLE);
  for (let i = 0; i < n; i++) rng.normals(0, i, 0, z, i * J, J);
  return z;
}
