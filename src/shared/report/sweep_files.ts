/**
 * The files of a finished (or running) sweep, read for the figures: `DIR/sweep.json`, each run's
 * `metrics.jsonl` and `DIR/variance.json`. Text in, checked records out; the same code serves the
 * CLI (`npm run figures`, which reads the files from disk) and the page (which reads the files the
 * user picks or drops). Every error names the file (and the line), what is wrong and the fix.
 *
 * Only the fields the figures use are checked: a sweep written by a newer aevb with more fields
 * still plots, and `config.algorithm` missing (a run from before wake-sleep) reads as 'aevb'.
 */
import { AevbError } from '../errors.ts';

export type Algorithm = 'aevb' | 'wake-sleep';
export type RunStatus = 'done' | 'running' | 'pending' | 'failed';

export interface SweepRun {
  name: string;
  /** The run's directory, relative to the sweep's. */
  dir: string;
  /** J. */
  latent: number;
  algorithm: Algorithm;
  decoder: 'bernoulli' | 'gaussian';
  status: RunStatus;
  /** The whole config as written (TrainConfig and whatever a later version adds). */
  config: Record<string, unknown>;
}

export interface Sweep {
  runs: SweepRun[];
}

/** One evaluation point of a run (a metrics.jsonl line): the ELBO per datapoint on both sets. */
export interface MetricsPoint {
  samplesSeen: number;
  /**
   * null where the evaluation was not a finite number: JSON writes NaN and ±Infinity as null, and a
   * diverging run (a Gaussian decoder whose variance collapses, say) reports exactly that. Such a
   * point is a result, not a broken file: the figure leaves it out and says so.
   */
  trainElbo: number | null;
  testElbo: number | null;
  /** Monte Carlo standard errors of the reported means (nats), when the run wrote them (null: S = 1, none). */
  trainElboSe?: number;
  testElboSe?: number;
}

export interface VarianceRow {
  checkpoint: string;
  samplesSeen: number;
  estimator: 'A' | 'B';
  L: number;
  meanVariance: number;
  medianVariance?: number;
}

const STATUSES: readonly RunStatus[] = ['done', 'running', 'pending', 'failed'];

const sweepError = (file: string, problem: string, fix: string) => new AevbError('DATA', `${file}: ${problem}.`, fix);

