"""Hugging Face models in the notebook (../shared/SPEC.md section 9): GPT-2, BERT, Llama and Qwen2.

load_folder(path) -> PretrainedModel reads a folder as save_pretrained writes it (config.json, model.safetensors or
model.safetensors.index.json and its shards, F32 / F16 / BF16 widened to float32; tokenizer.json's vocabulary when
present) with numpy alone, checking every tensor's name and shape as the engine does. from_module(model) makes one
from a transformers model, duck-typed by model.config.model_type and model.state_dict() (transformers itself is never
imported). PretrainedModel.attention() runs the model in plain torch, float32, eval mode (no dropout), and returns
every layer's and head's attention weights.

The maths is tests/pretrained/reference.py's (the project's reference for these numbers, which the engine's goldens
come from), written like it from transformers' modeling code (huggingface/transformers):
  src/transformers/models/gpt2/modeling_gpt2.py    GPT2Attention._attn / eager_attention_forward, GPT2MLP, GPT2Block,
                                                   GPT2Model; pytorch_utils.py Conv1D
  src/transformers/models/bert/modeling_bert.py    BertEmbeddings, BertSelfAttention, BertSelfOutput, BertIntermediate,
                                                   BertOutput, BertLayer
  src/transformers/models/llama/modeling_llama.py  LlamaRMSNorm, LlamaRotaryEmbedding, rotate_half,
                                                   apply_rotary_pos_emb, repeat_kv, eager_attention_forward,
                                                   LlamaAttention, LlamaMLP, LlamaDecoderLayer, LlamaModel
  src/transformers/models/qwen2/modeling_qwen2.py  Qwen2Attention: q/k/v with bias, o_proj without; otherwise Llama's
  src/transformers/modeling_rope_utils.py          _compute_default_rope_parameters
  src/transformers/activations.py                  NewGELUActivation "gelu_new", GELUActivation "gelu", ACT2FN
  src/transformers/modeling_utils.py               PreTrainedModel._fix_key (BERT's old gamma / beta names)
Where SPEC section 9 differs from transformers on purpose, "SPEC:" says so (rows that see no key, the extra masks,
temperature, ablation). Only the attention is computed: the final norm and the LM head are checked, never run.

Dimension glossary: n (tokens), layers, heads (query heads), kv_heads, head_dim, hidden (hidden_size), vocab.
"""
import json
import math
import mmap
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ._arrays import AttnplayError, check_size, indices, need_torch, to_numpy
from ._files import decode, safetensors_entries, safetensors_write

SUPPORTED = ("gpt2", "bert", "llama", "qwen2")
_ACTIVATIONS = ("gelu_new", "gelu", "gelu_pytorch_tanh", "silu", "swish", "relu")
_TORCH_DTYPES = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64", "int64": "I64",
                 "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}
_OTHER_WEIGHT_FILES = ("pytorch_model.bin", "pytorch_model.bin.index.json", "tf_model.h5", "flax_model.msgpack")


class PretrainedModel:
    """A GPT-2, BERT, Llama or Qwen2 model as attnplay reads it (attnplay.load(folder), or a transformers model given
    to show_model). .config is config.json as a dict, .model_type its model_type, .info the figures the JS API's
    model.info gives (model_type, layers, heads, kv_heads, hidden_size, vocab_size, parameters: the elements of the
    tensors the model uses, a tied LM head once; dtype: the stored dtype of those tensors, a sorted list when they
    mix), .path the folder (None for a transformers model)."""

    def __init__(self, config, tensors, dtypes, where, vocab=None, path=None, source="config.json",
                 weights_label="the weights"):
        # tensors {stored name: array}, dtypes {stored name: safetensors dtype}, where {stored name: the file (or
        # "state_dict()") that holds it, for messages}; vocab {id: token string} or None.
        self.config, self.path, self._tensors, self._vocab = config, path, tensors, vocab
        self.model_type = model_type_of(config, source)
        self._hp = _hparams(config, self.model_type, source)
        self._p, used = _canonical(self.model_type, self._hp, tensors, dtypes, where, weights_label)
        hp = self._hp
        self.info = {"model_type": self.model_type, "layers": hp["layers"], "heads": hp["heads"],
                     "kv_heads": hp["kv_heads"], "hidden_size": hp["hidden"], "vocab_size": hp["vocab"],
                     "parameters": int(sum(a.size for a in self._p.values())),
                     "dtype": used[0] if len(used) == 1 else used}

    def state_dict(self):
        """{stored name: numpy array}: every tensor under the file's own names (prefixes, old names, buffers and
        unused heads included); float tensors as float32, integer and BOOL buffers as stored."""
        return dict(self._tensors)

    def tokens(self, ids):
        """The vocabulary's strings of token ids (tokenizer.json's model vocab and added_tokens: "Ġcat", "##s");
        without tokenizer.json, or for an id it lacks, the id written as a string."""
        vocab = self._vocab or {}
        return [vocab.get(i, str(i)) for i in (_row(ids, "ids", 0) if len(ids) else [])]

    def attention(self, token_ids, *, temperature=1.0, mask=None, ablate=None, layers=None):
        """Attention weights [layers, heads, n, n] (numpy float32) of every layer (or the listed layers) and every
        query head for token_ids (a list of int, or an integer array [n]), as transformers computes them with output_attentions=True, plus
        SPEC section 9's interventions: temperature divides every score; mask (SPEC section 2: causal, window,
        padding, cells) adds to the model's own (GPT-2, Llama and Qwen2 are always causal, BERT is bidirectional
        unless causal is true); ablate [[layer, head], ...] zeroes those heads' context before the output projection
        (later layers see the change; their own weights are reported as computed). A query row that sees no key has
        weights 0. Needs torch."""
        hp = self._hp
        ids = self._check_ids(_row(token_ids, "token_ids", 0), "token_ids")
        n = len(ids)
        temperature = _temperature(temperature)
        ablated = _ablate(ablate, hp["layers"], hp["heads"])
        visible = _visible(n, self.model_type != "bert", mask)
        keep = list(range(hp["layers"])) if layers is None else indices("layers", layers, hp["layers"])
        torch = need_torch("compute a pretrained model's attention (attnplay.load reads the folder without it)")
        return _run(torch, self, ids, visible, temperature, ablated, keep)

    def _check_ids(self, ids, name):
        hp = self._hp
        if not ids:
            raise AttnplayError(f"{name}: no tokens")
        for i in ids:
            if not 0 <= i < hp["vocab"]:
                raise AttnplayError(f"{name}: token id {i} is outside the vocabulary (vocab_size={hp['vocab']})")
        if len(ids) > hp["positions"]:
            raise AttnplayError(f"{name}: {len(ids)} tokens are more than the model's positions "
                                f"({hp['positions_field']}={hp['positions']})")
        return [int(i) for i in ids]

    def __repr__(self):
        i = self.info
        where = f" from {self.path}" if self.path else ""
        return (f"attnplay.PretrainedModel({i['model_type']}, {i['layers']} layers x {i['heads']} heads, "
                f"{i['parameters']:,} parameters, {i['dtype']}{where})")


