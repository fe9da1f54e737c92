#!/usr/bin/python3
"""Test folders and goldens for mode "pretrained" (SPEC §9).

  nice -n 15 /usr/bin/python3 tests/pretrained/make_models.py OUT_DIR

Writes into OUT_DIR (nothing here is committed; CI runs this in every test run, in a few seconds):
  - Hugging Face folders with random weights under the real tensor names and tiny real shapes: config.json as
    transformers writes it, model.safetensors (or an index + shards) written by hand in F32 / F16 / BF16,
    tokenizer.json in the `tokenizers` library's format (and tokenizer_config.json where noted);
  - bad folders that must be refused, each naming the tensor / file / field;
  - OUT_DIR/cases.json: {"folders": {...}, "cases": [...], "bad": [...]} with the expected results from
    reference.py (numbers) and from npm's `tokenizers` through encode.mjs (token ids and tokens).
Deterministic: fixed seeds (numpy's RandomState), fixed texts; the same bytes on every run.
"""
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, HERE)
import hf_files as hf  # noqa: E402
import reference  # noqa: E402

TRANSFORMERS_VERSION = "4.46.3"
TORCH_DTYPE = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


# ----------------------------------------------------------------------------------------------------------------
# random weights
# ----------------------------------------------------------------------------------------------------------------
class Weights:
    """An ordered state dict (name, float32 tensor, stored dtype), values drawn from one seeded RandomState."""

    def __init__(self, seed, dtype, prefix=""):
        self.r = np.random.RandomState(seed)
        self.dtype, self.prefix, self.items = dtype, prefix, []

    def randn(self, *shape, std=1.0):
        return torch.from_numpy((self.r.standard_normal(shape) * std).astype(np.float32))

    def add(self, name, t, dtype=None, prefix=True):
        self.items.append(((self.prefix if prefix else "") + name, t, dtype or self.dtype))

    def linear_t(self, name, out_f, in_f, gain=1.0, bias=True):
        """nn.Linear: weight [out, in]."""
        self.add(name + ".weight", self.randn(out_f, in_f, std=gain / math.sqrt(in_f)))
        if bias:
            self.add(name + ".bias", self.randn(out_f, std=0.05))

    def conv1d(self, name, in_f, out_f, gain=1.0):
        """transformers' Conv1D: weight [in, out]."""
        self.add(name + ".weight", self.randn(in_f, out_f, std=gain / math.sqrt(in_f)))
        self.add(name + ".bias", self.randn(out_f, std=0.05))

    def norm(self, name, n, bias=True, names=("weight", "bias")):
        self.add(f"{name}.{names[0]}", 1.0 + self.randn(n, std=0.1))
        if bias:
            self.add(f"{name}.{names[1]}", self.randn(n, std=0.05))


def gpt2_weights(seed, H, L, nh, npos, V, dtype, prefix="", buffers=False, lm_head=False):
    # names as GPT2LMHeadModel.state_dict(): transformer.wte, wpe, h.{i}.(ln_1, attn.bias, attn.masked_bias,
    # attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj), ln_f, lm_head
    w = Weights(seed, dtype, prefix)
    w.add("wte.weight", w.randn(V, H, std=0.5))
    w.add("wpe.weight", w.randn(npos, H, std=0.3))
    for i in range(L):
        p = f"h.{i}."
        w.norm(p + "ln_1", H)
        if buffers:
            # buffers=True: in the weights' dtype (model.half() casts them); buffers="bool": BOOL bias and F32
            # masked_bias, as checkpoints of some transformers versions hold them
            bd, md = ("BOOL", "F32") if buffers == "bool" else (None, None)
            w.add(p + "attn.bias", torch.tril(torch.ones(npos, npos)).view(1, 1, npos, npos), dtype=bd)
            w.add(p + "attn.masked_bias", torch.tensor(-1e4), dtype=md)
        w.conv1d(p + "attn.c_attn", H, 3 * H, gain=1.6)
        w.conv1d(p + "attn.c_proj", H, H)
        w.norm(p + "ln_2", H)
        w.conv1d(p + "mlp.c_fc", H, 4 * H)
        w.conv1d(p + "mlp.c_proj", 4 * H, H)
    w.norm("ln_f", H)
    if lm_head:
        w.add("lm_head.weight", w.randn(V, H, std=0.5), prefix=False)  # a stored copy that tying ignores
    return w.items


def gpt2_config(H, L, nh, npos, V, dtype, name="gpt2", **extra):
    c = {"_name_or_path": name, "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
         "attn_pdrop": 0.1, "bos_token_id": V - 1, "embd_pdrop": 0.1, "eos_token_id": V - 1,
         "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": npos, "n_embd": H,
         "n_head": nh, "n_inner": None, "n_layer": L, "n_positions": npos, "reorder_and_upcast_attn": False,
         "resid_pdrop": 0.1, "scale_attn_by_inverse_layer_idx": False, "scale_attn_weights": True,
         "summary_activation": None, "summary_first_dropout": 0.1, "summary_proj_to_labels": True,
         "summary_type": "cls_index", "summary_use_proj": True,
         "task_specific_params": {"text-generation": {"do_sample": True, "max_length": 50}},
         "torch_dtype": TORCH_DTYPE[dtype], "transformers_version": TRANSFORMERS_VERSION, "use_cache": True,
         "vocab_size": V}
    c.update(extra)
    return c


