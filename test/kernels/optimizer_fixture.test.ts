/**
 * The fixture that keeps examples/pytorch's optimizers equal to aevb's
 * (examples/pytorch/optimizer_fixture.json; its Python side is examples/pytorch/test_optimizers.py).
 *
 * For every rule of the optimizer registry the file holds its torch.optim form (class, options, state
 * keys) and a few updates of a small θ computed by the update kernel, the production path: θ₀, the
 * gradient of each step, and θ and the slots after it. The Python test holds make_optimizer and
 * OPT_SLOTS of examples/pytorch/aevb_model.py to it (torch.optim on the same gradients, the same
 * numbers). This test recomputes the file and fails when a rule is added or changed without it;
 * rewrite it then with
 *     UPDATE_FIXTURE=1 npx vitest run test/kernels/optimizer_fixture.test.ts
 * and add the rule to examples/pytorch/aevb_model.py (python3 -m unittest in examples/pytorch).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIMIZERS, OPTIMIZER_NAMES, OPTIMIZER_SLOTS, type OptimizerKind } from '../../src/shared/training/optimizers.ts';
import { allocatePoolMemory } from '../../src/shared/runtime/shared_memory.ts';
import { UpdateKernel } from '../../src/kernels/update_kernel.ts';

const FIXTURE = path.resolve(import.meta.dirname, '../../examples/pytorch/optimizer_fixture.json');
const P = 7,
  STEPS = 4,
  LR = 0.05,
  WEIGHT_DECAY = 0.01;

/** θ₀ and the gradient of the loss (−ELBO, before weight decay) at step t: a spread of signs and sizes. */
const theta0 = () => Array.from({ length: P }, (_, i) => Math.fround(Math.sin(1.7 * i + 0.3)));
const gradient = (t: number) => Array.from({ length: P }, (_, i) => Math.fround(Math.cos(0.9 * i * t + t) * 2 ** ((i % 5) - 2)));

function trajectory(kind: OptimizerKind) {
  const mem = allocatePoolMemory(
    { workers: 1, paramCount: P, slotCount: OPTIMIZER_SLOTS[kind].length, mirrorSize: 0, maxSteps: 1, trainLength: 0, testLength: 0 },
    false,
  );
  const kernel = new UpdateKernel(mem.buffers.memory);
  mem.state(0).params.set(theta0());
  const steps: Array<{ grad: number[]; params: number[]; slots: number[][] }> = [];
  let cur = 0;
  for (let t = 1; t <= STEPS; t++) {
    const grad = gradient(t);
    mem.grads[0].set(grad);
    const ok = kernel.update({
      rule: kind,
      from: mem.state(cur).ptr,
      to: mem.state(1 - cur).ptr,
      grads: mem.gradPtr,
      gradStride: mem.gradStride,
      gradCount: 1,
      scale: 1, // the slot holds the loss's gradient itself, as p.grad does in torch
      lr: LR,
      weightDecay: WEIGHT_DECAY,
      args: OPTIMIZERS[kind].kernelArgs(t),
      start: 0,
      end: P,
    });
    expect(ok).toBe(true);
    cur = 1 - cur;
    steps.push({ grad, params: Array.from(mem.state(cur).params), slots: mem.state(cur).slots.map((s) => Array.from(s)) });
  }
  return steps;
}

function buildFixture() {
  return {
    about:
      "aevb's update rules (the optimizer registry and the update kernel), written by test/kernels/optimizer_fixture.test.ts (UPDATE_FIXTURE=1); read by examples/pytorch/test_optimizers.py",
    lr: LR,
    weightDecay: WEIGHT_DECAY,
    theta0: theta0(),
    rules: OPTIMIZER_NAMES.map((kind) => {
      const spec = OPTIMIZERS[kind];
      return {
        kind,
        torch: { optimizer: spec.torch.optimizer, options: spec.torch.options, state: spec.slots.map((s) => s.torch) },
        steps: trajectory(kind),
      };
    }),
  };
}

describe('examples/pytorch/optimizer_fixture.json holds every rule of the registry as the kernel computes it', () => {
  const fresh = buildFixture();
  if (process.env.UPDATE_FIXTURE === '1') fs.writeFileSync(FIXTURE, `${JSON.stringify(fresh)}\n`);

  it('the same rules, torch.optim forms and updates, number for number', () => {
    const saved = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as ReturnType<typeof buildFixture>;
    expect(
      saved.rules.map((r) => r.kind),
      'a rule was added or removed: UPDATE_FIXTURE=1 npx vitest run test/kernels/optimizer_fixture.test.ts',
    ).toEqual(fresh.rules.map((r) => r.kind));
    expect(saved).toEqual(fresh);
  });

  it('is not vacuous: every rule moves θ, and the rules move it differently', () => {
    const finals = fresh.rules.map((r) => r.steps[STEPS - 1].params);
    for (const f of finals) expect(f.some((v, i) => Math.abs(v - fresh.theta0[i]) > 1e-3)).toBe(true);
    expect(new Set(finals.map((f) => f.join())).size).toBe(finals.length);
  });
});