# ----------------------------------------------------------------------------------------------------------------
# Reading: a folder, or a transformers model
# ----------------------------------------------------------------------------------------------------------------
def model_type_of(config, source):
    mt = config.get("model_type")
    if mt not in SUPPORTED:
        got = "no model_type" if mt is None else f"model_type {mt!r}"
        raise AttnplayError(f"{source}: {got} is not supported (supported: {', '.join(SUPPORTED)})")
    return mt


def is_folder_path(path):
    """True for what load() reads as a Hugging Face folder: a directory, or a path to its config.json."""
    p = Path(path)
    return p.is_dir() or (p.name == "config.json" and p.is_file())


def load_folder(path):
    """A Hugging Face model folder (or its config.json) -> PretrainedModel."""
    folder = Path(path)
    if folder.name == "config.json" and folder.is_file():
        folder = folder.parent
    cfg_path = folder / "config.json"
    config = _read_json(cfg_path, "a Hugging Face model folder holds config.json, model.safetensors and tokenizer.json")
    if not isinstance(config, dict):
        raise AttnplayError(f"{cfg_path}: expected a JSON object")
    model_type_of(config, cfg_path)  # before reading gigabytes of weights
    tensors, dtypes, where, label = _read_weights(folder)
    tok_path = folder / "tokenizer.json"
    vocab = _vocabulary(_read_json(tok_path, None), tok_path) if tok_path.is_file() else None
    return PretrainedModel(config, tensors, dtypes, where, vocab, folder, str(cfg_path), label)


def from_module(module):
    """A transformers model (model.config, model.state_dict() of torch tensors) -> PretrainedModel."""
    cfg = module.config
    # PretrainedConfig.to_dict() is config.json's content; a plain object's attributes serve as well.
    config = dict(cfg.to_dict() if callable(getattr(cfg, "to_dict", None)) else vars(cfg))
    config.setdefault("model_type", cfg.model_type)
    tensors, dtypes = {}, {}
    for name, t in module.state_dict().items():
        what = f"state_dict()[{name!r}]"
        kind = str(getattr(t, "dtype", "?")).replace("torch.", "")
        dtypes[name] = _TORCH_DTYPES.get(kind, kind)
        floating = t.is_floating_point() if hasattr(t, "is_floating_point") else np.issubdtype(np.asarray(t).dtype,
                                                                                                np.floating)
        if floating:
            # to_numpy shares the storage of a CPU float32 tensor (no copy of a large model) and refuses 'meta'
            tensors[name] = np.asarray(to_numpy(t, what), dtype=np.float32)
        else:  # integer and bool buffers (position_ids, attn.bias): kept as they are, never used
            tensors[name] = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
    return PretrainedModel(config, tensors, dtypes, {n: "state_dict()" for n in tensors}, None, None,
                           "model.config", "state_dict()")


def _read_json(path, missing_hint):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise AttnplayError(f"{path}: missing ({missing_hint})") from None
    except (UnicodeDecodeError, ValueError) as e:
        raise AttnplayError(f"{path}: not JSON ({e})") from None


