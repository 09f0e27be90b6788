/**
 * The single-worker benchmark's results: their shape (also the JSON written with --json) and
 * the Markdown tables printed at the end of a run.
 */
import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { matMulFlops, type MatMulShape } from './matmul_ceiling.ts';
import { matMulKey, type StepProfile } from './step_profile.ts';

export interface Machine {
  cpu: string;
  cores: number;
  os: string;
  node: string;
  tfjs: string;
  wasmSimd: boolean;
  /** 1-minute load average when the run started and ended (the machine may be shared). */
  loadStart: number;
  loadEnd?: number;
}

export function describeMachine(wasmSimd: boolean): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    tfjs: tf.version_core,
    wasmSimd,
    loadStart: os.loadavg()[0],
  };
}

export interface VariantResult {
  /** Median over measurements. */
  samplesPerSec: number;
  /** The best measurement (the least disturbed by other load). */
  bestSamplesPerSec: number;
  /** One entry per measurement, in order. */
  rounds: number[];
  stepsPerRound: number[];
  /** Other variants: production's samples/s around each measurement (mean of the slots just before and after). */
  productionAround?: number[];
}

export interface MatMulRow extends MatMulShape {
  /** Medians over rounds. */
  cachedGflops: number;
  freshRightGflops: number;
  /** From the step profile: GFLOP/s inside the step and calls per step seen there. */
  inStepGflops?: number;
  inStepCalls?: number;
}

export interface ConfigResult {
  H: number;
  J: number;
  M: number;
  flopsPerSample: number;
  variants: Record<string, VariantResult>;
  /** Medians over rounds of production (around it) ÷ the variant: paired, so shared load cancels. */
  ratios: { productionOverAutodiff: number; productionOverAutodiffGrads: number; productionOverCpu: number };
  /** flopsPerSample × median production samples/s. */
  stepGflops: number;
  matMuls: MatMulRow[];
  /** FLOP-weighted aggregate over the step's matMuls, median over rounds; and per round. */
  ceilingGflops: number;
  ceilingRounds: number[];
  freshRightGflops: number;
  /** Median over rounds of (flopsPerSample × production samples/s around it) ÷ that round's ceiling. */
  ceilingShare: number;
  ceilingShareRounds: number[];
  profile: StepProfile;
}

export interface BenchResult {
  date: string;
  command: string;
  machine: Machine;
  settings: { rounds: number; minMsPerMeasurement: Record<string, number>; dataset: string; model: string };
  configs: ConfigResult[];
}

const f0 = (x: number) => x.toFixed(0);
const f1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const rule = (n: number) => row(Array.from({ length: n }, () => '---'));

/** In-step matMul rows from a profile, by shape key. */
export function inStep(shape: MatMulShape, profile: StepProfile): { gflops?: number; calls?: number } {
  const s = profile.matMuls[matMulKey(shape.m, shape.k, shape.n)];
  if (!s || s.calls === 0) return {};
  return { gflops: (matMulFlops(shape) * s.calls) / (s.ms * 1e6), calls: s.calls };
}

