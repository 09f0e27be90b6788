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
 * A candidate that exists is not trusted to run: Ubuntu's /usr/bin/chromium-browser is a shim that
 * only asks for the snap, and an install can be broken. launchFirstWorking() launches each
 * candidate in turn and falls back to the next (the package last) when one fails to start, and
 * says which one it used and why it passed over the others.
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

/** The first candidate, made afresh from the environment (not launched: launchFirstWorking tries them all). */
export async function chooseChromium(): Promise<ChromiumChoice> {
  return chromiumCandidates()[0]();
}

/**
 * Every candidate in order of preference, each made only when asked for (the package's is
 * unpacked on first use): CHROMIUM_PATH (an error if it names nothing), the system installs that
 * exist (unless AEVB_NO_SYSTEM_CHROMIUM=1), the npm package.
 */
export function chromiumCandidates(): (() => ChromiumChoice)[] {
  const out: (() => ChromiumChoice)[] = [];
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv))
      throw new Error(`CHROMIUM_PATH is ${fromEnv}, which does not exist. Point it at a Chrome or Chromium executable, or unset it.`);
    out.push(() => ({ executablePath: fromEnv, source: 'CHROMIUM_PATH', env: {} }));
  }
  if (process.env.AEVB_NO_SYSTEM_CHROMIUM !== '1') {
    for (const p of SYSTEM_CHROMIUM_PATHS.filter((q) => fs.existsSync(q)))
      out.push(() => ({ executablePath: p, source: 'system', env: {} }));
  }
  out.push(packagedChromium);
  return out;
}

/** What launchFirstWorking did: the value of the launch that worked, its choice, and the candidates passed over. */
export interface Launched<T> {
  value: T;
  choice: ChromiumChoice;
  skipped: { executablePath: string; reason: string }[];
}

/**
 * Launch the candidates in turn until one starts (`launch` resolves); the failures are kept with
 * their first line. Rejects, naming every failure, only when none starts.
 */
export async function launchFirstWorking<T>(
  launch: (c: ChromiumChoice) => Promise<T>,
  candidates: (() => ChromiumChoice)[] = chromiumCandidates(),
): Promise<Launched<T>> {
  const skipped: Launched<T>['skipped'] = [];
  for (const make of candidates) {
    let choice: ChromiumChoice | undefined;
    try {
      choice = make();
      return { value: await launch(choice), choice, skipped };
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).split('\n').find((l) => l.trim()) ?? 'failed';
      skipped.push({
        executablePath: choice?.executablePath ?? '(the npm package @sparticuz/chromium)',
        reason: reason.trim().slice(0, 300),
      });
    }
  }
  throw new Error(
    `No Chromium would start: ${skipped.map((s) => `${s.executablePath}: ${s.reason}`).join('; ')}. ` +
      'Install Chrome or Chromium and set CHROMIUM_PATH to its executable, or run `npm ci` for the packaged one.',
  );
}

/** One line for the test log: which Chromium runs, and which were passed over and why. */
export function describeLaunch(l: Launched<unknown>): string {
  const passed = l.skipped.map((s) => `; passed over ${s.executablePath} (${s.reason})`).join('');
  return `Chromium: ${l.choice.executablePath} (${l.choice.source})${passed}`;
}

/** The package's Chromium, decompressed once into node_modules/.cache. */
export function packagedChromium(): ChromiumChoice {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `No Chromium found, and the bundled one (@sparticuz/chromium) is for Linux x64 only, not ${process.platform} ${process.arch}. ` +
        'Install Chrome or Chromium and set CHROMIUM_PATH to its executable.',
    );
  }
  const pkgJson = path.join(ROOT, 'node_modules/@sparticuz/chromium/package.json');
  if (!fs.existsSync(pkgJson)) {
    throw new Error(
      'No Chromium found and node_modules/@sparticuz/chromium is missing. Run `npm ci`, or set CHROMIUM_PATH to a Chrome or Chromium executable.',
    );
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
      env: { ...process.env, TMPDIR: staging, TMP: staging, TEMP: staging },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (!fs.existsSync(path.join(staging, 'chromium')))
      throw new Error(`@sparticuz/chromium did not unpack a chromium binary into ${staging}.`);
    // The package's fonts.conf names /tmp/fonts; ours names where the fonts are here.
    fs.writeFileSync(
      path.join(staging, 'fonts.aevb.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${path.join(dir, 'fonts/fonts')}</dir>\n` +
        `  <cachedir>${path.join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`,
    );
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
