/**
 * The figures' pure parts: reading a sweep's files (every error names the file, the line and the
 * fix), Figure 2's rows, the image tiling and its PNG, the decoder export read back, and the
 * page's matching of picked or dropped files to a sweep's runs.
 */
import { describe, expect, it } from 'vitest';
import { initParams } from '../../src/shared/model/model.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import { exportDecoder } from '../../src/shared/formats/decoder_export.ts';
import { importDecoder } from '../../src/shared/formats/decoder_import.ts';
import { buildLayout, view } from '../../src/shared/model/layout.ts';
import { figure2Rows, figure2Runs, figure2Spec, type Figure2Row } from '../../src/shared/report/figure2.ts';
import { greyPngDataUrl, tileImages } from '../../src/shared/report/image_grid.ts';
import { parseMetricsJsonl, parseSweepJson, parseVarianceJson } from '../../src/shared/report/sweep_files.ts';
import { pickSweep, type PickedFile } from '../../src/main/app/sweep_pick.ts';
import { decodePng } from '../helpers/figure_files.ts';

const sweepText = (runs: unknown[]) => JSON.stringify({ version: 1, runs });
const run = (name: string, latent: number, extra: Record<string, unknown> = {}) => ({
  name,
  dir: name,
  status: 'done',
  config: { latent, ...extra },
});