def bert_weights(seed, H, L, nh, I, npos, V, dtype, prefix="bert.", mlm=True, old_names=False, untied=False,
                 extras=True, pooler=True):
    # names as BertForMaskedLM / BertForPreTraining state_dict(): bert.embeddings.*, bert.encoder.layer.{i}.*,
    # bert.pooler.dense, cls.predictions.(bias, transform.dense, transform.LayerNorm, decoder), cls.seq_relationship
    w = Weights(seed, dtype, prefix)
    ln = ("gamma", "beta") if old_names else ("weight", "bias")
    if extras:
        w.add("embeddings.position_ids", torch.arange(npos).view(1, npos), dtype="I64")
    w.add("embeddings.word_embeddings.weight", w.randn(V, H, std=0.5))
    w.add("embeddings.position_embeddings.weight", w.randn(npos, H, std=0.3))
    w.add("embeddings.token_type_embeddings.weight", w.randn(2, H, std=0.3))
    w.norm("embeddings.LayerNorm", H, names=ln)
    for i in range(L):
        p = f"encoder.layer.{i}."
        w.linear_t(p + "attention.self.query", H, H, gain=1.6)
        w.linear_t(p + "attention.self.key", H, H, gain=1.6)
        w.linear_t(p + "attention.self.value", H, H)
        w.linear_t(p + "attention.output.dense", H, H)
        w.norm(p + "attention.output.LayerNorm", H, names=ln)
        w.linear_t(p + "intermediate.dense", I, H)
        w.linear_t(p + "output.dense", H, I)
        w.norm(p + "output.LayerNorm", H, names=ln)
    if pooler:
        w.linear_t("pooler.dense", H, H)
    if mlm:
        w.add("cls.predictions.bias", w.randn(V, std=0.1), prefix=False)
        w.prefix = ""
        w.linear_t("cls.predictions.transform.dense", H, H)
        w.norm("cls.predictions.transform.LayerNorm", H, names=ln)
        if untied:
            w.add("cls.predictions.decoder.weight", w.randn(V, H, std=0.5))
        if extras:
            w.linear_t("cls.seq_relationship", 2, H)
    return w.items


def bert_config(H, L, nh, I, npos, V, dtype, mlm=True, **extra):
    c = {"_name_or_path": "bert-base-uncased", "architectures": ["BertForMaskedLM" if mlm else "BertModel"],
         "attention_probs_dropout_prob": 0.1, "classifier_dropout": None, "gradient_checkpointing": False,
         "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": H, "initializer_range": 0.02,
         "intermediate_size": I, "layer_norm_eps": 1e-12, "max_position_embeddings": npos, "model_type": "bert",
         "num_attention_heads": nh, "num_hidden_layers": L, "pad_token_id": 0, "position_embedding_type": "absolute",
         "torch_dtype": TORCH_DTYPE[dtype], "transformers_version": TRANSFORMERS_VERSION, "type_vocab_size": 2,
         "use_cache": True, "vocab_size": V}
    c.update(extra)
    return c


def llama_weights(seed, H, L, nh, nkv, hd, I, V, dtype, tied, qkv_bias=False, inv_freq=None, prefix="model."):
    # names as LlamaForCausalLM / Qwen2ForCausalLM state_dict(): model.embed_tokens, model.layers.{i}.self_attn.
    # (q,k,v,o)_proj, mlp.(gate,up,down)_proj, input_layernorm, post_attention_layernorm, model.norm, lm_head
    w = Weights(seed, dtype, prefix)
    w.add("embed_tokens.weight", w.randn(V, H, std=0.5))
    for i in range(L):
        p = f"layers.{i}."
        w.linear_t(p + "self_attn.q_proj", nh * hd, H, gain=1.6, bias=qkv_bias)
        w.linear_t(p + "self_attn.k_proj", nkv * hd, H, gain=1.6, bias=qkv_bias)
        w.linear_t(p + "self_attn.v_proj", nkv * hd, H, bias=qkv_bias)
        w.linear_t(p + "self_attn.o_proj", H, nh * hd, bias=False)
        if inv_freq is not None:
            w.add(p + "self_attn.rotary_emb.inv_freq", 1.0 / (inv_freq ** (torch.arange(0, hd, 2).float() / hd)),
                  dtype="F32")
        w.linear_t(p + "mlp.gate_proj", I, H, bias=False)
        w.linear_t(p + "mlp.up_proj", I, H, bias=False)
        w.linear_t(p + "mlp.down_proj", H, I, bias=False)
        w.norm(p + "input_layernorm", H, bias=False)
        w.norm(p + "post_attention_layernorm", H, bias=False)
    w.norm("norm", H, bias=False)
    if not tied:
        w.add("lm_head.weight", w.randn(V, H, std=0.5), prefix=False)
    return w.items


