/** Vite's `?url` imports: the URL of an asset emitted by the build. */
declare module '*?url' {
  const url: string;
  export default url;
}

/** comlink ships its Node adapter without a declaration next to the .mjs file. */
declare module 'comlink/dist/esm/node-adapter.mjs' {
  import type { Endpoint } from 'comlink';
  export default function nodeEndpoint(nep: unknown): Endpoint;
}
