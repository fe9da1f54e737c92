"""attnplay in a notebook: a model's attention, or the whole editable playground, drawn in a Jupyter cell.

    import attnplay
    attnplay.show(attention, tokens)                 # [layers, heads, n_q, n_k] numpy/torch, or outputs.attentions
    attnplay.show_model(encoder, x, tokens=words)    # any nn.Module with nn.MultiheadAttention layers
    attnplay.show_model("models/gpt2", [464, 3797, 3332])        # a Hugging Face folder: GPT-2, BERT, Llama, Qwen2
    attnplay.show_model(hf_model, text="The cat sat", tokenizer=tok, ablate=[[0, 1]], temperature=2.0)
    m = attnplay.load("models/gpt2"); m.info         # the folder as a PretrainedModel (numpy only)
    attnplay.playground(preset="induction")          # the live playground (a config dict works too)
    w = attnplay.load("model.safetensors"); attnplay.save("copy.safetensors", w)

Each call returns a Figure: the last expression of a cell draws it (or call .show()); .save_html(path) writes it as a
page of its own. The output is self-contained (the app, its fonts and the data, nothing fetched), so it works offline,
in a saved notebook and in `jupyter nbconvert --to html`. Bad arguments raise AttnplayError (a ValueError) naming the
argument.

Pretrained models (SPEC section 9): a folder as save_pretrained writes it (config.json, model.safetensors or its
shards, tokenizer.json), attnplay.load's PretrainedModel, or a transformers model (duck-typed: transformers is not
imported). show_model computes their attention here, in plain torch from the weights (float32, eval mode), so
temperature=, mask= and ablate= can change it, and draws the maps with show()'s views. The live playground on a
pretrained model (attnplay.playground(model=...)) is not part of this package yet.
"""
import base64
import json
from pathlib import Path

import numpy as np

from . import _pretrained
from ._arrays import MAX_ATTENTION_BYTES, AttnplayError, attention_array, need_torch, select, to_numpy, token_list
from ._capture import capture_mha_attention, model_attention
from ._files import AttentionMaps, Weights, Workspace, read_bytes
from ._html import document, iframe, web_dir
from ._pretrained import PretrainedModel

__version__ = "0.1.0"
__all__ = ["show", "show_model", "playground", "load", "save", "Figure", "Weights", "Workspace", "AttentionMaps",
           "PretrainedModel", "AttnplayError", "capture_mha_attention", "MAX_ATTENTION_BYTES", "web_dir", "__version__"]


def _views():
    """The view names, from the table the build writes beside the app (web/views.json: src/ui/view_table.h's)."""
    return [v["name"] for v in json.loads((web_dir() / "views.json").read_text(encoding="utf-8"))]


