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

export interface Core {
  /** config object or JSON text; weights: a safetensors file (SPEC section 5). */
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
