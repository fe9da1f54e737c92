#!/usr/bin/python3
"""Export attention maps from a PyTorch model for attnplay's "bring your own attention" import.

attnplay shows them in the views that need no Q/K/V (weights heatmap, head lines, model view, row statistics):
File -> Import, a drop on the page, or core.importAttention(bytes, name) in attnplay-core.mjs.

    /usr/bin/python3 tools/export_attention.py --demo -o attention.npz
    /usr/bin/python3 tools/export_attention.py --hf bert-base-uncased --text "The cat sat on the mat." -o bert.npz

Output formats (by the -o extension): .npz (np.savez: "attention" [layers, heads, n_q, n_k] float32, "tokens"),
.npy (the array alone), .safetensors (tensor "attention", tokens in __metadata__), .json.

How the maps are taken:
- nn.TransformerEncoder / any module holding nn.MultiheadAttention layers: attnplay.capture_mha_attention() (the
  notebook package, python/attnplay) wraps each nn.MultiheadAttention's forward so that it also computes the per-head
  weights (need_weights=True, average_attn_weights=False) whatever its caller asked for, and records them in call
  order. In a notebook, attnplay.show_model(module, inputs) draws them in the cell instead of writing a file. The encoder's fused
  inference fast path skips that forward, so the model runs with gradients enabled (the plain arithmetic).
- Hugging Face models (when `transformers` is installed): output_attentions=True.
"""
import argparse
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
from attnplay import capture_mha_attention  # noqa: E402  (the notebook package's capture, python/attnplay/_capture.py)


def encoder_attention(encoder, x, mask=None, src_key_padding_mask=None):
    """x [batch, n, d_model] (batch_first) -> [layers, heads, n, n] of the first sequence."""
    with capture_mha_attention(encoder) as records, torch.enable_grad():
        encoder(x, mask=mask, src_key_padding_mask=src_key_padding_mask)
    return torch.stack([w[0] for _, w in records]).float()


def demo_model():
    """A seeded 2-layer, 4-head nn.TransformerEncoder over a short sentence -> encoder, x, causal mask, tokens."""
    torch.manual_seed(7)
    tokens = "the cat sat on the mat because it was warm".split()
    vocab = sorted(set(tokens))
    d_model = 16
    emb = nn.Embedding(len(vocab), d_model)
    layer = nn.TransformerEncoderLayer(d_model, 4, 32, dropout=0.0, batch_first=True)
    encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
    encoder.eval()
    x = emb(torch.tensor([[vocab.index(t) for t in tokens]])).detach()
    causal = torch.triu(torch.ones(len(tokens), len(tokens), dtype=torch.bool), diagonal=1)
    return encoder, x, causal, tokens


def demo():
    """What the tests export: demo_model()'s attention [2, 4, 10, 10] and its tokens."""
    encoder, x, causal, tokens = demo_model()
    return encoder_attention(encoder, x, mask=causal), tokens


def hugging_face(name, text):
    try:
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        sys.exit("export_attention: --hf needs the `transformers` package, which is not installed")
    tok = AutoTokenizer.from_pretrained(name)
    model = AutoModel.from_pretrained(name, output_attentions=True)
    model.eval()
    enc = tok(text, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
    attention = torch.stack([a[0] for a in out.attentions]).float()  # [layers, heads, n, n]
    return attention, tok.convert_ids_to_tokens(enc["input_ids"][0])


def write(path, attention, tokens):
    a = attention.detach().cpu().numpy().astype(np.float32)
    if path.endswith(".npz"):
        np.savez(path, attention=a, tokens=np.array(tokens))
    elif path.endswith(".npy"):
        np.save(path, a)
    elif path.endswith(".safetensors"):
        blob = a.tobytes()
        header = {"attention": {"dtype": "F32", "shape": list(a.shape), "data_offsets": [0, len(blob)]},
                  "__metadata__": {"tokens": json.dumps(tokens, ensure_ascii=False)}}
        h = json.dumps(header, ensure_ascii=False).encode()
        h += b" " * ((8 - (8 + len(h)) % 8) % 8)
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + blob)
    elif path.endswith(".json"):
        with open(path, "w") as f:
            json.dump({"tokens": tokens, "attention": a.tolist()}, f, ensure_ascii=False)
    else:
        sys.exit("export_attention: -o must end in .npz, .npy, .safetensors or .json")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--demo", action="store_true", help="a seeded nn.TransformerEncoder on a short sentence")
    src.add_argument("--hf", metavar="MODEL", help="a Hugging Face model name or path (needs transformers)")
    ap.add_argument("--text", default="The cat sat on the mat.", help="input text for --hf")
    ap.add_argument("-o", "--output", required=True, help="OUT.npz | OUT.npy | OUT.safetensors | OUT.json")
    args = ap.parse_args()
    attention, tokens = demo() if args.demo else hugging_face(args.hf, args.text)
    write(args.output, attention, tokens)
    rows = attention.sum(-1)
    print("export_attention: %s %s, %d tokens, rows sum to 1 within %.1e" %
          (args.output, list(attention.shape), len(tokens), float((rows - 1).abs().max())))


if __name__ == "__main__":
    main()
