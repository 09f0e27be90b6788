/**
 * Vega-Lite spec → SVG text, the same in Node (the CLI) and in a page's worker: vega-lite compiles
 * the spec to Vega, Vega lays it out headless (renderer 'none') and writes the SVG.
 *
 * Expressions go through vega-interpreter, not Vega's default code generator: that one builds
 * functions with `new Function`, which the page's Content-Security-Policy (no 'unsafe-eval') forbids.
 * The interpreter evaluates the same expressions from their syntax trees (`ast: true`).
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { expressionInterpreter } from 'vega-interpreter';

export type { TopLevelSpec };

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const runtime = parse(compile(spec).spec, undefined, { ast: true });
  const view = new View(runtime, { renderer: 'none', expr: expressionInterpreter });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