def llama_config(H, L, nh, nkv, I, npos, V, dtype, tied, theta=10000.0, head_dim=None, **extra):
    c = {"_name_or_path": "meta-llama/Llama-2-7b-hf", "architectures": ["LlamaForCausalLM"], "attention_bias": False,
         "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu", "hidden_size": H,
         "initializer_range": 0.02, "intermediate_size": I, "max_position_embeddings": npos, "mlp_bias": False,
         "model_type": "llama", "num_attention_heads": nh, "num_hidden_layers": L, "num_key_value_heads": nkv,
         "pretraining_tp": 1, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": theta,
         "tie_word_embeddings": tied, "torch_dtype": TORCH_DTYPE[dtype], "transformers_version": TRANSFORMERS_VERSION,
         "use_cache": True, "vocab_size": V}
    if head_dim is not None:
        c["head_dim"] = head_dim
    c.update(extra)
    return c


def qwen2_config(H, L, nh, nkv, I, npos, V, dtype, tied, eot):
    return {"_name_or_path": "Qwen/Qwen2-0.5B", "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0,
            "bos_token_id": eot, "eos_token_id": eot, "hidden_act": "silu", "hidden_size": H,
            "initializer_range": 0.02, "intermediate_size": I, "max_position_embeddings": npos,
            "max_window_layers": 24, "model_type": "qwen2", "num_attention_heads": nh, "num_hidden_layers": L,
            "num_key_value_heads": nkv, "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000.0,
            "sliding_window": 32768, "tie_word_embeddings": tied, "torch_dtype": TORCH_DTYPE[dtype],
            "transformers_version": TRANSFORMERS_VERSION, "use_cache": True, "use_sliding_window": False,
            "vocab_size": V}


def write_folder(out, name, config, tensors, tokenizer=None, shards=1, files=None):
    d = os.path.join(out, name)
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    hf.write_json(os.path.join(d, "config.json"), config)
    hf.write_checkpoint(d, tensors, shards)
    if tokenizer is not None:
        hf.write_tokenizer(os.path.join(d, "tokenizer.json"), tokenizer)
    for fname, obj in (files or {}).items():
        hf.write_json(os.path.join(d, fname), obj)
    return d


