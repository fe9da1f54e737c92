#!/usr/bin/python3
"""PyTorch's time for a full GPT-2 forward that keeps every attention map: the speed reference for mode
"pretrained" in ./build.sh bench.

  nice -n 15 /usr/bin/python3 bench/bench_pretrained_torch.py FOLDER [--tokens 128[,512,...]] [--rounds N]
      [--warmup W] [--no-check] [--openblas CACHE_DIR] [--dump DIR]

FOLDER: a GPT-2 Hugging Face folder (bench/make_pretrained_bench.py writes OUT_DIR/gpt2-small-f16). The token ids
come from FOLDER/../bench_input.json when it has that length, else id_i = (i * 7919 + 13) % vocab_size, as that
file's. The maths is GPT2LMHeadModel's (tests/pretrained/reference.py, float32 from the stored F16 values, eval
mode): per layer pre-LN, fused c_attn, scores = q·kᵀ/√64 with the causal mask, softmax, P·V, c_proj, MLP with
gelu_new (= F.gelu(approximate="tanh")), ln_f, logits = x·wteᵀ [n, 50257]; every layer's scores [12, n, n], weights
[12, n, n] and context [12, n, 64] are kept (as the engine returns them). One thread (torch.set_num_threads(1)).
Before timing, the result is checked against reference.py (logits and every weight map, 1e-4 of the tensor's max).
--dump DIR writes DIR/logits_<n>.f32 ([n, vocab]) and DIR/attn_<n>.f32 ([layers, heads, n, n]), raw little-endian
float32, for the JS side to check attnplay's and onnxruntime-web's outputs against before timing them.
BLAS: Debian's python3-torch does its matrix products through libblas.so.3, which is netlib's reference BLAS unless
an optimised one is installed (about 7 GFLOP/s against OpenBLAS's 100 on this machine, one thread: a 15x slower
PyTorch). --openblas CACHE_DIR fetches Debian's libopenblas0-pthread into CACHE_DIR (apt-get download + dpkg-deb -x,
nothing installed) and re-runs itself with it on LD_LIBRARY_PATH, one thread. The JSON says which BLAS ran.
Prints one JSON line per length:
  {"bench": "pretrained-forward", "library": "pytorch", "version": "1.13.0a0", "threads": 1, "model": "gpt2-small-f16",
   "tokens": 128, "rounds": 10, "median_ms": ..., "min_ms": ..., "times_ms": [...], "load_ms": ...,
   "blas": ["/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"], "check": {"logits_rel_err": ...,
   "weights_rel_err": ..., "context_rel_err": ...}}
"""
import argparse
import glob
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread, whatever the BLAS (before torch loads it)
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
import torch  # noqa: E402
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pretrained"))
import reference  # noqa: E402


class FastGPT2:
    """GPT2LMHeadModel's forward in batched torch ops (no Python per head), weights widened to float32 once."""

    def __init__(self, folder):
        t0 = time.perf_counter()
        self.m = reference.Model(folder)  # reads the safetensors by hand, checks names and shapes, F16 -> F32
        if self.m.model_type != "gpt2":
            raise SystemExit("bench_pretrained_torch.py times GPT-2 folders")
        p, hp = self.m.p, self.m.hp
        self.H, self.nh, self.hd, self.eps, self.L = hp["hidden"], hp["heads"], hp["head_dim"], hp["eps"], hp["layers"]
        self.layers = [{k: p[f"h.{i}.{k}"].contiguous() for k in (
            "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
            "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight",
            "mlp.c_proj.bias")} for i in range(self.L)]
        self.wte, self.wpe = p["wte.weight"], p["wpe.weight"]
        self.ln_f = (p["ln_f.weight"], p["ln_f.bias"])
        self.head = self.wte if hp["tie"] else p["lm_head.weight"]
        self.load_ms = (time.perf_counter() - t0) * 1e3

    @torch.no_grad()
    def forward(self, ids):
        n, H, nh, hd, eps = ids.shape[0], self.H, self.nh, self.hd, self.eps
        mask = torch.full((n, n), float("-inf")).triu_(1)
        x = self.wte[ids] + self.wpe[:n]
        maps = []
        for w in self.layers:
            a = F.layer_norm(x, (H,), w["ln_1.weight"], w["ln_1.bias"], eps)
            qkv = torch.addmm(w["attn.c_attn.bias"], a, w["attn.c_attn.weight"])        # Conv1D, [n, 3H]
            q, k, v = qkv.view(n, 3, nh, hd).permute(1, 2, 0, 3)                          # [nh, n, hd] each
            scores = torch.baddbmm(mask.expand(nh, n, n), q, k.transpose(1, 2), alpha=1.0 / math.sqrt(hd))
            weights = torch.softmax(scores, dim=-1)
            ctx = torch.bmm(weights, v)                                                   # [nh, n, hd]
            x = x + torch.addmm(w["attn.c_proj.bias"], ctx.transpose(0, 1).reshape(n, H), w["attn.c_proj.weight"])
            a = F.layer_norm(x, (H,), w["ln_2.weight"], w["ln_2.bias"], eps)
            a = F.gelu(torch.addmm(w["mlp.c_fc.bias"], a, w["mlp.c_fc.weight"]), approximate="tanh")
            x = x + torch.addmm(w["mlp.c_proj.bias"], a, w["mlp.c_proj.weight"])
            maps.append({"scores": scores, "weights": weights, "context": ctx, "output": x})
        logits = torch.mm(F.layer_norm(x, (H,), self.ln_f[0], self.ln_f[1], eps), self.head.t())
        return logits, maps


