/**
 * Checkpoints of a running trainer without blocking the page. The trainer's saveCheckpoint()
 * encodes on the calling thread; here the state is read between requests (trainer.state(), a copy)
 * and the same Checkpoint record that saveCheckpoint() builds is encoded by encodeCheckpoint in a
 * worker. The bytes are the documented format (docs/checkpoint-format.md), loadable by
 * createTrainer({ checkpoint }) and by the CLI's --resume.
 */
import { transfer, wrap, type Remote } from 'comlink';
import type { Checkpoint } from '../../shared/formats/checkpoint.ts';
import type { Trainer } from '../trainer.ts';
import type { History } from './history.ts';
import type { CheckpointWorkerApi } from '../../workers/checkpoint_worker.ts';

let worker: Remote<CheckpointWorkerApi> | null = null;

function encoder(): Remote<CheckpointWorkerApi> {
  worker ??= wrap<CheckpointWorkerApi>(
    new Worker(new URL('../../workers/checkpoint_worker.ts', import.meta.url), { type: 'module', name: 'aevb-checkpoints' }),
  );
  return worker;
}

/**
 * checkpoint.aevb (or model.safetensors) bytes of the trainer's current state, and the step and
 * samples seen they hold; with `history`, the .aevb carries the run's metrics up to that state
 * (the format's optional metrics section), so that loading it brings its curves.
 */
export async function checkpointBytes(
  trainer: Trainer,
  fingerprint: string,
  format: 'aevb' | 'safetensors' = 'aevb',
  history?: History,
): Promise<{ bytes: Uint8Array; step: number; samplesSeen: number }> {
  const st = await trainer.state();
  const t = trainer.data.train;
  const c: Checkpoint = {
    format: 'aevb-checkpoint',
    version: 1,
    config: trainer.config,
    step: st.step,
    samplesSeen: st.samplesSeen,
    params: st.params,
    optimizer: { kind: trainer.config.optimizer, slots: st.slots },
    data: { name: t.name, n: t.n, d: t.d, fingerprint },
    createdAt: new Date().toISOString(),
    ...(history ? { metrics: history.toMetrics(st.samplesSeen) } : {}),
  };
  const buffers = [st.params.buffer, ...st.slots.map((s) => s.buffer)] as ArrayBuffer[];
  const bytes = await (format === 'aevb' ? encoder().encode(transfer(c, buffers)) : encoder().safetensors(transfer(c, buffers)));
  return { bytes, step: st.step, samplesSeen: st.samplesSeen };
}