# ----------------------------------------------------------------------------------------------------------------
# folders
# ----------------------------------------------------------------------------------------------------------------
def make_folders(out):
    tok_gpt2, v_gpt2 = hf.byte_level_bpe(160)
    tok_qwen, v_qwen = hf.byte_level_bpe(140, qwen2=True)
    tok_llama, v_llama = hf.sentencepiece_bpe(130)
    tok_llama_ms, _ = hf.sentencepiece_bpe(130, metaspace=True)
    tok_bert, v_bert = hf.wordpiece()
    tok_bert_p, _ = hf.wordpiece(bert_processing=True)
    tok_wl, v_wl = hf.wordlevel()
    tok_uni, _ = hf.unigram()
    folders = {}

    def add(name, covers, config, tensors, tokenizer, tokenizer_kind, shards=1, files=None):
        write_folder(out, name, config, tensors, tokenizer, shards, files)
        folders[name] = {"model_type": config["model_type"], "architectures": config["architectures"],
                         "dtype": sorted({d for _, _, d in tensors}), "tokenizer": tokenizer_kind,
                         "shards": shards, "covers": covers}

    add("gpt2_f32", "GPT-2 (GPT2LMHeadModel) F32, no prefix, 3 layers x 4 heads, n_embd 48, tied lm_head = wte; "
        "byte-level BPE (merges as strings) with <|endoftext|>",
        gpt2_config(48, 3, 4, 32, v_gpt2, "F32"), gpt2_weights(101, 48, 3, 4, 32, v_gpt2, "F32"),
        tok_gpt2, "bpe-byte-level (GPT-2)")
    add("gpt2_f16_sharded", "GPT-2 F16 in 3 shards + model.safetensors.index.json, names without 'transformer.', "
        "the buffers h.{i}.attn.bias [1,1,32,32] and h.{i}.attn.masked_bias [] (0-d) present, to be ignored; "
        "2 layers x 3 heads, n_embd 48",
        gpt2_config(48, 2, 3, 32, v_gpt2, "F16"), gpt2_weights(102, 48, 2, 3, 32, v_gpt2, "F16", buffers=True),
        tok_gpt2, "bpe-byte-level (GPT-2)", shards=3)
    add("distilgpt2_f32", "distilgpt2-shaped: 'transformer.' prefix, 2 layers x 4 heads, a stored lm_head.weight "
        "that differs from wte and must be ignored (tied), buffers transformer.h.{i}.attn.bias as BOOL and "
        "attn.masked_bias as F32 (ignored)",
        gpt2_config(48, 2, 4, 32, v_gpt2, "F32", name="distilgpt2", _num_labels=1),
        gpt2_weights(103, 48, 2, 4, 32, v_gpt2, "F32", prefix="transformer.", lm_head=True, buffers="bool"),
        tok_gpt2, "bpe-byte-level (GPT-2)")
    add("gpt2_wordlevel", "GPT-2 F32, 1 layer x 2 heads, n_embd 32, with a WordLevel tokenizer (Lowercase, "
        "Whitespace, RobertaProcessing <s> $A </s>)",
        gpt2_config(32, 1, 2, 32, v_wl, "F32"), gpt2_weights(104, 32, 1, 2, 32, v_wl, "F32"),
        tok_wl, "wordlevel + RobertaProcessing")
    add("bert_mlm_f32", "BertForMaskedLM F32, 'bert.' prefix, cls.predictions.* head (decoder tied to "
        "word_embeddings, + cls.predictions.bias), bert.pooler.* and cls.seq_relationship.* present (ignored), "
        "bert.embeddings.position_ids I64 buffer; 2 layers x 2 heads, hidden 32, intermediate 64",
        bert_config(32, 2, 2, 64, 32, v_bert, "F32"), bert_weights(201, 32, 2, 2, 64, 32, v_bert, "F32"),
        tok_bert, "wordpiece + TemplateProcessing")
    add("bert_model_old_names", "BertModel F32 without 'cls.' (no logits), no prefix, old LayerNorm names "
        "gamma/beta; 3 layers x 3 heads, hidden 48",
        bert_config(48, 3, 3, 96, 32, v_bert, "F32", mlm=False),
        bert_weights(202, 48, 3, 3, 96, 32, v_bert, "F32", prefix="", mlm=False, old_names=True, extras=False),
        tok_bert_p, "wordpiece + BertProcessing")
    add("bert_bf16", "BertForMaskedLM BF16, tie_word_embeddings false with cls.predictions.decoder.weight, "
        "layer_norm_eps 1e-5; 2 layers x 4 heads (head_dim 8), hidden 32",
        bert_config(32, 2, 4, 64, 32, v_bert, "BF16", layer_norm_eps=1e-05, tie_word_embeddings=False),
        bert_weights(203, 32, 2, 4, 64, 32, v_bert, "BF16", untied=True),
        tok_bert, "wordpiece + TemplateProcessing")
    add("llama_gqa_f32", "LlamaForCausalLM F32, grouped-query heads (4 query heads, 2 kv heads, head_dim 16), "
        "untied lm_head.weight, rms_norm_eps 1e-5, intermediate 96; Llama-2 tokenizer.json (Prepend/Replace "
        "normaliser, byte_fallback BPE, TemplateProcessing <s> $A), tokenizer_config.json add_bos_token true",
        llama_config(64, 2, 4, 2, 96, 64, v_llama, "F32", tied=False, head_dim=16),
        llama_weights(301, 64, 2, 4, 2, 16, 96, v_llama, "F32", tied=False),
        tok_llama, "bpe-sentencepiece (Prepend/Replace normaliser)",
        files={"tokenizer_config.json": {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
                                         "eos_token": "</s>", "legacy": False, "model_max_length": 64,
                                         "tokenizer_class": "LlamaTokenizer", "unk_token": "<unk>"}})
    add("llama_bf16_tied", "LlamaForCausalLM BF16, tie_word_embeddings true (no lm_head.weight), 2 layers x 2 heads "
        "(kv 2), hidden 32; newer tokenizer.json (Metaspace pre-tokenizer prepend_scheme first); "
        "tokenizer_config.json add_bos_token false / add_eos_token true, which must NOT change the tokens",
        llama_config(32, 2, 2, 2, 64, 64, v_llama, "BF16", tied=True, rms_norm_eps=1e-06),
        llama_weights(302, 32, 2, 2, 2, 16, 64, v_llama, "BF16", tied=True),
        tok_llama_ms, "bpe-sentencepiece (Metaspace pre-tokenizer)",
        files={"tokenizer_config.json": {"add_bos_token": False, "add_eos_token": True, "bos_token": "<s>",
                                         "eos_token": "</s>", "legacy": False, "model_max_length": 64,
                                         "tokenizer_class": "LlamaTokenizerFast", "unk_token": "<unk>"}})
    add("llama_rope500k", "LlamaForCausalLM F32, rope_theta 500000, model.layers.{i}.self_attn.rotary_emb.inv_freq "
        "buffers present (ignored), no head_dim field, max_position_embeddings 64, untied; 2 layers x 2 heads",
        llama_config(32, 2, 2, 2, 64, 64, v_llama, "F32", tied=False, theta=500000.0),
        llama_weights(303, 32, 2, 2, 2, 16, 64, v_llama, "F32", tied=False, inv_freq=500000.0),
        tok_llama, "bpe-sentencepiece (Prepend/Replace normaliser)")
    add("llama_head_dim_no_tokenizer", "LlamaForCausalLM F16 with an explicit head_dim 12 != hidden/heads (32/4), "
        "q_proj [48, 32], o_proj [32, 48], kv 1 (multi-query), tied; NO tokenizer.json (token_ids only: tokens "
        "are the ids as strings)",
        llama_config(32, 2, 4, 1, 64, 64, v_llama, "F16", tied=True, head_dim=12),
        llama_weights(304, 32, 2, 4, 1, 12, 64, v_llama, "F16", tied=True),
        None, None)
    v_q = v_qwen + 13  # vocab_size above the tokenizer's, as Qwen2's configs have
    add("qwen2_f16", "Qwen2ForCausalLM F16, q/k/v biases (o_proj none), 4 heads / 2 kv heads, hidden 64, untied, "
        "rope_theta 1e6, vocab_size 13 above the tokenizer's; Qwen2-style tokenizer.json (NFC, Split regex, "
        "ByteLevel without regex, merges as pairs)",
        qwen2_config(64, 2, 4, 2, 128, 64, v_q, "F16", tied=False, eot=v_qwen - 3),
        llama_weights(401, 64, 2, 4, 2, 16, 128, v_q, "F16", tied=False, qkv_bias=True),
        tok_qwen, "bpe-byte-level (Qwen2: NFC + Split + ByteLevel)",
        files={"tokenizer_config.json": {"add_prefix_space": False, "bos_token": None, "eos_token": "<|endoftext|>",
                                         "model_max_length": 64, "tokenizer_class": "Qwen2Tokenizer"}})
    sizes = {"gpt2": v_gpt2, "qwen2": v_qwen, "llama": v_llama, "bert": v_bert, "wordlevel": v_wl}
    return folders, sizes, {"gpt2": tok_gpt2, "llama": tok_llama, "bert": tok_bert, "unigram": tok_uni}


