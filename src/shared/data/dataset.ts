/**
 * A dataset in memory: N datapoints of D values each, row-major in one Float32Array (so that it
 * can live once in a SharedArrayBuffer that every worker reads).
 */
export interface Dataset {
  /** Human-readable origin, e.g. "mnist (embedded) train" or a file name. */
  readonly name: string;
  /** N: number of datapoints. */
  readonly n: number;
  /** D: values per datapoint. */
  readonly d: number;
  /** N×D values, row i at [i·D, (i+1)·D). May be backed by a SharedArrayBuffer. */
  readonly x: Float32Array;
  /** Optional class labels, one per datapoint (for colouring the latent space). */
  readonly labels?: Uint8Array;
  /** [rows, cols] when the datapoints are images. */
  readonly imageShape?: readonly [number, number];
}

export interface DataSplit {
  readonly train: Dataset;
  readonly test: Dataset;
}
