#!/usr/bin/python3
"""attnplay training benchmark, the PyTorch side (./build.sh bench): one optimiser step of the same tiny Transformer
in PyTorch 1.13 on one thread, beside attnplay's WASM step (bench/bench_train.cpp, case "reference").

Model (SPEC §5/§7 semantics): nn.Embedding + sinusoidal positions, nn.TransformerEncoder of 2
nn.TransformerEncoderLayer(d_model 64, nhead 4, dim_feedforward 128, dropout 0, relu, post-norm, batch_first),
nn.Linear logits; cross-entropy over every position; Adam (lr 1e-3); batch 16 x 24 tokens, vocabulary 10.
PyTorch in its best single-thread form: torch.set_num_threads(1), no autograd anomaly checks, zero_grad(set_to_none),
3 warm-up steps, median of 20.

Usage: /usr/bin/python3 bench/bench_train_torch.py [--rounds R] [WASM_BENCH_JS | WASM_BENCH_OUTPUT]
  WASM_BENCH_JS (build/wasm/attnplay_bench_train.js): interleaved rounds (default 7). Each round runs the WASM step
    (node --experimental-wasm-relaxed-simd, case "reference": median of 20 steps after 3 warm-ups) and then the PyTorch
    step (median of 20), and prints both and their ratio; the summary is the median of the rounds' ratios, and the
    ratio of each side's fastest round. This VM's speed swings within a minute (PyTorch's step 45-88 ms, the WASM step
    6.4-12 ms), so only times taken side by side make a ratio.
  WASM_BENCH_OUTPUT (the text attnplay_bench_train printed): one PyTorch median beside the number in it.
"""
import math
import os
import re
import subprocess
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


REFERENCE_ROW = re.compile(r"\| reference[^|]*\|[^|]*\|[^|]*\| ([0-9.]+) \|")


def torch_step_ms(model, opt, loss_fn, steps=20, warmup=3):
    """Median ms of `steps` optimiser steps after `warmup` untimed ones (fresh random ids each step)."""
    times = []
    for step in range(warmup + steps):
        ids = torch.randint(0, VOCAB, (BATCH, LENGTH))
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(ids).reshape(-1, VOCAB), ids.reshape(-1))  # the copy task: target = input
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if step >= warmup:
            times.append((t1 - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def wasm_step_ms(js):
    """One run of the WASM benchmark's reference case (Node, relaxed SIMD on, as for the peers): its median ms."""
    out = subprocess.run(["node", "--no-experimental-fetch", "--experimental-wasm-relaxed-simd", js, "reference"],
                         check=True, capture_output=True, text=True).stdout
    m = REFERENCE_ROW.search(out)
    if not m:
        sys.exit(f"{js}: no 'reference' row in its output:\n{out}")
    return float(m.group(1))


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else 0.5 * (xs[len(xs) // 2 - 1] + xs[len(xs) // 2])


def main():
    args = sys.argv[1:]
    rounds = 7
    if args[:1] == ["--rounds"]:
        rounds = int(args[1])
        args = args[2:]
    torch.set_num_threads(1)
    torch.manual_seed(1)
    model = Tiny()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    version = f"PyTorch {torch.__version__}, 1 thread"
    if args and args[0].endswith(".js"):
        js = os.path.abspath(args[0])
        print(f"| round | attnplay WASM (relaxed SIMD) ms | {version} ms | ratio |\n|---|---|---|---|")
        ratios, wasm, torch_ = [], [], []
        for r in range(rounds):
            w = wasm_step_ms(js)
            t = torch_step_ms(model, opt, loss_fn)
            wasm.append(w)
            torch_.append(t)
            ratios.append(w / t)
            print(f"| {r + 1} | {w:.2f} | {t:.2f} | {w / t:.3f}x |", flush=True)
        print(f"| median of {rounds} rounds | {median(wasm):.2f} | {median(torch_):.2f} | {median(ratios):.3f}x "
              f"(rounds: {min(ratios):.3f}-{max(ratios):.3f}x) |")
        # Each side's fastest round: the VM's slow spells (either side can land in one) left out, for both alike.
        print(f"| fastest round of each | {min(wasm):.2f} | {min(torch_):.2f} | {min(wasm) / min(torch_):.3f}x |")
        return
    torch_ms = torch_step_ms(model, opt, loss_fn)
    print(f"| training step, reference model | {version} | {torch_ms:.2f} ms |")
    if args:
        text = open(args[0], encoding="utf-8").read()
        m = REFERENCE_ROW.search(text)
        if not m:
            sys.exit(f"{args[0]}: no 'reference' row in the attnplay benchmark output")
        wasm_ms = float(m.group(1))
        print(f"| training step, reference model | attnplay WASM | {wasm_ms:.2f} ms | {wasm_ms / torch_ms:.2f}x PyTorch |")


if __name__ == "__main__":
    main()
