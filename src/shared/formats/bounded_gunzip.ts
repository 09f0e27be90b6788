/**
 * gzip decompression with a bound on the output. A .gz file says nothing trustworthy about its
 * decompressed size, and deflate expands up to ~1,032:1, so a few MB can claim gigabytes (a gzip
 * bomb) and a plain read would fill memory. The content announces its own size instead: an IDX
 * header gives the file's exact length. Decompression reads chunk by chunk, learns the bound from
 * the first bytes, and stops (cancelling the stream) as soon as the output passes it.
 *
 * Uses DecompressionStream, which pages, workers and Node ≥ 18 all have.
 */
import { idxError } from '../errors.ts';

/** The decompressed length the content declares in its first bytes; undefined until enough bytes are in. */
export type DeclaredSize = (prefix: Uint8Array) => number | undefined;

/** Bytes to gather before giving up on learning the bound: every header we read is shorter (IDX ≤ 1,024). */
const PREFIX_LIMIT = 64 * 1024;

/** The first `length` bytes of the chunks, in one array. */
function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let off = 0;
  for (const c of chunks) {
    if (off >= length) break;
    const part = c.subarray(0, length - off);
    out.set(part, off);
    off += part.length;
  }
  return out;
}

export function bombError(name: string, bound: number): Error {
  return idxError(
    `${name} decompresses to more than the ${bound} bytes its header declares, so it is damaged or a decompression bomb; it was not read further.`,
    'Download the file again, or check that you picked the right file (`gunzip -l` shows its real size).',
  );
}

/** Decompress gzip `bytes`, refusing output beyond declaredSize(first bytes). `name` is used in errors. */
export async function gunzipBounded(bytes: Uint8Array, name: string, declaredSize: DeclaredSize): Promise<Uint8Array> {
  const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let bound: number | undefined;
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      chunks.push(r.value);
      length += r.value.length;
      if (bound === undefined) {
        bound = declaredSize(concat(chunks, Math.min(length, PREFIX_LIMIT)));
        if (bound === undefined && length >= PREFIX_LIMIT) throw idxError(`${name} has no header aevb can read.`, 'Pick an IDX file.');
      }
      if (bound !== undefined && length > bound) throw bombError(name, bound);
    }
  } catch (e) {
    void reader.cancel().catch(() => undefined); // stop inflating: nothing more is read
    if ((e as { code?: string }).code === 'IDX') throw e;
    throw idxError(
      `${name} is a corrupt gzip file (${(e as Error).message}).`,
      'Download the file again; `gunzip -t` on it shows whether the copy is damaged.',
    );
  }
  return concat(chunks, length);
}
