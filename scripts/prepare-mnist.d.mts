/** Types for scripts/prepare-mnist.mjs (imported by vite.config.ts). */
export declare const MNIST_BIN_MAGIC: string;
export declare const MNIST_BIN_PATH: string;
export declare function encodeMnist(files: ArrayLike<number>[]): Uint8Array;
export declare function prepareMnist(options?: { force?: boolean; log?: (line: string) => void }): string;