def _map(path):
    """The file's bytes without reading them into memory first: a model's weights can be gigabytes, and each tensor
    is copied out (as float32) once."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return b""
        return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)


def _read_weights(folder):
    """({stored name: array}, {name: dtype}, {name: file}, the weights' label for messages) from model.safetensors or
    the shards model.safetensors.index.json maps the names to (as save_pretrained writes them)."""
    index_path = folder / "model.safetensors.index.json"
    if index_path.is_file():
        index = _read_json(index_path, None)
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise AttnplayError(f"{index_path}: weight_map: expected an object of tensor name -> shard file name")
        shards, label = sorted(set(weight_map.values())), str(index_path)
    else:
        weight_map, shards, label = None, ["model.safetensors"], str(folder / "model.safetensors")
        if not (folder / "model.safetensors").is_file():
            other = [f for f in _OTHER_WEIGHT_FILES if (folder / f).exists()]
            hint = (f"; {other[0]} is not read: save the model with save_pretrained(folder) (safetensors is its "
                    "default) or convert it") if other else ""
            raise AttnplayError(f"{label}: missing (nor is there a model.safetensors.index.json){hint}")
    tensors, dtypes, where = {}, {}, {}
    for shard in shards:
        path = folder / shard
        if Path(shard).name != shard:
            raise AttnplayError(f"{index_path}: weight_map names {shard!r}, which is not a file name in the folder")
        if not path.is_file():
            raise AttnplayError(f"{path}: missing (model.safetensors.index.json maps tensors to it)")
        entries, _ = safetensors_entries(_map(path), str(path))
        for name, dtype, shape, raw in entries:
            if weight_map is not None and weight_map.get(name) != shard:
                raise AttnplayError(f"{path}: tensor {name!r} is not mapped to this shard by model.safetensors.index.json")
            tensors[name], dtypes[name], where[name] = decode(dtype, raw, shape, float32=True), dtype, str(path)
    for name, shard in (weight_map or {}).items():
        if name not in tensors:
            raise AttnplayError(f"{folder / shard}: tensor {name!r} is not in this shard, though "
                                "model.safetensors.index.json maps it here")
    return tensors, dtypes, where, label


def _vocabulary(tj, path):
    """tokenizer.json -> {id: token string}: the model's vocab ({token: id} for BPE, WordPiece and WordLevel; a list
    of [token, score] for Unigram) and the added tokens (special tokens; they win over the vocab, as in tokenizers)."""
    if not isinstance(tj, dict):
        raise AttnplayError(f"{path}: expected a JSON object (the tokenizers library's format)")
    vocab = (tj.get("model") or {}).get("vocab")
    out = {}
    if isinstance(vocab, dict):
        out = {int(i): str(t) for t, i in vocab.items() if isinstance(i, int)}
    elif isinstance(vocab, list):
        out = {i: str(e[0]) for i, e in enumerate(vocab) if isinstance(e, (list, tuple)) and e}
    for a in tj.get("added_tokens") or []:
        if isinstance(a, dict) and isinstance(a.get("id"), int) and isinstance(a.get("content"), str):
            out[a["id"]] = a["content"]
    return out


# ----------------------------------------------------------------------------------------------------------------
# Config: the hyperparameters, with transformers' defaults (configuration_*.py); what is not implemented is refused
# ----------------------------------------------------------------------------------------------------------------
def _int(c, key, default, source):
    v = c.get(key)
    v = default if v is None else v
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise AttnplayError(f"{source}: {key}: expected a positive whole number, got {v!r}")
    return v


def _float(c, key, default, source):
    v = c.get(key)
    v = default if v is None else v
    if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v <= 0:
        raise AttnplayError(f"{source}: {key}: expected a positive number, got {v!r}")
    return float(v)


def _act(c, key, default, source):
    v = c.get(key, default)
    if v not in _ACTIVATIONS:
        raise AttnplayError(f"{source}: {key}: {v!r} is not implemented (implemented: {', '.join(_ACTIVATIONS)})")
    return v


def _hparams(c, model_type, source):
    if model_type == "gpt2":
        # configuration_gpt2.py: GPT2Config (attribute_map: hidden_size = n_embd, num_hidden_layers = n_layer, ...)
        h = _int(c, "n_embd", 768, source)
        hp = {"hidden": h, "layers": _int(c, "n_layer", 12, source), "heads": _int(c, "n_head", 12, source),
              "positions": _int(c, "n_positions", 1024, source), "positions_field": "n_positions",
              "vocab": _int(c, "vocab_size", 50257, source), "inner": _int(c, "n_inner", 4 * h, source),
              "eps": _float(c, "layer_norm_epsilon", 1e-5, source),
              "act": _act(c, "activation_function", "gelu_new", source), "tie": c.get("tie_word_embeddings", True)}
        for key, ok in (("scale_attn_weights", True), ("scale_attn_by_inverse_layer_idx", False),
                        ("add_cross_attention", False)):
            if c.get(key, ok) != ok:
                raise AttnplayError(f"{source}: {key}: {c[key]!r} is not implemented")
        heads_field, hidden_field = "n_head", "n_embd"
    elif model_type == "bert":
        # configuration_bert.py: BertConfig
        hp = {"hidden": _int(c, "hidden_size", 768, source), "layers": _int(c, "num_hidden_layers", 12, source),
              "heads": _int(c, "num_attention_heads", 12, source), "inter": _int(c, "intermediate_size", 3072, source),
              "positions": _int(c, "max_position_embeddings", 512, source),
              "positions_field": "max_position_embeddings", "types": _int(c, "type_vocab_size", 2, source),
              "vocab": _int(c, "vocab_size", 30522, source), "eps": _float(c, "layer_norm_eps", 1e-12, source),
              "act": _act(c, "hidden_act", "gelu", source), "tie": c.get("tie_word_embeddings", True)}
        if c.get("position_embedding_type", "absolute") != "absolute":
            raise AttnplayError(f"{source}: position_embedding_type: {c['position_embedding_type']!r} is not implemented "
                                "(only 'absolute')")
        heads_field, hidden_field = "num_attention_heads", "hidden_size"
    else:
        hp = _llama_hparams(c, model_type, source)
        heads_field = hidden_field = None
    if heads_field:  # GPT-2 and BERT split hidden into heads
        if hp["hidden"] % hp["heads"]:
            raise AttnplayError(f"{source}: {heads_field} ({hp['heads']}) must divide {hidden_field} ({hp['hidden']})")
        hp["head_dim"], hp["kv_heads"] = hp["hidden"] // hp["heads"], hp["heads"]
    hp["tie"] = bool(hp["tie"])
    return hp


def _llama_hparams(c, model_type, source):
    # configuration_llama.py / configuration_qwen2.py (defaults differ in positions and vocab)
    llama = model_type == "llama"
    hidden, heads = _int(c, "hidden_size", 4096, source), _int(c, "num_attention_heads", 32, source)
    hp = {"hidden": hidden, "layers": _int(c, "num_hidden_layers", 32, source), "heads": heads,
          "kv_heads": _int(c, "num_key_value_heads", heads, source), "inter": _int(c, "intermediate_size", 11008, source),
          "positions": _int(c, "max_position_embeddings", 2048 if llama else 32768, source),
          "positions_field": "max_position_embeddings", "vocab": _int(c, "vocab_size", 32000 if llama else 151936, source),
          "eps": _float(c, "rms_norm_eps", 1e-6, source), "act": _act(c, "hidden_act", "silu", source),
          # LlamaConfig / Qwen2Config: tie_word_embeddings=False by default
          "tie": c.get("tie_word_embeddings", False),
          # LlamaAttention.__init__: head_dim = getattr(config, "head_dim", hidden // heads) (Qwen2Attention alike)
          "head_dim": _int(c, "head_dim", hidden // heads or 1, source),
          "qkv_bias": not llama or bool(c.get("attention_bias", False)),
          "o_bias": llama and bool(c.get("attention_bias", False)), "mlp_bias": llama and bool(c.get("mlp_bias", False))}
    # transformers 5 keeps rope_theta and the RoPE type in rope_parameters; earlier versions in rope_theta and
    # rope_scaling. Only the default RoPE is implemented.
    rp = c.get("rope_parameters") if isinstance(c.get("rope_parameters"), dict) else {}
    hp["theta"] = _float(c if c.get("rope_theta") is not None else rp, "rope_theta", 10000.0, source)
    for key, rs in (("rope_scaling", c.get("rope_scaling")), ("rope_parameters", rp or None)):
        kind = rs.get("rope_type", rs.get("type")) if isinstance(rs, dict) else rs
        if rs is not None and kind != "default":
            raise AttnplayError(f"{source}: {key}: RoPE type {kind!r} is not implemented (only the default RoPE)")
    if c.get("partial_rotary_factor", rp.get("partial_rotary_factor", 1.0)) != 1.0:
        raise AttnplayError(f"{source}: partial_rotary_factor is not implemented (only 1.0)")
    if not llama and (c.get("use_sliding_window") or "sliding_attention" in (c.get("layer_types") or [])):
        raise AttnplayError(f"{source}: use_sliding_window: true is not implemented")
    if heads % hp["kv_heads"]:
        raise AttnplayError(f"{source}: num_key_value_heads ({hp['kv_heads']}) must divide num_attention_heads ({heads})")
    return hp


# ----------------------------------------------------------------------------------------------------------------
# Tensor names: the stored names mapped to the canonical ones (no prefix, LayerNorm weight/bias), strictly
# ----------------------------------------------------------------------------------------------------------------
def _expected(model_type, hp, has_head):
    """(the prefix a stored name may carry, {canonical name: shape}, names to ignore, {head tensor: shape})."""
    H, L, V = hp["hidden"], hp["layers"], hp["vocab"]
    shapes, ignore, head = {}, set(), {}
    if model_type == "gpt2":
        # modeling_gpt2.py: GPT2Model.__init__ (wte, wpe, h.{i}, ln_f), GPT2Block / GPT2Attention / GPT2MLP; Conv1D
        # weights stored [in, out], c_attn fused q|k|v along the output dimension
        prefix, I = "transformer.", hp["inner"]
        shapes.update({"wte.weight": [V, H], "wpe.weight": [hp["positions"], H], "ln_f.weight": [H], "ln_f.bias": [H]})
        for i in range(L):
            p = f"h.{i}."
            shapes.update({p + "ln_1.weight": [H], p + "ln_1.bias": [H], p + "ln_2.weight": [H], p + "ln_2.bias": [H],
                           p + "attn.c_attn.weight": [H, 3 * H], p + "attn.c_attn.bias": [3 * H],
                           p + "attn.c_proj.weight": [H, H], p + "attn.c_proj.bias": [H],
                           p + "mlp.c_fc.weight": [H, I], p + "mlp.c_fc.bias": [I],
                           p + "mlp.c_proj.weight": [I, H], p + "mlp.c_proj.bias": [H]})
            # GPT2Attention.__init__: register_buffer("bias") / ("masked_bias"), of any dtype in old checkpoints
            ignore |= {p + "attn.bias", p + "attn.masked_bias"}
        head = {"lm_head.weight": [V, H]}
    elif model_type == "bert":
        # modeling_bert.py: BertEmbeddings; BertLayer (attention.self.query/key/value, attention.output.dense +
        # LayerNorm, intermediate.dense, output.dense + LayerNorm)
        prefix, I = "bert.", hp["inter"]
        shapes.update({"embeddings.word_embeddings.weight": [V, H],
                       "embeddings.position_embeddings.weight": [hp["positions"], H],
                       "embeddings.token_type_embeddings.weight": [hp["types"], H],
                       "embeddings.LayerNorm.weight": [H], "embeddings.LayerNorm.bias": [H]})
        for i in range(L):
            p = f"encoder.layer.{i}."
            for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
                shapes.update({p + m + ".weight": [H, H], p + m + ".bias": [H]})
            for m in ("attention.output.LayerNorm", "output.LayerNorm"):
                shapes.update({p + m + ".weight": [H], p + m + ".bias": [H]})
            shapes.update({p + "intermediate.dense.weight": [I, H], p + "intermediate.dense.bias": [I],
                           p + "output.dense.weight": [H, I], p + "output.dense.bias": [H]})
        # BertEmbeddings.__init__: register_buffer("position_ids") / ("token_type_ids"), stored by old files
        ignore |= {"embeddings.position_ids", "embeddings.token_type_ids"}
        if has_head:  # BertForMaskedLM: BertPredictionHeadTransform (dense, act, LayerNorm), BertLMPredictionHead
            head = {"cls.predictions.transform.dense.weight": [H, H], "cls.predictions.transform.dense.bias": [H],
                    "cls.predictions.transform.LayerNorm.weight": [H], "cls.predictions.transform.LayerNorm.bias": [H],
                    "cls.predictions.bias": [V], "cls.predictions.decoder.weight": [V, H]}
    else:
        # modeling_llama.py: LlamaModel.__init__ (embed_tokens, layers.{i}, norm), LlamaAttention (q/k/v/o_proj),
        # LlamaMLP (gate/up/down_proj), LlamaDecoderLayer (input_layernorm, post_attention_layernorm)
        prefix, I, nh, nkv, hd = "model.", hp["inter"], hp["heads"], hp["kv_heads"], hp["head_dim"]
        shapes.update({"embed_tokens.weight": [V, H], "norm.weight": [H]})
        for i in range(L):
            p = f"layers.{i}."
            a, m = p + "self_attn.", p + "mlp."
            shapes.update({a + "q_proj.weight": [nh * hd, H], a + "k_proj.weight": [nkv * hd, H],
                           a + "v_proj.weight": [nkv * hd, H], a + "o_proj.weight": [H, nh * hd],
                           m + "gate_proj.weight": [I, H], m + "up_proj.weight": [I, H], m + "down_proj.weight": [H, I],
                           p + "input_layernorm.weight": [H], p + "post_attention_layernorm.weight": [H]})
            if hp["qkv_bias"]:
                shapes.update({a + "q_proj.bias": [nh * hd], a + "k_proj.bias": [nkv * hd], a + "v_proj.bias": [nkv * hd]})
            if hp["o_bias"]:
                shapes[a + "o_proj.bias"] = [H]
            if hp["mlp_bias"]:
                shapes.update({m + "gate_proj.bias": [I], m + "up_proj.bias": [I], m + "down_proj.bias": [H]})
            ignore.add(a + "rotary_emb.inv_freq")  # the buffer older checkpoints carry (recomputed, as transformers does)
        ignore.add("rotary_emb.inv_freq")
        head = {"lm_head.weight": [V, H]}
    return prefix, shapes, ignore, head


def _canonical(model_type, hp, tensors, dtypes, where, label):
    """({canonical name: float32 array} of the tensors the model uses, the sorted stored dtypes of those);
    refuses a missing, misshapen or unknown tensor by its stored name, as SPEC section 9 says."""
    has_head = model_type != "bert" or any(n.startswith("cls.predictions.") for n in tensors)
    prefix, shapes, ignore, head = _expected(model_type, hp, has_head)
    # A tied head is the token embedding: a stored copy is ignored; an untied one is required.
    tied_name = "cls.predictions.decoder.weight" if model_type == "bert" else "lm_head.weight"
    for name, shape in head.items():
        if name == tied_name and hp["tie"]:
            ignore.add(name)
        else:
            shapes[name] = shape
    # BertLMPredictionHead: decoder.bias is the same Parameter as predictions.bias; a file may hold either or both.
    bias_alias = model_type == "bert" and has_head and "cls.predictions.bias" not in tensors
    if model_type == "bert" and not bias_alias:
        ignore.add("cls.predictions.decoder.bias")
    out, stored_as, used = {}, {}, set()
    for stored, arr in tensors.items():
        name = stored
        if not (name.startswith("cls.") or name == "lm_head.weight") and name.startswith(prefix):
            name = name[len(prefix):]
        if model_type == "bert":
            # modeling_utils.py: PreTrainedModel._fix_key (old TF names): LayerNorm gamma -> weight, beta -> bias
            if name.endswith(".gamma"):
                name = name[:-6] + ".weight"
            elif name.endswith(".beta"):
                name = name[:-5] + ".bias"
            if name.startswith(("pooler.", "cls.seq_relationship.")):
                continue  # BertModel.pooler, BertPreTrainingHeads.seq_relationship: heads the figure does not use
            if bias_alias and name == "cls.predictions.decoder.bias":
                name = "cls.predictions.bias"
        if name in ignore:
            continue
        if name not in shapes:
            raise AttnplayError(f"{where[stored]}: unknown tensor {stored!r} (a {model_type} model of this config has "
                                "no such tensor)")
        if list(arr.shape) != shapes[name]:
            raise AttnplayError(f"{where[stored]}: tensor {stored!r} has shape {list(arr.shape)}, expected {shapes[name]}")
        if dtypes[stored] not in ("F32", "F16", "BF16"):
            raise AttnplayError(f"{where[stored]}: tensor {stored!r} has dtype {dtypes[stored]}, expected F32, F16 or BF16")
        if name in out:
            raise AttnplayError(f"{where[stored]}: tensor {stored!r} is stored twice (also as {stored_as[name]!r})")
        out[name], stored_as[name] = arr, stored
        used.add(dtypes[stored])
    for name in shapes:
        if name not in out:
            why = " (tie_word_embeddings is false, so the LM head is a tensor of its own)" if name == tied_name else ""
            raise AttnplayError(f"{label}: missing tensor {name!r}{why}")
    return out, sorted(used)


# ----------------------------------------------------------------------------------------------------------------
# Arguments of attention(): checked before anything runs
# ----------------------------------------------------------------------------------------------------------------
def _temperature(t):
    if not isinstance(t, (int, float, np.floating, np.integer)) or isinstance(t, bool) or not math.isfinite(t) or t <= 0:
        raise AttnplayError(f"temperature: expected a positive number, got {t!r}")
    return float(t)


def _ablate(ablate, layers, heads):
    """[[layer, head], ...] -> {layer: [heads]}."""
    out = {}
    for item in ablate or []:
        ok = isinstance(item, (list, tuple)) and len(item) == 2 and all(
            isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in item)
        if not ok or not (0 <= item[0] < layers and 0 <= item[1] < heads):
            raise AttnplayError(f"ablate: {item!r} is not a [layer, head] of this model ({layers} layers x {heads} heads)")
        out.setdefault(int(item[0]), []).append(int(item[1]))
    return out


def _visible(n, model_causal, mask):
    """[n, n] bool, True where query i may see key j: the model's own mask (causal for GPT-2, Llama and Qwen2) and
    SPEC section 2's: causal (j <= i), window w (|i - j| <= w), padding (masked keys), cells ([i, j]: i may not see j)."""
    mask = {} if mask is None else mask
    if not isinstance(mask, Mapping):
        raise AttnplayError(f"mask: expected a dict (SPEC section 2: causal, window, padding, cells), got "
                            f"{type(mask).__name__}")
    for k in mask:
        if k not in ("causal", "window", "padding", "cells"):
            raise AttnplayError(f"mask: unknown field {k!r} (SPEC section 2: causal, window, padding, cells)")
    idx = np.arange(n)
    vis = np.ones((n, n), bool)
    causal = mask.get("causal", False)
    if not isinstance(causal, bool):
        raise AttnplayError(f"mask.causal: expected true or false, got {causal!r}")
    if model_causal or causal:
        # modeling_gpt2.py: GPT2Attention._attn causal_mask (tril); modeling_llama.py: the 4-d causal mask
        vis &= idx[None, :] <= idx[:, None]
    w = mask.get("window")
    if w is not None:
        if not isinstance(w, (int, np.integer)) or isinstance(w, bool) or w < 0:
            raise AttnplayError(f"mask.window: expected a whole number of tokens (0, 1, ...) or None, got {w!r}")
        vis &= np.abs(idx[:, None] - idx[None, :]) <= int(w)
    for j in mask.get("padding") or []:
        if not isinstance(j, (int, np.integer)) or isinstance(j, bool) or not 0 <= j < n:
            raise AttnplayError(f"mask.padding: {j!r} is not a token index (there are {n} tokens)")
        vis[:, j] = False
    for c in mask.get("cells") or []:
        if not (isinstance(c, (list, tuple)) and len(c) == 2 and all(
                isinstance(x, (int, np.integer)) and not isinstance(x, bool) and 0 <= x < n for x in c)):
            raise AttnplayError(f"mask.cells: {c!r} is not a [query, key] cell of the {n} x {n} tokens")
        vis[c[0], c[1]] = False
    return vis


