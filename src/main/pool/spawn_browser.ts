/**
 * A page: pool workers are module Web Workers.
 *
 * The worker is written `new Worker(new URL('…', import.meta.url), { type: 'module' })` in one
 * expression, the form Vite, webpack 5, Rollup and esbuild plugins recognise: from source it names
 * the TypeScript entry, and the library build (scripts/build-lib.mjs) rewrites it to the shipped
 * `./worker.js` beside index.js, so an app's bundler finds, bundles and serves the worker itself. An
 * app that serves the worker elsewhere passes its URL (createTrainer's `workerUrl`).
 *
 * A browser fires no event when a worker is terminated, so terminate() reports the death itself.
 * A script that cannot load fires an `error` event with no message before the worker says
 * anything: the death then names the URL tried (when known) and the likely fixes.
 */
import { deathNotice, type Spawner, type SpawnedWorker } from './spawner.ts';

export function browserSpawner(workerUrl?: string | URL): Spawner {
  return (rank: number): SpawnedWorker => {
    const name = `aevb-worker-${rank}`;
    const worker =
      workerUrl !== undefined
        ? new Worker(workerUrl, { type: 'module', name })
        : new Worker(new URL('../../workers/browser_entry.ts', import.meta.url), { type: 'module', name });
    const { die, onDeath } = deathNotice();
    let spoke = false;
    worker.addEventListener(
      'message',
      () => {
        spoke = true;
      },
      { once: true },
    );
    worker.addEventListener('error', (e) => {
      e.preventDefault();
      if (e.message || spoke) {
        die(`uncaught error: ${e.message || 'an error without a message'}`);
        return;
      }
      void loadFailure(workerUrl).then(({ cause, fix }) => die(cause, fix));
    });
    return {
      endpoint: worker,
      onDeath,
      async terminate() {
        worker.terminate();
        die('terminated');
      },
    };
  };
}

/** Why a worker script did not load: the URL tried (given, or the newest worker-like fetch the page made) and what the server said. */
async function loadFailure(given: string | URL | undefined): Promise<{ cause: string; fix: string }> {
  const url = given !== undefined ? new URL(given, location.href).href : guessWorkerUrl();
  let answer = '';
  if (url) {
    try {
      const r = await fetch(url, { cache: 'no-store' });
      const type = r.headers.get('content-type') ?? 'no content type';
      answer = !r.ok
        ? ` (the server answers ${r.status})`
        : /html/.test(type)
          ? ` (the server answers with an HTML page, ${type}: a dev server's fallback, so the file is not at that URL)`
          : /javascript|ecmascript/.test(type)
            ? " (the file is there: the page's CSP or a script error stopped it)"
            : ` (served as ${type}, not JavaScript)`;
    } catch {
      answer = ' (fetching it failed: blocked by CSP, or the server is unreachable)';
    }
  }
  const where = url ? `the worker script ${url}` : "aevb's worker script (worker.js beside the package's index.js)";
  return {
    cause: `${where} failed to load${answer}`,
    fix:
      "Let the bundler serve aevb's worker.js and WASM files (Vite: optimizeDeps.exclude ['aevb']; docs/embedding.md), or copy them from node_modules/aevb/dist/browser " +
      "and pass createTrainer({ workerUrl, wasmPaths }); allow them in the CSP (script-src/worker-src 'self', 'wasm-unsafe-eval'); " +
      'and serve the page with COOP same-origin + COEP require-corp (or credentialless) for the shared-memory path.',
  };
}

/** The newest fetch of the page whose URL looks like a worker script (resource timing records a worker's script). */
function guessWorkerUrl(): string | undefined {
  const names = performance
    .getEntriesByType('resource')
    .map((e) => e.name)
    .filter((n) => /worker|browser_entry/i.test(n));
  return names[names.length - 1];
}
