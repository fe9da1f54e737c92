// attnplay-core.mjs: the engine without a UI, in browsers and Node 18+ (../shared/SPEC.md section 6).
// Errors are thrown as Error with one line naming the bad field.

/** A config (SPEC section 2): text, tokenizer, d_model, heads, kind, mask, mode, seed, ... */
export type Config = Record<string, unknown>;

/** One head of one layer in a result (SPEC section 3); matrices are row-major nested arrays [n_q][n_k]. */
export interface HeadResult {
  scores?: number[][];
  weights: number[][];
  context?: number[][];
  [key: string]: unknown;
}

/** The result JSON of SPEC section 3. */
export interface Result {
  tokens: string[];
  key_tokens: string[];
  layers: { heads: HeadResult[]; output?: number[][]; [key: string]: unknown }[];
  logits?: number[][];
  vocab?: string[];
  fully_masked_rows?: number[];
  warnings?: string[];
  [key: string]: unknown;
}

export interface AttentionArgs {
  q: Float32Array;           // [heads, nq, dk]
  k: Float32Array;           // [heads, nk, dk]
  v: Float32Array;           // [heads, nk, dv]
  heads: number;
  nq: number;
  nk: number;
  dk: number;
  dv?: number;               // default dk
  causal?: boolean;
  scale?: number;            // multiplies the scores; default 1/sqrt(dk)
  weights?: boolean;         // false: omit the weights (faster)
}

export interface MultiHeadAttentionArgs {
  x: Float32Array;           // [n, dModel]
  wq: Float32Array;          // [dModel, dModel], applied as x·W (no bias)
  wk: Float32Array;
  wv: Float32Array;
  wo: Float32Array;
  n: number;
  dModel: number;
  heads: number;
  causal?: boolean;
  weights?: boolean;
}

export interface TrainSpec {
  task?: 'copy' | 'reverse' | 'sort' | 'induction' | 'date' | 'numbers' | 'numbers_zh' | 'sov';
  length?: number;
  vocab?: number;
  batch?: number;
  optimizer?: 'sgd' | 'adam';
  lr?: number;
}

export interface TrainProgress {
  step: number;
  loss: number[];
  accuracy: number[];
  alignment: number[];
  error?: string;
}

export interface Trainer {
  /** Steps until budgetMs has passed (or maxSteps are done). */
  run(budgetMs?: number, maxSteps?: number): TrainProgress;
  /** Every trainable tensor, concatenated in the order of the safetensors names. */
  params(): Float32Array;
  /** Optimizer, learning rate or batch for the next steps. */
  set(spec: TrainSpec): void;
  /** The whole state (batch stream, step, params, Adam's moments). */
  state(): Uint8Array;
  /** Continue from state() of a trainer with the same config and spec. */
  restore(state: Uint8Array): void;
  close(): void;
}

/** model.info: the model card of a loaded Hugging Face folder (SPEC section 9). */
export interface ModelInfo {
  model_type: 'gpt2' | 'bert' | 'llama' | 'qwen2';
  layers: number;
  heads: number;
  kv_heads: number;
  hidden_size: number;
  head_dim: number;
  vocab_size: number;
  max_positions: number;
  parameters: number;
  /** The file's parameter dtype: 'F32', 'F16', 'BF16', or several joined by '+' when mixed. */
  dtype: string;
  /** float32 bytes the engine holds for it. */
  bytes: number;
  has_lm_head: boolean;
  tie_word_embeddings: boolean;
  /** false when the folder has no tokenizer.json (then only token_ids). */
  tokenizer: boolean;
  [key: string]: unknown;
}

/** A model core.loadModel returned: put it in a config, {mode: 'pretrained', model, text}. */
export interface Model {
  readonly handle: number;
  readonly info: ModelInfo;
  /** What the last compute on it computed anew (the incremental path: an appended token is 1 row per layer). */
  stats(): { recomputed_from_layer: number; rows_computed: number };
  /** Its memory back; a compute naming it afterwards is refused. */
  free(): void;
}