# ----------------------------------------------------------------------------------------------------------------
# The forward, in plain torch (float32, eval mode: no dropout). Each architecture yields one layer's attention
# weights [heads, n, n] at a time, so the run stops after the last layer asked for.
# ----------------------------------------------------------------------------------------------------------------
def _run(torch, model, ids, visible, temperature, ablated, keep):
    hp, last = model._hp, max(keep)
    with torch.no_grad():
        p = {k: torch.from_numpy(v) for k, v in model._p.items()}  # shares the arrays' memory
        vis = torch.from_numpy(visible)
        dead = ~vis.any(dim=-1)

        def attend(layer, q, k, v, scale):
            """Every head's weights softmax(scale(q k^T) / temperature, masked) and context weights @ v."""
            scores = scale(torch.matmul(q, k.transpose(-1, -2)))
            if temperature != 1.0:
                scores = scores / temperature  # SPEC: temperature divides every score (not in transformers)
            # transformers adds finfo(float32).min where masked; its exp underflows to exactly 0, as -inf's does,
            # on every row that sees at least one key.
            weights = torch.softmax(scores.masked_fill(~vis, float("-inf")), dim=-1, dtype=torch.float32)
            # SPEC: a row that sees no key has weights and context 0 (transformers: a uniform row, or NaN)
            weights[:, dead, :] = 0.0
            ctx = torch.matmul(weights, v)
            for h in ablated.get(layer, ()):
                # SPEC: ablation = transformers' head_mask on the output (attn_weights * head_mask before @ value);
                # unlike head_mask, the weights are reported as computed
                ctx[h] = 0.0
            return weights, ctx

        blocks = {"gpt2": _gpt2, "bert": _bert, "llama": _llama, "qwen2": _llama}[model.model_type]
        computed = {}
        for i, weights in enumerate(blocks(torch, p, hp, torch.tensor(ids, dtype=torch.long), attend)):
            if i in keep:
                computed[i] = weights
            if i == last:
                break  # later layers cannot change the maps asked for
        return torch.stack([computed[i] for i in keep]).numpy()


