"""Argument checking: attention arrays and tokens from numpy, torch or Hugging Face, into one float32 array.

Dimension glossary: layers, heads, n_q (query rows), n_k (key columns), batch.

Every refusal is an AttnplayError (a ValueError) whose message starts with the argument's name.
"""
import math

import numpy as np

# What one notebook cell carries: the attention arrays as float32 (the HTML holds them base64-encoded, 4/3 of this).
MAX_ATTENTION_BYTES = 32 << 20
# The engine's own limits (src/model/config.h ConfigLimits, src/model/attention_import.cpp).
MAX_LAYERS = 64
MAX_HEADS = 64
MAX_TOKENS = 4096


class AttnplayError(ValueError):
    """A bad argument, named first in the message ("attention: ...", "tokens: ...")."""


def _is_torch(x):
    t = type(x)
    return t.__module__.startswith("torch") and hasattr(x, "detach") and hasattr(x, "device")


def to_numpy(x, name):
    """A numpy array or torch tensor (any device that can be read) -> numpy array, refusing what cannot be read."""
    if _is_torch(x):
        dev = x.device
        if dev.type == "meta":
            raise AttnplayError(f"{name}: a tensor on device 'meta' holds no values to show (run the model on real data)")
        t = x.detach()
        if getattr(t, "is_sparse", False):
            t = t.to_dense()
        if t.is_complex():
            raise AttnplayError(f"{name}: dtype {str(t.dtype).replace('torch.', '')} is complex; attention weights are real")
        if not (t.is_floating_point()):
            raise AttnplayError(f"{name}: dtype {str(t.dtype).replace('torch.', '')} is not a floating-point type "
                                "(attention weights are probabilities)")
        try:
            t = t.to("cpu")
        except Exception as e:  # a device this process cannot copy from (no driver, a lost context)
            raise AttnplayError(f"{name}: a tensor on device '{dev}' cannot be read here ({e}); move it with .cpu() "
                                "where its device works") from None
        return t.float().numpy()
    if isinstance(x, np.ndarray):
        a = x
    elif isinstance(x, (list, tuple)):
        try:
            a = np.asarray(x)
        except ValueError as e:
            raise AttnplayError(f"{name}: nested lists of different lengths ({e})") from None
    else:
        raise AttnplayError(f"{name}: expected a numpy array or a torch tensor, got {type(x).__name__}")
    if a.dtype == object:
        raise AttnplayError(f"{name}: nested lists of different lengths, or values that are not numbers")
    if np.iscomplexobj(a):
        raise AttnplayError(f"{name}: dtype {a.dtype} is complex; attention weights are real")
    if not np.issubdtype(a.dtype, np.floating):
        raise AttnplayError(f"{name}: dtype {a.dtype} is not a floating-point type (attention weights are probabilities)")
    return a


def _stack_layers(seq, batch):
    """A Hugging Face tuple (one [batch, heads, n_q, n_k] per layer) or a list of per-layer arrays -> [layers, ...]."""
    if len(seq) == 0:
        raise AttnplayError("attention: an empty tuple (did the model run with output_attentions=True?)")
    layers = []
    for i, item in enumerate(seq):
        if item is None:
            raise AttnplayError(f"attention[{i}]: None (did the model run with output_attentions=True?)")
        a = to_numpy(item, f"attention[{i}]")
        if a.ndim == 4:  # [batch, heads, n_q, n_k]
            if not 0 <= batch < a.shape[0]:
                raise AttnplayError(f"batch: {batch} is out of range for a batch of {a.shape[0]} (attention[{i}] has "
                                    f"shape {tuple(a.shape)})")
            a = a[batch]
        elif a.ndim != 3:
            raise AttnplayError(f"attention[{i}]: expected [batch, heads, n_q, n_k] or [heads, n_q, n_k] per layer, got "
                                f"rank {a.ndim} with shape {tuple(a.shape)}")
        if layers and a.shape != layers[0].shape:
            raise AttnplayError(f"attention[{i}]: shape {tuple(a.shape)} differs from attention[0]'s {tuple(layers[0].shape)}")
        layers.append(a)
    return np.stack(layers)


