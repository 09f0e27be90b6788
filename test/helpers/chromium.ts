/**
 * Which Chromium the browser tests, the browser benchmark and the screenshot script drive:
 *
 *   1. CHROMIUM_PATH, when set (any platform: macOS, Windows, Linux arm64 point it at an installed
 *      Chrome or Chromium);
 *   2. a system Chromium or Chrome at a usual Linux path (skipped when AEVB_NO_SYSTEM_CHROMIUM=1,
 *      which is how the fallback below is checked on a machine that has one);
 *   3. the Chromium inside the npm package @sparticuz/chromium (a devDependency, Linux x64 only),
 *      so that `npm ci && npm test` needs nothing else on a fresh Linux x64 machine.
 *
 * The package ships brotli-compressed files (chromium.br, fonts, swiftshader, and the NSS/expat
 * libraries that a bare machine lacks in al2023.tar.br); nothing runs at install time (npm 11 does
 * not run dependencies' install scripts), they are decompressed here on first use into
 * node_modules/.cache/aevb-chromium/<version>. The package decompresses into os.tmpdir(), so the
 * work runs in a child process whose TMPDIR is a private staging folder that is then renamed into
 * place: a run killed halfway, or two test files starting at once, never leave or see half a binary.
 *
 * Only the binary is taken from the package: it is launched with playwright's own flags (and ours),
 * not the package's serverless `args` (--single-process, --disable-web-security, …), which would
 * change what the tests measure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

export interface ChromiumChoice {
  /** The executable to launch. */
  executablePath: string;
  /** Where it came from: the CHROMIUM_PATH variable, a system install, or the npm package. */
  source: 'CHROMIUM_PATH' | 'system' | 'npm';
  /** Extra environment for the browser process (the package's libraries and fonts). */
  env: Record<string, string>;
}

/** Usual places of a system Chromium or Chrome on Linux, in order of preference. */
export const SYSTEM_CHROMIUM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/opt/google/chrome/chrome',
  '/snap/bin/chromium',
];

const ROOT = path.resolve(import.meta.dirname, '../..');

let chosen: Promise<ChromiumChoice> | undefined;

/** The Chromium to launch (decided once per process). */
export function findChromium(): Promise<ChromiumChoice> {
  chosen ??= chooseChromium();
  return chosen;
}

/** The choice, made afresh from the environment (findChromium keeps the first one). */
export async function chooseChromium(): Promise<ChromiumChoice> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH is ${fromEnv}, which does not exist. Point it at a Chrome or Chromium executable, or unset it.`);
    return { executablePath: fromEnv, source: 'CHROMIUM_PATH', env: {} };
  }
  if (process.env.AEVB_NO_SYSTEM_CHROMIUM !== '1') {
    const system = SYSTEM_CHROMIUM_PATHS.find((p) => fs.existsSync(p));
    if (system) return { executablePath: system, source: 'system', env: {} };
  }
  return packagedChromium();
}

/** The package's Chromium, decompressed once into node_modules/.cache. */
export function packagedChromium(): ChromiumChoice {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`No Chromium found, and the bundled one (@sparticuz/chromium) is for Linux x64 only, not ${process.platform} ${process.arch}. ` +
      'Install Chrome or Chromium and set CHROMIUM_PATH to its executable.');
  }
  const pkgJson = path.join(ROOT, 'node_modules/@sparticuz/chromium/package.json');
  if (!fs.existsSync(pkgJson)) {
    throw new Error('No Chromium found and node_modules/@sparticuz/chromium is missing. Run `npm ci`, or set CHROMIUM_PATH to a Chrome or Chromium executable.');
  }
  const version = (JSON.parse(fs.readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const cache = path.join(ROOT, 'node_modules/.cache/aevb-chromium');
  const dir = path.join(cache, version);
  if (!fs.existsSync(path.join(dir, 'chromium'))) unpack(path.dirname(pkgJson), cache, dir);
  return {
    executablePath: path.join(dir, 'chromium'),
    source: 'npm',
    env: {
      // NSS, NSPR and expat from the package come first; the rest is glibc, on any Linux x64.
      LD_LIBRARY_PATH: [path.join(dir, 'al2023/lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: path.join(dir, 'fonts.aevb.conf'),
      // This headless shell takes navigator.language from the C library's locale: under LANG=C.UTF-8 (the
      // usual container default) it reports "en-US@posix", which Intl rejects (uPlot's NumberFormat throws
      // and the app never starts). A named locale gives "en-US", as Chrome reports.
      LANG: 'en_US.UTF-8',
      LC_ALL: 'en_US.UTF-8',
    },
  };
}

/** Decompress the package into a private staging folder, then rename it into place (atomic). */
function unpack(pkgDir: string, cache: string, dir: string): void {
  fs.mkdirSync(cache, { recursive: true });
  const staging = fs.mkdtempSync(path.join(cache, 'staging-'));
  try {
    const index = pathToFileURL(path.join(pkgDir, 'build/index.js')).href;
    const script = `const m = await import(${JSON.stringify(index)}); const c = m.default;
      await c.executablePath(); await m.inflate(${JSON.stringify(path.join(pkgDir, 'bin/al2023.tar.br'))});`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, TMPDIR: staging, TMP: staging, TEMP: staging }, stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!fs.existsSync(path.join(staging, 'chromium'))) throw new Error(`@sparticuz/chromium did not unpack a chromium binary into ${staging}.`);
    // The package's fonts.conf names /tmp/fonts; ours names where the fonts are here.
    fs.writeFileSync(path.join(staging, 'fonts.aevb.conf'), `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
      `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${path.join(dir, 'fonts/fonts')}</dir>\n` +
      `  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`);
    try {
      fs.renameSync(staging, dir);
    } catch (e) {
      // Another process finished first: use its copy.
      if (!fs.existsSync(path.join(dir, 'chromium'))) throw e;
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}