def _activation(torch, name):
    F = torch.nn.functional
    if name == "gelu_new":  # activations.py: NewGELUActivation (tanh approximation, GPT-2's)
        return lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))
    if name == "gelu":  # activations.py: GELUActivation -> nn.functional.gelu (exact erf)
        return F.gelu
    if name == "gelu_pytorch_tanh":  # activations.py: PytorchGELUTanh
        return lambda x: F.gelu(x, approximate="tanh")
    if name in ("silu", "swish"):  # activations.py: SiLUActivation -> nn.functional.silu
        return F.silu
    return torch.relu


def _gpt2(torch, p, hp, ids, attend):
    F = torch.nn.functional
    H, nh, hd, eps, n = hp["hidden"], hp["heads"], hp["head_dim"], hp["eps"], ids.shape[0]
    act = _activation(torch, hp["act"])
    # modeling_gpt2.py: GPT2Model.forward: position_ids = arange(0, n); hidden = wte(ids) + wpe(position_ids)
    hs = p["wte.weight"][ids] + p["wpe.weight"][torch.arange(n)]
    for i in range(hp["layers"]):
        pre = f"h.{i}."
        # GPT2Block.forward: pre-LN, a residual around the attention and around the MLP
        residual = hs
        x = F.layer_norm(hs, (H,), p[pre + "ln_1.weight"], p[pre + "ln_1.bias"], eps)
        # pytorch_utils.py: Conv1D.forward = addmm(bias, x, weight), weight [in, out]
        qkv = torch.addmm(p[pre + "attn.c_attn.bias"], x, p[pre + "attn.c_attn.weight"])
        # GPT2Attention.forward: query, key, value = c_attn(hidden).split(embed_dim, dim=2); _split_heads:
        # view(n, heads, head_dim).permute -> [heads, n, head_dim]
        q, k, v = (t.view(n, nh, hd).permute(1, 0, 2) for t in qkv.split(H, dim=1))
        # GPT2Attention._attn (eager_attention_forward): q @ k^T / full([], value.size(-1) ** 0.5)
        weights, ctx = attend(i, q, k, v, lambda s: s / torch.full([], v.size(-1) ** 0.5, dtype=s.dtype))
        yield weights
        # _merge_heads, c_proj (Conv1D), residual
        merged = ctx.permute(1, 0, 2).reshape(n, H)
        hs = torch.addmm(p[pre + "attn.c_proj.bias"], merged, p[pre + "attn.c_proj.weight"]) + residual
        # GPT2MLP.forward: c_fc -> activation_function -> c_proj; residual
        residual = hs
        x = F.layer_norm(hs, (H,), p[pre + "ln_2.weight"], p[pre + "ln_2.bias"], eps)
        x = act(torch.addmm(p[pre + "mlp.c_fc.bias"], x, p[pre + "mlp.c_fc.weight"]))
        hs = residual + torch.addmm(p[pre + "mlp.c_proj.bias"], x, p[pre + "mlp.c_proj.weight"])


