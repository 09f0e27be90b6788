/**
 * Moving numbers between our flat Float32Arrays and TF.js tensors without a detour.
 *
 * Why: dataSync() on the WASM backend copies through a fresh ArrayBuffer and costs milliseconds
 * for a 784×500 gradient; the backend keeps every tensor at a known offset of its heap, so a
 * gradient can be copied straight into its slot (a memcpy). Other backends (cpu, in tests and
 * benchmarks) take the portable path.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmLikeBackend {
  typedArrayFromHeap(t: { shape: number[]; dtype: string; dataId: object }): Float32Array;
}

function heapView(t: tf.Tensor): Float32Array | null {
  const backend = tf.engine().backend as unknown as Partial<WasmLikeBackend>;
  if (typeof backend.typedArrayFromHeap !== 'function' || t.dtype !== 'float32') return null;
  return backend.typedArrayFromHeap(t as unknown as { shape: number[]; dtype: string; dataId: object });
}

/** Copy a float32 tensor's values into out[offset .. offset + t.size). */
export function readInto(t: tf.Tensor, out: Float32Array, offset = 0): void {
  const heap = heapView(t);
  out.set(heap ?? (t.dataSync() as Float32Array), offset);
}

/** The value of a scalar tensor (its element 0) as a JS number: reductions end on the backend, one number comes out. */
export function readScalar(t: tf.Tensor): number {
  const heap = heapView(t);
  return heap ? heap[0] : (t.dataSync()[0] as number);
}

/**
 * Overwrite a float32 tensor's values in place (its memory on the WASM heap). Returns false, and
 * changes nothing, where the backend does not expose its memory (then make a new tensor instead).
 * Only for tensors no kernel caches anything about: a weight that is a matMul's LEFT operand is
 * read afresh on every call, whereas XNNPACK keeps a packed copy of a right operand.
 */
export function overwrite(t: tf.Tensor, values: Float32Array): boolean {
  const heap = heapView(t);
  if (!heap || heap.length !== values.length) return false;
  heap.set(values);
  return true;
}

/**
 * A float32 tensor holding a copy of `values`, which may be a view into a larger array or a
 * SharedArrayBuffer (the backend copies the bytes into its own memory either way).
 */
export function tensorFrom(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(values, shape, 'float32');
}
