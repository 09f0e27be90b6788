/**
 * A Trainer's state to and from checkpoint bytes: where a new trainer starts (a fresh
 * initialisation, or a checkpoint.aevb / model.safetensors checked against the model and the
 * data), the record a save writes, and the state a load puts in place (checked before anything
 * changes). The data is named by its fingerprint (docs/checkpoint-format.md).
 */
import { resolveConfig, type TrainConfig } from '../shared/training/config.ts';
import type { DataSplit } from '../shared/data/dataset.ts';
import { datasetFingerprint, type Checkpoint } from '../shared/formats/checkpoint.ts';
import { checkLoadable, readCheckpointBytes } from '../shared/formats/pytorch_state.ts';
import { initialState, type TrainingState } from '../shared/training/training_state.ts';
import { checkTrainerData } from './api_checks.ts';

/** The training set as a checkpoint names it: its size and the fingerprint of its values. */
export function fingerprintOf(data: DataSplit) {
  const t = data.train;
  return { n: t.n, d: t.d, fingerprint: datasetFingerprint(t.x, t.n, t.d) };
}

/**
 * createTrainer()'s starting point: the config and state of `checkpoint` (its settings overridden by
 * `asked`, checked against the data), or a fresh initialisation of `asked` for the data.
 */
export function startingPoint(
  data: DataSplit,
  asked: Partial<TrainConfig> | undefined,
  checkpoint: Uint8Array | undefined,
): { config: TrainConfig; state: TrainingState } {
  let config: TrainConfig, state: TrainingState;
  if (checkpoint) {
    const loaded = readCheckpointBytes(checkpoint, 'the checkpoint', asked); // .aevb or .safetensors
    const c = loaded.checkpoint;
    config = resolveConfig({ ...c.config, ...asked });
    checkTrainerData(data, config); // the values (as below), before the fingerprint reads them
    checkLoadable(loaded, config, fingerprintOf(data), 'the checkpoint');
    state = { params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen };
  } else {
    // inputSize comes from the data (a config that says otherwise was refused by checkTrainerOptions).
    config = resolveConfig({ ...asked, inputSize: data.train.d });
    // The values, against the model that will train on them (NaN, a pixel outside [0, 1] for a
    // Bernoulli decoder, x.length ≠ n·d, an empty set): before any worker starts.
    checkTrainerData(data, config);
    state = initialState(config);
  }
  return { config, state };
}

/** The checkpoint record of a trainer's state (what saveCheckpoint and saveSafetensors encode). */
export function checkpointRecord(config: TrainConfig, data: DataSplit, st: TrainingState): Checkpoint {
  const t = data.train;
  return {
    format: 'aevb-checkpoint',
    version: 1,
    config,
    step: st.step,
    samplesSeen: st.samplesSeen,
    params: st.params,
    optimizer: { kind: config.optimizer, slots: st.slots },
    data: { name: t.name, ...fingerprintOf(data) },
    createdAt: new Date().toISOString(),
  };
}

/**
 * loadCheckpoint(bytes): the state of a checkpoint of the same model and data as the trainer's
 * (epochs and the evaluation's sample counts may differ: they are not the model).
 */
export function loadableState(bytes: Uint8Array, config: TrainConfig, data: DataSplit): TrainingState {
  const loaded = readCheckpointBytes(bytes, 'the checkpoint', config); // .aevb or .safetensors
  const c = loaded.checkpoint;
  checkLoadable(
    loaded,
    { ...config, epochs: c.config.epochs, evalSamples: c.config.evalSamples, evalElboSamples: c.config.evalElboSamples },
    fingerprintOf(data),
    'the checkpoint',
  );
  return { params: c.params, slots: c.optimizer.slots, step: c.step, samplesSeen: c.samplesSeen };
}