export function formatReport(r: BenchResult): string {
  const m = r.machine;
  const out: string[] = [];
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.os}; Node ${m.node}; tfjs ${m.tfjs} (wasm ${m.wasmSimd ? 'SIMD' : 'no SIMD'}, 1 thread); ` +
      `load average ${m.loadStart.toFixed(2)} at start${m.loadEnd === undefined ? '' : `, ${m.loadEnd.toFixed(2)} at end`}.`,
  );
  out.push(`Date: ${r.date}. Command: ${r.command}. ${r.settings.model}; ${r.settings.dataset}.`);
  out.push(
    `Each configuration: ${r.settings.rounds} rounds; a round runs production, then each other measurement followed ` +
      `by production again (P A P G P C P K …), at least ` +
      Object.entries(r.settings.minMsPerMeasurement)
        .map(([k, v]) => `${(v / 1000).toFixed(2)} s (${k})`)
        .join(', ') +
      ' each. Throughputs are medians; ratios and ceiling shares are medians of per-round ratios against the production ' +
      'slots right around each measurement, so load from other processes largely cancels.',
  );
  out.push('');
  out.push('Throughput, samples/s on one thread: median (best measurement):');
  out.push('');
  out.push(
    row([
      'H',
      'M',
      'production wasm',
      'autodiff wasm',
      'autodiff grads-only wasm',
      'production cpu',
      'prod / autodiff',
      'prod / grads-only',
      'prod / cpu',
    ]),
  );
  out.push(rule(9));
  const sps = (v: VariantResult) => `${f0(v.samplesPerSec)} (${f0(v.bestSamplesPerSec)})`;
  for (const c of r.configs) {
    const v = c.variants;
    out.push(
      row([
        c.H,
        c.M,
        sps(v.production),
        sps(v.autodiff),
        sps(v.autodiffGrads),
        sps(v.productionCpu),
        `${f1(c.ratios.productionOverAutodiff)}×`,
        `${f1(c.ratios.productionOverAutodiffGrads)}×`,
        `${f1(c.ratios.productionOverCpu)}×`,
      ]),
    );
  }
  out.push('');
  out.push(
    "Against the matMul ceiling (wasm): step GFLOP/s = FLOPs per sample × production samples/s; ceiling = the step's matMuls " +
      'alone, FLOP-weighted, operands cached (measured in every round); "fresh B" = right operand a new tensor each call, as inside a step.',
  );
  out.push('');
  out.push(
    row([
      'H',
      'M',
      'MFLOP / sample',
      'step GFLOP/s',
      'ceiling GFLOP/s (per round)',
      '% of ceiling',
      'fresh-B GFLOP/s',
      'ms / step',
      'profiled ms / step',
      'of which matMul kernels',
    ]),
  );
  out.push(rule(10));
  for (const c of r.configs) {
    const msStep = (1000 * c.M) / c.variants.production.samplesPerSec;
    const p = c.profile;
    out.push(
      row([
        c.H,
        c.M,
        (c.flopsPerSample / 1e6).toFixed(2),
        f1(c.stepGflops),
        `${f1(c.ceilingGflops)} (${c.ceilingRounds.map(f0).join(', ')})`,
        pct(c.ceilingShare),
        f1(c.freshRightGflops),
        msStep.toFixed(2),
        (p.shardMs + p.gradientMs + p.updateMs).toFixed(2),
        `${(p.kernels.BatchMatMul?.ms ?? 0).toFixed(2)} ms`,
      ]),
    );
  }
  for (const c of r.configs.filter((x) => x.M === Math.max(...r.configs.map((y) => y.M)))) {
    out.push('');
    out.push(`matMuls of one step, H=${c.H} J=${c.J} M=${c.M} (GFLOP/s; "in step" from the kernel profile):`);
    out.push('');
    out.push(row(['product', 'm×k · k×n', 'per step', 'cached', 'fresh B', 'in step', 'in step / cached']));
    out.push(rule(7));
    for (const mm of c.matMuls) {
      const odd = mm.inStepGflops !== undefined && mm.inStepGflops < 0.67 * mm.freshRightGflops ? ' ⚠' : '';
      out.push(
        row([
          mm.label,
          matMulKey(mm.m, mm.k, mm.n),
          mm.inStepCalls === undefined || mm.inStepCalls === mm.count ? mm.count : `${mm.count} (seen ${f1(mm.inStepCalls)})`,
          f1(mm.cachedGflops),
          f1(mm.freshRightGflops),
          mm.inStepGflops === undefined ? '–' : f1(mm.inStepGflops) + odd,
          mm.inStepGflops === undefined ? '–' : pct(mm.inStepGflops / mm.cachedGflops),
        ]),
      );
    }
    const known = new Set(c.matMuls.map((mm) => matMulKey(mm.m, mm.k, mm.n)));
    const extra = Object.entries(c.profile.matMuls).filter(([k]) => !known.has(k));
    if (extra.length > 0) {
      out.push('');
      out.push(
        `⚠ matMuls in the step that the shape list does not know (update stepMatMuls): ` +
          extra.map(([k, s]) => `${k} (${f1(s.calls)}× per step, ${s.ms.toFixed(2)} ms)`).join(', ') +
          '.',
      );
    }
    out.push('');
    out.push(formatBreakdown(c));
  }
  return out.join('\n');
}

/** Where one step's milliseconds go, from the profile. */
function formatBreakdown(c: ConfigResult): string {
  const p = c.profile;
  const kernelMs = Object.values(p.kernels).reduce((a, k) => a + k.ms, 0);
  const top = Object.entries(p.kernels)
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 6)
    .map(([name, k]) => `${name} ${k.ms.toFixed(2)} ms (${f1(k.calls)}×)`)
    .join(', ');
  const total = p.shardMs + p.gradientMs + p.updateMs;
  return (
    `Step breakdown (profiled, H=${c.H} M=${c.M}): ${total.toFixed(2)} ms = buildShard ${p.shardMs.toFixed(2)} + gradient ` +
    `${p.gradientMs.toFixed(2)} (kernels ${kernelMs.toFixed(2)}, outside kernels ${(p.gradientMs - kernelMs).toFixed(2)}) + ` +
    `update ${p.updateMs.toFixed(2)}. Top kernels: ${top}.`
  );
}
