#!/usr/bin/python3
"""attnplay training benchmark, the PyTorch side (./build.sh bench): one optimiser step of the same tiny Transformer
in PyTorch 1.13 on one thread, beside attnplay's WASM step (bench/bench_train.cpp, case "reference").

Model (SPEC §5/§7 semantics): nn.Embedding + sinusoidal positions, nn.TransformerEncoder of 2
nn.TransformerEncoderLayer(d_model 64, nhead 4, dim_feedforward 128, dropout 0, relu, post-norm, batch_first),
nn.Linear logits; cross-entropy over every position; Adam (lr 1e-3); batch 16 x 24 tokens, vocabulary 10.
PyTorch in its best single-thread form: torch.set_num_threads(1), no autograd anomaly checks, zero_grad(set_to_none),
3 warm-up steps, median of 20.

Usage: /usr/bin/python3 bench/bench_train_torch.py [WASM_BENCH_OUTPUT]
  With the output of attnplay_bench_train (WASM), prints both step times and their ratio.
"""
import math
import re
import sys
import time

import torch
import torch.nn as nn

D_MODEL, HEADS, D_FF, LAYERS, BATCH, LENGTH, VOCAB = 64, 4, 128, 2, 16, 24, 10


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D_MODEL)
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, D_FF, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.fc_out = nn.Linear(D_MODEL, VOCAB)
        pe = torch.zeros(LENGTH, D_MODEL)
        pos = torch.arange(LENGTH, dtype=torch.float32)[:, None]
        div = torch.pow(10000.0, torch.arange(0, D_MODEL, 2, dtype=torch.float32) / D_MODEL)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos / div), torch.cos(pos / div)
        self.register_buffer("pe", pe)

    def forward(self, ids):
        return self.fc_out(self.encoder(self.embedding(ids) + self.pe))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    model = Tiny()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step in range(23):
        ids = torch.randint(0, VOCAB, (BATCH, LENGTH))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids).reshape(-1, VOCAB), ids.reshape(-1))  # the copy task: target = input
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if step >= 3:
            times.append((t1 - t0) * 1e3)
    times.sort()
    torch_ms = times[len(times) // 2]
    print(f"| training step, reference model | PyTorch {torch.__version__}, 1 thread | {torch_ms:.2f} ms |")
    if len(sys.argv) > 1:
        text = open(sys.argv[1], encoding="utf-8").read()
        m = re.search(r"\| reference[^|]*\|[^|]*\|[^|]*\| ([0-9.]+) \|", text)
        if not m:
            sys.exit(f"{sys.argv[1]}: no 'reference' row in the attnplay benchmark output")
        wasm_ms = float(m.group(1))
        print(f"| training step, reference model | attnplay WASM | {wasm_ms:.2f} ms | {wasm_ms / torch_ms:.2f}x PyTorch |")


if __name__ == "__main__":
    main()
