/**
 * `npm run figures -- DIR` on a small sweep directory made here by the contract (docs/figures.md):
 * sweep.json, every run's metrics.jsonl, real checkpoints and a real decoder export of tiny models
 * trained on real digits by the Trainer, and variance.json. The files written must be valid (SVG
 * parsed as XML, PNG decoded), carry every series, and the pictures must be the decoder's means at
 * the right z: Gaussian quantiles for Figure 4, the prior draws of Trainer.sample for Figure 5.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportDecoder } from '../../src/shared/formats/decoder_export.ts';
import { greyLevel } from '../../src/shared/report/image_grid.ts';
import { createTrainer, type Trainer } from '../../src/main/node/index.ts';
import { saveDecoderExport } from '../../src/main/node/checkpoint_files.ts';
import { writeFigures, GAUSSIAN_LABEL, PNG_ZOOM } from '../../src/main/node/figures_run.ts';
import { mnistSubset } from '../helpers/mnist_subset.ts';
import { ROOT } from '../helpers/cli.ts';
import {
  ariaFields,
  decodePng,
  embeddedImages,
  hasColour,
  markPaths,
  parseSvg,
  pngStats,
  svgSize,
  texts,
  vertexCount,
  type DecodedPng,
} from '../helpers/figure_files.ts';

let dir: string;
let cli: SpawnSyncReturns<string>;
let j2: Trainer, j2g: Trainer, j5: Trainer;
const J5_SEED = 7;

/** Metrics lines as npm run train writes them (the fields the figures read, and some they do not). */
function metricsLines(points: number, shift: number, se: boolean): string {
  let s = '';
  for (let k = 1; k <= points; k++) {
    const samplesSeen = 1000 * 2 ** k,
      testElbo = -300 + 20 * k + shift;
    s += `${JSON.stringify({
      epoch: k,
      step: 10 * k,
      samplesSeen,
      trainElbo: testElbo + 1,
      testElbo,
      trainRecon: -1,
      trainKl: 1,
      ...(se ? { trainElboSe: 0.5, testElboSe: 2, elboSamples: 4 } : {}),
      point: 'grid',
    })}\n`;
  }
  return s;
}

const run = (name: string, latent: number, extra: Record<string, unknown> = {}) => ({
  name,
  dir: name,
  config: { latent, hidden: 16, decoder: 'bernoulli', seed: 1, ...extra },
  status: 'done',
});

