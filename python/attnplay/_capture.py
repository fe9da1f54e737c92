"""The attention of any nn.Module that holds nn.MultiheadAttention layers (PyTorch's own encoder and decoder layers,
or a model of yours), taken while the module runs.

Dimension glossary: layers (the MultiheadAttention calls, in order), batch, heads, n_q, n_k.
"""
import contextlib

from ._arrays import AttnplayError


@contextlib.contextmanager
def capture_mha_attention(model):
    """Within the block, every nn.MultiheadAttention in model records (module name, weights [batch?, heads, n_q, n_k])
    per call, in call order: its forward is asked for per-head weights (need_weights=True, average_attn_weights=False)
    whatever the caller asked, and the caller still gets what it asked for."""
    import torch.nn as nn
    records, originals = [], []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.MultiheadAttention):
            original = mod.forward

            def forward(*args, _original=original, _name=name, **kwargs):
                wanted = kwargs.get("need_weights", True)
                average = kwargs.get("average_attn_weights", True)
                kwargs["need_weights"] = True
                kwargs["average_attn_weights"] = False
                out, weights = _original(*args, **kwargs)
                records.append((_name, weights.detach()))
                if not wanted:
                    return out, None
                return out, weights.mean(dim=-3) if average else weights

            mod.forward = forward
            originals.append((mod, original))
    try:
        yield records
    finally:
        for mod, original in originals:
            mod.forward = original


def model_attention(module, args, kwargs, batch=0, layers=None):
    """Runs module(*args, **kwargs) once and returns ([layers, heads, n_q, n_k] tensor, the layer names).

    PyTorch's fused inference path of nn.TransformerEncoderLayer skips MultiheadAttention.forward, so the module runs
    with gradients enabled (the plain arithmetic; the outputs are the same)."""
    import torch
    import torch.nn as nn
    if not isinstance(module, nn.Module):
        raise AttnplayError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if not any(isinstance(m, nn.MultiheadAttention) for m in module.modules()):
        raise AttnplayError(f"module: {type(module).__name__} holds no nn.MultiheadAttention (for a Hugging Face model, run it "
                            "with output_attentions=True and pass outputs.attentions to attnplay.show)")
    with capture_mha_attention(module) as records, torch.enable_grad():
        module(*args, **kwargs)
    if layers is not None:
        names = [layers] if isinstance(layers, str) else list(layers)
        known = [n for n, _ in records]
        for n in names:
            if n not in known:
                raise AttnplayError(f"layers: {n!r} is not an attention layer that ran (these ran: {', '.join(dict.fromkeys(known))})")
        records = [(n, w) for n, w in records if n in names]
    picked = []
    for name, w in records:
        if w.dim() == 4:
            if not 0 <= batch < w.shape[0]:
                raise AttnplayError(f"batch: {batch} is out of range for a batch of {w.shape[0]}")
            w = w[batch]
        picked.append((name, w))
    shapes = {tuple(w.shape) for _, w in picked}
    if len(shapes) > 1:
        listing = ", ".join(f"{n} {list(w.shape)}" for n, w in picked[:6])
        raise AttnplayError(f"layers: the attention layers differ in shape ({listing}); pass layers=[names] to pick "
                            "layers of one shape (e.g. the encoder's self-attention)")
    return torch.stack([w for _, w in picked]).float(), [n for n, _ in picked]
