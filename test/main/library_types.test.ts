/**
 * The library's config types for deeper MLPs and the kernels option, checked at compile time
 * (npx tsc --noEmit -p . type-checks this file; vitest's expectTypeOf makes the checks read as tests):
 * what an app writes with `import { createTrainer, type TrainConfig } from 'aevb'` must type-check.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { Activation, EpochEvent, Evaluation, KernelChoice, Trainer, TrainConfig, TrainerOptions } from '../../src/main/index.ts';
import type { EpochRecord } from '../../src/main/evaluation.ts';
import type { Evaluated } from '../../src/main/app/run.ts';
import type * as NodeApi from '../../src/main/node/index.ts';

describe('the public config types', () => {
  it('hidden is a width or one per hidden layer; activation one or one per layer', () => {
    expectTypeOf<TrainConfig['hidden']>().toEqualTypeOf<number | number[]>();
    expectTypeOf<TrainConfig['activation']>().toEqualTypeOf<Activation | Activation[]>();
    expectTypeOf<{ hidden: number[]; activation: Activation[] }>().toMatchTypeOf<Partial<TrainConfig>>();
    expectTypeOf<NodeApi.TrainConfig>().toEqualTypeOf<TrainConfig>();
  });

  it('kernels is "aevb" or "tfjs" in the trainer options', () => {
    expectTypeOf<KernelChoice>().toEqualTypeOf<'aevb' | 'tfjs'>();
    expectTypeOf<TrainerOptions['kernels']>().toEqualTypeOf<KernelChoice | undefined>();
    expectTypeOf<NodeApi.KernelChoice>().toEqualTypeOf<KernelChoice>();
  });

  it("one evaluation record: evaluate() returns it, the epoch event, the metrics line and the page's latest evaluation carry it", () => {
    expectTypeOf<Awaited<ReturnType<Trainer['evaluate']>>>().toEqualTypeOf<Evaluation>();
    expectTypeOf<EpochEvent>().toMatchTypeOf<Evaluation>();
    expectTypeOf<EpochRecord>().toEqualTypeOf<EpochEvent & { workers: number }>();
    expectTypeOf<Evaluated>().toEqualTypeOf<Evaluation & { step: number }>();
    expectTypeOf<NodeApi.Evaluation>().toEqualTypeOf<Evaluation>();
  });
});