def _bert(torch, p, hp, ids, attend):
    F = torch.nn.functional
    H, nh, hd, eps, n = hp["hidden"], hp["heads"], hp["head_dim"], hp["eps"], ids.shape[0]
    act = _activation(torch, hp["act"])
    ln = lambda x, name: F.layer_norm(x, (H,), p[name + ".weight"], p[name + ".bias"], eps)  # noqa: E731
    lin = lambda x, name: F.linear(x, p[name + ".weight"], p[name + ".bias"])  # noqa: E731
    # modeling_bert.py: BertEmbeddings.forward: word + token_type(0) (SPEC: token_type_ids all 0) + position
    # (arange(n)), then LayerNorm
    emb = p["embeddings.word_embeddings.weight"][ids] + p["embeddings.token_type_embeddings.weight"][
        torch.zeros(n, dtype=torch.long)]
    hs = ln(emb + p["embeddings.position_embeddings.weight"][torch.arange(n)], "embeddings.LayerNorm")
    for i in range(hp["layers"]):
        pre = f"encoder.layer.{i}."
        # BertSelfAttention.forward: query/key/value Linear; transpose_for_scores -> [heads, n, head_dim];
        # scores = q @ k^T / math.sqrt(attention_head_size)
        q, k, v = (lin(hs, pre + f"attention.self.{m}").view(n, nh, hd).permute(1, 0, 2) for m in ("query", "key", "value"))
        weights, ctx = attend(i, q, k, v, lambda s: s / math.sqrt(hd))
        yield weights
        merged = ctx.permute(1, 0, 2).reshape(n, H)
        # BertSelfOutput.forward: LayerNorm(dense(context) + input) (post-LN)
        a = ln(lin(merged, pre + "attention.output.dense") + hs, pre + "attention.output.LayerNorm")
        # BertIntermediate (dense + hidden_act), BertOutput: LayerNorm(dense(x) + a)
        hs = ln(lin(act(lin(a, pre + "intermediate.dense")), pre + "output.dense") + a, pre + "output.LayerNorm")


