/**
 * Files out of the page: a checkpoint (.aevb) and the decoder in TF.js's weights format. Each
 * download is a blob: URL on an <a download>, revoked once the browser has taken it.
 */
import { exportDecoder } from '../../shared/formats/decoder_export.ts';
import type { Trainer } from '../trainer.ts';
import { checkpointBytes } from './checkpoints.ts';
import type { History } from './history.ts';

export function download(data: BlobPart, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** checkpoint.aevb bytes of the current state, with the run's metrics history, downloaded as aevb-step<N>.aevb. */
export async function downloadCheckpoint(trainer: Trainer, fingerprint: string, history?: History): Promise<string> {
  const { bytes, step } = await checkpointBytes(trainer, fingerprint, 'aevb', history);
  const name = `aevb-step${step}.aevb`;
  download(bytes as BlobPart, name);
  return name;
}

/** model.safetensors of the current state (docs/safetensors.md), downloaded as aevb-step<N>.safetensors. */
export async function downloadSafetensors(trainer: Trainer, fingerprint: string): Promise<string> {
  const { bytes, step } = await checkpointBytes(trainer, fingerprint, 'safetensors');
  const name = `aevb-step${step}.safetensors`;
  download(bytes as BlobPart, name);
  return name;
}

/** model.json + weights.bin of p(x|z) (docs/decoder-export.md: sample with tfjs alone). */
export async function downloadDecoder(trainer: Trainer, imageShape?: readonly [number, number]): Promise<void> {
  const { params } = await trainer.state();
  const { modelJson, weightsBin } = exportDecoder(trainer.config, params, { imageShape, generatedBy: 'aevb app' });
  download(JSON.stringify(modelJson, null, 1), 'model.json', 'application/json');
  download(weightsBin as BlobPart, 'weights.bin');
}
