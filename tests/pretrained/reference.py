#!/usr/bin/python3
"""The reference for mode "pretrained" (SPEC §9): GPT-2, BERT, Llama and Qwen2 as transformers computes them, in plain
torch (no transformers, no safetensors package), from a Hugging Face folder.

Written from transformers' own modeling code (huggingface/transformers, read in the stored index):
  src/transformers/models/gpt2/modeling_gpt2.py   (GPT2Attention._attn / eager_attention_forward, GPT2MLP, GPT2Block,
                                                   GPT2Model, GPT2LMHeadModel; pytorch_utils.py Conv1D)
  src/transformers/models/bert/modeling_bert.py   (BertEmbeddings, BertSelfAttention, BertSelfOutput, BertIntermediate,
                                                   BertOutput, BertLayer, BertPredictionHeadTransform,
                                                   BertLMPredictionHead, BertForMaskedLM)
  src/transformers/models/llama/modeling_llama.py (LlamaRMSNorm, LlamaRotaryEmbedding, rotate_half,
                                                   apply_rotary_pos_emb, repeat_kv, eager_attention_forward,
                                                   LlamaAttention, LlamaMLP, LlamaDecoderLayer, LlamaModel,
                                                   LlamaForCausalLM)
  src/transformers/models/qwen2/modeling_qwen2.py (Qwen2Attention: q/k/v bias, o_proj without; otherwise Llama's)
  src/transformers/models/qwen2/configuration_qwen2.py (use_sliding_window / layer_types)
  src/transformers/modeling_rope_utils.py          (_compute_default_rope_parameters)
  src/transformers/activations.py                  (NewGELUActivation "gelu_new", GELUActivation "gelu", ACT2FN)

Everything is float32, computed from the stored values (F16 / BF16 tensors are widened to float32 first), eval mode,
no dropout. Where SPEC §9 deliberately differs from transformers, the code says so with "SPEC:" (fully masked rows,
the extra masks, temperature, ablation reporting, per-head context, logits "last"/"none").

Use as a module (make_models.py, check_reference.py) or from the command line:
  /usr/bin/python3 tests/pretrained/reference.py MODEL_DIR '{"token_ids": [1, 2, 3]}'   -> result JSON on stdout
(text needs the tokenizer: this module takes token ids only; make_models.py tokenises through encode.mjs.)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

torch.set_grad_enabled(False)


class Refusal(Exception):
    """A folder, tensor or field that mode "pretrained" must refuse; the message names it."""


# ----------------------------------------------------------------------------------------------------------------
# safetensors, read by hand: 8-byte little-endian header length N, N bytes of JSON header
# ({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}), then the raw little-endian data;
# offsets are relative to the start of the data.
# ----------------------------------------------------------------------------------------------------------------
ITEMSIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
            "F64": 8, "I64": 8, "U64": 8}
NUMPY = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16, "F16": "<f2",
         "I32": "<i4", "U32": "<u4", "F32": "<f4", "F64": "<f8", "I64": "<i8", "U64": "<u8"}


def read_safetensors(path):
    """{name: {"dtype", "shape", "data" (bytes)}} plus the header's __metadata__ under key None. Refuses by file name a
    file that is shorter than its header claims, a bad header, or tensors whose bytes the file does not hold."""
    fname = os.path.basename(path)
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise Refusal(f"{fname}: file too short for a safetensors header ({len(blob)} bytes)")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise Refusal(f"{fname}: header claims {n} bytes but the file holds only {len(blob) - 8} after the length")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise Refusal(f"{fname}: header is not JSON ({e})")
    data = blob[8 + n:]
    out = {None: header.pop("__metadata__", None)}
    for name, info in header.items():
        dtype, shape, (begin, end) = info["dtype"], list(info["shape"]), info["data_offsets"]
        if dtype not in ITEMSIZE:
            raise Refusal(f"{fname}: tensor {name} has unsupported dtype {dtype}")
        count = int(np.prod(shape)) if shape else 1
        if end - begin != count * ITEMSIZE[dtype] or begin < 0:
            raise Refusal(f"{fname}: tensor {name} offsets {begin}..{end} do not match {dtype} {shape}")
        if end > len(data):
            raise Refusal(f"{fname}: truncated: tensor {name} needs bytes up to {end}, data holds {len(data)}")
        out[name] = {"dtype": dtype, "shape": shape, "data": data[begin:end], "file": fname}
    return out


def to_tensor(entry):
    """The stored values as a torch tensor: float dtypes widened to float32 (BF16 = the top 16 bits of a float32),
    integers and BOOL kept as int64 / bool."""
    dtype, shape, data = entry["dtype"], entry["shape"], entry["data"]
    if dtype == "BF16":
        u16 = np.frombuffer(data, dtype="<u2").astype(np.uint32)
        arr = (u16 << 16).view(np.float32)
    else:
        arr = np.frombuffer(data, dtype=NUMPY[dtype])
        if dtype in ("F16", "F64"):
            arr = arr.astype(np.float32)
        elif dtype in ("I8", "I16", "I32", "U8", "U16", "U32", "I64", "U64"):
            arr = arr.astype(np.int64)
    return torch.from_numpy(np.array(arr).reshape(shape))


def load_folder(folder):
    """(config dict, {stored name: entry}) from config.json + model.safetensors or model.safetensors.index.json."""
    cfg_path = os.path.join(folder, "config.json")
    try:
        with open(cfg_path, encoding="utf-8") as f:
            config = json.load(f)
    except FileNotFoundError:
        raise Refusal("config.json: missing")
    index_path = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            weight_map = json.load(f)["weight_map"]
        shards = sorted(set(weight_map.values()))
    else:
        weight_map, shards = None, ["model.safetensors"]
    tensors = {}
    for shard in shards:
        path = os.path.join(folder, shard)
        if not os.path.exists(path):
            raise Refusal(f"{shard}: missing (named by model.safetensors.index.json)" if weight_map
                          else "model.safetensors: missing")
        entries = read_safetensors(path)
        entries.pop(None)
        for name, e in entries.items():
            if weight_map is not None and weight_map.get(name) != shard:
                raise Refusal(f"{shard}: tensor {name} is not mapped to this shard by the index")
            tensors[name] = e
    if weight_map is not None:
        for name, shard in weight_map.items():
            if name not in tensors:
                raise Refusal(f"{shard}: tensor {name} named by the index is not in the shard")
    return config, tensors


# ----------------------------------------------------------------------------------------------------------------
# activations.py: ACT2FN
# ----------------------------------------------------------------------------------------------------------------
def act_fn(name):
    if name == "gelu_new":  # activations.py: NewGELUActivation (tanh approximation, GPT-2's)
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "gelu":  # activations.py: GELUActivation -> nn.functional.gelu (exact erf)
        return torch.nn.functional.gelu
    if name == "gelu_pytorch_tanh":  # activations.py: PytorchGELUTanh
        return lambda x: torch.nn.functional.gelu(x, approximate="tanh")
    if name in ("silu", "swish"):  # activations.py: SiLUActivation -> nn.functional.silu
        return torch.nn.functional.silu
    if name == "relu":
        return torch.relu
    raise Refusal(f"activation {name!r} is not implemented")


# ----------------------------------------------------------------------------------------------------------------
# Tensor names: the stored names mapped to canonical ones (no prefix, modern LayerNorm names), strictly.
# ----------------------------------------------------------------------------------------------------------------
SUPPORTED = ("gpt2", "bert", "llama", "qwen2")


def _expect(shapes, name, shape):
    shapes[name] = list(shape)


def gpt2_hparams(c):
    # configuration_gpt2.py: GPT2Config (attribute_map hidden_size=n_embd, num_hidden_layers=n_layer, ...)
    h = c.get("n_embd", 768)
    hp = {"hidden": h, "layers": c.get("n_layer", 12), "heads": c.get("n_head", 12),
          "n_positions": c.get("n_positions", 1024), "vocab": c.get("vocab_size", 50257),
          "inner": c.get("n_inner") or 4 * h, "eps": c.get("layer_norm_epsilon", 1e-5),
          "act": c.get("activation_function", "gelu_new"), "tie": c.get("tie_word_embeddings", True)}
    if c.get("scale_attn_weights", True) is not True:
        raise Refusal("scale_attn_weights: false is not implemented")
    if c.get("scale_attn_by_inverse_layer_idx", False):
        raise Refusal("scale_attn_by_inverse_layer_idx: true is not implemented")
    if c.get("add_cross_attention", False):
        raise Refusal("add_cross_attention: true is not implemented")
    hp["head_dim"] = h // hp["heads"]
    hp["kv_heads"] = hp["heads"]
    return hp


def bert_hparams(c):
    # configuration_bert.py: BertConfig
    hp = {"hidden": c.get("hidden_size", 768), "layers": c.get("num_hidden_layers", 12),
          "heads": c.get("num_attention_heads", 12), "inter": c.get("intermediate_size", 3072),
          "n_positions": c.get("max_position_embeddings", 512), "types": c.get("type_vocab_size", 2),
          "vocab": c.get("vocab_size", 30522), "eps": c.get("layer_norm_eps", 1e-12),
          "act": c.get("hidden_act", "gelu"), "tie": c.get("tie_word_embeddings", True)}
    if c.get("position_embedding_type", "absolute") != "absolute":
        raise Refusal(f"position_embedding_type {c['position_embedding_type']!r} is not implemented")
    hp["head_dim"] = hp["hidden"] // hp["heads"]
    hp["kv_heads"] = hp["heads"]
    return hp


def llama_hparams(c, model_type):
    # configuration_llama.py / configuration_qwen2.py
    heads = c.get("num_attention_heads", 32)
    hidden = c.get("hidden_size", 4096)
    hp = {"hidden": hidden, "layers": c.get("num_hidden_layers", 32), "heads": heads,
          "kv_heads": c.get("num_key_value_heads") or heads, "inter": c.get("intermediate_size", 11008),
          "n_positions": c.get("max_position_embeddings", 2048 if model_type == "llama" else 32768),
          "vocab": c.get("vocab_size", 32000 if model_type == "llama" else 151936),
          "eps": c.get("rms_norm_eps", 1e-6), "theta": float(c.get("rope_theta", 10000.0)),
          "act": c.get("hidden_act", "silu"),
          # LlamaConfig / Qwen2Config: tie_word_embeddings=False by default
          "tie": c.get("tie_word_embeddings", False)}
    # modeling_llama.py: LlamaAttention.__init__: head_dim = getattr(config, "head_dim", hidden // heads)
    # (Qwen2Attention the same: PretrainedConfig keeps an unknown head_dim field as an attribute)
    hp["head_dim"] = c.get("head_dim") or hidden // heads
    hp["qkv_bias"] = model_type == "qwen2" or bool(c.get("attention_bias", False))
    hp["o_bias"] = model_type == "llama" and bool(c.get("attention_bias", False))
    hp["mlp_bias"] = model_type == "llama" and bool(c.get("mlp_bias", False))
    rs = c.get("rope_scaling")
    if rs is not None:
        kind = rs.get("rope_type", rs.get("type")) if isinstance(rs, dict) else rs
        if kind != "default":
            raise Refusal(f"rope_scaling type {kind!r} is not implemented")
    if c.get("partial_rotary_factor", 1.0) != 1.0:
        raise Refusal("partial_rotary_factor is not implemented")
    if model_type == "qwen2" and (c.get("use_sliding_window") or "sliding_attention" in (c.get("layer_types") or [])):
        raise Refusal("use_sliding_window: true is not implemented")
    if heads % hp["kv_heads"]:
        raise Refusal(f"num_key_value_heads must divide num_attention_heads")
    return hp


def canonical(model_type, hp, tensors):
    """{canonical name: float32 tensor}; refuses a missing, misshapen or unknown tensor by its stored name."""
    shapes, ignore = {}, []
    H, L = hp["hidden"], hp["layers"]
    has_head = True
    if model_type == "gpt2":
        prefix, V = "transformer.", hp["vocab"]
        # modeling_gpt2.py: GPT2Model.__init__ (wte, wpe, h.{i}, ln_f) and GPT2Block / GPT2Attention / GPT2MLP,
        # Conv1D weights stored [in, out]; c_attn fused q|k|v along the output dimension.
        _expect(shapes, "wte.weight", [V, H])
        _expect(shapes, "wpe.weight", [hp["n_positions"], H])
        for i in range(L):
            p = f"h.{i}."
            for ln in ("ln_1", "ln_2"):
                _expect(shapes, p + ln + ".weight", [H]); _expect(shapes, p + ln + ".bias", [H])
            _expect(shapes, p + "attn.c_attn.weight", [H, 3 * H]); _expect(shapes, p + "attn.c_attn.bias", [3 * H])
            _expect(shapes, p + "attn.c_proj.weight", [H, H]); _expect(shapes, p + "attn.c_proj.bias", [H])
            _expect(shapes, p + "mlp.c_fc.weight", [H, hp["inner"]]); _expect(shapes, p + "mlp.c_fc.bias", [hp["inner"]])
            _expect(shapes, p + "mlp.c_proj.weight", [hp["inner"], H]); _expect(shapes, p + "mlp.c_proj.bias", [H])
            # GPT2Attention.__init__: register_buffer("bias") / ("masked_bias"); GPT2LMHeadModel
            # _keys_to_ignore_on_load_missing = [attn.masked_bias, attn.bias, lm_head.weight]
            ignore += [p + "attn.bias", p + "attn.masked_bias"]
        _expect(shapes, "ln_f.weight", [H]); _expect(shapes, "ln_f.bias", [H])
        head_names = {"lm_head.weight": [V, H]}
    elif model_type == "bert":
        prefix, V = "bert.", hp["vocab"]
        has_head = any(n.startswith("cls.predictions.") for n in tensors)
        # modeling_bert.py: BertEmbeddings, BertLayer (attention.self.query/key/value, attention.output.dense +
        # LayerNorm, intermediate.dense, output.dense + LayerNorm)
        _expect(shapes, "embeddings.word_embeddings.weight", [V, H])
        _expect(shapes, "embeddings.position_embeddings.weight", [hp["n_positions"], H])
        _expect(shapes, "embeddings.token_type_embeddings.weight", [hp["types"], H])
        _expect(shapes, "embeddings.LayerNorm.weight", [H]); _expect(shapes, "embeddings.LayerNorm.bias", [H])
        for i in range(L):
            p = f"encoder.layer.{i}."
            for m in ("query", "key", "value"):
                _expect(shapes, p + f"attention.self.{m}.weight", [H, H]); _expect(shapes, p + f"attention.self.{m}.bias", [H])
            _expect(shapes, p + "attention.output.dense.weight", [H, H]); _expect(shapes, p + "attention.output.dense.bias", [H])
            _expect(shapes, p + "attention.output.LayerNorm.weight", [H]); _expect(shapes, p + "attention.output.LayerNorm.bias", [H])
            _expect(shapes, p + "intermediate.dense.weight", [hp["inter"], H]); _expect(shapes, p + "intermediate.dense.bias", [hp["inter"]])
            _expect(shapes, p + "output.dense.weight", [H, hp["inter"]]); _expect(shapes, p + "output.dense.bias", [H])
            _expect(shapes, p + "output.LayerNorm.weight", [H]); _expect(shapes, p + "output.LayerNorm.bias", [H])
        # BertEmbeddings.__init__: register_buffer("position_ids") (old files store it); BertModel.pooler and
        # BertPreTrainingHeads.seq_relationship are heads this reference does not use.
        ignore += ["embeddings.position_ids", "embeddings.token_type_ids"]
        head_names = {}
        if has_head:
            # BertPredictionHeadTransform (dense, act, LayerNorm) + BertLMPredictionHead (decoder, bias)
            head_names = {"cls.predictions.transform.dense.weight": [H, H], "cls.predictions.transform.dense.bias": [H],
                          "cls.predictions.transform.LayerNorm.weight": [H],
                          "cls.predictions.transform.LayerNorm.bias": [H],
                          "cls.predictions.bias": [V], "cls.predictions.decoder.weight": [V, H]}
    else:  # llama, qwen2
        prefix, V = "model.", hp["vocab"]
        nh, nkv, hd, I = hp["heads"], hp["kv_heads"], hp["head_dim"], hp["inter"]
        # modeling_llama.py: LlamaModel.__init__ (embed_tokens, layers.{i}, norm), LlamaAttention (q/k/v/o_proj),
        # LlamaMLP (gate/up/down_proj), LlamaDecoderLayer (input_layernorm, post_attention_layernorm)
        _expect(shapes, "embed_tokens.weight", [V, H])
        for i in range(L):
            p = f"layers.{i}."
            _expect(shapes, p + "self_attn.q_proj.weight", [nh * hd, H])
            _expect(shapes, p + "self_attn.k_proj.weight", [nkv * hd, H])
            _expect(shapes, p + "self_attn.v_proj.weight", [nkv * hd, H])
            _expect(shapes, p + "self_attn.o_proj.weight", [H, nh * hd])
            if hp["qkv_bias"]:
                _expect(shapes, p + "self_attn.q_proj.bias", [nh * hd])
                _expect(shapes, p + "self_attn.k_proj.bias", [nkv * hd])
                _expect(shapes, p + "self_attn.v_proj.bias", [nkv * hd])
            if hp["o_bias"]:
                _expect(shapes, p + "self_attn.o_proj.bias", [H])
            _expect(shapes, p + "mlp.gate_proj.weight", [I, H]); _expect(shapes, p + "mlp.up_proj.weight", [I, H])
            _expect(shapes, p + "mlp.down_proj.weight", [H, I])
            if hp["mlp_bias"]:
                _expect(shapes, p + "mlp.gate_proj.bias", [I]); _expect(shapes, p + "mlp.up_proj.bias", [I])
                _expect(shapes, p + "mlp.down_proj.bias", [H])
            _expect(shapes, p + "input_layernorm.weight", [H]); _expect(shapes, p + "post_attention_layernorm.weight", [H])
            # the rotary inv_freq buffer older checkpoints carry (recomputed, as transformers does)
            ignore.append(p + "self_attn.rotary_emb.inv_freq")
        _expect(shapes, "norm.weight", [H])
        ignore.append("rotary_emb.inv_freq")
        head_names = {"lm_head.weight": [V, H]}

    # head tensors: tied -> the token embedding, a stored copy ignored; untied -> required
    tied_name = "cls.predictions.decoder.weight" if model_type == "bert" else "lm_head.weight"
    for n, s in head_names.items():
        if n == tied_name and hp["tie"]:
            ignore.append(n)
        else:
            shapes[n] = s
    if model_type == "bert":
        # BertLMPredictionHead: decoder.bias is the same Parameter as predictions.bias
        ignore += ["cls.predictions.decoder.bias"] if "cls.predictions.bias" in tensors else []
        if "cls.predictions.bias" not in tensors and "cls.predictions.decoder.bias" in tensors and has_head:
            tensors = dict(tensors)
            tensors["cls.predictions.bias"] = tensors.pop("cls.predictions.decoder.bias")

    out, dtypes = {}, {}
    for stored, entry in tensors.items():
        name = stored
        is_head = name.startswith("cls.") or name == "lm_head.weight"
        if not is_head and name.startswith(prefix):
            name = name[len(prefix):]
        if model_type == "bert":
            # modeling_utils.py: PreTrainedModel._fix_key (old TF names): LayerNorm gamma -> weight, beta -> bias
            if name.endswith(".gamma"):
                name = name[:-6] + ".weight"
            elif name.endswith(".beta"):
                name = name[:-5] + ".bias"
            if name.startswith("pooler.") or name.startswith("cls.seq_relationship."):
                continue
        if name in ignore:
            continue
        if name not in shapes:
            raise Refusal(f"unknown tensor {stored}")
        if entry["shape"] != shapes[name]:
            raise Refusal(f"tensor {stored} has shape {entry['shape']}, expected {shapes[name]}")
        if entry["dtype"] not in ("F32", "F16", "BF16"):
            raise Refusal(f"tensor {stored} has dtype {entry['dtype']}, expected F32, F16 or BF16")
        if name in out:
            raise Refusal(f"tensor {stored} is stored twice")
        out[name] = to_tensor(entry)
        dtypes[name] = entry["dtype"]
    for name in shapes:
        if name not in out:
            raise Refusal(f"missing tensor {name}")
    return out, has_head, set(dtypes.values())


class Model:
    def __init__(self, folder):
        self.folder = folder
        config, tensors = load_folder(folder)
        mt = config.get("model_type")
        if mt not in SUPPORTED:
            raise Refusal(f"model_type {mt!r} is not supported (supported: {', '.join(SUPPORTED)})")
        self.model_type, self.config = mt, config
        if mt == "gpt2":
            self.hp = gpt2_hparams(config)
        elif mt == "bert":
            self.hp = bert_hparams(config)
        else:
            self.hp = llama_hparams(config, mt)
        if self.hp["hidden"] % self.hp["heads"] and mt in ("gpt2", "bert"):
            raise Refusal("num_attention_heads must divide hidden_size")
        self.p, self.has_head, self.dtypes = canonical(mt, self.hp, tensors)
        self.act = act_fn(self.hp["act"])

    # ------------------------------------------------------------------------------------------------------------
    def forward(self, token_ids, attention=None, ablate=(), logits="all"):
        """SPEC §3/§9 result (as Python lists): token_ids, layers[l].heads[h].{scores, weights, context}, output,
        logits (per `logits`), fully_masked_rows."""
        attention = attention or {}
        n = len(token_ids)
        if n == 0:
            raise Refusal("text gives no tokens")
        if n > self.hp["n_positions"]:
            raise Refusal(f"{n} tokens are more than max_position_embeddings={self.hp['n_positions']}")
        for t in token_ids:
            if not (0 <= t < self.hp["vocab"]):
                raise Refusal(f"token_ids: {t} is outside the vocabulary (vocab_size={self.hp['vocab']})")
        for l, h in ablate:
            if not (0 <= l < self.hp["layers"] and 0 <= h < self.hp["heads"]):
                raise Refusal(f"ablate: [{l}, {h}] is not a head of this model")
        temperature = float(attention.get("temperature", 1.0))
        mask = attention.get("mask") or {}
        visible = visible_mask(n, self.model_type != "bert" or bool(mask.get("causal", False)), mask)
        ids = torch.tensor(token_ids, dtype=torch.long)
        ab = {}
        for l, h in ablate:
            ab.setdefault(l, set()).add(h)
        fn = {"gpt2": self._gpt2, "bert": self._bert, "llama": self._llama, "qwen2": self._llama}[self.model_type]
        layers, logit_t = fn(ids, visible, temperature, ab)
        res = {"token_ids": list(token_ids), "layers": layers,
               "fully_masked_rows": [i for i in range(n) if not bool(visible[i].any())]}
        if logit_t is not None and logits != "none":
            # SPEC: "last" keeps only the last row, as [1, vocab] (LlamaForCausalLM's logits_to_keep=1 slice)
            res["logits"] = logit_t[-1:] if logits == "last" else logit_t
        return res

    # ------------------------------------------------------------------------------------------------------------
    def _gpt2(self, ids, visible, temperature, ab):
        p, hp = self.p, self.hp
        H, nh, hd, eps = hp["hidden"], hp["heads"], hp["head_dim"], hp["eps"]
        n = ids.shape[0]
        # modeling_gpt2.py: GPT2Model.forward: position_ids = arange(0, n); hidden = wte(ids) + wpe(pos)
        hs = p["wte.weight"][ids] + p["wpe.weight"][torch.arange(n)]
        layers = []
        for i in range(hp["layers"]):
            pre = f"h.{i}."
            # GPT2Block.forward: pre-LN, residual around attention and MLP
            residual = hs
            x = torch.nn.functional.layer_norm(hs, (H,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
            # pytorch_utils.py: Conv1D.forward = addmm(bias, x, weight), weight [in, out]
            qkv = torch.addmm(p[pre + "attn.c_attn.bias"], x, p[pre + "attn.c_attn.weight"])
            # GPT2Attention.forward: query, key, value = c_attn(hidden).split(split_size=embed_dim, dim=2);
            # _split_heads: view(n, heads, head_dim).permute -> [heads, n, head_dim]
            q, k, v = qkv.split(H, dim=1)
            q, k, v = (t.view(n, nh, hd).permute(1, 0, 2) for t in (q, k, v))
            # GPT2Attention._attn (eager_attention_forward in newer versions): q @ k^T / full([], value.size(-1) ** 0.5)
            heads, ctx = attention(q, k, v, visible, temperature, ab.get(i, ()),
                                   lambda s: s / torch.full([], v.size(-1) ** 0.5, dtype=s.dtype))
            # _merge_heads, c_proj (Conv1D), residual
            merged = ctx.permute(1, 0, 2).reshape(n, H)
            hs = torch.addmm(p[pre + "attn.c_proj.bias"], merged, p[pre + "attn.c_proj.weight"]) + residual
            # GPT2MLP.forward: c_fc -> act (activation_function, gelu_new) -> c_proj; residual
            residual = hs
            x = torch.nn.functional.layer_norm(hs, (H,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
            x = self.act(torch.addmm(p[pre + "mlp.c_fc.bias"], x, p[pre + "mlp.c_fc.weight"]))
            hs = residual + torch.addmm(p[pre + "mlp.c_proj.bias"], x, p[pre + "mlp.c_proj.weight"])
            # SPEC: layers[l].output = the block's output (transformers' hidden_states[l + 1], except the last
            # one, which transformers reports after ln_f)
            layers.append({"heads": heads, "output": hs.clone()})
        # GPT2Model.forward: ln_f; GPT2LMHeadModel.forward: lm_head (tied to wte unless tie_word_embeddings false)
        final = torch.nn.functional.layer_norm(hs, (H,), p["ln_f.weight"], p["ln_f.bias"], eps)
        head = p["wte.weight"] if hp["tie"] else p["lm_head.weight"]
        return layers, final @ head.t()

    def _bert(self, ids, visible, temperature, ab):
        p, hp = self.p, self.hp
        H, nh, hd, eps = hp["hidden"], hp["heads"], hp["head_dim"], hp["eps"]
        n = ids.shape[0]
        ln = lambda x, name: torch.nn.functional.layer_norm(x, (H,), p[name + ".weight"], p[name + ".bias"], eps)
        lin = lambda x, name: torch.nn.functional.linear(x, p[name + ".weight"], p[name + ".bias"])
        # modeling_bert.py: BertEmbeddings.forward: inputs_embeds + token_type_embeddings(0) (token_type_ids buffer of
        # zeros), += position_embeddings(arange(n)), LayerNorm (layer_norm_eps)
        tt = torch.zeros(n, dtype=torch.long)
        emb = p["embeddings.word_embeddings.weight"][ids] + p["embeddings.token_type_embeddings.weight"][tt]
        emb = emb + p["embeddings.position_embeddings.weight"][torch.arange(n)]
        hs = ln(emb, "embeddings.LayerNorm")
        layers = []
        for i in range(hp["layers"]):
            pre = f"encoder.layer.{i}."
            # BertSelfAttention.forward: query/key/value Linear; transpose_for_scores -> [heads, n, head_dim];
            # attention_scores = q @ k^T / math.sqrt(attention_head_size) (+ extended attention mask)
            q, k, v = (lin(hs, pre + f"attention.self.{m}").view(n, nh, hd).permute(1, 0, 2)
                       for m in ("query", "key", "value"))
            heads, ctx = attention(q, k, v, visible, temperature, ab.get(i, ()), lambda s: s / math.sqrt(hd))
            merged = ctx.permute(1, 0, 2).reshape(n, H)
            # BertSelfOutput.forward: LayerNorm(dense(context) + input)   (post-LN)
            a = ln(lin(merged, pre + "attention.output.dense") + hs, pre + "attention.output.LayerNorm")
            # BertIntermediate (dense + hidden_act, exact erf "gelu"), BertOutput: LayerNorm(dense(x) + a)
            x = self.act(lin(a, pre + "intermediate.dense"))
            hs = ln(lin(x, pre + "output.dense") + a, pre + "output.LayerNorm")
            layers.append({"heads": heads, "output": hs.clone()})
        if not self.has_head:
            return layers, None  # BertModel: no LM head
        # BertForMaskedLM -> BertOnlyMLMHead -> BertLMPredictionHead: transform (dense, act, LayerNorm), decoder
        # (tied to word_embeddings unless tie_word_embeddings false) + predictions.bias
        t = ln(self.act(lin(hs, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
        dec = p["embeddings.word_embeddings.weight"] if hp["tie"] else p["cls.predictions.decoder.weight"]
        return layers, torch.nn.functional.linear(t, dec, p["cls.predictions.bias"])

    def _llama(self, ids, visible, temperature, ab):
        p, hp = self.p, self.hp
        nh, nkv, hd, eps = hp["heads"], hp["kv_heads"], hp["head_dim"], hp["eps"]
        n = ids.shape[0]
        lin = lambda x, name: torch.nn.functional.linear(x, p[name + ".weight"], p.get(name + ".bias"))
        # modeling_llama.py: LlamaModel.forward: inputs_embeds = embed_tokens(ids); position_ids = arange(n)
        hs = p["embed_tokens.weight"][ids]
        cos, sin = rope_cos_sin(hd, hp["theta"], n)
        layers = []
        for i in range(hp["layers"]):
            pre = f"layers.{i}."
            # LlamaDecoderLayer.forward: pre-RMSNorm, residual around attention and MLP
            residual = hs
            x = rms_norm(hs, p[pre + "input_layernorm.weight"], eps)
            # LlamaAttention.forward: q/k/v_proj (Qwen2Attention: with bias), view(n, -1, head_dim).transpose
            q = lin(x, pre + "self_attn.q_proj").view(n, nh, hd).transpose(0, 1)
            k = lin(x, pre + "self_attn.k_proj").view(n, nkv, hd).transpose(0, 1)
            v = lin(x, pre + "self_attn.v_proj").view(n, nkv, hd).transpose(0, 1)
            q, k = apply_rotary_pos_emb(q, k, cos, sin)
            # eager_attention_forward: repeat_kv (query head h uses kv head h // (heads / kv_heads)),
            # attn_weights = q @ k^T * scaling (head_dim ** -0.5), softmax in float32
            k, v = repeat_kv(k, nh // nkv), repeat_kv(v, nh // nkv)
            heads, ctx = attention(q, k, v, visible, temperature, ab.get(i, ()), lambda s: s * hd ** -0.5)
            # attn_output.transpose(1, 2).reshape(n, heads * head_dim); o_proj
            merged = ctx.transpose(0, 1).reshape(n, nh * hd)
            hs = residual + lin(merged, pre + "self_attn.o_proj")
            # LlamaMLP.forward: down_proj(act_fn(gate_proj(x)) * up_proj(x))
            residual = hs
            x = rms_norm(hs, p[pre + "post_attention_layernorm.weight"], eps)
            x = lin(self.act(lin(x, pre + "mlp.gate_proj")) * lin(x, pre + "mlp.up_proj"), pre + "mlp.down_proj")
            hs = residual + x
            layers.append({"heads": heads, "output": hs.clone()})
        # LlamaModel.forward: norm; LlamaForCausalLM.forward: lm_head (embed_tokens when tie_word_embeddings)
        final = rms_norm(hs, p["norm.weight"], eps)
        head = p["embed_tokens.weight"] if hp["tie"] else p["lm_head.weight"]
        return layers, final @ head.t()


# ----------------------------------------------------------------------------------------------------------------
def visible_mask(n, causal, mask):
    """[n, n] bool, True where query i may see key j. SPEC §2 masks: causal (j <= i), window w (|i - j| <= w),
    padding (masked key indices), cells ([i, j]: query i may not see key j)."""
    vis = torch.ones(n, n, dtype=torch.bool)
    if causal:
        # modeling_gpt2.py: GPT2Attention._attn causal_mask = bias[..., :n, :n] (tril);
        # modeling_llama.py: _prepare_4d_causal_attention_mask_with_cache_position
        vis &= torch.tril(torch.ones(n, n, dtype=torch.bool))
    w = mask.get("window")
    if w is not None:
        idx = torch.arange(n)
        vis &= (idx[:, None] - idx[None, :]).abs() <= int(w)
    for j in mask.get("padding") or []:
        if not 0 <= j < n:
            raise Refusal(f"attention.mask.padding: {j} is not a token index")
        vis[:, j] = False
    for i, j in mask.get("cells") or []:
        if not (0 <= i < n and 0 <= j < n):
            raise Refusal(f"attention.mask.cells: [{i}, {j}] is not a cell")
        vis[i, j] = False
    return vis


def attention(q, k, v, visible, temperature, ablated, scale):
    """Every head's scores (scaled, ÷ temperature, masked None), weights and context [n, head_dim];
    returns (heads as dicts of tensors, context [heads, n, head_dim] with ablated heads zeroed)."""
    scores = scale(torch.matmul(q, k.transpose(-1, -2)))
    if temperature != 1.0:
        scores = scores / temperature  # SPEC: temperature divides every score (not in transformers)
    # transformers adds finfo(dtype).min (GPT2Attention._attn: torch.where(causal_mask, w, mask_value); BERT's and
    # Llama's additive masks); exp of it underflows to exactly 0, so -inf gives the same weights on every row that
    # sees at least one key.
    weights = torch.softmax(scores.masked_fill(~visible, float("-inf")), dim=-1, dtype=torch.float32)
    # SPEC: a query row that sees no key has weights 0 and context 0 (transformers would give a uniform row, or NaN
    # where two finfo.min add up to -inf).
    dead = ~visible.any(dim=-1)
    weights[:, dead, :] = 0.0
    ctx = torch.matmul(weights, v)
    for h in ablated:
        # SPEC: ablate = transformers' head_mask on the output (GPT2Attention._attn / BertSelfAttention:
        # attn_weights * head_mask before @ value); unlike head_mask, scores and weights stay as computed
        ctx[h] = 0.0
    heads = []
    for h in range(q.shape[0]):
        heads.append({"scores": scores[h].masked_fill(~visible, float("nan")), "weights": weights[h].clone(),
                      "context": ctx[h].clone()})
    return heads, ctx


def rms_norm(x, weight, eps):
    # modeling_llama.py: LlamaRMSNorm.forward (Qwen2RMSNorm the same): variance in float32,
    # weight * (x * rsqrt(variance + eps))
    x = x.to(torch.float32)
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rope_cos_sin(head_dim, theta, n):
    # modeling_rope_utils.py: _compute_default_rope_parameters:
    #   inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    # modeling_llama.py: LlamaRotaryEmbedding.forward: freqs = (inv_freq[None, :, None] @ position_ids[:, None, :])
    # .transpose(1, 2); emb = cat((freqs, freqs), -1); cos/sin in float32 (attention_scaling 1.0 for "default")
    position_ids = torch.arange(n)[None, :]
    freqs = (inv_freq[None, :, None].float() @ position_ids[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos()[0], emb.sin()[0]


def rotate_half(x):
    # modeling_llama.py: rotate_half
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_pos_emb(q, k, cos, sin):
    # modeling_llama.py: apply_rotary_pos_emb (cos/sin [n, head_dim] broadcast over heads)
    q_embed = (q * cos) + (rotate_half(q) * sin)
    k_embed = (k * cos) + (rotate_half(k) * sin)
    return q_embed, k_embed


def repeat_kv(x, n_rep):
    # modeling_llama.py: repeat_kv: [kv_heads, n, d] -> [kv_heads * n_rep, n, d], each kv head repeated n_rep times
    if n_rep == 1:
        return x
    kvh, n, d = x.shape
    return x[:, None, :, :].expand(kvh, n_rep, n, d).reshape(kvh * n_rep, n, d)


# ----------------------------------------------------------------------------------------------------------------
def run_case(folder, config, token_ids):
    """The SPEC §9 config of a case (token ids already resolved) -> result with tensors."""
    model = config.get("_model_obj") or Model(folder)
    return model.forward(token_ids, config.get("attention"), config.get("ablate") or [], config.get("logits", "all"))


def to_lists(res):
    """Tensors -> nested lists; masked scores (NaN) -> None."""
    def conv(t, nulls=False):
        a = t.detach().numpy().astype(np.float64)
        if nulls:
            return [[None if math.isnan(x) else float(x) for x in row] for row in a.tolist()]
        return a.tolist()
    out = {k: v for k, v in res.items() if k not in ("layers", "logits")}
    out["layers"] = [{"heads": [{"scores": conv(h["scores"], True), "weights": conv(h["weights"]),
                                 "context": conv(h["context"])} for h in layer["heads"]],
                      "output": conv(layer["output"])} for layer in res["layers"]]
    if "logits" in res:
        out["logits"] = conv(res["logits"])
    return out


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: reference.py MODEL_DIR CONFIG_JSON   (config with token_ids)")
    cfg = json.loads(sys.argv[2])
    try:
        result = run_case(sys.argv[1], cfg, cfg["token_ids"])
    except Refusal as e:
        print(str(e), file=sys.stderr)
        sys.exit(2)
    json.dump(to_lists(result), sys.stdout)