def _llama(torch, p, hp, ids, attend):
    F = torch.nn.functional
    nh, nkv, hd, eps, n = hp["heads"], hp["kv_heads"], hp["head_dim"], hp["eps"], ids.shape[0]
    act = _activation(torch, hp["act"])
    lin = lambda x, name: F.linear(x, p[name + ".weight"], p.get(name + ".bias"))  # noqa: E731

    def rms_norm(x, weight):
        # LlamaRMSNorm.forward (Qwen2RMSNorm alike): variance in float32, weight * (x * rsqrt(variance + eps))
        return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def rotate_half(x):  # modeling_llama.py: rotate_half
        return torch.cat((-x[..., x.shape[-1] // 2:], x[..., : x.shape[-1] // 2]), dim=-1)

    # modeling_rope_utils.py: _compute_default_rope_parameters:
    #   inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    inv_freq = 1.0 / (hp["theta"] ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    # LlamaRotaryEmbedding.forward: freqs = inv_freq[None, :, None] @ position_ids[:, None, :] (float32),
    # transposed; emb = cat((freqs, freqs), -1); cos, sin (attention_scaling 1.0 for the default RoPE)
    freqs = (inv_freq[None, :, None].float() @ torch.arange(n)[None, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)[0]
    cos, sin = emb.cos(), emb.sin()
    # LlamaModel.forward: inputs_embeds = embed_tokens(ids); position_ids = arange(n)
    hs = p["embed_tokens.weight"][ids]
    for i in range(hp["layers"]):
        pre = f"layers.{i}."
        # LlamaDecoderLayer.forward: pre-RMSNorm, a residual around the attention and around the MLP
        residual = hs
        x = rms_norm(hs, p[pre + "input_layernorm.weight"])
        # LlamaAttention.forward: q/k/v_proj (Qwen2Attention: with bias), view(n, -1, head_dim).transpose
        q = lin(x, pre + "self_attn.q_proj").view(n, nh, hd).transpose(0, 1)
        k = lin(x, pre + "self_attn.k_proj").view(n, nkv, hd).transpose(0, 1)
        v = lin(x, pre + "self_attn.v_proj").view(n, nkv, hd).transpose(0, 1)
        # apply_rotary_pos_emb: q * cos + rotate_half(q) * sin (cos, sin [n, head_dim] broadcast over heads)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        # repeat_kv: query head h uses kv head h // (heads / kv_heads); eager_attention_forward: q @ k^T * scaling
        # (head_dim ** -0.5), softmax in float32
        rep = nh // nkv
        k, v = (t[:, None].expand(nkv, rep, n, hd).reshape(nh, n, hd) for t in (k, v))
        weights, ctx = attend(i, q, k, v, lambda s: s * hd ** -0.5)
        yield weights
        # attn_output.transpose(1, 2).reshape(n, heads * head_dim); o_proj; residual
        hs = residual + lin(ctx.transpose(0, 1).reshape(n, nh * hd), pre + "self_attn.o_proj")
        # LlamaMLP.forward: down_proj(act_fn(gate_proj(x)) * up_proj(x)); residual
        residual = hs
        x = rms_norm(hs, p[pre + "post_attention_layernorm.weight"])
        hs = residual + lin(act(lin(x, pre + "mlp.gate_proj")) * lin(x, pre + "mlp.up_proj"), pre + "mlp.down_proj")


# ----------------------------------------------------------------------------------------------------------------
# show_model's side: what it was given -> a PretrainedModel, token ids, tokens
# ----------------------------------------------------------------------------------------------------------------
def resolve(obj):
    """show_model's first argument -> PretrainedModel, or None when it is an nn.Module to capture
    MultiheadAttention from."""
    if isinstance(obj, PretrainedModel):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        if not Path(obj).exists():
            raise AttnplayError(f"module: {str(obj)!r}: no such folder")
        if not is_folder_path(obj):
            raise AttnplayError(f"module: {str(obj)!r} is a file; show_model reads a Hugging Face model folder "
                                "(config.json, model.safetensors, tokenizer.json); for attention maps use "
                                "attnplay.show(attnplay.load(path))")
        return load_folder(obj)
    model_type = getattr(getattr(obj, "config", None), "model_type", None)
    if isinstance(model_type, str) and callable(getattr(obj, "state_dict", None)):
        if model_type in SUPPORTED:
            return from_module(obj)
        # another transformers architecture: its MultiheadAttention layers if it has any, else a clear refusal
        try:
            import torch.nn as nn
            if any(isinstance(m, nn.MultiheadAttention) for m in obj.modules()):
                return None
        except (ImportError, AttributeError):
            pass
        raise AttnplayError(f"module: model_type {model_type!r} is not supported (supported: {', '.join(SUPPORTED)}); "
                            "for another model, run it with output_attentions=True and pass outputs.attentions to "
                            "attnplay.show")
    return None


# tokenizer outputs that do not change the forward (transformers' BatchEncoding keys)
_HARMLESS_KEYS = ("special_tokens_mask", "offset_mapping", "length", "overflowing_tokens", "num_truncated_tokens")


def inputs_of(model, inputs, text, tokenizer, batch):
    """(token ids, padding key indices from attention_mask, the tokenizer used or None) from show_model's inputs:
    token ids ([n] or [batch, n]: a list, numpy or torch), a tokenizer's output ({"input_ids", "attention_mask"}),
    or text with a tokenizer (tokenizer(text)["input_ids"])."""
    if text is not None:
        if inputs is not None:
            raise AttnplayError("text: give inputs (token ids) or text, not both")
        if not isinstance(text, str):
            raise AttnplayError(f"text: expected a string, got {type(text).__name__}")
        if tokenizer is None or not callable(tokenizer):
            raise AttnplayError("tokenizer: needed with text= (a transformers tokenizer: tokenizer(text)[\"input_ids\"]); "
                                "this package does not tokenise: or pass token ids")
        inputs = tokenizer(text)
        if not isinstance(inputs, Mapping) or "input_ids" not in inputs:
            raise AttnplayError(f"tokenizer: tokenizer(text) gave a {type(inputs).__name__}, expected a mapping with "
                                "\"input_ids\"")
    if inputs is None:
        raise AttnplayError("inputs: needed: token ids, a tokenizer's output, or text= with tokenizer=")
    if isinstance(inputs, str):
        raise AttnplayError("inputs: a string; pass text=... with tokenizer=..., or token ids")
    padding = []
    if isinstance(inputs, Mapping):
        for k in inputs:
            if k not in ("input_ids", "attention_mask", "token_type_ids") + _HARMLESS_KEYS:
                raise AttnplayError(f"inputs[{k!r}]: not used by show_model (it takes input_ids, attention_mask and "
                                    "token_type_ids of zeros)")
        if "input_ids" not in inputs:
            raise AttnplayError("inputs: a dict without \"input_ids\"")
        ids = _row(inputs["input_ids"], "inputs['input_ids']", batch)
        if inputs.get("token_type_ids") is not None:
            tt = _row(inputs["token_type_ids"], "inputs['token_type_ids']", batch)
            if any(tt):
                raise AttnplayError("inputs['token_type_ids']: only zeros are supported (SPEC section 9: one segment)")
        if inputs.get("attention_mask") is not None:
            am = _row(inputs["attention_mask"], "inputs['attention_mask']", batch)
            if len(am) != len(ids) or any(a not in (0, 1) for a in am):
                raise AttnplayError(f"inputs['attention_mask']: expected {len(ids)} values of 0 or 1 (as input_ids)")
            padding = [j for j, a in enumerate(am) if a == 0]  # SPEC section 2: padding = masked key indices
        ids_name = "inputs['input_ids']"
    else:
        ids, ids_name = _row(inputs, "inputs", batch), "inputs"
    return model._check_ids(ids, ids_name), padding


def _row(x, name, batch):
    """Token ids (or a mask) [n] or [batch, n] as a list, numpy array or torch tensor -> one row as a list of int."""
    if hasattr(x, "detach") and hasattr(x, "is_floating_point"):  # a torch tensor
        if x.is_floating_point() or x.is_complex():
            raise AttnplayError(f"{name}: dtype {str(x.dtype).replace('torch.', '')}, expected whole numbers")
        x = x.detach().cpu().numpy()
    try:
        a = np.asarray(x)
    except ValueError:
        raise AttnplayError(f"{name}: rows of different lengths (pick one sequence, or pad them)") from None
    if a.dtype == bool:
        a = a.astype(np.int64)
    if a.size == 0:
        raise AttnplayError(f"{name}: no tokens")
    if not np.issubdtype(a.dtype, np.integer):
        raise AttnplayError(f"{name}: expected whole numbers (token ids), got {a.dtype}")
    if a.ndim == 2:
        if not 0 <= batch < a.shape[0]:
            raise AttnplayError(f"batch: {batch} is out of range for a batch of {a.shape[0]} ({name} has shape "
                                f"{list(a.shape)})")
        a = a[batch]
    elif a.ndim != 1:
        raise AttnplayError(f"{name}: expected [n] or [batch, n], got shape {list(a.shape)}")
    return [int(i) for i in a]


def labels(model, ids, tokenizer):
    """The rows' tokens: the tokenizer's convert_ids_to_tokens, else tokenizer.json's vocabulary, else the ids."""
    if tokenizer is not None and callable(getattr(tokenizer, "convert_ids_to_tokens", None)):
        toks = list(tokenizer.convert_ids_to_tokens(ids))
        if len(toks) == len(ids):
            return [t if isinstance(t, str) else str(i) for t, i in zip(toks, ids)]
    return model.tokens(ids)


def run_for_show(model, inputs, text, tokenizer, batch, temperature, mask, ablate, layers, heads):
    """(attention [layers picked, heads, n, n], tokens) for show_model, checked (size included) before it runs."""
    ids, padding = inputs_of(model, inputs, text, tokenizer, batch)
    if padding and (mask is None or isinstance(mask, Mapping)):  # (another mask is refused by name later)
        mask = dict(mask or {})
        own = list(mask.get("padding") or [])
        mask["padding"] = own + [j for j in padding if j not in own]
    hp, n = model._hp, len(ids)
    n_layers = hp["layers"] if layers is None else len(indices("layers", layers, hp["layers"]))
    n_heads = hp["heads"] if heads is None else len(indices("heads", heads, hp["heads"]))
    check_size(n_layers, n_heads, n, n)
    maps = model.attention(ids, temperature=temperature, mask=mask, ablate=ablate, layers=layers)
    return maps, labels(model, ids, tokenizer)


# ----------------------------------------------------------------------------------------------------------------
# A model carried in a notebook cell (playground(model=...))
# ----------------------------------------------------------------------------------------------------------------
F16_MAX = 65504.0


def cell_files(model, tokenizer, cap_mb):
    """The folder a playground cell carries for model (a PretrainedModel): {file name: bytes} with config.json,
    model.safetensors (every float tensor as F16, or F32 where F16 would overflow) and tokenizer.json (the folder's,
    or a transformers fast tokenizer's), and the weights' size in bytes. Over cap_mb MB: refused, naming the cap."""
    if isinstance(cap_mb, bool) or not isinstance(cap_mb, (int, float)) or not cap_mb > 0:
        raise AttnplayError(f"cap_mb: expected a positive number of MB, got {cap_mb!r}")
    name = model_name(model)
    sizes = {}
    for k, a in model.state_dict().items():
        if np.issubdtype(a.dtype, np.floating):
            sizes[k] = a.size * 2
    total = sum(sizes.values())
    cap = float(cap_mb) * 1048576
    if total > cap:
        raise AttnplayError(f"model: {name}'s weights are {total / 1048576:.1f} MB as F16, over the cell's cap of "
                            f"{cap_mb:g} MB (cap_mb=): raise cap_mb to carry them in the notebook, or use "
                            f"attnplay.show_model(model, ...), which computes in Python for any size")
    tensors = {}
    for k, a in model.state_dict().items():
        if not np.issubdtype(a.dtype, np.floating):
            continue  # integer and bool buffers (position_ids, attn.bias): the engine never reads them
        a32 = np.asarray(a, dtype=np.float32)
        tensors[k] = a32.astype(np.float16) if not np.any(np.abs(a32) > F16_MAX) else a32  # (F32 where F16 overflows)
    files = {"config.json": json.dumps(model.config, ensure_ascii=False).encode("utf-8"),
             "model.safetensors": safetensors_write(tensors)}
    tok = None
    if tokenizer is not None:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None or not callable(getattr(backend, "to_str", None)):
            raise AttnplayError("tokenizer: expected a transformers fast tokenizer (its backend_tokenizer.to_str() is "
                                "tokenizer.json)")
        tok = backend.to_str().encode("utf-8")
    elif model.path is not None:
        for f in ("tokenizer.json", "tokenizer_config.json"):
            if (Path(model.path) / f).is_file():
                files[f] = (Path(model.path) / f).read_bytes()
    if tok is not None:
        files["tokenizer.json"] = tok
    return name, files, total


def model_name(model):
    if model.path is not None:
        return Path(model.path).name
    n = model.config.get("_name_or_path") or model.model_type
    return Path(str(n)).name or model.model_type