describe('sweep.json, metrics.jsonl and variance.json', () => {
  it('reads the runs; a run without config.algorithm is AEVB, without config.decoder Bernoulli', () => {
    const s = parseSweepJson(
      sweepText([run('a', 3), run('b', 5, { algorithm: 'wake-sleep', decoder: 'gaussian', hidden: 500, later: 'kept' })]),
    );
    expect(s.runs.map((r) => [r.name, r.latent, r.algorithm, r.decoder, r.status])).toEqual([
      ['a', 3, 'aevb', 'bernoulli', 'done'],
      ['b', 5, 'wake-sleep', 'gaussian', 'done'],
    ]);
    expect(s.runs[1].config.later).toBe('kept');
  });

  it.each([
    ['{', /^DIR\/sweep\.json: is not valid JSON/],
    [JSON.stringify({ version: 2, runs: [run('a', 1)] }), /has version 2; this aevb reads version 1/],
    [JSON.stringify({ version: 1, runs: [] }), /"runs" is not a non-empty array/],
    [sweepText([run('a', 1), run('a', 2)]), /runs\[1\]\.name "a" appears twice\. Give every run its own name\./],
    [sweepText([{ ...run('a', 1), dir: '/abs' }]), /runs\[0\]\.dir is "\/abs"; it must be a relative path inside/],
    [
      sweepText([{ ...run('a', 1), status: 'finished' }]),
      /runs\[0\]\.status is "finished"; it must be one of done, running, pending, failed/,
    ],
    [sweepText([run('a', 2.5)]), /runs\[0\]\.config\.latent is 2\.5; it must be a whole number ≥ 1/],
  ])('refuses a bad sweep.json (%#) with the file, the problem and the fix', (text, message) => {
    expect(() => parseSweepJson(text, 'DIR/sweep.json')).toThrow(message);
  });

  it('reads metrics lines (blank lines skipped, unknown fields ignored, SEs when there) and names the line of a bad one', () => {
    const text =
      '{"samplesSeen":100,"trainElbo":-200,"testElbo":-201,"point":"grid"}\n\n{"samplesSeen":200,"trainElbo":-190,"testElbo":-191,"trainElboSe":0.1,"testElboSe":0.3}\n';
    expect(parseMetricsJsonl(text)).toEqual([
      { samplesSeen: 100, trainElbo: -200, testElbo: -201 },
      { samplesSeen: 200, trainElbo: -190, testElbo: -191, trainElboSe: 0.1, testElboSe: 0.3 },
    ]);
    expect(() => parseMetricsJsonl(`${text}{"samplesSeen":300,"trainElbo":"-1","testElbo":-1}\n`, 'r/metrics.jsonl')).toThrow(
      'r/metrics.jsonl line 4: field "trainElbo" is "-1"; it must be a finite number (or null: not finite). Fix or delete line 4 of r/metrics.jsonl',
    );
    expect(() => parseMetricsJsonl('{"samplesSeen":1,"trainElbo":1,"testElbo":1,"testElboSe":-1}', 'm')).toThrow(
      'm line 1: field "testElboSe" is -1; it must be a finite number ≥ 0',
    );
    expect(() => parseMetricsJsonl('[1]', 'm')).toThrow('m line 1: is not a JSON object');
  });

  it('reads variance rows and refuses a variance that a log axis cannot show', () => {
    const rows = parseVarianceJson(
      JSON.stringify({
        version: 1,
        rows: [{ checkpoint: 'c', samplesSeen: 9, estimator: 'B', L: 5, meanVariance: 1e-4, medianVariance: 2e-5, perGroup: {} }],
      }),
    );
    expect(rows).toEqual([{ checkpoint: 'c', samplesSeen: 9, estimator: 'B', L: 5, meanVariance: 1e-4, medianVariance: 2e-5 }]);
    expect(() =>
      parseVarianceJson(JSON.stringify({ version: 1, rows: [{ samplesSeen: 9, estimator: 'A', L: 1, meanVariance: 0 }] }), 'v.json'),
    ).toThrow(/v\.json: rows\[0\]\.meanVariance is 0; it must be a finite number > 0 \(the figure's y-axis is logarithmic\)/);
  });
});

describe('Figure 2 rows', () => {
  it('one row per run, point and set, ± SE when reported, nothing at 0 samples (no place on a log axis); runs without metrics noted', () => {
    const sweep = parseSweepJson(
      sweepText([
        run('a', 3),
        run('b', 3, { algorithm: 'wake-sleep' }),
        { ...run('c', 5), status: 'running' },
        { ...run('d', 5), status: 'pending' },
      ]),
    );
    const files: Record<string, string> = {
      a: '{"samplesSeen":0,"trainElbo":-540,"testElbo":-541}\n{"samplesSeen":100,"trainElbo":-200,"testElbo":-201,"trainElboSe":0.5,"testElboSe":1}\n',
      b: '{"samplesSeen":100,"trainElbo":-300,"testElbo":-301}\n',
      c: '{"samplesSeen":100,"trainElbo":-250,"testElbo":-251}\n',
    };
    const notes: [string, boolean][] = [];
    const rows = figure2Rows(
      figure2Runs(
        sweep,
        (r) => (files[r.dir] ? { text: files[r.dir], file: r.dir } : undefined),
        (l, out) => notes.push([l, out]),
      ),
    );
    expect(rows).toEqual([
      { run: 'a', J: 3, panel: 'J = 3', algorithm: 'AEVB', split: 'train', samplesSeen: 100, elbo: -200, lo: -200.5, hi: -199.5 },
      { run: 'a', J: 3, panel: 'J = 3', algorithm: 'AEVB', split: 'test', samplesSeen: 100, elbo: -201, lo: -202, hi: -200 },
      { run: 'b', J: 3, panel: 'J = 3', algorithm: 'Wake-Sleep', split: 'train', samplesSeen: 100, elbo: -300 },
      { run: 'b', J: 3, panel: 'J = 3', algorithm: 'Wake-Sleep', split: 'test', samplesSeen: 100, elbo: -301 },
      { run: 'c', J: 5, panel: 'J = 5', algorithm: 'AEVB', split: 'train', samplesSeen: 100, elbo: -250 },
      { run: 'c', J: 5, panel: 'J = 5', algorithm: 'AEVB', split: 'test', samplesSeen: 100, elbo: -251 },
    ]);
    expect(notes).toEqual([
      ['Figure 2: run c is running; plotted as far as it got (1 points).', false],
      ['Figure 2: run d (pending) has no metrics.jsonl yet; left out.', true],
    ]);
  });
});

describe('metrics a diverging or S = 1 run writes', () => {
  it('null ELBOs (JSON of a non-finite number) are left out of the lines and noted; null SEs (S = 1) draw no band', () => {
    const text = [
      JSON.stringify({ samplesSeen: 100, trainElbo: -200, testElbo: -201, trainElboSe: null, testElboSe: null }),
      JSON.stringify({ samplesSeen: 200, trainElbo: null, testElbo: -1e20, trainElboSe: null, testElboSe: 3e19 }),
    ].join('\n');
    const points = parseMetricsJsonl(text, 'm.jsonl');
    expect(points[0]).toEqual({ samplesSeen: 100, trainElbo: -200, testElbo: -201 });
    expect(points[1].trainElbo).toBeNull();
    const sweep = parseSweepJson(
      JSON.stringify({ version: 1, runs: [{ name: 'g', dir: 'g', status: 'failed', config: { latent: 2, decoder: 'gaussian' } }] }),
      'sweep.json',
    );
    const notes: string[] = [];
    const rows = figure2Rows(
      figure2Runs(
        sweep,
        () => ({ text, file: 'm.jsonl' }),
        (l) => notes.push(l),
      ),
    );
    expect(rows.map((r) => `${r.split}@${r.samplesSeen}`)).toEqual(['train@100', 'test@100', 'test@200']);
    expect(rows.filter((r) => r.lo !== undefined).map((r) => r.samplesSeen)).toEqual([200]);
    expect(notes.join('\n')).toContain('1 evaluation that was not finite');
    expect(() => parseMetricsJsonl(JSON.stringify({ samplesSeen: 1, trainElbo: 'x', testElbo: 1 }), 'm.jsonl')).toThrow(/trainElbo/);
  });
});

describe('Figure 2 axis', () => {
  const rows = (run: string, seen: number[]): Figure2Row[] =>
    seen.map((n) => ({ run, J: 20, panel: 'J = 20', algorithm: 'AEVB', split: 'test' as const, samplesSeen: n, elbo: -100 - 1e6 / n }));
  const grid = [100, 1000, 10_000, 100_000, 1_000_000, 1_008_000];
  const spec = (r: Figure2Row[]) =>
    figure2Spec(r) as unknown as {
      title: unknown;
      transform: Array<{ filter: string }>;
      spec: { layer: Array<{ encoding: { x: { scale: { domain: number[] }; axis: { values: number[] } } } }> };
    };

  it('spans the last two decades of long runs, says where it starts, and opens no empty decade for a budget just past one', () => {
    const s = spec([...rows('a', grid), ...rows('b', grid)]);
    expect(s.transform).toEqual([{ filter: 'datum.samplesSeen >= 10000' }]);
    expect(JSON.stringify(s.title)).toContain('from 10,000 training samples on');
    const x = s.spec.layer[1].encoding.x;
    expect(x.axis.values).toEqual([10_000, 100_000, 1_000_000]);
    expect(x.scale.domain).toEqual([10_000, 1_008_000]);
  });

  it('keeps every run in view: a run that stopped early moves the start back to its own decade', () => {
    const s = spec([...rows('long', grid), ...rows('short', [100, 400, 900])]);
    expect(s.transform).toEqual([]);
    expect(s.spec.layer[1].encoding.x.axis.values[0]).toBe(100);
  });
});

describe('image grids', () => {
  it('tiles images row by row, each pixel a scale × scale block of round(255·clip(v)), and the PNG holds exactly those pixels', () => {
    // Three 2 × 2 images, two to a row: image i has pixel values i/4 + p/16, one pixel outside [0, 1].
    const imgs = new Float32Array(12);
    for (let i = 0; i < 3; i++) for (let p = 0; p < 4; p++) imgs[i * 4 + p] = i / 4 + p / 16;
    imgs[0] = -0.5;
    imgs[11] = 1.7;
    const g = tileImages(imgs, 3, 2, 2, 2, 2);
    expect([g.width, g.height]).toEqual([8, 8]);
    const at = (x: number, y: number) => g.grey[y * g.width + x];
    expect(at(0, 0)).toBe(0);
    expect(at(1, 1)).toBe(0); // clipped to 0, a 2 × 2 block
    expect(at(2, 0)).toBe(Math.round(255 / 16)); // image 0, pixel (0, 1)
    expect(at(4, 0)).toBe(Math.round(255 / 4)); // image 1 starts at column 4
    expect(at(0, 4)).toBe(Math.round(255 * 0.5)); // image 2 starts the second row
    expect(at(3, 7)).toBe(255); // clipped to 1
    expect(at(7, 7)).toBe(0); // no fourth image: left black
    const url = greyPngDataUrl(g);
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    const png = decodePng(new Uint8Array(Buffer.from(url.slice(22), 'base64')));
    expect([png.width, png.height, png.channels]).toEqual([8, 8, 1]);
    expect(Array.from(png.data)).toEqual(Array.from(g.grey));
  });
});

describe('the decoder export read back', () => {
  const cfg = resolveConfig({ inputSize: 12, hidden: 5, latent: 3, decoder: 'gaussian', sigmoidMean: false, activation: 'relu' });
  const params = initParams(cfg, 3);
  const exp = exportDecoder(cfg, params, { imageShape: [3, 4] });

  it('gives the model shape and the dec.* parameters in the training layout (the encoder left at zero)', () => {
    const d = importDecoder(JSON.parse(JSON.stringify(exp.modelJson)), exp.weightsBin, 'm.json');
    expect(d.cfg).toMatchObject({ inputSize: 12, hidden: 5, latent: 3, decoder: 'gaussian', sigmoidMean: false, activation: 'relu' });
    expect(d.imageShape).toEqual([3, 4]);
    for (const s of buildLayout(cfg).specs) {
      expect(Array.from(view(d.params, s)), s.name).toEqual(
        s.name.startsWith('dec.') ? Array.from(view(params, s)) : new Array(s.size).fill(0),
      );
    }
  });

  it('refuses a model.json of something else, a wrong manifest and short weights, naming the file', () => {
    expect(() => importDecoder({ format: 'layers-model' }, exp.weightsBin, 'x/model.json')).toThrow(
      /^Decoder export x\/model\.json is not an aevb decoder/,
    );
    const renamed = JSON.parse(JSON.stringify(exp.modelJson));
    renamed.weightsManifest[0].weights[0].name = 'dec.W9';
    expect(() => importDecoder(renamed, exp.weightsBin, 'm')).toThrow(/lists weight 0 as .*; expected dec\.W1 float32 \[5, 3\]/);
    expect(() => importDecoder(exp.modelJson, exp.weightsBin.subarray(4), 'm')).toThrow(/has \d+ bytes of weights; the manifest needs \d+/);
  });
});

describe("the page's matching of picked files to a sweep", () => {
  const file = (text: string) => new Blob([text]);
  const sweep = sweepText([run('J3-aevb', 3), run('J3-ws', 3, { algorithm: 'wake-sleep' }), { ...run('J5', 5), status: 'pending' }]);
  const metrics = '{"samplesSeen":100,"trainElbo":-1,"testElbo":-2}\n';

  it("a picked directory: sweep.json at the top, each run's DIR/metrics.jsonl; checkpoints and other files are not read", async () => {
    const unreadable = { text: () => Promise.reject(new Error('read a checkpoint')) } as unknown as Blob;
    const files: PickedFile[] = [
      { path: 'fig2/sweep.json', file: file(sweep) },
      { path: 'fig2/J3-aevb/metrics.jsonl', file: file(metrics) },
      { path: 'fig2/J3-aevb/checkpoint.aevb', file: unreadable },
      { path: 'fig2/J3-ws/metrics.jsonl', file: file(metrics) },
      { path: 'fig2/old/sweep.json', file: unreadable }, // a deeper sweep.json is not the sweep's
    ];
    const p = await pickSweep(files);
    expect(p.sweepPath).toBe('fig2/sweep.json');
    expect(p.metrics.map((m) => [m.dir, m.path])).toEqual([
      ['J3-aevb', 'fig2/J3-aevb/metrics.jsonl'],
      ['J3-ws', 'fig2/J3-ws/metrics.jsonl'],
    ]);
  });

  it('loose files: <dir>.metrics.jsonl by name, a lone metrics.jsonl for the one run left; anything ambiguous or missing is refused with what to do', async () => {
    const named = await pickSweep([
      { path: 'sweep.json', file: file(sweep) },
      { path: 'J3-ws.metrics.jsonl', file: file(metrics) },
    ]);
    expect(named.metrics.map((m) => m.dir)).toEqual(['J3-ws']);
    // A lone metrics.jsonl while two runs lack theirs: J3-aevb's or J5's? Refused, not guessed.
    await expect(
      pickSweep([
        { path: 'sweep.json', file: file(sweep) },
        { path: 'J3-ws.metrics.jsonl', file: file(metrics) },
        { path: 'metrics.jsonl', file: file(metrics) },
      ]),
    ).rejects.toThrow(/^1 metrics\.jsonl file came without its folder, and 2 runs of sweep\.json lack their metrics/);
    await expect(
      pickSweep([
        { path: 'sweep.json', file: file(sweep) },
        { path: 'metrics.jsonl', file: file(metrics) },
        { path: 'J3-aevb.metrics.jsonl', file: file(metrics) },
        { path: 'J5.metrics.jsonl', file: file(metrics) },
      ]),
    ).resolves.toMatchObject({ metrics: [{ dir: 'J3-aevb' }, { dir: 'J5' }, { dir: 'J3-ws', path: 'metrics.jsonl' }] });
    await expect(
      pickSweep([
        { path: 'sweep.json', file: file(sweep) },
        { path: 'metrics.jsonl', file: file(metrics) },
        { path: 'metrics.jsonl', file: file(metrics) },
      ]),
    ).rejects.toThrow(
      /^2 metrics\.jsonl files came without their folders, and 3 runs of sweep\.json lack their metrics: which file belongs to which run cannot be told\. Pick the sweep's directory .* Or rename each run's file to <run dir>\.metrics\.jsonl \(e\.g\. J3-aevb\.metrics\.jsonl\)\.$/,
    );
    await expect(pickSweep([{ path: 'a.txt', file: file('') }])).rejects.toThrow(
      "No sweep.json among the 1 file given (a.txt). Pick the sweep's directory (the --out of npm run sweep), or drop that folder here.",
    );
    await expect(pickSweep([{ path: 'sweep.json', file: file(sweep) }])).rejects.toThrow(
      'sweep.json names 3 runs, but none of their metrics.jsonl files came with it.',
    );
    await expect(pickSweep([{ path: 'sweep.json', file: file('{"version":1,"runs":[') }])).rejects.toThrow(
      /^sweep\.json: is not valid JSON/,
    );
  });
});