class Figure:
    """One cell's output. Jupyter draws it through _repr_html_; .html is that fragment, .save_html(path) a full page."""

    def __init__(self, payload, cjk, title, height):
        self._payload, self._cjk, self._title, self.height = payload, cjk, title, height
        self.html = iframe(payload, cjk, title, height)

    def _repr_html_(self):
        return self.html

    def show(self):
        """Draws the figure now (in the middle of a cell, or in a loop)."""
        from IPython.display import HTML, display
        display(HTML(self.html))

    def save_html(self, path):
        """Writes the figure as a page of its own (open it from disk: nothing is fetched)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(document(self._payload, self._cjk, self._title))

    def __repr__(self):
        return f"<attnplay.Figure {self._title!r}: display it in a notebook, or .save_html(path)>"


def _needs_cjk(texts):
    return any(ord(c) > 0x24F for t in texts for c in t)


def _common(view, layer, head, lang, readonly):
    q = {}
    if view is not None:
        if view not in _views():
            raise AttnplayError(f"view: expected one of {', '.join(_views())}, got {view!r}")
        q["view"] = view
    for name, v in (("layer", layer), ("head", head)):
        if v is not None:
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise AttnplayError(f"{name}: expected an index (0, 1, ...), got {v!r}")
            q[name] = str(int(v))
    if lang is not None:
        if lang not in ("en", "zh"):
            raise AttnplayError(f"lang: expected 'en' or 'zh', got {lang!r}")
        q["lang"] = lang
    if readonly:
        q["readonly"] = "1"
    return q


def _query(q):
    from urllib.parse import urlencode
    return "?" + urlencode(q) if q else ""


def show(attention, tokens=None, key_tokens=None, *, layers=None, heads=None, layer=0, head=0, batch=0, view="attention",
         lang=None, height=520, title="attention"):
    """Draws attention maps in the playground's views that need no Q/K/V: the heatmap, head lines, the model view of
    every layer and head, row statistics.

    attention   [layers, heads, n_q, n_k] (or [heads, n_q, n_k], [n_q, n_k]) as numpy or torch (any dtype of float,
                any device that can be read), an AttentionMaps from load(), or the tuple a Hugging Face model returns
                with output_attentions=True (one [batch, heads, n_q, n_k] per layer; batch= picks the sequence)
    tokens      n_q labels of the query rows (list of str); key_tokens n_k labels of the key columns (default: tokens
                when n_q == n_k)
    layers, heads  indices to keep (default all); layer, head: the one in focus
    view        'attention' | 'heads' | 'model'; lang 'en' | 'zh' (the UI's language); height in pixels
    """
    if isinstance(attention, AttentionMaps):
        tokens = attention.tokens if tokens is None else tokens
        key_tokens = attention.key_tokens if key_tokens is None else key_tokens
        attention = attention.attention
    a = select(attention_array(attention, batch), layers, heads)
    L, H, nq, nk = a.shape
    tokens = token_list(tokens, nq, "tokens", "query rows (n_q)")
    key_tokens = token_list(key_tokens, nk, "key_tokens", "key columns (n_k)")
    if key_tokens is None and tokens is not None and nq != nk:
        raise AttnplayError(f"key_tokens: needed, since n_q = {nq} differs from n_k = {nk} (tokens label the query rows)")
    if view not in ("attention", "heads", "model"):
        raise AttnplayError(f"view: show() draws 'attention', 'heads' or 'model' (the views without Q/K/V), got {view!r}")
    if not 0 <= layer < L:
        raise AttnplayError(f"layer: {layer} is not one of the {L} layers shown")
    if not 0 <= head < H:
        raise AttnplayError(f"head: {head} is not one of the {H} heads shown")
    maps = AttentionMaps(a, tokens, key_tokens)
    q = _common(None, layer, head, lang, False)
    q["hide"] = "controls"  # the playground's own model controls do not apply to another model's maps
    payload = {"query": _query({k: v for k, v in q.items() if k == "lang"}),
               "file": base64.b64encode(maps.to_bytes()).decode("ascii"), "file_name": "attention.safetensors",
               "view_query": _query({k: v for k, v in q.items() if k != "lang"}), "view": view}
    return Figure(payload, _needs_cjk((tokens or []) + (key_tokens or [])) or lang == "zh", title, height)


def show_model(module, inputs=None, tokens=None, *, vocab=None, key_tokens=None, layers=None, heads=None, layer=0,
               head=0, batch=0, view="attention", lang=None, height=520, title=None, text=None, tokenizer=None,
               temperature=1.0, mask=None, ablate=None):
    """Runs a model once and shows its attention: every layer and head of a pretrained model, or the
    nn.MultiheadAttention layers of any nn.Module, in call order.

    module  a pretrained GPT-2, BERT, Llama or Qwen2 (SPEC section 9): a Hugging Face folder (str or pathlib.Path;
            config.json, model.safetensors or its shards, tokenizer.json optional), a PretrainedModel from
            attnplay.load(folder), or a transformers model (duck-typed by model.config.model_type and
            model.state_dict(); transformers is not imported). Computed here in plain torch, float32, eval mode, the
            maths of transformers' modeling code (attnplay/_pretrained.py); needs torch.
            Or any torch.nn.Module holding nn.MultiheadAttention layers, run as it is.
    inputs  for a pretrained model: token ids (a list of int, or an integer tensor / array [n] or [batch, n]; batch=
            picks the sequence), or a tokenizer's output ({"input_ids": ..., "attention_mask": ...}: mask zeros are
            padding keys, SPEC section 2; token_type_ids must be zeros). Or text= with tokenizer= (a transformers
            tokenizer: tokenizer(text)["input_ids"]; this package does not tokenise).
            For an nn.Module: a tensor (its first argument: input ids or embeddings), a tuple of arguments, a dict of
            keyword arguments, or a list of str tokens to turn into input ids with vocab (a list or {token: id} dict)
    tokens  labels of the rows. Default, pretrained: tokenizer.convert_ids_to_tokens(ids), else the folder's
            tokenizer.json vocabulary ("Ġcat", "##s"), else the ids as strings; nn.Module: inputs when it is a list
            of str
    layers  pretrained: layer indices to show (default all; layers after the last one are not computed);
            nn.Module: names of the MultiheadAttention modules to show (default all; they must share one shape)
    heads, layer, head, view, lang, height, title   as show()
    temperature, mask, ablate   pretrained only (SPEC section 9): temperature divides every score; mask is SPEC
            section 2's {"causal", "window", "padding", "cells"}, added to the model's own (GPT-2, Llama and Qwen2
            are always causal; BERT is bidirectional unless causal is true); ablate [[layer, head], ...] zeroes
            those heads' context before the output projection (later layers see the change; the ablated head's own
            weights are shown as computed). A query row that sees no key shows weights 0.
    """
    model = _pretrained.resolve(module)
    if model is not None:
        for name, v in (("vocab", vocab), ("key_tokens", key_tokens)):
            if v is not None:
                raise AttnplayError(f"{name}: not used with a pretrained model (its attention is self-attention, "
                                    "labelled by its tokenizer; tokens= overrides the labels)")
        maps, labels = _pretrained.run_for_show(model, inputs, text, tokenizer, batch, temperature, mask, ablate,
                                                layers, heads)
        name = Path(model.path).name if model.path is not None else type(module).__name__
        return show(maps, labels if tokens is None else tokens, layers=None, heads=heads, layer=layer, head=head,
                    view=view, lang=lang, height=height, title=title or f"attention of {name} ({model.model_type})")
    for name, given in (("text", text is not None), ("tokenizer", tokenizer is not None), ("mask", mask is not None),
                        ("ablate", ablate is not None), ("temperature", temperature != 1.0)):
        if given:
            raise AttnplayError(f"{name}: applies to a pretrained model (a Hugging Face folder, a PretrainedModel, or a "
                                f"transformers {'/'.join(_pretrained.SUPPORTED)} model), not to "
                                f"{type(module).__name__}'s MultiheadAttention layers")
    if inputs is None:
        raise AttnplayError("inputs: needed (the module's input: a tensor, a tuple or dict of arguments, or tokens with "
                            "vocab)")
    torch = need_torch("run show_model")
    if isinstance(inputs, (list, tuple)) and inputs and all(isinstance(t, str) for t in inputs):
        if vocab is None:
            raise AttnplayError("vocab: needed to turn the tokens into input ids (a list of tokens, or a {token: id} dict)")
        index = {t: i for i, t in enumerate(vocab)} if not isinstance(vocab, dict) else vocab
        missing = [t for t in inputs if t not in index]
        if missing:
            raise AttnplayError(f"inputs: {missing[0]!r} is not in the vocabulary" + (" (nor are " + str(len(missing) - 1) + " more)" if len(missing) > 1 else ""))
        tokens = list(inputs) if tokens is None else tokens
        args, kwargs = (torch.tensor([[index[t] for t in inputs]]),), {}
    elif isinstance(inputs, dict):
        args, kwargs = (), dict(inputs)
    elif isinstance(inputs, tuple):
        args, kwargs = inputs, {}
    else:
        args, kwargs = (inputs,), {}
    a, names = model_attention(module, args, kwargs, batch, layers)
    return show(a, tokens, key_tokens, layers=None, heads=heads, layer=layer, head=head, view=view, lang=lang,
                height=height, title=title or f"attention of {type(module).__name__}")


def playground(config=None, preset=None, *, weights=None, vocab=None, workspace=None, model=None, text=None,
               token_ids=None, tokenizer=None, cap_mb=64, view=None, layer=None, head=None, lang=None, readonly=False,
               height=640, title="attention playground"):
    """The whole playground in the cell, live and editable, starting from a config (a dict, SPEC section 2), a
    preset's name, weights (Weights from load(), or a state_dict or nn.Module with vocab, the embedding rows' tokens;
    with a config that fits them), or a workspace (Workspace or .attnplay path). Edits stay in the cell; File -> Export takes them out.

    model   a real GPT-2, BERT, Llama or Qwen2 (SPEC section 9): a Hugging Face folder, a PretrainedModel from
            load(folder), or a transformers model. The cell carries its weights as F16 (F32 where a value would
            overflow F16) with its config.json and tokenizer.json, and the page computes it in a worker, live: edit
            the text, mask and ablate heads, run the ablation sweep. Up to cap_mb MB of weights (default 64): past the
            cap an error names it; show_model computes in Python for any size. text= or token_ids= is the start
            (a transformers model's text needs tokenizer=, a fast tokenizer); config= may add SPEC section 9's
            fields (attention, ablate, add_special_tokens)."""
    q = _common(view, layer, head, lang, readonly)
    if model is not None:
        return _playground_model(model, config, preset, weights, workspace, text, token_ids, tokenizer, cap_mb, q,
                                 lang, height, title)
    for name, v in (("text", text), ("token_ids", token_ids), ("tokenizer", tokenizer)):
        if v is not None:
            raise AttnplayError(f"{name}: goes with model= (a real model in the cell); a playground config holds its own text")
    if config is not None and preset is not None:
        raise AttnplayError("config: give a config or a preset, not both")
    texts = []
    if preset is not None:
        if not isinstance(preset, str) or not preset or not preset.replace("_", "").replace("-", "").isalnum():
            raise AttnplayError(f"preset: expected a preset's name, got {preset!r}")
        q["preset"] = preset
    if config is not None:
        if not isinstance(config, dict):
            raise AttnplayError(f"config: expected a dict (SPEC section 2), got {type(config).__name__}")
        try:
            text = json.dumps(config, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        except ValueError as e:
            raise AttnplayError(f"config: {e} (NaN and infinities have no JSON form)") from None
        except TypeError as e:
            raise AttnplayError(f"config: {e}") from None
        q["cfg"] = base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
        texts.append(text)
    payload = {"query": _query(q), "file": None, "file_name": None}
    if weights is not None and workspace is not None:
        raise AttnplayError("weights: give weights or a workspace, not both")
    if weights is not None:
        w = _weights_of(weights, vocab)
        payload["file"], payload["file_name"] = base64.b64encode(w.to_bytes()).decode("ascii"), "weights.safetensors"
        texts.extend(w.vocab or [])
    if workspace is not None:
        ws = workspace if isinstance(workspace, Workspace) else load(workspace)
        if not isinstance(ws, Workspace):
            raise AttnplayError(f"workspace: {workspace!r} is not a workspace file (.attnplay)")
        payload["file"], payload["file_name"] = base64.b64encode(ws.to_bytes()).decode("ascii"), "workspace.attnplay"
    # A playground is for typing: the Chinese font comes along (1 MB) unless everything shown is Latin and lang=en.
    cjk = lang != "en" or _needs_cjk(texts)
    return Figure(payload, cjk, title, height)


def _playground_model(model, config, preset, weights, workspace, text, token_ids, tokenizer, cap_mb, q, lang, height,
                      title):
    for name, v in (("preset", preset), ("weights", weights), ("workspace", workspace)):
        if v is not None:
            raise AttnplayError(f"{name}: not with model= (the cell opens the model itself)")
    m = _pretrained.resolve(model)
    if m is None:
        raise AttnplayError(f"model: expected a Hugging Face folder, a PretrainedModel or a transformers "
                            f"{'/'.join(_pretrained.SUPPORTED)} model, got {type(model).__name__}")
    cfg = dict(config or {})
    if not isinstance(config, (dict, type(None))):
        raise AttnplayError(f"config: expected a dict of SPEC section 9's fields, got {type(config).__name__}")
    for k in ("mode", "model"):
        if k in cfg:
            raise AttnplayError(f"config: {k!r} is set by model= (the model the cell carries)")
    if text is not None and token_ids is not None:
        raise AttnplayError("text: give text or token_ids, not both")
    name, files, _ = _pretrained.cell_files(m, tokenizer, cap_mb)
    has_tokenizer = "tokenizer.json" in files
    if token_ids is not None:
        cfg["token_ids"] = [int(i) for i in _pretrained._row(token_ids, "token_ids", 0)]
    elif text is not None:
        if not isinstance(text, str) or not text:
            raise AttnplayError(f"text: expected a non-empty str, got {text!r}")
        if not has_tokenizer:
            raise AttnplayError("text: this model comes without tokenizer.json; give tokenizer= (a transformers fast "
                                "tokenizer) or token_ids=")
        cfg["text"] = text
    elif "text" not in cfg and "token_ids" not in cfg:
        if not has_tokenizer:
            raise AttnplayError("token_ids: needed (this model comes without tokenizer.json; or give tokenizer=)")
        cfg["text"] = "The cat sat on the mat. The cat sat on the mat."
    try:
        json.dumps(cfg, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise AttnplayError(f"config: {e}") from None
    payload = {"query": _query({k: v for k, v in q.items() if k in ("lang", "readonly")}), "file": None,
               "file_name": None,
               "model": {"name": name, "files": {k: base64.b64encode(v).decode("ascii") for k, v in files.items()},
                         "config": cfg},
               "view_query": _query({k: v for k, v in q.items() if k in ("layer", "head")}), "view": q.get("view")}
    cjk = lang == "zh" or _needs_cjk([cfg.get("text", "")])
    return Figure(payload, cjk, title if title != "attention playground" else f"{name} in the attention playground",
                  height)


def _weights_of(obj, vocab):
    if isinstance(obj, Weights):
        return obj if vocab is None else Weights(obj.tensors, vocab, obj.metadata)
    if hasattr(obj, "state_dict") and callable(obj.state_dict):
        obj = obj.state_dict()
    if not isinstance(obj, dict):
        raise AttnplayError(f"weights: expected Weights, a state_dict or an nn.Module, got {type(obj).__name__}")
    return Weights(obj, vocab)


def load(path):
    """Reads an attnplay file by its content: weights (.safetensors) -> Weights, a workspace (.attnplay) -> Workspace,
    attention maps (.safetensors with "attention", .npz, .npy) -> AttentionMaps.

    A folder (or the path of its config.json) is a Hugging Face model (SPEC section 9: GPT-2, BERT, Llama, Qwen2) ->
    PretrainedModel: config.json, model.safetensors or model.safetensors.index.json and its shards (F32, F16, BF16,
    read as float32), tokenizer.json optional. It has .config (config.json's dict), .model_type, .info (model_type,
    layers, heads, kv_heads, hidden_size, vocab_size, parameters, dtype: as the JS API's model.info), .state_dict()
    ({name: numpy array} under the file's names), .tokens(ids) (tokenizer.json's strings, or the ids as strings),
    .attention(token_ids, ...) and .path. Reading needs numpy only; every tensor's name and shape is checked, and a
    refusal (an unknown model_type, a missing, misshapen or unknown tensor, a truncated shard) names the file, tensor
    or field."""
    if _pretrained.is_folder_path(path):
        return _pretrained.load_folder(path)
    with open(path, "rb") as f:
        data = f.read()
    return read_bytes(data, str(path))


def save(path, obj, vocab=None):
    """Writes Weights, a Workspace or AttentionMaps; or a PyTorch state_dict / nn.Module as attnplay weights
    (safetensors, float32, with vocab: the list of tokens of the embedding's rows)."""
    if isinstance(obj, (Workspace, AttentionMaps)):
        obj.save(path)
    else:
        _weights_of(obj, vocab).save(path)
