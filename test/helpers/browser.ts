/**
 * Browser-test plumbing: a vite dev server on a free loopback port (it sends the COOP/COEP headers
 * of vite.config.ts, so pages are cross-origin isolated) and a Chromium driven by playwright-core
 * (no browser download: CHROMIUM_PATH, a system Chromium, or the one in @sparticuz/chromium; see
 * chromium.ts).
 */
import { chromium, type Browser } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import path from 'node:path';
import { describeLaunch, launchFirstWorking, type ChromiumChoice } from './chromium.ts';

export const ROOT = path.resolve(import.meta.dirname, '../..');

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function startServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    // No file watching: a file saved while a test or benchmark runs must not reload its page halfway. (HMR's
    // socket stays: vite uses it to reload a page whose pre-bundled dependencies it had to re-optimize.)
    server: { host: '127.0.0.1', port: 0, strictPort: false, watch: null },
  });
  await server.listen();
  const addr = server.httpServer!.address() as { port: number };
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

/** Launch one Chromium with playwright's default flags plus ours (--no-sandbox: the tests may run as root in a container). */
export function launchThis({ executablePath, env }: ChromiumChoice): Promise<Browser> {
  return chromium.launch({ executablePath, args: CHROMIUM_FLAGS, headless: true, env: { ...process.env, ...env } });
}

let working: ChromiumChoice | undefined;

/** The first Chromium that starts (chromium.ts: a candidate that fails is passed over, and the log says so); remembered per process. */
export async function launchChromium(): Promise<Browser> {
  if (working) return launchThis(working);
  const l = await launchFirstWorking(launchThis);
  working = l.choice;
  console.log(describeLaunch(l));
  return l.value;
}

/** Float32Array → base64 (to hand binary data to a page through page.evaluate). */
export function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}