function parseJson(text: string, file: string, fix: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw sweepError(file, `is not valid JSON (${(e as Error).message})`, fix);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** A run directory name that stays inside the sweep: relative, no `..`, no empty parts. */
function safeDir(dir: string): boolean {
  if (dir === '' || dir.startsWith('/') || dir.includes('\\') || /^[A-Za-z]:/.test(dir)) return false;
  return dir.split('/').every((p) => p !== '' && p !== '.' && p !== '..');
}

/** DIR/sweep.json = { version: 1, runs: [{ name, dir, config, status }] }. */
export function parseSweepJson(text: string, file = 'sweep.json'): Sweep {
  const rewrite = 'Write it again with npm run sweep (or fix it by hand to the format in docs/figures.md).';
  const raw = parseJson(text, file, rewrite);
  if (!isObject(raw)) throw sweepError(file, 'is not a JSON object', rewrite);
  if (raw.version !== 1) {
    throw sweepError(
      file,
      `has version ${JSON.stringify(raw.version)}; this aevb reads version 1`,
      'Make the figures with the aevb that ran the sweep, or write the sweep again.',
    );
  }
  if (!Array.isArray(raw.runs) || raw.runs.length === 0) throw sweepError(file, '"runs" is not a non-empty array', rewrite);
  const names = new Set<string>(),
    dirs = new Set<string>();
  const runs = raw.runs.map((r: unknown, i: number): SweepRun => {
    const at = `runs[${i}]`;
    if (!isObject(r)) throw sweepError(file, `${at} is not an object`, rewrite);
    if (typeof r.name !== 'string' || r.name === '')
      throw sweepError(file, `${at}.name is ${JSON.stringify(r.name)}; it must be a non-empty string`, rewrite);
    if (typeof r.dir !== 'string' || !safeDir(r.dir)) {
      throw sweepError(file, `${at}.dir is ${JSON.stringify(r.dir)}; it must be a relative path inside the sweep's directory`, rewrite);
    }
    if (names.has(r.name)) throw sweepError(file, `${at}.name "${r.name}" appears twice`, 'Give every run its own name.');
    if (dirs.has(r.dir)) throw sweepError(file, `${at}.dir "${r.dir}" appears twice`, 'Give every run its own directory.');
    names.add(r.name);
    dirs.add(r.dir);
    const c = r.config;
    if (!isObject(c)) throw sweepError(file, `${at}.config is not an object`, rewrite);
    if (typeof c.latent !== 'number' || !Number.isInteger(c.latent) || c.latent < 1) {
      throw sweepError(file, `${at}.config.latent is ${JSON.stringify(c.latent)}; it must be a whole number ≥ 1`, rewrite);
    }
    const algorithm = c.algorithm ?? 'aevb';
    if (algorithm !== 'aevb' && algorithm !== 'wake-sleep') {
      throw sweepError(file, `${at}.config.algorithm is ${JSON.stringify(c.algorithm)}; it must be "aevb" or "wake-sleep"`, rewrite);
    }
    const decoder = c.decoder ?? 'bernoulli';
    if (decoder !== 'bernoulli' && decoder !== 'gaussian') {
      throw sweepError(file, `${at}.config.decoder is ${JSON.stringify(c.decoder)}; it must be "bernoulli" or "gaussian"`, rewrite);
    }
    if (!STATUSES.includes(r.status as RunStatus)) {
      throw sweepError(file, `${at}.status is ${JSON.stringify(r.status)}; it must be one of ${STATUSES.join(', ')}`, rewrite);
    }
    return { name: r.name, dir: r.dir, latent: c.latent, algorithm, decoder, status: r.status as RunStatus, config: c };
  });
  return { runs };
}

/**
 * A run's metrics.jsonl: one JSON object a line (blank lines skipped). Reads samplesSeen, trainElbo,
 * testElbo and, when present, trainElboSe and testElboSe; the other fields are left alone.
 */
export function parseMetricsJsonl(text: string, file = 'metrics.jsonl'): MetricsPoint[] {
  const fix = (line: number) =>
    `Fix or delete line ${line} of ${file} (each line is one JSON object as npm run train writes it), or train the run again.`;
  const points: MetricsPoint[] = [];
  text.split('\n').forEach((lineText, i) => {
    const line = i + 1;
    if (lineText.trim() === '') return;
    let o: unknown;
    try {
      o = JSON.parse(lineText);
    } catch (e) {
      throw sweepError(`${file} line ${line}`, `is not valid JSON (${(e as Error).message})`, fix(line));
    }
    if (!isObject(o)) throw sweepError(`${file} line ${line}`, 'is not a JSON object', fix(line));
    if (!isFiniteNumber(o.samplesSeen))
      throw sweepError(
        `${file} line ${line}`,
        `field "samplesSeen" is ${JSON.stringify(o.samplesSeen)}; it must be a finite number`,
        fix(line),
      );
    for (const k of ['trainElbo', 'testElbo'] as const) {
      if (!isFiniteNumber(o[k]) && o[k] !== null) {
        throw sweepError(
          `${file} line ${line}`,
          `field "${k}" is ${JSON.stringify(o[k])}; it must be a finite number (or null: not finite)`,
          fix(line),
        );
      }
    }
    if ((o.samplesSeen as number) < 0)
      throw sweepError(`${file} line ${line}`, `field "samplesSeen" is ${o.samplesSeen}; it must be ≥ 0`, fix(line));
    const p: MetricsPoint = {
      samplesSeen: o.samplesSeen as number,
      trainElbo: o.trainElbo as number | null,
      testElbo: o.testElbo as number | null,
    };
    for (const k of ['trainElboSe', 'testElboSe'] as const) {
      // Absent (older runs) or null (S = 1 gives no standard error; or its ELBO was not finite): no band.
      if (o[k] === undefined || o[k] === null) continue;
      if (!isFiniteNumber(o[k]) || (o[k] as number) < 0) {
        throw sweepError(
          `${file} line ${line}`,
          `field "${k}" is ${JSON.stringify(o[k])}; it must be a finite number ≥ 0 or null`,
          fix(line),
        );
      }
      p[k] = o[k] as number;
    }
    points.push(p);
  });
  return points;
}

/** DIR/variance.json = { version: 1, rows: [{ checkpoint, samplesSeen, estimator, L, meanVariance, medianVariance, perGroup }] }. */
export function parseVarianceJson(text: string, file = 'variance.json'): VarianceRow[] {
  const rewrite = 'Write it again with npm run variance.';
  const raw = parseJson(text, file, rewrite);
  if (!isObject(raw) || raw.version !== 1)
    throw sweepError(file, 'is not a version 1 variance study ({ "version": 1, "rows": [...] })', rewrite);
  if (!Array.isArray(raw.rows) || raw.rows.length === 0) throw sweepError(file, '"rows" is not a non-empty array', rewrite);
  return raw.rows.map((r: unknown, i: number): VarianceRow => {
    const at = `rows[${i}]`;
    if (!isObject(r)) throw sweepError(file, `${at} is not an object`, rewrite);
    if (r.estimator !== 'A' && r.estimator !== 'B')
      throw sweepError(file, `${at}.estimator is ${JSON.stringify(r.estimator)}; it must be "A" or "B"`, rewrite);
    if (typeof r.L !== 'number' || !Number.isInteger(r.L) || r.L < 1)
      throw sweepError(file, `${at}.L is ${JSON.stringify(r.L)}; it must be a whole number ≥ 1`, rewrite);
    if (!isFiniteNumber(r.meanVariance) || r.meanVariance <= 0) {
      throw sweepError(
        file,
        `${at}.meanVariance is ${JSON.stringify(r.meanVariance)}; it must be a finite number > 0 (the figure's y-axis is logarithmic)`,
        rewrite,
      );
    }
    if (!isFiniteNumber(r.samplesSeen) || r.samplesSeen < 0)
      throw sweepError(file, `${at}.samplesSeen is ${JSON.stringify(r.samplesSeen)}; it must be a number ≥ 0`, rewrite);
    if (r.medianVariance !== undefined && (!isFiniteNumber(r.medianVariance) || r.medianVariance <= 0)) {
      throw sweepError(file, `${at}.medianVariance is ${JSON.stringify(r.medianVariance)}; it must be a finite number > 0`, rewrite);
    }
    return {
      checkpoint: typeof r.checkpoint === 'string' ? r.checkpoint : `row ${i}`,
      samplesSeen: r.samplesSeen,
      estimator: r.estimator,
      L: r.L,
      meanVariance: r.meanVariance,
      ...(r.medianVariance !== undefined ? { medianVariance: r.medianVariance as number } : {}),
    };
  });
}
