/**
 * The checkpoint worker: encodes checkpoint.aevb bytes (a NaN scan, a copy and a CRC-32 over every
 * parameter and optimizer value: tens of milliseconds for the paper's model) off the main thread,
 * with the library's own encodeCheckpoint.
 */
import { expose, transfer } from 'comlink';
import { encodeCheckpoint, type Checkpoint } from '../shared/formats/checkpoint.ts';
import { exportSafetensors } from '../shared/formats/pytorch_state.ts';

export interface CheckpointWorkerApi {
  encode(c: Checkpoint): Uint8Array;
  /** The same state as model.safetensors (docs/safetensors.md). */
  safetensors(c: Checkpoint): Uint8Array;
}

const api: CheckpointWorkerApi = {
  encode(c) {
    const bytes = encodeCheckpoint(c);
    return transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },
  safetensors(c) {
    const bytes = exportSafetensors(c);
    return transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },
};

expose(api);
