/**
 * The layers' arrows (docs/architecture.md): src/main and src/workers use src/shared, which uses
 * src/kernels; nothing points back up. Every file under src/ is parsed (TypeScript's own parser, so
 * comments and strings are not mistaken for imports) for every module it names: import and
 * `import type`, export … from, import(), and new URL('…', import.meta.url) (how workers and assets are
 * found). The test fails, listing the offending edges, when
 *   src/kernels imports src/shared, src/main or src/workers   (kernels take plain numbers)
 *   src/shared imports src/main or src/workers                (the core runs anywhere)
 *   src/workers imports src/main                               (a worker runs the core, not the coordinator)
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

type EdgeKind = 'import' | 'export-from' | 'import()' | 'new URL';
interface Edge {
  from: string;
  to: string;
  kind: EdgeKind;
}

/** The module specifiers a source text names, with how it names them. */
function specifiers(fileName: string, text: string): Array<{ spec: string; kind: EdgeKind }> {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const out: Array<{ spec: string; kind: EdgeKind }> = [];
  const literal = (n: ts.Node | undefined) => (n && ts.isStringLiteralLike(n) ? n.text : undefined);
  const visit = (n: ts.Node): void => {
    if (ts.isImportDeclaration(n)) {
      const s = literal(n.moduleSpecifier);
      if (s !== undefined) out.push({ spec: s, kind: 'import' });
    } else if (ts.isExportDeclaration(n) && n.moduleSpecifier) {
      const s = literal(n.moduleSpecifier);
      if (s !== undefined) out.push({ spec: s, kind: 'export-from' });
    } else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const s = literal(n.arguments[0]);
      if (s !== undefined) out.push({ spec: s, kind: 'import()' });
    } else if (ts.isNewExpression(n) && ts.isIdentifier(n.expression) && n.expression.text === 'URL' && n.arguments?.length === 2) {
      const [first, base] = n.arguments;
      const s = literal(first);
      if (s !== undefined && base.getText(sf).replace(/\s/g, '') === 'import.meta.url') out.push({ spec: s, kind: 'new URL' });
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [p] : [];
  });
}

/** Every edge from a file under src/ to another file of the repository (packages are left out). */
function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sourceFiles(SRC)) {
    for (const { spec, kind } of specifiers(file, readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue; // a package or a URL
      const target = path.resolve(path.dirname(file), spec);
      out.push({ from: path.relative(ROOT, file), to: path.relative(ROOT, target), kind });
    }
  }
  return out;
}

/** The layer a repository path is in: kernels, shared, main, workers, or null outside src/. */
const layer = (p: string) => /^src\/(kernels|shared|main|workers)\//.exec(p.split(path.sep).join('/'))?.[1] ?? null;

/** What each layer must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  kernels: ['shared', 'main', 'workers'],
  shared: ['main', 'workers'],
  workers: ['main'],
};

describe('import graph of src/', () => {
  const all = edges();
  const show = (e: Edge) => `${e.from} → ${e.to} (${e.kind})`;

  it('the parser finds every way a file names another, and nothing in comments or strings', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "import './side.ts';",
      "export { c } from './c.ts';",
      "export * from './d.ts';",
      "const e = await import('./e.ts');",
      "const w = new Worker(new URL('../workers/f.ts', import.meta.url), { type: 'module' });",
      "// import { x } from '../main/commented.ts';",
      "/* new URL('../main/block.ts', import.meta.url) */",
      'const s = "import { y } from \'../main/string.ts\'";',
      "const u = new URL('./page.html', location.href);",
    ].join('\n');
    expect(specifiers('x.ts', text)).toEqual([
      { spec: './a.ts', kind: 'import' },
      { spec: '../b.ts', kind: 'import' },
      { spec: './side.ts', kind: 'import' },
      { spec: './c.ts', kind: 'export-from' },
      { spec: './d.ts', kind: 'export-from' },
      { spec: './e.ts', kind: 'import()' },
      { spec: '../workers/f.ts', kind: 'new URL' },
    ]);
  });

  it('reads the real tree: edges of every kind, including the ones the rules are about', () => {
    expect(all.length).toBeGreaterThan(200);
    const has = (from: string, to: string) => all.some((e) => e.from === from && e.to === to);
    expect(has('src/shared/training/step_update.ts', 'src/kernels/update_kernel.ts')).toBe(true); // shared → kernels: allowed
    expect(has('src/main/pool/spawn_browser.ts', 'src/workers/browser_entry.ts')).toBe(true); // a worker found by new URL
    const kinds = new Set(all.map((e) => e.kind));
    for (const k of ['import', 'export-from', 'new URL'] as const) expect(kinds.has(k), k).toBe(true); // (no relative import() today)
  });

  it('no file under src/kernels or src/shared imports a layer above it (and src/kernels nothing of src/shared)', () => {
    const bad = all.filter((e) => {
      const from = layer(e.from),
        to = layer(e.to);
      return from !== null && to !== null && (FORBIDDEN[from] ?? []).includes(to);
    });
    expect(bad.map(show), `edges pointing up a layer:\n${bad.map(show).join('\n')}`).toEqual([]);
  });
});
