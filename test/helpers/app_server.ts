/**
 * The app's vite dev server and a Chromium for one browser test file: started before its tests
 * (register it before the file's own beforeAll, which may then use it) and closed after them.
 */
import { afterAll, beforeAll } from 'vitest';
import type { Browser } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { launchChromium, startServer } from './browser.ts';

export interface AppServer {
  server: ViteDevServer;
  browser: Browser;
  /** The server's origin, e.g. http://127.0.0.1:5173. */
  baseUrl: string;
}

export function useAppServer(timeout = 180_000): AppServer {
  const env = {} as AppServer;
  beforeAll(async () => {
    const s = await startServer();
    env.server = s.server;
    env.baseUrl = s.url;
    env.browser = await launchChromium();
  }, timeout);
  afterAll(async () => {
    await env.browser?.close();
    await env.server?.close();
  });
  return env;
}
