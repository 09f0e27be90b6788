/**
 * The app's pure helpers, in Node: TensorBoard-style smoothing and y-range (chart_math.ts), the
 * metrics files (metrics_download.ts), messages in the page's words (error_words.ts) and the
 * time-left text of a long estimate (loglik_estimate.ts).
 */
import { describe, it, expect } from 'vitest';
import { smooth, yRange } from '../../src/main/app/chart_math.ts';
import { METRIC_FIELDS, metricsCsv, metricsJsonl } from '../../src/main/app/metrics_download.ts';
import { pageMessage } from '../../src/main/app/error_words.ts';
import { checkpointError } from '../../src/shared/errors.ts';
import { timeLeft } from '../../src/main/app/loglik_estimate.ts';
import { resolveConfig } from '../../src/shared/training/config.ts';
import type { EpochRecord } from '../../src/main/evaluation.ts';

describe('smooth (debiased EMA, as TensorBoard)', () => {
  it('starts at the first value, follows a constant exactly, skips nulls, and w = 0 changes nothing', () => {
    expect(smooth([5, 5, 5], 0.9)).toEqual([5, 5, 5].map(() => expect.closeTo(5, 12)));
    const s = smooth([0, null, 10], 0.5);
    // m1 = 0, m2 = 0.5·0 + 0.5·10 = 5, debiased by 1 − 0.5² = 0.75 → 6.667
    expect(s[0]).toBe(0);
    expect(s[1]).toBeNull();
    expect(s[2]).toBeCloseTo(5 / 0.75, 12);
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
  });
});

describe('yRange', () => {
  const x = Array.from({ length: 100 }, (_, i) => i + 1);
  const y = x.map((v) => (v === 1 ? -540 : -200 + v)); // one early outlier
  it('follows the x window and ignores the low outlier when asked', () => {
    const [lo, hi] = yRange(x, [y], 1, 100, true)!;
    expect(lo).toBeGreaterThan(-200);
    expect(hi).toBeGreaterThan(-100);
    const [lo2] = yRange(x, [y], 1, 100, false)!;
    expect(lo2).toBeLessThan(-540);
    const [lo3, hi3] = yRange(x, [y], 50, 60, true)!;
    expect(lo3).toBeGreaterThan(-151);
    expect(hi3).toBeLessThan(-139);
    expect(yRange(x, [y], 200, 300, true)).toBeNull();
  });
});

describe('metrics files', () => {
  const row = {
    epoch: 0,
    step: 18,
    samplesSeen: 1800,
    trainElbo: -200.5,
    testElbo: -201.25,
    trainRecon: -190,
    trainKl: 10.5,
    testRecon: -191,
    testKl: 10.25,
    trainElboSe: 0.05,
    testElboSe: null,
    elboSamples: 2,
    samplesPerSecond: 1234.5,
    trainSeconds: 1.5,
    evalSeconds: 0.25,
    failedSteps: 0,
    workers: 2,
  } as EpochRecord;
  it('CSV: the CLI metrics.jsonl fields as header, one row per epoch, absent values empty', () => {
    const lines = metricsCsv([row, { ...row, step: 36 }])
      .trimEnd()
      .split('\n');
    expect(lines[0].split(',')).toEqual([...METRIC_FIELDS]);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toBe('0,18,,1800,-200.5,-201.25,-190,10.5,-191,10.25,0.05,,2,,,,1234.5,1.5,0.25,0,2'); // no point in this row: empty
  });
  it("CSV: every field of the JSONL, point included, and any other a row has (an estimate's row among the epochs')", () => {
    const rows = [
      { ...row, point: 'epoch' as const },
      { epoch: 0, step: 20, point: 'estimate' as const, samplesSeen: 2000, logLikelihood: -99.5, logLikelihoodK: 100, extra: 'a,b' },
    ];
    const text = metricsCsv(rows as never);
    const [head, first, second] = text.trimEnd().split('\n');
    const cols = head.split(',');
    for (const r of metricsJsonl(rows as never)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as object))
      for (const k of Object.keys(r)) expect(cols).toContain(k);
    expect(cols.at(-1)).toBe('extra');
    expect(first.split(',')[2]).toBe('epoch');
    expect(second.split(',')[2]).toBe('estimate');
    expect(second.endsWith(',"a,b"')).toBe(true); // a cell with a comma is quoted
  });
  it('JSONL: one object per line, the record as is', () => {
    const lines = metricsJsonl([row]).split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toEqual(row);
  });
});

describe('pageMessage', () => {
  const say = (partial: object) => {
    try {
      resolveConfig(partial);
      return '';
    } catch (e) {
      return pageMessage(e);
    }
  };
  it("names the field by its label and the fix by the page's controls: no CLI flags", () => {
    expect(say({ lr: -1 })).toBe('Learning rate is -1; it must be a finite number > 0 and ≤ 10. Enter a value in that range.');
    expect(say({ latent: 0 })).toBe('Latent size J is 0; it must be an integer from 1 to 1024. Enter a whole number in that range.');
    expect(say({ binarize: true, decoder: 'gaussian' })).toBe(
      'Binarise each minibatch is on with a Gaussian decoder. Binarisation draws binary targets for a Bernoulli decoder: choose the Bernoulli decoder or untick "Binarise each minibatch".',
    );
    expect(
      pageMessage(
        checkpointError('The checkpoint is corrupt: x.', 'The file is damaged or incomplete: resume from another copy or start a new run.'),
      ),
    ).toBe('The checkpoint is corrupt: x. The file is damaged or incomplete: resume from another copy or start a new run.');
  });
});

describe('timeLeft', () => {
  it('extrapolates from the share done', () => {
    expect(timeLeft(10_000, 0, 100)).toBe('working out the time left');
    expect(timeLeft(10_000, 50, 100)).toBe('about 10 s left');
    expect(timeLeft(60_000, 10, 100)).toBe('about 9 min left');
    expect(timeLeft(3_600_000, 10, 100)).toBe('about 9.0 h left');
  });
});
