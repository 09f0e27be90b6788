import { describe, expect, it } from 'vitest';
import { evalSteps, nextEvalStep } from '../../src/shared/training/eval_schedule.ts';
import { parseEvalSchedule } from '../../src/main/node/eval_at_flag.ts';

describe('evaluation points', () => {
  it('epochs: every epoch end, up to the last step', () => {
    expect(evalSteps({ kind: 'epochs' }, 90, 100, 270)).toEqual([90, 180, 270]);
    expect(evalSteps({ kind: 'epochs' }, 90, 100, 270, 100)).toEqual([180, 270]);
  });

  it('log:5 at M = 100: the first step with round(10^(i/5)) samples seen, deduplicated, and the last step', () => {
    // 10^(11/5) = 158.5 → 159 samples → step 2; 10^(14/5) = 631 → step 7; … 10^(21/5) = 15849 → step 159.
    expect(evalSteps({ kind: 'log', perDecade: 5 }, 90, 100, 200)).toEqual([1, 2, 3, 4, 7, 10, 16, 26, 40, 64, 100, 159, 200]);
  });

  it('each log point is the first step boundary at or past its sample count', () => {
    const P = 3,
      M = 7,
      total = 10_000;
    const steps = evalSteps({ kind: 'log', perDecade: P }, 1000, M, total);
    for (let i = 0; Math.round(10 ** (i / P)) <= (total - 1) * M; i++) {
      const g = Math.round(10 ** (i / P));
      const s = Math.ceil(g / M);
      expect(steps).toContain(s);
      expect(s * M).toBeGreaterThanOrEqual(g);
      expect((s - 1) * M).toBeLessThan(g);
    }
    expect(steps.at(-1)).toBe(total);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    expect(new Set(steps).size).toBe(steps.length);
  });

  it("the grid does not depend on where a run resumed: the points after s are the whole run's points after s", () => {
    const all = evalSteps({ kind: 'log', perDecade: 4 }, 90, 100, 5000);
    for (const s of [0, 1, 3, 17, 90, 1234, 4999]) {
      expect(evalSteps({ kind: 'log', perDecade: 4 }, 90, 100, 5000, s)).toEqual(all.filter((t) => t > s));
    }
    expect(nextEvalStep({ kind: 'log', perDecade: 4 }, 5000, 90, 100, 5000)).toBe(Infinity);
  });

  it('parses epochs, log and log:P; refuses the rest with the field and a neutral fix', () => {
    expect(parseEvalSchedule('epochs')).toEqual({ kind: 'epochs' });
    expect(parseEvalSchedule('log')).toEqual({ kind: 'log', perDecade: 5 });
    expect(parseEvalSchedule('log:10')).toEqual({ kind: 'log', perDecade: 10 });
    for (const bad of ['log:0', 'log:101', 'log:', 'log:2.5', 'grid', '']) {
      expect(() => parseEvalSchedule(bad)).toThrow(
        /"eval-at" is .*it must be epochs, log or log:P.*Use epochs \(after every epoch\) or e\.g\. log:5/,
      );
    }
  });
});