/** A folder's files by name (paths as a directory picker gives them are fine): bytes, a File/Blob, or text. */
export type ModelFiles = Record<string, ArrayBuffer | ArrayBufferView | Blob | string>;

/** The ablation sweep so far (core.sweep): the probability of `token` at `position` with each head ablated alone. */
export interface SweepState {
  position: number;
  token_id: number;
  /** The vocabulary's string ("Ġcat") and as displayed ("·cat"). */
  token: string;
  display: string;
  /** Its probability with nothing ablated. */
  baseline: number;
  layers: number;
  heads: number;
  /** Heads computed so far (layer-major); layers * heads when finished. */
  done: number;
  /** [layers][heads], null until computed. */
  probs: (number | null)[][];
  /** [layer, head, probs - baseline] of the heads done, the largest |change| first. */
  ranking: [number, number, number][];
}

export interface Sweep {
  readonly state: SweepState;
  readonly finished: boolean;
  /** Computes up to count more heads. */
  step(count?: number): SweepState;
  /** Every head that is left. */
  run(): SweepState;
}

export interface Core {
  /** A Hugging Face folder (config.json, model.safetensors or its shards, tokenizer.json): its files, or its URL (in
   *  Node also a folder path). maxMB: refuse a model whose float32 weights need more. One load at a time. */
  loadModel(files: ModelFiles | string | URL,
            options?: { maxMB?: number; onProgress?: (bytes: number, total: number) => void; signal?: AbortSignal }): Promise<Model>;
  /** Mode pretrained as the page's app reads it (src/model/pretrained_pack.h): a safetensors buffer of the trace,
   *  every head's matrices within budgetMB (default 128), else the focused head's and thumbnails. */
  computeTrace(config: object, options?: { focusLayer?: number; focusHead?: number; budgetMB?: number }): Uint8Array;
  /** The ablation sweep of a mode-pretrained config (its own ablate is left out): position -1 is the last token, token
   *  -1 the most probable one there. One sweep at a time: a new one replaces the last. */
  sweep(config: object, options?: { position?: number; token?: number }): Sweep;
  /** A file's SHA-256 as 64 hex digits, read 4 MB at a time. */
  sha256(data: Blob | Uint8Array): Promise<string>;
  /** config object or JSON text; weights: a safetensors file (SPEC section 5). Mode 'pretrained': the config's
   *  model is a Model from loadModel (SPEC section 9; the result adds token_ids). */
  compute(config: Config | string, weightsBytes?: Uint8Array): Result;
  /** The safetensors file the config's seed makes. */
  weights(config: Config | string): Uint8Array;
  /** Attention maps from another model (.npy, .npz, .safetensors, JSON), by the name's extension. */
  importAttention(bytes: Uint8Array | string, name?: string): Result;
  attention(args: AttentionArgs): { context: Float32Array; weights?: Float32Array };
  multiHeadAttention(args: MultiHeadAttentionArgs): { output: Float32Array; weights?: Float32Array };
  /** The Train panel's session (one per core; a new one replaces it). */
  createTrainer(config: Config | string, spec?: TrainSpec): Trainer;
  readonly version: string;
  /** true when the loaded build uses WASM SIMD. */
  readonly simd: boolean;
  readonly build: string;
  /** The matrix kernels in use. */
  readonly kernels: 'relaxed-simd' | 'simd128';
}

export interface CoreOptions {
  /** 'auto' (default) takes relaxed SIMD when this engine validates it; 'simd128' keeps the plain kernels. */
  kernels?: 'auto' | 'simd128';
  /** attnplay-core.wasm's bytes, for a bundler or page that cannot fetch it beside this module. */
  wasmBinary?: ArrayBuffer | Uint8Array;
}

export function createCore(options?: CoreOptions): Promise<Core>;