def rel(a, b):
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def token_ids(folder, n, vocab):
    path = os.path.join(os.path.dirname(os.path.abspath(folder.rstrip("/"))), "bench_input.json")
    if os.path.exists(path):
        ids = json.load(open(path))["token_ids"].get(str(n))
        if ids:
            return ids
    return [(i * 7919 + 13) % vocab for i in range(n)]


def blas_in_use():
    """The BLAS / LAPACK libraries this process has mapped (after a matrix product)."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if "/" in line else ""
            if re.search(r"blas|mkl|blis|lapack", os.path.basename(path)):
                libs.add(os.path.realpath(path))
    return sorted(libs)


def use_openblas(cache):
    """Re-exec with Debian's libopenblas0-pthread (fetched into cache, not installed) first on LD_LIBRARY_PATH."""
    if os.environ.get("ATTNPLAY_BENCH_OPENBLAS"):
        return
    cache = os.path.abspath(cache)
    libdir = os.path.join(cache, "root", "usr", "lib", "x86_64-linux-gnu", "openblas-pthread")
    if not os.path.exists(os.path.join(libdir, "libblas.so.3")):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["apt-get", "download", "libopenblas0-pthread"], cwd=cache, check=True,
                       stdout=subprocess.DEVNULL)
        deb = sorted(glob.glob(os.path.join(cache, "libopenblas0-pthread_*.deb")))[-1]
        subprocess.run(["dpkg-deb", "-x", deb, os.path.join(cache, "root")], check=True)
    env = dict(os.environ, ATTNPLAY_BENCH_OPENBLAS="1", OPENBLAS_NUM_THREADS="1",
               LD_LIBRARY_PATH=libdir + (":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else ""))
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--tokens", default="128")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--no-check", action="store_true")
    ap.add_argument("--dump", metavar="DIR", help="write logits_<n>.f32 and attn_<n>.f32 there")
    ap.add_argument("--openblas", metavar="CACHE_DIR", help="run with Debian's OpenBLAS fetched into CACHE_DIR")
    args = ap.parse_args()
    if args.openblas:
        use_openblas(args.openblas)
    torch.set_num_threads(1)
    torch.set_grad_enabled(False)
    model = FastGPT2(args.folder)
    blas = blas_in_use()
    for n in [int(x) for x in args.tokens.split(",")]:
        ids_list = token_ids(args.folder, n, model.m.hp["vocab"])
        ids = torch.tensor(ids_list, dtype=torch.long)
        check = None
        if not args.no_check:
            logits, maps = model.forward(ids)
            ref = model.m.forward(ids_list)
            check = {"logits_rel_err": rel(logits, ref["logits"]),
                     "weights_rel_err": max(rel(maps[l]["weights"][h], ref["layers"][l]["heads"][h]["weights"])
                                            for l in range(model.L) for h in range(model.nh)),
                     "context_rel_err": max(rel(maps[l]["context"][h], ref["layers"][l]["heads"][h]["context"])
                                            for l in range(model.L) for h in range(model.nh))}
            if max(check.values()) > 1e-4:
                raise SystemExit(f"the fast forward disagrees with reference.py: {check}")
            del ref
        if args.dump:
            os.makedirs(args.dump, exist_ok=True)
            logits, maps = model.forward(ids)
            logits.numpy().astype("<f4").tofile(os.path.join(args.dump, f"logits_{n}.f32"))
            torch.stack([m["weights"] for m in maps]).numpy().astype("<f4").tofile(
                os.path.join(args.dump, f"attn_{n}.f32"))
            del logits, maps
        for _ in range(args.warmup):
            model.forward(ids)
        times = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            logits, maps = model.forward(ids)
            times.append((time.perf_counter() - t0) * 1e3)
            del logits, maps
        print(json.dumps({"bench": "pretrained-forward", "library": "pytorch", "version": torch.__version__,
                          "threads": torch.get_num_threads(), "model": os.path.basename(os.path.abspath(args.folder)),
                          "tokens": n, "rounds": args.rounds, "median_ms": round(statistics.median(times), 3),
                          "min_ms": round(min(times), 3), "times_ms": [round(t, 3) for t in times],
                          "load_ms": round(model.load_ms, 1), "blas": blas, "check": check}), flush=True)


if __name__ == "__main__":
    main()
