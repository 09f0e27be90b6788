/**
 * The headers `npm run preview` sends with the built app: cross-origin isolation and a
 * Content-Security-Policy header that forbids framing (frame-ancestors, which a meta tag cannot
 * carry), <base> and form targets. The real vite preview server with the real vite.config.ts,
 * on a temp folder holding a copy of index.html. Whether the app runs under that policy is the
 * browser test's part (test/browser/app.browser.test.ts serves its build with these headers).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preview, type PreviewServer } from 'vite';
import { HOSTING_HEADERS, PAGE_CSP } from '../../src/main/app/hosting_headers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let server: PreviewServer, dir: string, origin: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aevb-preview-'));
  fs.copyFileSync(path.join(ROOT, 'index.html'), path.join(dir, 'index.html'));
  server = await preview({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: dir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const addr = server.httpServer.address() as { port: number };
  origin = `http://127.0.0.1:${addr.port}`;
});
afterAll(async () => {
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm run preview', () => {
  it('sends COOP/COEP and a CSP header that forbids framing, <base> and form targets', async () => {
    const res = await fetch(`${origin}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v.join(' ')]),
    );
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'none'");
    expect(directives.get('default-src')).toBe("'self'");
    expect(directives.get('style-src')).toBe("'self'"); // no 'unsafe-inline'
    expect(csp).toBe(HOSTING_HEADERS['Content-Security-Policy']);
  });

  it("index.html's meta policy is the header's page part, without inline styles", () => {
    const html = fs.readFileSync(path.join(ROOT, 'index.html'), 'utf8');
    expect(/http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1]).toBe(PAGE_CSP);
    expect(PAGE_CSP).not.toContain('unsafe-inline');
  });
});
