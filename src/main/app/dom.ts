/** The few DOM helpers the app needs: typed lookups by id and element creation. */

/** The element with this id, of the expected class; throws if the page lacks it (a bug in index.html). */
export function byId<T extends HTMLElement = HTMLElement>(id: string, type?: new () => T): T {
  const el = document.getElementById(id);
  if (!el || (type && !(el instanceof type))) throw new Error(`index.html has no #${id}${type ? ` <${type.name}>` : ''}`);
  return el as T;
}

/** document.createElement with properties and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

/** Resolves after the next frame has been rendered (a rAF callback, then a task after that frame). */
export function afterNextFrame(): Promise<void> {
  return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
}
