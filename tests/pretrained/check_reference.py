#!/usr/bin/python3
"""Self-checks of the pretrained-model reference and goldens (no transformers here, so invariants instead).

  nice -n 15 /usr/bin/python3 tests/pretrained/check_reference.py [OUT_DIR]

OUT_DIR: a directory make_models.py wrote (made afresh in a temporary directory when omitted). Prints one line per
check, PASS or FAIL, and exits 1 if any failed. Checks:
  1. goldens: weights rows sum to 1 (or are all 0 on fully masked rows), masked cells are exactly 0 and null in
     scores, the null pattern is SPEC §2's mask (causal always for gpt2/llama/qwen2, for BERT only with causal),
     shapes, ablated heads' context 0, fully masked rows' context 0;
  2. relations between cases: temperature divides the scores, logits "last" = the last row, "none" drops only the
     logits, ablation leaves earlier layers and the ablated layer's scores/weights unchanged but changes later layers,
     mask.causal false on a causal model changes nothing;
  3. every case against an independent float64 NumPy implementation (its own safetensors reader and tensor lookup,
     per-head loops, RoPE as complex multiplication, GQA by index h // group) within 1e-5 of each tensor's largest
     magnitude;
  4. RoPE: rotate-half apply_rotary_pos_emb = the complex formulation; scores depend only on relative position;
  5. GQA: the grouped model = the same model with k/v projections repeated to kv_heads = heads (plain MHA);
  6. tied vs untied with equal tensors give identical logits (gpt2, bert, llama); a stored lm_head.weight is
     ignored when tied (distilgpt2);
  7. transformers' additive finfo.min masking gives the same weights on every row that sees a key;
  8. the safetensors writer round-trips (dtype, shape, bytes, layout, padding), BF16 = float32's top 16 bits
     rounded to nearest even = torch's .to(torch.bfloat16), F16 = NumPy's float16;
  9. bad folders and configs are refused by the reference (or by the tokenizers library) naming what cases.json says;
 10. tokenizer.json files load in npm's tokenizers and fit the model's vocab_size;
 11. make_models.py is deterministic (two runs, identical bytes).
"""
import hashlib
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, HERE)
import hf_files as hf  # noqa: E402
import reference  # noqa: E402

RESULTS = []


def check(name, ok, detail=""):
    RESULTS.append((name, bool(ok)))
    print(("PASS " if ok else "FAIL ") + name + (f"  ({detail})" if detail else ""), flush=True)


def rel_err(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0), 1e-30)
    return float(np.abs(a - b).max(initial=0.0) / scale)


def nan_scores(s):
    return np.array([[np.nan if x is None else x for x in row] for row in s], dtype=np.float64)


# ----------------------------------------------------------------------------------------------------------------
# an independent reader and float64 implementation
# ----------------------------------------------------------------------------------------------------------------
def mini_read(path):
    with open(path, "rb") as f:
        b = f.read()
    n = int.from_bytes(b[:8], "little")
    head = json.loads(b[8:8 + n])
    head.pop("__metadata__", None)
    base = 8 + n
    out = {}
    for k, v in head.items():
        raw = b[base + v["data_offsets"][0]: base + v["data_offsets"][1]]
        dt = v["dtype"]
        if dt == "BF16":
            a = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view("<f4")
        elif dt == "F16":
            a = np.frombuffer(raw, "<f2")
        elif dt == "F32":
            a = np.frombuffer(raw, "<f4")
        elif dt == "I64":
            a = np.frombuffer(raw, "<i8")
        else:
            a = np.frombuffer(raw, np.uint8)
        out[k] = a.astype(np.float64).reshape(v["shape"]) if dt in ("F32", "F16", "BF16") else a.reshape(v["shape"])
    return out