def attention_array(attention, batch=0):
    """attention in any accepted form -> float32 [layers, heads, n_q, n_k] (C order), checked."""
    if isinstance(attention, (tuple, list)) and len(attention) and (
            _is_torch(attention[0]) or isinstance(attention[0], np.ndarray) or attention[0] is None):
        a = _stack_layers(attention, batch)
    else:
        a = to_numpy(attention, "attention")
        if a.ndim == 5:
            raise AttnplayError(f"attention: rank 5 with shape {tuple(a.shape)}: pick one sequence of the batch first "
                                "(expected [layers, heads, n_q, n_k])")
        if a.ndim < 2 or a.ndim > 4:
            raise AttnplayError(f"attention: expected [layers, heads, n_q, n_k] (or [heads, n_q, n_k], [n_q, n_k]), got rank "
                                f"{a.ndim} with shape {tuple(a.shape)}")
        while a.ndim < 4:
            a = a[None]
    if min(a.shape) < 1:
        raise AttnplayError(f"attention: shape {tuple(a.shape)} is empty")
    check_size(*a.shape)
    with np.errstate(over="ignore"):
        a = np.ascontiguousarray(a, dtype=np.float32)
    bad = ~np.isfinite(a)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        kind = "NaN" if math.isnan(float(a[where])) else "infinite"
        raise AttnplayError(f"attention: {int(bad.sum())} values are NaN or infinite (the first, {kind}, at layer {where[0]}, "
                            f"head {where[1]}, row {where[2]}, column {where[3]})")
    return a


def check_size(L, H, nq, nk):
    """Refuses maps larger than the app shows or one cell carries (show_model checks before it computes them)."""
    if L > MAX_LAYERS:
        raise AttnplayError(f"attention: {L} layers (at most {MAX_LAYERS}); pass layers=[...] to pick some")
    if H > MAX_HEADS:
        raise AttnplayError(f"attention: {H} heads (at most {MAX_HEADS}); pass heads=[...] to pick some")
    if nq > MAX_TOKENS or nk > MAX_TOKENS:
        raise AttnplayError(f"attention: {nq} x {nk} tokens (at most {MAX_TOKENS} each)")
    nbytes = L * H * nq * nk * 4
    if nbytes > MAX_ATTENTION_BYTES:
        raise AttnplayError(f"attention: {nbytes / 2**20:.1f} MB of float32 ({L} layers x {H} heads x {nq} x {nk}) is over "
                            f"the {MAX_ATTENTION_BYTES >> 20} MB one notebook cell carries; pass layers=[...] or heads=[...] "
                            "to show fewer, or a shorter input")


def indices(name, pick, n):
    """A selection (an index or a list of them; negative counts from the end) of n things -> list of int in 0..n-1."""
    idx = [pick] if isinstance(pick, (int, np.integer)) else list(pick)
    if not idx:
        raise AttnplayError(f"{name}: an empty selection")
    for i in idx:
        if not isinstance(i, (int, np.integer)) or isinstance(i, bool) or not -n <= i < n:
            raise AttnplayError(f"{name}: {i!r} is not an index of the {n} {name} there are")
    return [int(i) % n for i in idx]


def select(a, layers, heads):
    """Keep the listed layers / heads (None keeps all), refusing indices out of range by name."""
    for name, pick, n, axis in (("layers", layers, a.shape[0], 0), ("heads", heads, a.shape[1], 1)):
        if pick is not None:
            a = np.take(a, indices(name, pick, n), axis=axis)
    return np.ascontiguousarray(a)


def need_torch(what):
    """torch, imported on first use (the package itself needs only numpy), or an AttnplayError saying what needs it."""
    try:
        import torch
    except ImportError:
        raise AttnplayError(f"torch: needed to {what}, and it is not installed (Debian: apt install python3-torch; "
                            "elsewhere: pip install torch)") from None
    return torch


def token_list(tokens, n, name, rows):
    """tokens (list of str, a str of space-separated words, or None) checked against n rows -> list of str or None."""
    if tokens is None:
        return None
    if _is_torch(tokens) or isinstance(tokens, np.ndarray):
        raise AttnplayError(f"{name}: expected a list of strings, got an array (for input ids, use show_model(..., vocab=...))")
    if isinstance(tokens, str):
        raise AttnplayError(f"{name}: expected a list of strings, got one string (split it: {name}=text.split())")
    try:
        out = list(tokens)
    except TypeError:
        raise AttnplayError(f"{name}: expected a list of strings, got {type(tokens).__name__}") from None
    for i, t in enumerate(out):
        if not isinstance(t, str):
            raise AttnplayError(f"{name}[{i}]: expected a string, got {type(t).__name__}")
        if len(t.encode("utf-8")) > 1024:
            raise AttnplayError(f"{name}[{i}]: longer than 1024 bytes")
    if len(out) != n:
        raise AttnplayError(f"{name}: {len(out)} tokens for the attention's {n} {rows}")
    return out
