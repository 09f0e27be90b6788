/**
 * The HTTP headers the built app wants from its host (vite.config.ts sends them from `vite
 * preview`; README's hosting notes list them for any other server).
 *
 * - COOP + COEP make the page cross-origin isolated, which is what gives it SharedArrayBuffer
 *   (the pool's fast path). Without them the app still trains, on messages.
 * - The Content-Security-Policy repeats index.html's meta policy and adds what only a header can
 *   carry: frame-ancestors 'none' (no other site may frame the app: no clickjacking of its
 *   buttons), plus base-uri and form-action (no injected <base> or form may redirect anything).
 *   style-src has no 'unsafe-inline': the built app has no inline style sheets or style
 *   attributes, and uPlot and the app set styles through element.style (CSSOM), which style-src
 *   does not restrict. 'wasm-unsafe-eval' lets TF.js compile its WASM binary; blob: workers and
 *   images are downloads and canvases.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "connect-src 'self'",
].join('; ');

export const HEADER_ONLY_CSP = ["frame-ancestors 'none'", "base-uri 'none'", "form-action 'none'", "object-src 'none'"].join('; ');

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;

/** Everything a host should send with the built app. */
export const HOSTING_HEADERS = {
  ...ISOLATION_HEADERS,
  'Content-Security-Policy': `${PAGE_CSP}; ${HEADER_ONLY_CSP}`,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;