async function tinyTrainer(latent: number, seed: number, decoder: 'bernoulli' | 'gaussian' = 'bernoulli'): Promise<Trainer> {
  const t = await createTrainer({
    data: mnistSubset(1000, 100),
    workers: 1,
    config: { latent, hidden: 16, batch: 50, epochs: 3, optimizer: 'adam', lr: 0.01, seed, decoder },
  });
  await t.start();
  return t;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-figures-'));
  // Real models: J = 2 with its checkpoint (Figure 4, Figure 5's J = 2 panel), J = 5 with only a decoder export.
  j2 = await tinyTrainer(2, 1);
  j2g = await tinyTrainer(2, 1, 'gaussian');
  j5 = await tinyTrainer(5, J5_SEED);
  for (const name of ['J2-aevb', 'J2-gaussian', 'J2-wake-sleep', 'J5-aevb', 'J5-wake-sleep'])
    fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, 'J2-aevb', 'checkpoint.aevb'), await j2.saveCheckpoint());
  fs.writeFileSync(path.join(dir, 'J2-gaussian', 'checkpoint.aevb'), await j2g.saveCheckpoint());
  await saveDecoderExport(path.join(dir, 'J5-aevb'), exportDecoder(j5.config, (await j5.state()).params, { imageShape: [28, 28] }));
  fs.writeFileSync(path.join(dir, 'J2-aevb', 'metrics.jsonl'), metricsLines(6, 0, true));
  fs.writeFileSync(path.join(dir, 'J2-gaussian', 'metrics.jsonl'), metricsLines(3, 5, false));
  fs.writeFileSync(path.join(dir, 'J2-wake-sleep', 'metrics.jsonl'), metricsLines(5, -40, false));
  fs.writeFileSync(path.join(dir, 'J5-aevb', 'metrics.jsonl'), metricsLines(7, 10, true));
  fs.writeFileSync(path.join(dir, 'J5-wake-sleep', 'metrics.jsonl'), metricsLines(4, -30, false));
  fs.writeFileSync(
    path.join(dir, 'sweep.json'),
    JSON.stringify({
      version: 1,
      runs: [
        run('J2-aevb', 2),
        run('J2-gaussian', 2, { decoder: 'gaussian' }),
        run('J2-wake-sleep', 2, { algorithm: 'wake-sleep' }),
        // No "algorithm": a run from before wake-sleep existed reads as AEVB.
        { ...run('J5-aevb', 5, { seed: J5_SEED }), config: { latent: 5, hidden: 16, seed: J5_SEED } },
        run('J5-wake-sleep', 5, { algorithm: 'wake-sleep' }),
        { ...run('J10-aevb', 10), status: 'pending' },
      ],
    }),
  );
  const rows = [];
  for (const samplesSeen of [9000, 90000]) {
    for (const estimator of ['A', 'B']) {
      for (const L of [1, 2, 5]) {
        const v = (estimator === 'A' ? 3e-3 : 1e-3) / L;
        rows.push({
          checkpoint: `ckpt-${samplesSeen}`,
          samplesSeen,
          estimator,
          L,
          meanVariance: v,
          medianVariance: v / 4,
          perGroup: { 'enc.W3': v },
        });
      }
    }
  }
  fs.writeFileSync(path.join(dir, 'variance.json'), JSON.stringify({ version: 1, rows }));
  // The command as a user runs it; every test below reads what it wrote.
  cli = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/node/figures_cli.ts'), dir], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
}, 240_000);