def mini_folder(folder):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    idx = os.path.join(folder, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    T = {}
    for f in files:
        T.update(mini_read(os.path.join(folder, f)))
    return cfg, T


class Lookup:
    def __init__(self, T, prefixes):
        self.T, self.prefixes = T, prefixes

    def __call__(self, name):
        cands = [p + name for p in self.prefixes]
        if name.endswith(".weight"):
            cands += [p + name[:-7] + ".gamma" for p in self.prefixes]
        if name.endswith(".bias"):
            cands += [p + name[:-5] + ".beta" for p in self.prefixes]
        for c in cands:
            if c in self.T:
                return self.T[c]
        raise KeyError(name)

    def has(self, name):
        try:
            self(name)
            return True
        except KeyError:
            return False


def ln64(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def softmax_rows(s, vis):
    w = np.zeros_like(s)
    for i in range(s.shape[0]):
        js = np.nonzero(vis[i])[0]
        if len(js) == 0:
            continue
        e = np.exp(s[i, js] - s[i, js].max())
        w[i, js] = e / e.sum()
    return w


def mask64(n, causal, m):
    vis = np.ones((n, n), dtype=bool)
    for i in range(n):
        for j in range(n):
            if causal and j > i:
                vis[i, j] = False
            if m.get("window") is not None and abs(i - j) > m["window"]:
                vis[i, j] = False
            if j in (m.get("padding") or []):
                vis[i, j] = False
            if [i, j] in (m.get("cells") or []):
                vis[i, j] = False
    return vis


gelu_erf = np.vectorize(lambda x: 0.5 * x * (1.0 + math.erf(x / math.sqrt(2.0))))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def heads_attend(qs, ks, vs, vis, scale, temp, ablated):
    out_heads, ctxs = [], []
    for h, (q, k, v) in enumerate(zip(qs, ks, vs)):
        s = (q @ k.T) / scale / temp
        w = softmax_rows(s, vis)
        ctx = np.zeros_like(q) if h in ablated else w @ v
        out_heads.append({"scores": np.where(vis, s, np.nan), "weights": w, "context": ctx})
        ctxs.append(ctx)
    return out_heads, np.concatenate(ctxs, axis=1)


def f64_forward(folder, ids, cfg_case):
    c, T = mini_folder(folder)
    mt = c["model_type"]
    n = len(ids)
    att = cfg_case.get("attention") or {}
    temp = att.get("temperature", 1.0)
    m = att.get("mask") or {}
    vis = mask64(n, mt != "bert" or bool(m.get("causal")), m)
    abl = {}
    for l, h in cfg_case.get("ablate") or []:
        abl.setdefault(l, set()).add(h)
    layers, logits = [], None
    if mt == "gpt2":
        g = Lookup(T, ["transformer.", ""])
        H, nh, eps = c["n_embd"], c["n_head"], c.get("layer_norm_epsilon", 1e-5)
        hd = H // nh
        x = g("wte.weight")[ids] + g("wpe.weight")[np.arange(n)]
        for i in range(c["n_layer"]):
            p = f"h.{i}."
            a = ln64(x, g(p + "ln_1.weight"), g(p + "ln_1.bias"), eps)
            qkv = a @ g(p + "attn.c_attn.weight") + g(p + "attn.c_attn.bias")
            qs = [qkv[:, h * hd:(h + 1) * hd] for h in range(nh)]
            ks = [qkv[:, H + h * hd:H + (h + 1) * hd] for h in range(nh)]
            vs = [qkv[:, 2 * H + h * hd:2 * H + (h + 1) * hd] for h in range(nh)]
            hs, ctx = heads_attend(qs, ks, vs, vis, math.sqrt(hd), temp, abl.get(i, ()))
            x = x + ctx @ g(p + "attn.c_proj.weight") + g(p + "attn.c_proj.bias")
            a = ln64(x, g(p + "ln_2.weight"), g(p + "ln_2.bias"), eps)
            x = x + gelu_tanh(a @ g(p + "mlp.c_fc.weight") + g(p + "mlp.c_fc.bias")) @ g(p + "mlp.c_proj.weight") \
                + g(p + "mlp.c_proj.bias")
            layers.append({"heads": hs, "output": x.copy()})
        tied = c.get("tie_word_embeddings", True)
        logits = ln64(x, g("ln_f.weight"), g("ln_f.bias"), eps) @ (g("wte.weight") if tied else T["lm_head.weight"]).T
    elif mt == "bert":
        g = Lookup(T, ["bert.", ""])
        H, nh, eps = c["hidden_size"], c["num_attention_heads"], c.get("layer_norm_eps", 1e-12)
        hd = H // nh
        lin = lambda x, nm: x @ g(nm + ".weight").T + g(nm + ".bias")
        x = g("embeddings.word_embeddings.weight")[ids] + g("embeddings.position_embeddings.weight")[np.arange(n)] \
            + g("embeddings.token_type_embeddings.weight")[0]
        x = ln64(x, g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"), eps)
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q, k, v = (lin(x, p + f"attention.self.{mm}") for mm in ("query", "key", "value"))
            sl = [slice(h * hd, (h + 1) * hd) for h in range(nh)]
            hs, ctx = heads_attend([q[:, s] for s in sl], [k[:, s] for s in sl], [v[:, s] for s in sl], vis,
                                   math.sqrt(hd), temp, abl.get(i, ()))
            a = ln64(lin(ctx, p + "attention.output.dense") + x, g(p + "attention.output.LayerNorm.weight"),
                     g(p + "attention.output.LayerNorm.bias"), eps)
            y = lin(gelu_erf(lin(a, p + "intermediate.dense")), p + "output.dense")
            x = ln64(y + a, g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias"), eps)
            layers.append({"heads": hs, "output": x.copy()})
        if any(k.startswith("cls.predictions.") for k in T):
            t = gelu_erf(x @ T["cls.predictions.transform.dense.weight"].T + T["cls.predictions.transform.dense.bias"])
            t = ln64(t, g("cls.predictions.transform.LayerNorm.weight"), g("cls.predictions.transform.LayerNorm.bias"),
                     eps)
            dec = g("embeddings.word_embeddings.weight") if c.get("tie_word_embeddings", True) \
                else T["cls.predictions.decoder.weight"]
            logits = t @ dec.T + T["cls.predictions.bias"]
    else:
        g = Lookup(T, ["model.", ""])
        H, nh = c["hidden_size"], c["num_attention_heads"]
        nkv = c.get("num_key_value_heads", nh)
        hd = c.get("head_dim") or H // nh
        eps, theta = c["rms_norm_eps"], c.get("rope_theta", 10000.0)
        group = nh // nkv
        half = hd // 2
        ang = np.arange(n)[:, None] * theta ** (-(np.arange(0, hd, 2) / hd))[None, :]
        rot = np.exp(1j * ang)  # [n, hd/2]

        def rope(t):  # pairs (t[i], t[i + hd/2]) as complex numbers, rotated by position * inv_freq[i]
            z = (t[:, :half] + 1j * t[:, half:]) * rot
            return np.concatenate([z.real, z.imag], axis=1)

        def rms(x, w):
            return w * (x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps))

        def lin(x, nm):
            y = x @ g(nm + ".weight").T
            return y + g(nm + ".bias") if g.has(nm + ".bias") else y

        x = g("embed_tokens.weight")[ids]
        for i in range(c["num_hidden_layers"]):
            p = f"layers.{i}."
            a = rms(x, g(p + "input_layernorm.weight"))
            q, k, v = lin(a, p + "self_attn.q_proj"), lin(a, p + "self_attn.k_proj"), lin(a, p + "self_attn.v_proj")
            qs = [rope(q[:, h * hd:(h + 1) * hd]) for h in range(nh)]
            ks = [rope(k[:, (h // group) * hd:(h // group + 1) * hd]) for h in range(nh)]
            vs = [v[:, (h // group) * hd:(h // group + 1) * hd] for h in range(nh)]
            hs, ctx = heads_attend(qs, ks, vs, vis, math.sqrt(hd), temp, abl.get(i, ()))
            x = x + lin(ctx, p + "self_attn.o_proj")
            a = rms(x, g(p + "post_attention_layernorm.weight"))
            gate = lin(a, p + "mlp.gate_proj")
            x = x + lin(gate / (1.0 + np.exp(-gate)) * lin(a, p + "mlp.up_proj"), p + "mlp.down_proj")
            layers.append({"heads": hs, "output": x.copy()})
        tied = c.get("tie_word_embeddings", False)
        logits = rms(x, g("norm.weight")) @ (g("embed_tokens.weight") if tied else T["lm_head.weight"]).T
    return layers, logits


# ----------------------------------------------------------------------------------------------------------------
def check_goldens(out, data):
    cases = data["cases"]
    ok_rows = ok_masked = ok_pattern = ok_shapes = ok_ablate = ok_dead = True
    detail = []
    for cs in cases:
        cfg, e = cs["config"], cs["expected"]
        c = json.load(open(os.path.join(out, cs["model"], "config.json")))
        mt = c["model_type"]
        n = len(e["token_ids"])
        m = (cfg.get("attention") or {}).get("mask") or {}
        vis = mask64(n, mt != "bert" or bool(m.get("causal")), m)
        dead = [i for i in range(n) if not vis[i].any()]
        if dead != e["fully_masked_rows"]:
            ok_dead = False
            detail.append(f"{cs['name']}: fully_masked_rows")
        if mt == "gpt2":
            H, nh, L, hd, V = c["n_embd"], c["n_head"], c["n_layer"], c["n_embd"] // c["n_head"], c["vocab_size"]
        elif mt == "bert":
            H, nh, L, V = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"], c["vocab_size"]
            hd = H // nh
        else:
            H, nh, L, V = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"], c["vocab_size"]
            hd = c.get("head_dim") or H // nh
        ablated = {tuple(x) for x in cfg.get("ablate") or []}
        if len(e["layers"]) != L:
            ok_shapes = False
        for li, layer in enumerate(e["layers"]):
            if len(layer["heads"]) != nh or np.array(layer["output"]).shape != (n, H):
                ok_shapes = False
            for hi, h in enumerate(layer["heads"]):
                s, w, ctx = nan_scores(h["scores"]), np.array(h["weights"]), np.array(h["context"])
                if s.shape != (n, n) or w.shape != (n, n) or ctx.shape != (n, hd):
                    ok_shapes = False
                    continue
                if not np.array_equal(np.isnan(s), ~vis):
                    ok_pattern = False
                    detail.append(f"{cs['name']} L{li}H{hi}: null pattern")
                if np.any(w[~vis] != 0.0):
                    ok_masked = False
                for i in range(n):
                    tot = w[i].sum()
                    if (i in dead and tot != 0.0) or (i not in dead and abs(tot - 1.0) > 1e-5):
                        ok_rows = False
                        detail.append(f"{cs['name']} L{li}H{hi} row {i}: sum {tot}")
                    if i in dead and np.any(ctx[i] != 0.0):
                        ok_dead = False
                if (li, hi) in ablated and np.any(ctx != 0.0):
                    ok_ablate = False
        lg = cfg.get("logits", "all")
        has_head = mt != "bert" or any(k.startswith("cls.") for k in mini_folder(os.path.join(out, cs["model"]))[1])
        if lg == "none" or not has_head:
            if "logits" in e:
                ok_shapes = False
        else:
            if np.array(e["logits"]).shape != ((1 if lg == "last" else n), V):
                ok_shapes = False
                detail.append(f"{cs['name']}: logits shape")
    check("goldens: weights rows sum to 1 (1e-5), fully masked rows are exactly 0", ok_rows, "; ".join(detail[:3]))
    check("goldens: masked cells have weight exactly 0", ok_masked)
    check("goldens: null scores exactly where SPEC §2's mask (+ the model's causal) hides the key", ok_pattern)
    check("goldens: shapes of scores/weights [n,n], context [n,head_dim], output [n,hidden], logits", ok_shapes)
    check("goldens: ablated heads report context 0", ok_ablate)
    check("goldens: fully_masked_rows listed and their context 0", ok_dead)


def check_relations(data):
    by = {c["name"]: c for c in data["cases"]}

    def L(name):
        return by[name]["expected"]["layers"]

    # temperature
    ok = True
    for name, base, t in [("gpt2_f32/temperature_0.5", "gpt2_f32/ids", 0.5),
                          ("llama_gqa_f32/temperature_2", "llama_gqa_f32/ids", 2.0),
                          ("bert_mlm_f32/temperature_2", "bert_mlm_f32/ids", 2.0)]:
        for h0, h1 in zip(L(base)[0]["heads"], L(name)[0]["heads"]):
            a, b = nan_scores(h0["scores"]) / t, nan_scores(h1["scores"])
            if not np.array_equal(np.isnan(a), np.isnan(b)) or rel_err(np.nan_to_num(a), np.nan_to_num(b)) > 1e-6:
                ok = False
        if rel_err(L(base)[0]["heads"][0]["weights"], L(name)[0]["heads"][0]["weights"]) < 1e-3:
            ok = False  # temperature must change the weights
    check("relations: temperature T divides layer 0's scores (and changes the weights)", ok)
    # logits last / none
    ok = True
    for last, none, base in [("gpt2_f32/logits_last", "gpt2_f32/logits_none", "gpt2_f32/ids"),
                             ("bert_mlm_f32/logits_last", None, "bert_mlm_f32/ids"),
                             (None, "llama_gqa_f32/logits_none", "llama_gqa_f32/ids"),
                             ("qwen2_f16/text_logits_last", None, "qwen2_f16/text")]:
        b = by[base]["expected"]
        if last:
            ok &= by[last]["expected"]["logits"] == [b["logits"][-1]] and L(last) == b["layers"]
        if none:
            ok &= "logits" not in by[none]["expected"] and L(none) == b["layers"]
    check("relations: logits \"last\" = the last row of \"all\" as [1, vocab]; \"none\" drops only the logits", ok)
    # ablation
    ok, info = True, []
    for name, base in [("gpt2_f32/ablate_one", "gpt2_f32/ids"), ("gpt2_f16_sharded/ablate_two", "gpt2_f16_sharded/ids"),
                       ("llama_gqa_f32/ablate_two", "llama_gqa_f32/ids"), ("bert_mlm_f32/ablate_one", "bert_mlm_f32/ids"),
                       ("qwen2_f16/ablate_one", "qwen2_f16/ids")]:
        abl = by[name]["config"]["ablate"]
        first = min(l for l, _ in abl)
        la, lb = L(name), L(base)
        for li in range(len(la)):
            if li < first:
                ok &= la[li] == lb[li]
            elif li == first:
                for hi, (ha, hb) in enumerate(zip(la[li]["heads"], lb[li]["heads"])):
                    ok &= ha["scores"] == hb["scores"] and ha["weights"] == hb["weights"]
                    if [li, hi] not in abl:
                        ok &= ha["context"] == hb["context"]
                ok &= rel_err(la[li]["output"], lb[li]["output"]) > 1e-4
            else:
                d = rel_err(la[li]["output"], lb[li]["output"])
                info.append(f"{name} L{li} output differs by {d:.3g}")
                ok &= d > 1e-4
    check("relations: ablation keeps earlier layers and the ablated layer's scores/weights, zeroes the head, "
          "changes this layer's and every later layer's output", ok, info[0] if info else "")
    check("relations: mask.causal false on gpt2 changes nothing (always causal)",
          L("gpt2_f32/mask_causal_false_still_causal") == L("gpt2_f32/ids"))
    check("relations: GPT-2 text with and without add_special_tokens gives the same ids (its ByteLevel post-processor adds none)",
          by["gpt2_f32/text"]["expected"]["token_ids"] == by["gpt2_f32/text_no_special"]["expected"]["token_ids"])
    t1, t0 = by["llama_gqa_f32/text"]["expected"], by["llama_gqa_f32/text_no_special"]["expected"]
    b1, b0 = by["bert_mlm_f32/text_mask_token"]["expected"], by["bert_mlm_f32/text_no_special"]["expected"]
    check("relations: add_special_tokens false drops <s> (llama) and [CLS]/[SEP] (bert)",
          t1["tokens"] == ["<s>"] + t0["tokens"] and b1["tokens"] == ["[CLS]"] + b0["tokens"] + ["[SEP]"])


def check_f64(out, data):
    worst, where, bad = 0.0, "", []
    for cs in data["cases"]:
        e = cs["expected"]
        layers, logits = f64_forward(os.path.join(out, cs["model"]), e["token_ids"], cs["config"])
        for li, (la, lb) in enumerate(zip(layers, e["layers"])):
            for hi, (ha, hb) in enumerate(zip(la["heads"], lb["heads"])):
                sb = nan_scores(hb["scores"])
                if not np.array_equal(np.isnan(ha["scores"]), np.isnan(sb)):
                    bad.append(f"{cs['name']} L{li}H{hi} null pattern")
                for key, a, b in [("scores", np.nan_to_num(ha["scores"]), np.nan_to_num(sb)),
                                  ("weights", ha["weights"], hb["weights"]), ("context", ha["context"], hb["context"])]:
                    r = rel_err(a, b)
                    if r > worst:
                        worst, where = r, f"{cs['name']} L{li}H{hi} {key}"
            r = rel_err(la["output"], lb["output"])
            if r > worst:
                worst, where = r, f"{cs['name']} L{li} output"
        if "logits" in e:
            lg = logits[-1:] if cs["config"].get("logits") == "last" else logits
            r = rel_err(lg, e["logits"])
            if r > worst:
                worst, where = r, f"{cs['name']} logits"
    check(f"float64 NumPy re-implementation agrees with every golden (all layers, heads, outputs, logits) "
          f"within 1e-5 of each tensor's max", worst <= 1e-5 and not bad,
          f"worst {worst:.2e} at {where}" + ("; " + bad[0] if bad else ""))


def check_rope():
    torch.manual_seed(0)
    hd, n, theta = 16, 12, 500000.0
    cos, sin = reference.rope_cos_sin(hd, theta, n)
    q = torch.randn(3, n, hd)
    k = torch.randn(3, n, hd)
    qr, kr = reference.apply_rotary_pos_emb(q, k, cos, sin)
    inv = theta ** (-(np.arange(0, hd, 2) / hd))
    z = (q[..., :hd // 2].double().numpy() + 1j * q[..., hd // 2:].double().numpy()) * \
        np.exp(1j * np.arange(n)[:, None] * inv[None, :])
    ref = np.concatenate([z.real, z.imag], axis=-1)
    err = rel_err(qr.numpy(), ref)
    check("RoPE: rotate-half apply_rotary_pos_emb = complex multiplication of (x_i, x_{i+d/2}) by e^{i p θ_i}",
          err < 2e-6, f"max rel err {err:.1e}")
    # relative position: the same vectors at positions (m, n) and (m + s, n + s) give the same score
    v1, v2 = torch.randn(hd), torch.randn(hd)
    qq = v1.expand(n, hd)[None].clone()
    kk = v2.expand(n, hd)[None].clone()
    qr, kr = reference.apply_rotary_pos_emb(qq.double(), kk.double(), cos.double(), sin.double())
    s = (qr[0] @ kr[0].T).numpy()
    diffs = [abs(s[i, j] - s[i + 1, j + 1]) for i in range(n - 1) for j in range(n - 1)]
    check("RoPE: q·k depends only on the relative position (shift invariance)", max(diffs) < 1e-4 * np.abs(s).max(),
          f"max diff {max(diffs):.1e}")


def rewrite(src, dst, cfg_update=None, tensor_fn=None):
    """A copy of folder src with its config updated and its tensors rewritten by tensor_fn(list) (F32/F16/BF16 kept)."""
    c, T = reference.load_folder(src)
    c = dict(c, **(cfg_update or {}))
    items = [(k, reference.to_tensor(v), v["dtype"]) for k, v in T.items()]
    if tensor_fn:
        items = tensor_fn(items)
    os.makedirs(dst, exist_ok=True)
    hf.write_json(os.path.join(dst, "config.json"), c)
    hf.write_checkpoint(dst, items)
    return dst


def check_gqa_tied(out, tmp):
    ids = [3, 17, 250, 99, 41, 7, 300, 12]
    src = os.path.join(out, "llama_gqa_f32")
    c = json.load(open(os.path.join(src, "config.json")))
    nh, nkv, hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
    group = nh // nkv

    def expand(items):
        res = []
        for k, t, d in items:
            if k.endswith("k_proj.weight") or k.endswith("v_proj.weight"):
                t = t.view(nkv, hd, -1).repeat_interleave(group, dim=0).reshape(nh * hd, -1)
            res.append((k, t, d))
        return res

    mha = rewrite(src, os.path.join(tmp, "llama_mha"), {"num_key_value_heads": nh}, expand)
    a = reference.Model(src).forward(ids)
    b = reference.Model(mha).forward(ids)
    err = max(rel_err(a["logits"], b["logits"]),
              max(rel_err(ha["weights"], hb["weights"]) for la, lb in zip(a["layers"], b["layers"])
                  for ha, hb in zip(la["heads"], lb["heads"])))
    check("GQA: 4 query / 2 kv heads = the same model with k/v repeated to kv_heads = heads (plain MHA)",
          err < 1e-6, f"max rel err {err:.1e}")

    # tied vs untied with equal tensors
    ok = []
    for folder, head, emb in [("llama_bf16_tied", "lm_head.weight", "model.embed_tokens.weight"),
                              ("gpt2_f32", "lm_head.weight", "wte.weight"),
                              ("bert_mlm_f32", "cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight")]:
        src = os.path.join(out, folder)
        untied = rewrite(src, os.path.join(tmp, folder + "_untied"), {"tie_word_embeddings": False},
                         lambda items: items + [(head, [t for k, t, d in items if k == emb][0],
                                                 [d for k, t, d in items if k == emb][0])])
        vocab = json.load(open(os.path.join(src, "config.json")))["vocab_size"]
        tids = [i % vocab for i in ids]
        a = reference.Model(src).forward(tids)["logits"]
        b = reference.Model(untied).forward(tids)["logits"]
        ok.append(torch.equal(a, b))
    check("tied vs untied (lm_head.weight / cls.predictions.decoder.weight = the embedding) give identical logits "
          "(llama BF16, gpt2, bert)", all(ok), str(ok))
    # distilgpt2's stored lm_head.weight is ignored
    src = os.path.join(out, "distilgpt2_f32")
    stripped = rewrite(src, os.path.join(tmp, "distil_no_lm_head"), None,
                       lambda items: [x for x in items if x[0] != "lm_head.weight"])
    a = reference.Model(src).forward(ids[:6])["logits"]
    b = reference.Model(stripped).forward(ids[:6])["logits"]
    _, T = reference.load_folder(src)
    differs = not torch.equal(reference.to_tensor(T["lm_head.weight"]), reference.to_tensor(T["transformer.wte.weight"]))
    check("tied: distilgpt2's stored lm_head.weight (different from wte) is ignored", torch.equal(a, b) and differs)


def check_hf_masking(out):
    """transformers' way (scores + finfo.min where hidden, softmax) vs the reference on every case's layer 0 input."""
    ok_same, uniform = True, []
    m = reference.Model(os.path.join(out, "gpt2_f32"))
    ids = [5, 9, 13, 200, 31, 64, 2, 101]
    for mask in [{"padding": [1, 3]}, {"window": 2}, {"padding": [0]}, {"cells": [[4, j] for j in range(8)]}]:
        vis = reference.visible_mask(8, True, mask)
        res = m.forward(ids, {"mask": mask})
        for h in res["layers"][0]["heads"]:
            s = torch.nan_to_num(h["scores"], nan=0.0)
            hf_w = torch.softmax(s + torch.where(vis, 0.0, torch.finfo(torch.float32).min), dim=-1)
            live = vis.any(-1)
            ok_same &= torch.equal(hf_w[live], h["weights"][live])
            if (~live).any():
                uniform.append(float(hf_w[~live].std()))
    check("masking: transformers' additive finfo.min mask gives bit-identical weights on every row that sees a key "
          "(only fully masked rows differ: transformers spreads them, SPEC zeroes them)", ok_same,
          f"transformers' fully masked rows: std of weights {max(uniform):.2g} (uniform)" if uniform else "")


def check_safetensors(tmp):
    r = np.random.RandomState(3)
    # BF16 rounding cases: exact ties (low 16 bits 0x8000) with even and odd kept bits, just above/below, negatives
    u = np.array([0x3F808000, 0x3F818000, 0x3F808001, 0x3F807FFF, 0xBF818000, 0x7F7F8000, 0x00008000, 0x3F800000],
                 dtype=np.uint32)
    special = torch.from_numpy(u.view(np.float32).copy())
    tensors = [("b.f32", torch.from_numpy(r.standard_normal((3, 5)).astype(np.float32)), "F32"),
               ("a.f16", torch.from_numpy(r.standard_normal((7,)).astype(np.float32)), "F16"),
               ("z.bf16", torch.from_numpy(r.standard_normal((2, 3, 4)).astype(np.float32)), "BF16"),
               ("ties.bf16", special, "BF16"),
               ("scalar", torch.tensor(-1e4), "F32"),
               ("pos", torch.arange(13).view(1, 13), "I64"),
               ("mask", torch.tensor([[True, False, True]]), "BOOL"),
               ("u8", torch.tensor([0, 7, 255], dtype=torch.uint8), "U8")]
    blob = hf.safetensors_bytes(tensors)
    p = os.path.join(tmp, "rt.safetensors")
    with open(p, "wb") as f:
        f.write(blob)
    back = reference.read_safetensors(p)
    meta = back.pop(None)
    ok = meta == {"format": "pt"}
    for name, t, dt in tensors:
        e = back[name]
        ok &= e["dtype"] == dt and e["shape"] == list(t.shape) and e["data"] == hf.tensor_bytes(t, dt)
        if dt == "F16":
            ok &= e["data"] == t.numpy().astype("<f2").tobytes()
        if dt == "BF16":
            uu = t.numpy().view(np.uint32).astype(np.uint64)
            rne = ((uu + 0x7FFF + ((uu >> 16) & 1)) >> 16).astype("<u2").tobytes()
            ok &= e["data"] == rne == t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        if dt in ("F32", "F16", "BF16"):
            ok &= torch.equal(reference.to_tensor(e), hf.stored_values(t, dt))
    ties = np.frombuffer(back["ties.bf16"]["data"], "<u2").tolist()
    ok &= ties == [0x3F80, 0x3F82, 0x3F81, 0x3F80, 0xBF82, 0x7F80, 0x0000, 0x3F80]
    # layout: header length multiple of 8, space padding, __metadata__ first, offsets contiguous in dtype-then-name order
    (n,) = struct.unpack("<Q", blob[:8])
    raw = blob[8:8 + n]
    text = raw.decode()
    lay = n % 8 == 0 and text.rstrip(" ") == text.rstrip() and text.rstrip(" ").endswith("}")
    header = json.loads(raw)
    keys = list(header)
    lay &= keys[0] == "__metadata__"
    order = [k for k in keys[1:]]
    offs = [header[k]["data_offsets"] for k in order]
    lay &= offs[0][0] == 0 and all(a[1] == b[0] for a, b in zip(offs, offs[1:])) and offs[-1][1] == len(blob) - 8 - n
    rank = [(-hf.DTYPE_ORDER.index(header[k]["dtype"]), k) for k in order]
    lay &= rank == sorted(rank)
    lay &= all(header[k]["data_offsets"][0] % reference.ITEMSIZE[header[k]["dtype"]] == 0 for k in order)
    check("safetensors writer -> reader round trip: dtype, shape, bytes; BF16 = top 16 bits rounded to nearest even "
          "(= torch .to(bfloat16)), F16 = NumPy float16", ok)
    check("safetensors layout: header padded with spaces to 8 bytes, __metadata__ {format: pt} first, tensors "
          "sorted by dtype (largest first) then name, contiguous aligned offsets", lay)


def check_bad(out, data):
    results = []
    tok_reqs = []
    for b in data["bad"]:
        folder = os.path.join(out, b["model"])
        cfg, names = b["config"], b["names"]
        if b["name"] in ("bad_tokenizer_broken", "bad_tokenizer_unigram"):
            tok_reqs.append((b, {"op": "load", "file": os.path.join(folder, "tokenizer.json")}))
            continue
        if cfg.keys() & {"d_model", "heads", "transformer", "tokenizer", "seed"} or \
                (cfg.get("attention") or {}).keys() & {"kind", "scale"}:
            continue  # config fields the engine refuses before any computation; nothing for the reference to do
        ids = cfg.get("token_ids")
        if "text" in cfg:
            ids = json.loads(subprocess.run(["node", os.path.join(HERE, "encode.mjs")], input=json.dumps(
                [{"op": "encode", "file": os.path.join(folder, "tokenizer.json"), "text": cfg["text"],
                  "add_special_tokens": True}]).encode(), stdout=subprocess.PIPE, check=True).stdout)[0]["ids"]
        try:
            reference.Model(folder).forward(ids, cfg.get("attention"), cfg.get("ablate") or [])
            results.append((b["name"], False, "accepted"))
        except reference.Refusal as e:
            results.append((b["name"], names in str(e), str(e)))
    answers = json.loads(subprocess.run(["node", os.path.join(HERE, "encode.mjs")],
                                        input=json.dumps([r for _, r in tok_reqs]).encode(),
                                        stdout=subprocess.PIPE, check=True).stdout)
    for (b, _), a in zip(tok_reqs, answers):
        if b["name"] == "bad_tokenizer_broken":
            results.append((b["name"], "error" in a, "tokenizers: " + a.get("error", "loaded")[:80]))
        else:
            t = json.load(open(os.path.join(out, b["model"], "tokenizer.json")))
            results.append((b["name"], "error" not in a and t["model"]["type"] == "Unigram",
                            "tokenizers loads it; model.type Unigram"))
    fails = [r for r in results if not r[1]]
    check(f"bad folders / configs: the reference (or tokenizers) refuses {len(results)} of them, each message naming "
          f"cases.json's \"names\"", not fails, "; ".join(f"{n}: {m}" for n, _, m in fails[:3]) or
          "e.g. " + results[0][2])
    for n, ok, m in results:
        print(f"     {n}: {m}")


def check_tokenizers(out, data):
    reqs, folders = [], []
    for name in data["folders"]:
        tj = os.path.join(out, name, "tokenizer.json")
        if os.path.exists(tj):
            reqs.append({"op": "load", "file": tj})
            folders.append(name)
    answers = json.loads(subprocess.run(["node", os.path.join(HERE, "encode.mjs")], input=json.dumps(reqs).encode(),
                                        stdout=subprocess.PIPE, check=True).stdout)
    ok = True
    for name, a in zip(folders, answers):
        V = json.load(open(os.path.join(out, name, "config.json")))["vocab_size"]
        ok &= "error" not in a and a["vocab_size"] <= V
    for cs in data["cases"]:
        V = json.load(open(os.path.join(out, cs["model"], "config.json")))["vocab_size"]
        ok &= all(0 <= t < V for t in cs["expected"]["token_ids"])
        ok &= len(cs["expected"]["tokens"]) == len(cs["expected"]["token_ids"])
    check("tokenizer.json files load in npm's tokenizers, vocab_size covers them, token ids in range", ok,
          f"{len(folders)} tokenizers")


def tree_hash(d):
    h = hashlib.sha256()
    for root, dirs, files in sorted(os.walk(d)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            h.update(os.path.relpath(p, d).encode())
            h.update(open(p, "rb").read())
    return h.hexdigest()


def main():
    torch.set_num_threads(1)
    tmp = tempfile.mkdtemp(prefix="attnplay-pretrained-check-")
    out = sys.argv[1] if len(sys.argv) > 1 else None
    mk = [sys.executable, os.path.join(HERE, "make_models.py")]
    if out is None:
        out = os.path.join(tmp, "a")
        subprocess.run(mk + [out], check=True, stdout=subprocess.DEVNULL)
    data = json.load(open(os.path.join(out, "cases.json")))
    check_goldens(out, data)
    check_relations(data)
    check_f64(out, data)
    check_rope()
    check_gqa_tied(out, tmp)
    check_hf_masking(out)
    check_safetensors(tmp)
    check_bad(out, data)
    check_tokenizers(out, data)
    b1, b2 = os.path.join(tmp, "d1"), os.path.join(tmp, "d2")
    for b in (b1, b2):
        subprocess.run(mk + [b], check=True, stdout=subprocess.DEVNULL)
    check("make_models.py is deterministic: two runs write identical bytes", tree_hash(b1) == tree_hash(b2)
          and (out.startswith(tmp) or tree_hash(b1) == tree_hash(out)))
    failed = [n for n, ok in RESULTS if not ok]
    print(f"{len(RESULTS) - len(failed)}/{len(RESULTS)} checks passed")
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
