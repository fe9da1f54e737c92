// attnplay.mjs: the playground in any element of a page (one app per page; iframes of embed.html for more).
import type { Config, Result } from './attnplay-core.js';
export type { Config, Result } from './attnplay-core.js';

export type View = 'attention' | 'mask' | 'heads' | 'model' | 'qkv' | 'geometry' | 'decode';

export interface MountOptions {
  /** URL state to start from ('?preset=..&cfg=..&view=..', as docs/embedding.md lists). */
  query?: string;
  /** true: the page options of embed.html (view= shows one view alone). */
  embed?: boolean;
  /** Where the build's files are (default: beside attnplay.mjs). */
  base?: string | URL;
  /** The build's files as bytes, for a page that cannot fetch them (attnplay-app.js must then be on the page). */
  assets?: { wasm?: ArrayBuffer | Uint8Array; fonts?: Record<string, ArrayBuffer | Uint8Array | null> };
  /** Save the workspace in IndexedDB and restore it on the next visit. */
  autosave?: boolean;
  autosaveKey?: string;
  restore?: boolean;
  /** The page the Share link points at (default: this page). */
  linkBase?: string;
  loadingText?: string;
  graphicsLostText?: string;
}

/** Widget rectangles [x, y, w, h] in CSS pixels by name, and the active text box. */
export type Layout = Record<string, unknown>;

export interface App {
  getConfig(): Config;
  /** Deep merge; resolves with the result once drawn, rejects with an Error naming the bad field (nothing changes). */
  setConfig(partial: Config): Promise<Result>;
  result(): Result;
  on(event: 'change', fn: (result: Result) => void): () => void;
  /** Select and explain one cell. */
  highlight(query: number, key: number): void;
  /** The share link's query. */
  shareQuery(): string;
  /** URL state applied as a link would apply it; throws naming the bad parameter. */
  applyQuery(query: string): void;
  importConfig(text: string, name?: string): boolean;
  /** A config (.json), weights (.safetensors), attention maps (.npy/.npz/.safetensors) or a workspace (.attnplay). */
  importFile(data: string | ArrayBuffer | Uint8Array, name: string): boolean;
  layout(): Layout;
  stats(): Record<string, unknown>;
  /** What the DOM text mirror holds: {summary, caption, rows, cols, weights | top, walkthrough, cell, layer, head}. */
  a11y(): Record<string, unknown>;
  setView(name: View): void;
  readonly ready: Promise<App>;
}

/** Mounts the playground on a <div> (it fills it) or a <canvas>. */
export function mount(target: HTMLElement, options?: MountOptions): Promise<App>;
/** A self-contained page's app (the Python package's notebook cells): assets and data from its JSON script elements. */
export function mountInline(doc?: Document): Promise<App>;
export function hasWebGL2(): boolean;
export function hasWasmSimd(): boolean;