afterAll(async () => {
  await j2?.dispose();
  await j2g?.dispose();
  await j5?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const read = (name: string) => fs.readFileSync(path.join(dir, 'figures', name));
const svgOf = (name: string) => parseSvg(read(`${name}.svg`).toString('utf8'));

/** The PNG beside an SVG: decoded, PNG_ZOOM times the SVG's size, and not blank. */
function checkPng(name: string): DecodedPng {
  const png = decodePng(new Uint8Array(read(`${name}.png`)));
  const { width, height } = svgSize(svgOf(name));
  expect([png.width, png.height]).toEqual([width * PNG_ZOOM, height * PNG_ZOOM]);
  const stats = pngStats(png);
  expect(stats.inked).toBeGreaterThan(0.02);
  expect(stats.colours).toBeGreaterThan(10);
  return png;
}

/** Tile i of a grid image of 28 × 28 pictures, cols to a row, as grey levels. */
function tile(img: DecodedPng, cols: number, i: number): number[] {
  const out: number[] = [];
  const top = Math.floor(i / cols) * 28,
    left = (i % cols) * 28;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out.push(img.data[((top + y) * img.width + left + x) * img.channels]);
  return out;
}

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

/** Φ(z) by erfc (Numerical Recipes' erfcc, fractional error < 1.2e-7), and Φ⁻¹ by bisection on it: independent of src/shared/report/probit.ts. */
function Phi(z: number): number {
  const x = Math.abs(z) / Math.SQRT2,
    t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}
function PhiInv(p: number): number {
  let lo = -10,
    hi = 10;
  for (let i = 0; i < 80; i++) {
    const m = (lo + hi) / 2;
    if (Phi(m) < p) lo = m;
    else hi = m;
  }
  return (lo + hi) / 2;
}

describe('npm run figures -- DIR', () => {
  it('writes Figures 2, 4, 5 and the variance figure as SVG and PNG, and says what it left out', () => {
    const r = cli;
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of ['figure2', 'figure4', 'figure5', 'variance']) {
      expect(r.stdout).toContain(`Wrote ${path.join(dir, 'figures', `${f}.svg`)} and ${f}.png`);
      expect(fs.existsSync(path.join(dir, 'figures', `${f}.png`))).toBe(true);
    }
    expect(r.stdout).toContain('Figure 2: run J10-aevb (pending) has no metrics.jsonl yet; left out.');
    expect(r.stdout).toContain('Figure 4: run J2-wake-sleep (done) has neither a checkpoint nor a decoder export; left out.');
    expect(r.stdout).toContain('Figure 5: no run with J = 20 in');
  });

  it('Figure 2: one line per run and set, AEVB and wake-sleep in their colours, test dashed, log x, ± SE bands where reported, one panel per J', () => {
    const doc = svgOf('figure2');
    const lines = markPaths(doc, 'elbo_line_marks');
    const byKey = new Map(
      lines.map((p) => {
        const a = ariaFields(p);
        return [`${a.run}/${a.split}`, { a, p }];
      }),
    );
    const expected: Record<string, [number, string]> = {
      'J2-aevb': [6, '#d62728'],
      'J2-gaussian': [3, '#d62728'],
      'J2-wake-sleep': [5, '#1f77b4'],
      'J5-aevb': [7, '#d62728'],
      'J5-wake-sleep': [4, '#1f77b4'],
    };
    expect(lines).toHaveLength(10);
    for (const [name, [points, colour]] of Object.entries(expected)) {
      for (const split of ['train', 'test']) {
        const s = byKey.get(`${name}/${split}`);
        expect(s, `${name} ${split}`).toBeDefined();
        expect(vertexCount(s!.p.getAttribute('d')!)).toBe(points);
        expect(s!.p.getAttribute('stroke')).toBe(colour);
        expect(s!.p.hasAttribute('stroke-dasharray') && s!.p.getAttribute('stroke-dasharray') !== '1,0').toBe(split === 'test');
        expect(s!.a.Algorithm).toBe(name.endsWith('wake-sleep') ? 'Wake-Sleep' : 'AEVB');
      }
    }
    // The first point of J5-aevb's test line is its first metrics line: 2,000 samples, −300 + 20 + 10.
    expect(byKey.get('J5-aevb/test')!.a['lower bound (nats per datapoint)']).toBe('−270');
    // Bands only for the runs that reported standard errors.
    const bands = markPaths(doc, 'se_band_marks')
      .map((p) => `${ariaFields(p).run}/${ariaFields(p).split}`)
      .sort();
    expect(bands).toEqual(['J2-aevb/test', 'J2-aevb/train', 'J5-aevb/test', 'J5-aevb/train']);
    const t = texts(doc);
    expect(t).toContain('# training samples evaluated');
    expect(t).toContain('lower bound (nats per datapoint)');
    expect(t.filter((s) => /^J = \d+$/.test(s))).toEqual(['J = 2', 'J = 5']);
    expect(t).toEqual(expect.arrayContaining(['1k', '10k', '100k'])); // log-axis ticks, decades
    const png = checkPng('figure2');
    expect(hasColour(png, '#d62728')).toBe(true);
    expect(hasColour(png, '#1f77b4')).toBe(true);
  });

  it("Figure 4: each J = 2 decoder's means at z = Φ⁻¹ of a 20 × 20 grid on the unit square, z₂ growing upwards; the Gaussian one labelled", async () => {
    const doc = svgOf('figure4');
    const imgs = embeddedImages(doc);
    expect(imgs.map((i) => [i.width, i.height, i.channels])).toEqual([
      [20 * 28, 20 * 28, 1],
      [20 * 28, 20 * 28, 1],
    ]);
    const n = 20,
      z = new Float32Array(n * n * 2);
    for (let r = 0; r < n; r++) {
      for (let c = 0; c < n; c++) {
        z[(r * n + c) * 2] = PhiInv((c + 1) / (n + 1));
        z[(r * n + c) * 2 + 1] = PhiInv(1 - (r + 1) / (n + 1));
      }
    }
    for (const [img, trainer] of [
      [imgs[0], j2],
      [imgs[1], j2g],
    ] as const) {
      const means = await trainer.decode(z, n * n);
      for (let i = 0; i < n * n; i++) {
        const want = Array.from(means.subarray(i * 784, (i + 1) * 784), greyLevel);
        expect(maxDiff(tile(img, n, i), want), `tile ${i}`).toBeLessThanOrEqual(1);
      }
    }
    // The check has teeth: the manifold changes across the grid by far more than the tolerance.
    expect(maxDiff(tile(imgs[0], n, 0), tile(imgs[0], n, n * n - 1))).toBeGreaterThan(40);
    const t = texts(doc);
    expect(t).toEqual(
      expect.arrayContaining(['J2-aevb: AEVB, J = 2, bernoulli decoder', 'J2-gaussian: AEVB, J = 2, gaussian decoder', GAUSSIAN_LABEL]),
    );
    expect(GAUSSIAN_LABEL).toBe('embedded MNIST digits as continuous data (the paper used Frey Face)');
    checkPng('figure4');
  });

  it("Figure 5: one panel per J present (2 and 5), each the decoder means at Trainer.sample's prior draws (checkpoint and decoder export alike)", async () => {
    const doc = svgOf('figure5');
    const imgs = embeddedImages(doc);
    expect(imgs.map((i) => [i.width, i.height])).toEqual([
      [280, 280],
      [280, 280],
    ]);
    for (const [img, trainer] of [
      [imgs[0], j2],
      [imgs[1], j5],
    ] as const) {
      const samples = await trainer.sample(100); // the seed of J5 comes from sweep.json (a decoder export has none)
      for (let i = 0; i < 100; i++)
        expect(maxDiff(tile(img, 10, i), Array.from(samples.subarray(i * 784, (i + 1) * 784), greyLevel))).toBeLessThanOrEqual(1);
    }
    expect(texts(doc)).toEqual(expect.arrayContaining(['J = 2', 'J = 5']));
    checkPng('figure5');
  });

  it('the variance figure: estimators A and B, mean and median, L = 1, 2, 5, log y, one panel per checkpoint', () => {
    const doc = svgOf('variance');
    const lines = elementsWithClass(doc, 'mark-line');
    expect(lines).toHaveLength(8); // 2 checkpoints × 2 estimators × 2 statistics
    for (const p of lines) expect(vertexCount(p.getAttribute('d')!)).toBe(3);
    const t = texts(doc);
    expect(t).toEqual(
      expect.arrayContaining([
        'estimator A',
        'estimator B',
        'after 9,000 samples',
        'after 90,000 samples',
        'L (samples of ε per datapoint)',
        '1',
        '2',
        '5',
      ]),
    );
    expect(t.some((s) => /^0\.00\d+$/.test(s))).toBe(true); // log-axis labels
    checkPng('variance');
  });
});

function elementsWithClass(doc: ReturnType<typeof parseSvg>, cls: string) {
  return Array.from(doc.getElementsByTagName('g') as unknown as ArrayLike<import('@xmldom/xmldom').Element>)
    .filter((g) => (g.getAttribute('class') ?? '').split(' ').includes(cls))
    .flatMap((g) => Array.from(g.getElementsByTagName('path') as unknown as ArrayLike<import('@xmldom/xmldom').Element>));
}

describe('missing pieces and bad input', () => {
  const sweepDir = (files: Record<string, string>) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-figures-bad-'));
    for (const [f, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
      fs.writeFileSync(path.join(d, f), text);
    }
    return d;
  };
  const quiet = () => undefined;

  it('skips Figure 4 (no J = 2 run), Figure 5 (no decoder) and the variance figure (no variance.json), each with a line; Figure 2 still drawn', async () => {
    const d = sweepDir({
      'sweep.json': JSON.stringify({ version: 1, runs: [run('J3', 3)] }),
      'J3/metrics.jsonl': metricsLines(3, 0, false),
    });
    const lines: string[] = [];
    const r = await writeFigures({ dir: d }, (s) => lines.push(s));
    expect(r.written.map((f) => path.basename(f))).toEqual(['figure2.svg', 'figure2.png']);
    expect(r.skipped).toEqual([
      `Figure 4 skipped: ${path.join(d, 'sweep.json')} has no run with J = 2 (add --latent 2 to the sweep).`,
      `Figure 5: no run with J = 2 in ${path.join(d, 'sweep.json')}; its panel is left out.`,
      `Figure 5: no run with J = 5 in ${path.join(d, 'sweep.json')}; its panel is left out.`,
      `Figure 5: no run with J = 10 in ${path.join(d, 'sweep.json')}; its panel is left out.`,
      `Figure 5: no run with J = 20 in ${path.join(d, 'sweep.json')}; its panel is left out.`,
      'Figure 5 skipped: no run with J = 2, 5, 10 or 20 has a decoder to draw.',
      `Variance figure skipped: no ${path.join(d, 'variance.json')} (npm run variance writes it).`,
    ]);
    expect(lines).toEqual(expect.arrayContaining(r.skipped));
    expect(markPaths(parseSvg(fs.readFileSync(path.join(d, 'figures', 'figure2.svg'), 'utf8')), 'elbo_line_marks')).toHaveLength(2);
    fs.rmSync(d, { recursive: true });
  });

  it.each([
    ['a directory without sweep.json', {}, /holds no sweep\.json: it is not a sweep directory\. Pass the --out directory of npm run sweep/],
    [
      'sweep.json that is not JSON',
      { 'sweep.json': '{"version": 1, "runs": [' },
      /sweep\.json: is not valid JSON .* Write it again with npm run sweep/,
    ],
    [
      'a run without config.latent',
      { 'sweep.json': JSON.stringify({ version: 1, runs: [{ name: 'a', dir: 'a', config: {}, status: 'done' }] }) },
      /sweep\.json: runs\[0\]\.config\.latent is undefined; it must be a whole number ≥ 1/,
    ],
    [
      'an unknown algorithm',
      { 'sweep.json': JSON.stringify({ version: 1, runs: [run('a', 2, { algorithm: 'em' })] }) },
      /runs\[0\]\.config\.algorithm is "em"; it must be "aevb" or "wake-sleep"/,
    ],
    [
      'a run directory outside the sweep',
      { 'sweep.json': JSON.stringify({ version: 1, runs: [{ ...run('a', 2), dir: '../elsewhere' }] }) },
      /runs\[0\]\.dir is "\.\.\/elsewhere"; it must be a relative path inside the sweep's directory/,
    ],
    [
      'a metrics line that is not JSON',
      {
        'sweep.json': JSON.stringify({ version: 1, runs: [run('a', 2)] }),
        'a/metrics.jsonl': `${metricsLines(2, 0, false)}{"samplesSeen": 8000,\n`,
      },
      /a[/\\]metrics\.jsonl line 3: is not valid JSON .*Fix or delete line 3 of .*metrics\.jsonl/,
    ],
    [
      'a metrics line without testElbo',
      { 'sweep.json': JSON.stringify({ version: 1, runs: [run('a', 2)] }), 'a/metrics.jsonl': '{"samplesSeen": 100, "trainElbo": -200}\n' },
      /metrics\.jsonl line 1: field "testElbo" is undefined; it must be a finite number \(or null: not finite\)\. Fix or delete line 1/,
    ],
    [
      'a bad variance.json',
      {
        'sweep.json': JSON.stringify({ version: 1, runs: [run('a', 3)] }),
        'a/metrics.jsonl': metricsLines(1, 0, false),
        'variance.json': JSON.stringify({ version: 1, rows: [{ estimator: 'C', L: 1, meanVariance: 1, samplesSeen: 1 }] }),
      },
      /variance\.json: rows\[0\]\.estimator is "C"; it must be "A" or "B"\. Write it again with npm run variance/,
    ],
  ])('%s: an AevbError naming the file (and line) and the fix', async (_what, files, message) => {
    const d = sweepDir(files as Record<string, string>);
    await expect(writeFigures({ dir: d }, quiet)).rejects.toThrow(message);
    fs.rmSync(d, { recursive: true });
  });

  it('the CLI prints the error as one line and exits 2', () => {
    const d = sweepDir({ 'sweep.json': '[]' });
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main/node/figures_cli.ts'), d], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `error: ${path.join(d, 'sweep.json')}: is not a JSON object. Write it again with npm run sweep (or fix it by hand to the format in docs/figures.md).\n`,
    );
    fs.rmSync(d, { recursive: true });
  });
});