def make_bad_folders(out, toks):
    """Folders that must be refused; returns {folder: (names, config, why)}."""
    bad = []
    tg, vg = hf.byte_level_bpe(160)
    tl, vl = hf.sentencepiece_bpe(130)
    tb, vb = hf.wordpiece()

    def gpt2_small(name, seed=900, **kw):
        cfg = gpt2_config(16, 1, 2, 16, vg, "F32")
        return name, cfg, gpt2_weights(seed, 16, 1, 2, 16, vg, "F32", **kw)

    def llama_small(seed=901, tied=False):
        cfg = llama_config(16, 1, 2, 1, 32, 32, vl, "F32", tied=tied, head_dim=8)
        return cfg, llama_weights(seed, 16, 1, 2, 1, 8, 32, vl, "F32", tied=tied)

    ids = {"mode": "pretrained", "token_ids": [5, 6, 7]}
    # model_type
    n, c, t = gpt2_small("bad_unknown_model_type")
    c = dict(c, model_type="gpt_neox", architectures=["GPTNeoXForCausalLM"])
    write_folder(out, n, c, t, tg)
    bad.append((n, "gpt_neox", ids, "model_type gpt_neox is not supported (the message lists gpt2, bert, llama, qwen2)"))
    # missing tensor
    n, c, t = gpt2_small("bad_missing_tensor")
    t = [x for x in t if x[0] != "h.0.mlp.c_proj.weight"]
    write_folder(out, n, c, t, tg)
    bad.append((n, "h.0.mlp.c_proj.weight", ids, "a GPT-2 tensor is missing"))
    # extra tensor
    c, t = llama_small()
    t = t + [("model.layers.0.mlp.extra_proj.weight", torch.zeros(8, 16), "F32")]
    write_folder(out, "bad_extra_tensor", c, t, tl)
    bad.append(("bad_extra_tensor", "layers.0.mlp.extra_proj.weight", ids, "an unknown tensor"))
    # misshapen tensor
    c = bert_config(16, 1, 2, 32, 16, vb, "F32")
    t = bert_weights(902, 16, 1, 2, 32, 16, vb, "F32")
    t = [(nm, torch.zeros(16, 15) if nm == "bert.encoder.layer.0.attention.self.key.weight" else x, d)
         for nm, x, d in t]
    write_folder(out, "bad_misshapen_tensor", c, t, tb)
    bad.append(("bad_misshapen_tensor", "encoder.layer.0.attention.self.key.weight", ids,
                "a tensor of shape [16, 15] where [16, 16] is expected"))
    # truncated shard
    n, c, t = gpt2_small("bad_truncated_shard")
    d = write_folder(out, n, c, t, tg, shards=2)
    p = os.path.join(d, "model-00002-of-00002.safetensors")
    with open(p, "rb") as f:
        b = f.read()
    with open(p, "wb") as f:
        f.write(b[:len(b) - 100])
    bad.append((n, "model-00002-of-00002.safetensors", ids, "the second shard lost its last 100 bytes"))
    # a shard the index names is absent
    n, c, t = gpt2_small("bad_missing_shard")
    d = write_folder(out, n, c, t, tg, shards=2)
    os.remove(os.path.join(d, "model-00002-of-00002.safetensors"))
    bad.append((n, "model-00002-of-00002.safetensors", ids, "model.safetensors.index.json names a shard that is absent"))
    # header length beyond the file
    n, c, t = gpt2_small("bad_header_overrun")
    d = write_folder(out, n, c, t, tg)
    p = os.path.join(d, "model.safetensors")
    with open(p, "rb") as f:
        b = bytearray(f.read())
    import struct
    (hl,) = struct.unpack("<Q", bytes(b[:8]))
    b[:8] = struct.pack("<Q", hl + len(b))
    with open(p, "wb") as f:
        f.write(bytes(b))
    bad.append((n, "model.safetensors", ids, "the 8-byte header length claims more bytes than the file holds"))
    # rope_scaling yarn
    c, t = llama_small()
    c = dict(c, rope_scaling={"factor": 4.0, "original_max_position_embeddings": 32, "rope_type": "yarn",
                              "type": "yarn"})
    write_folder(out, "bad_rope_yarn", c, t, tl)
    bad.append(("bad_rope_yarn", "rope_scaling", ids, "rope_scaling of type yarn is not implemented"))
    # untied without lm_head.weight
    c, t = llama_small()
    t = [x for x in t if x[0] != "lm_head.weight"]
    write_folder(out, "bad_untied_no_lm_head", c, t, tl)
    bad.append(("bad_untied_no_lm_head", "lm_head.weight", ids, "tie_word_embeddings false and no lm_head.weight"))
    # broken tokenizer.json (cut in the middle)
    n, c, t = gpt2_small("bad_tokenizer_broken")
    d = write_folder(out, n, c, t, None)
    s = json.dumps(tg, indent=2, ensure_ascii=False)
    with open(os.path.join(d, "tokenizer.json"), "w", encoding="utf-8") as f:
        f.write(s[:len(s) // 2])
    bad.append((n, "tokenizer.json", {"mode": "pretrained", "text": "Hello world"}, "tokenizer.json is cut in half"))
    # Unigram tokenizer
    c, t = llama_small(tied=True)
    write_folder(out, "bad_tokenizer_unigram", c, t, toks["unigram"])
    bad.append(("bad_tokenizer_unigram", "Unigram", {"mode": "pretrained", "text": "the cat"},
                "a Unigram tokenizer.json (valid for the library, not implemented)"))
    return bad


# ----------------------------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------------------------
def case_list(sizes):
    P = "pretrained"
    r = np.random.RandomState(7)

    def ids(vocab, n):
        return [int(x) for x in r.randint(0, vocab, n)]

    g, l, b, q, w = (ids(sizes["gpt2"], 8), ids(sizes["llama"], 8), ids(sizes["bert"], 8), ids(sizes["qwen2"], 8),
                     ids(sizes["wordlevel"], 6))
    C = []

    def c(name, model, **cfg):
        C.append({"name": name, "model": model, "config": dict({"mode": P}, **cfg)})

    # every folder with token_ids
    for folder, t in [("gpt2_f32", g), ("gpt2_f16_sharded", g), ("distilgpt2_f32", g), ("gpt2_wordlevel", w),
                      ("bert_mlm_f32", b), ("bert_model_old_names", b), ("bert_bf16", b), ("llama_gqa_f32", l),
                      ("llama_bf16_tied", l), ("llama_rope500k", l), ("llama_head_dim_no_tokenizer", l),
                      ("qwen2_f16", q)]:
        c(f"{folder}/ids", folder, token_ids=t)
    # text, per tokenizer kind
    c("gpt2_f32/text", "gpt2_f32", text="Hello world, the cat sat.")
    c("gpt2_f32/text_endoftext", "gpt2_f32", text="The cat<|endoftext|>A dog")
    c("gpt2_f16_sharded/text_unicode", "gpt2_f16_sharded", text="naïve 你好")
    c("gpt2_f32/text_no_special", "gpt2_f32", text="Hello world, the cat sat.", add_special_tokens=False)
    c("qwen2_f16/text", "qwen2_f16", text="Hello world 2024!")
    c("qwen2_f16/text_newlines", "qwen2_f16", text="I'm here\n\nok")
    c("llama_gqa_f32/text", "llama_gqa_f32", text="The cat sat on the mat")
    c("llama_gqa_f32/text_no_special", "llama_gqa_f32", text="The cat sat on the mat", add_special_tokens=False)
    c("llama_gqa_f32/text_byte_fallback", "llama_gqa_f32", text="héllo 你")
    c("llama_gqa_f32/text_special_inside", "llama_gqa_f32", text="Hi</s>there")
    c("llama_bf16_tied/text", "llama_bf16_tied", text="The cat sat")
    c("llama_bf16_tied/text_special_inside", "llama_bf16_tied", text="Hi</s>there")
    c("bert_mlm_f32/text", "bert_mlm_f32", text="Hello, World! The cats' café.")
    c("bert_mlm_f32/text_mask_token", "bert_mlm_f32", text="the [MASK] sat on the mat.")
    c("bert_mlm_f32/text_no_special", "bert_mlm_f32", text="the [MASK] sat on the mat.", add_special_tokens=False)
    c("bert_model_old_names/text", "bert_model_old_names", text="the dog ran")
    c("bert_bf16/text_cjk", "bert_bf16", text="我爱 cats")
    c("gpt2_wordlevel/text", "gpt2_wordlevel", text="The cat sat on a zebra .")
    c("gpt2_wordlevel/text_no_special", "gpt2_wordlevel", text="The cat sat on a zebra .", add_special_tokens=False)
    # masks (added to the model's own: causal for gpt2/llama/qwen2)
    c("gpt2_f32/mask_padding", "gpt2_f32", token_ids=g, attention={"mask": {"padding": [1, 3]}})
    c("gpt2_f32/mask_window", "gpt2_f32", token_ids=g, attention={"mask": {"window": 2}})
    c("gpt2_f32/mask_cells", "gpt2_f32", token_ids=g, attention={"mask": {"cells": [[3, 0], [3, 1], [5, 2]]}})
    c("gpt2_f32/mask_causal_false_still_causal", "gpt2_f32", token_ids=g, attention={"mask": {"causal": False}})
    c("bert_mlm_f32/mask_padding_cells", "bert_mlm_f32", token_ids=b,
      attention={"mask": {"padding": [4], "cells": [[0, 1], [6, 7]]}})
    c("bert_mlm_f32/mask_causal", "bert_mlm_f32", token_ids=b, attention={"mask": {"causal": True}})
    c("bert_model_old_names/mask_window_causal", "bert_model_old_names", token_ids=b,
      attention={"mask": {"causal": True, "window": 1}})
    c("bert_bf16/mask_window", "bert_bf16", token_ids=b, attention={"mask": {"window": 2}})
    c("llama_gqa_f32/mask_padding_window", "llama_gqa_f32", token_ids=l,
      attention={"mask": {"padding": [2], "window": 3}})
    c("qwen2_f16/mask_cells", "qwen2_f16", token_ids=q, attention={"mask": {"cells": [[4, 0], [4, 4], [7, 1]]}})
    # temperature
    c("gpt2_f32/temperature_0.5", "gpt2_f32", token_ids=g, attention={"temperature": 0.5})
    c("llama_gqa_f32/temperature_2", "llama_gqa_f32", token_ids=l, attention={"temperature": 2.0})
    c("bert_mlm_f32/temperature_2", "bert_mlm_f32", token_ids=b, attention={"temperature": 2.0})
    # ablation
    c("gpt2_f32/ablate_one", "gpt2_f32", token_ids=g, ablate=[[0, 1]])
    c("gpt2_f16_sharded/ablate_two", "gpt2_f16_sharded", token_ids=g, ablate=[[0, 0], [1, 2]])
    c("llama_gqa_f32/ablate_two", "llama_gqa_f32", token_ids=l, ablate=[[0, 1], [0, 2]])
    c("bert_mlm_f32/ablate_one", "bert_mlm_f32", token_ids=b, ablate=[[0, 1]])
    c("qwen2_f16/ablate_one", "qwen2_f16", token_ids=q, ablate=[[1, 3]])
    # fully masked rows (weights and context 0)
    c("gpt2_f32/fully_masked_row0", "gpt2_f32", token_ids=g, attention={"mask": {"padding": [0]}})
    c("bert_mlm_f32/fully_masked_row2", "bert_mlm_f32", token_ids=b,
      attention={"mask": {"cells": [[2, j] for j in range(len(b))]}})
    c("llama_gqa_f32/fully_masked_row0_and_3", "llama_gqa_f32", token_ids=l,
      attention={"mask": {"padding": [0], "cells": [[3, 1], [3, 2], [3, 3]]}})
    # output size
    c("gpt2_f32/logits_last", "gpt2_f32", token_ids=g, logits="last")
    c("gpt2_f32/logits_none", "gpt2_f32", token_ids=g, logits="none")
    c("bert_mlm_f32/logits_last", "bert_mlm_f32", token_ids=b, logits="last")
    c("llama_gqa_f32/logits_none", "llama_gqa_f32", token_ids=l, logits="none")
    c("qwen2_f16/text_logits_last", "qwen2_f16", text="Hello world 2024!", logits="last")
    # several interventions at once
    c("llama_bf16_tied/all_interventions", "llama_bf16_tied", token_ids=l,
      attention={"temperature": 0.5, "mask": {"padding": [5], "window": 4, "cells": [[6, 6]]}}, ablate=[[1, 0]],
      logits="last")
    return C, g, l, b


def bad_config_cases(sizes, g, l):
    """(name, folder, config, names, why): configs refused on good folders."""
    P = "pretrained"
    fixed = "a field the model fixes, refused by name in this mode (SPEC §9)"
    return [
        ("bad_field_d_model", "gpt2_f32", {"mode": P, "token_ids": g, "d_model": 16}, "d_model", fixed),
        ("bad_field_heads", "gpt2_f32", {"mode": P, "token_ids": g, "heads": 2}, "heads", fixed),
        ("bad_field_transformer", "gpt2_f32", {"mode": P, "token_ids": g, "transformer": {"layers": 2}},
         "transformer", fixed),
        ("bad_field_kind", "gpt2_f32", {"mode": P, "token_ids": g, "attention": {"kind": "additive"}}, "kind", fixed),
        ("bad_field_scale", "gpt2_f32", {"mode": P, "token_ids": g, "attention": {"scale": "dk"}}, "scale", fixed),
        ("bad_field_tokenizer", "gpt2_f32", {"mode": P, "text": "Hello", "tokenizer": "words"}, "tokenizer", fixed),
        ("bad_field_seed", "gpt2_f32", {"mode": P, "token_ids": g, "seed": 3}, "seed", fixed),
        ("bad_token_id_out_of_range", "gpt2_f32", {"mode": P, "token_ids": [0, sizes["gpt2"]]}, "token_ids",
         f"token id {sizes['gpt2']} = vocab_size, outside the vocabulary"),
        ("bad_ablate_out_of_range", "gpt2_f32", {"mode": P, "token_ids": g, "ablate": [[0, 4]]}, "ablate",
         "head 4 of a 4-head model"),
        ("bad_ablate_layer_out_of_range", "llama_gqa_f32", {"mode": P, "token_ids": l, "ablate": [[2, 0]]}, "ablate",
         "layer 2 of a 2-layer model"),
        ("bad_padding_out_of_range", "gpt2_f32", {"mode": P, "token_ids": g, "attention": {"mask": {"padding": [8]}}},
         "padding", "padding index 8 with 8 tokens"),
        ("bad_positions_past_max", "llama_rope500k", {"mode": P, "token_ids": [5] * 65}, "max_position_embeddings",
         "65 tokens, max_position_embeddings 64: positions past it are refused (SPEC §9)"),
        ("bad_empty_text", "gpt2_f32", {"mode": P, "text": ""}, "text", "text that gives no tokens (SPEC §9)"),
    ]


# ----------------------------------------------------------------------------------------------------------------
def node_requests(reqs):
    """Ask encode.mjs (npm's tokenizers) for every request at once."""
    if not reqs:
        return []
    p = subprocess.run(["node", os.path.join(HERE, "encode.mjs")], input=json.dumps(reqs).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE, check=False)
    if p.returncode != 0:
        raise RuntimeError("encode.mjs failed: " + p.stderr.decode())
    return json.loads(p.stdout)


def fmt(x):
    """JSON text for the expected values: floats with 7 significant digits (float32 has ~7.2), null for None."""
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError("non-finite value in the goldens")
        s = "%.7g" % x
        return s
    if isinstance(x, int):
        return str(x)
    if isinstance(x, str):
        return json.dumps(x, ensure_ascii=False)
    if isinstance(x, (list, tuple)):
        return "[" + ",".join(fmt(v) for v in x) + "]"
    if isinstance(x, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + fmt(v) for k, v in x.items()) + "}"
    raise TypeError(type(x))


def model_info(m):
    """SPEC §9's model.info as the reference sees the folder: parameters = the elements of the tensors the forward
    uses (a tied head counted once; buffers, BERT's pooler and seq_relationship not counted); dtype = the weights'."""
    dts = sorted({e for e in m.dtypes})
    return {"model_type": m.model_type, "layers": m.hp["layers"], "heads": m.hp["heads"], "kv_heads": m.hp["kv_heads"],
            "hidden_size": m.hp["hidden"], "head_dim": m.hp["head_dim"], "vocab_size": m.hp["vocab"],
            "parameters": int(sum(t.numel() for t in m.p.values())), "dtype": dts[0] if len(dts) == 1 else dts,
            "has_lm_head": m.has_head, "tie_word_embeddings": bool(m.hp["tie"])}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUT_DIR")
    out = os.path.abspath(sys.argv[1])
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    folders, sizes, toks = make_folders(out)
    bad_folders = make_bad_folders(out, toks)
    cases, g, l, b = case_list(sizes)

    # tokens: text -> encode(text, add_special_tokens); token_ids -> the vocabulary's strings (idToToken)
    reqs, where = [], []
    for i, cs in enumerate(cases):
        tj = os.path.join(out, cs["model"], "tokenizer.json")
        cfg = cs["config"]
        if "text" in cfg:
            reqs.append({"op": "encode", "file": tj, "text": cfg["text"],
                         "add_special_tokens": cfg.get("add_special_tokens", True)})
            where.append(i)
        elif os.path.exists(tj):
            reqs.append({"op": "id_to_token", "file": tj, "ids": cfg["token_ids"]})
            where.append(i)
    answers = node_requests(reqs)
    resolved = {}
    for i, a in zip(where, answers):
        if "error" in a:
            raise RuntimeError(f"{cases[i]['name']}: tokenizers refused: {a['error']}")
        resolved[i] = a

    models = {}
    parts = []
    for i, cs in enumerate(cases):
        cfg = cs["config"]
        if "text" in cfg:
            token_ids, tokens = resolved[i]["ids"], resolved[i]["tokens"]
        else:
            token_ids = cfg["token_ids"]
            tokens = resolved[i]["tokens"] if i in resolved else [str(t) for t in token_ids]
        if cs["model"] not in models:
            models[cs["model"]] = reference.Model(os.path.join(out, cs["model"]))
        m = models[cs["model"]]
        res = reference.to_lists(m.forward(token_ids, cfg.get("attention"), cfg.get("ablate") or [],
                                           cfg.get("logits", "all")))
        expected = {"token_ids": token_ids, "tokens": tokens, "layers": res["layers"],
                    "fully_masked_rows": res["fully_masked_rows"]}
        if "logits" in res:
            expected["logits"] = res["logits"]
        parts.append(fmt({"name": cs["name"], "model": cs["model"], "config": cfg, "expected": expected,
                          "bad": False}))

    bad = [{"name": n, "model": n, "config": cfg, "names": names, "why": why} for n, names, cfg, why in bad_folders]
    bad += [{"name": n, "model": m, "config": cfg, "names": names, "why": why}
            for n, m, cfg, names, why in bad_config_cases(sizes, g, l)]
    for name, f in folders.items():
        f["info"] = model_info(models.get(name) or reference.Model(os.path.join(out, name)))
    text = ('{"format": "attnplay pretrained goldens 1", "tolerance": {"relative_to_tensor_max": 1e-4},\n'
            '"folders": ' + fmt(folders) + ',\n"cases": [\n' + ",\n".join(parts) + '\n],\n"bad": [\n' +
            ",\n".join(fmt(x) for x in bad) + "\n]}\n")
    with open(os.path.join(out, "cases.json"), "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {len(folders)} folders, {len(bad_folders)} bad folders, {len(cases)} cases, {len(bad)} bad cases, "
          f"cases.json {len(text) / 1e6:.2f} MB, in {out}")


if __name__ == "__main__":
    main()
