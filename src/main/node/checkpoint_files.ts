/**
 * Checkpoints and decoder exports on disk (Node only). Every file is written atomically — to a
 * temp file in the same directory, fsync'd, then renamed over the target — so a crash, a full
 * disk or a refused save never leaves a half-written file or destroys the last good checkpoint:
 * rename within one directory is atomic on POSIX file systems and on NTFS.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../../shared/formats/checkpoint.ts';
import type { DecoderExport } from '../../shared/formats/decoder_export.ts';
import { checkpointError } from '../../shared/errors.ts';

export const CHECKPOINT_FILE = 'checkpoint.aevb';
export const DECODER_DIR = 'decoder';

/** fsync a directory so the rename itself survives a power cut; not possible on Windows, where it is skipped. */
async function syncDir(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw e;
  } finally {
    await handle?.close();
  }
}

/** Write `bytes` to `path` atomically: temp file in the same dir → fsync → rename. */
export async function writeFileAtomic(path: string, dir: string, bytes: Uint8Array): Promise<void> {
  // Unique per call, so two savers never share a temp file; a leading dot keeps it out of listings.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync(); // the data must be on disk before the rename makes it the checkpoint
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined); // best effort: the original error is the one to report
    throw e;
  }
  await syncDir(dir);
}

/**
 * Save `c` as DIR/checkpoint.aevb (DIR is created if needed). Encoding happens first, so a
 * checkpoint that cannot be encoded (e.g. NaN parameters) never touches the disk.
 * Returns the file's path.
 */
export async function saveCheckpointFile(dir: string, c: Checkpoint): Promise<string> {
  const bytes = encodeCheckpoint(c);
  await mkdir(dir, { recursive: true });
  const path = join(dir, CHECKPOINT_FILE);
  await writeFileAtomic(path, dir, bytes);
  return path;
}

/** Load and validate DIR/checkpoint.aevb, with an error that says which of DIR and the file is missing. */
export async function loadCheckpointFile(dir: string): Promise<Checkpoint> {
  const fix = 'Pass the --out directory of an earlier run to resume it, or leave out --resume to start a new run.';
  const info = await stat(dir).catch(() => null);
  if (!info) throw checkpointError(`Checkpoint directory ${dir} does not exist.`, fix);
  if (!info.isDirectory()) throw checkpointError(`${dir} is a file, not a run directory.`, fix);
  const path = join(dir, CHECKPOINT_FILE);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw checkpointError(`No ${CHECKPOINT_FILE} in ${dir}: no run has saved a checkpoint there.`, fix);
    throw checkpointError(`Cannot read ${path}: ${(e as Error).message}.`, "Check the file's permissions.");
  }
  return decodeCheckpoint(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/** Write DIR/decoder/model.json and DIR/decoder/weights.bin; returns DIR/decoder. */
export async function saveDecoderExport(dir: string, exp: DecoderExport): Promise<string> {
  const out = join(dir, DECODER_DIR);
  await mkdir(out, { recursive: true });
  const weightsName = exp.modelJson.weightsManifest[0].paths[0];
  // Weights first: a model.json never points at weights that are not there yet.
  await writeFileAtomic(join(out, weightsName), out, exp.weightsBin);
  await writeFileAtomic(join(out, 'model.json'), out, new TextEncoder().encode(`${JSON.stringify(exp.modelJson, null, 2)}\n`));
  return out;
}
