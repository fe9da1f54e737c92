#!/usr/bin/python3
"""The ONNX graph of the GPT-2 forward that bench_pretrained_torch.py times, for onnxruntime-web (./build.sh bench).

  nice -n 15 /usr/bin/python3 bench/make_pretrained_onnx.py FOLDER OUT.onnx [--variant contrib|standard|noprobs]

FOLDER: the GPT-2 folder (bench/make_pretrained_bench.py's gpt2-small-f16); its weights, read by
tests/pretrained/reference.py (F16 -> float32), become float32 initializers, so every library computes from the
very same numbers. Built with python3-onnx's helper API (opset 17 + com.microsoft 1), as bench/make_onnx_models.py.

Graph: input  input_ids  int64 [1, n]  (n dynamic, <= 1024)
       output logits     float [1, n, vocab]
              attn_0 .. attn_11  float [1, heads, n, n]   every layer's attention probabilities (causal softmax)
Variants (all compute GPT2LMHeadModel's maths; they differ only in how the ops are packaged):
  contrib  (default: the fastest with the maps in onnxruntime-web 1.30 on one thread, see below)
           com.microsoft SkipLayerNormalization (residual add + LayerNorm in one op), FastGelu with the c_fc bias
           (GPT-2's gelu_new is its tanh formula), MatMul for the projections, the attention as
           MatMul(q, kᵀ) + causal mask -> Softmax (an output) -> MatMul(·, v); 1/√head_dim = 1/8 folded into the
           q weights and bias (a power of two: exact); logits by Gemm(transB=1) against the Gather's wte.
  standard only ai.onnx ops: LayerNormalization, MatMul + Add, gelu_new spelled out (Mul/Pow/Tanh), the same
           attention; onnxruntime's own graph optimiser fuses part of it.
  noprobs  com.microsoft Attention (fused QKV projection, softmax, P·V; unidirectional=1) as bench/make_onnx_models.py
           uses: it cannot output the attention probabilities, so the attn_* outputs are absent; for comparison only.
"""
import argparse
import math
import os
import sys

import numpy as np
from onnx import TensorProto, checker, helper, numpy_helper, save

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pretrained"))
import reference  # noqa: E402


def build(folder, variant):
    m = reference.Model(folder)
    if m.model_type != "gpt2":
        raise SystemExit("make_pretrained_onnx.py converts GPT-2 folders")
    p, hp = m.p, m.hp
    H, NH, HD, L, V, eps = hp["hidden"], hp["heads"], hp["head_dim"], hp["layers"], hp["vocab"], hp["eps"]
    inits, nodes = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=arr.dtype), name))
        return name

    def w(name):
        return p[name].numpy().astype(np.float32)

    def node(op, ins, outs, domain=None, **attrs):
        nodes.append(helper.make_node(op, ins, outs, domain=domain, **attrs) if domain else
                     helper.make_node(op, ins, outs, **attrs))
        return outs[0]

    def c64(name, vals):
        return init(name, np.array(vals, dtype=np.int64))

    scale = 1.0 / math.sqrt(HD)
    init("wte", w("wte.weight"))
    init("wpe", w("wpe.weight"))
    c64("shape_heads", [0, 0, NH, HD])
    c64("shape_merge", [0, 0, H])
    c64("ax0", [0])
    c64("ax1", [1])
    init("zero_f", np.array(0.0, dtype=np.float32))
    init("ninf_f", np.array(-np.inf, dtype=np.float32))
    init("one_i", np.array(1, dtype=np.int64))
    init("zero_i", np.array(0, dtype=np.int64))
    # positions and the causal mask from the input's length
    node("Shape", ["input_ids"], ["ids_shape"])
    node("Gather", ["ids_shape", "one_i"], ["n"], axis=0)
    node("Range", ["zero_i", "n", "one_i"], ["pos"])
    node("Unsqueeze", ["pos", "ax1"], ["pos_col"])
    node("Unsqueeze", ["pos", "ax0"], ["pos_row"])
    node("GreaterOrEqual", ["pos_col", "pos_row"], ["visible"])        # [n, n]: key j <= query i
    node("Where", ["visible", "zero_f", "ninf_f"], ["causal_mask"])
    node("Gather", ["wte", "input_ids"], ["tok_emb"], axis=0)          # [1, n, H]
    node("Gather", ["wpe", "pos"], ["pos_emb"], axis=0)                # [n, H]
    node("Add", ["tok_emb", "pos_emb"], ["h_in0"])
    outputs = []
    x = "h_in0"
    pending = None  # (residual, delta, bias) not yet added, for SkipLayerNormalization
    for i in range(L):
        pre = f"h.{i}."
        g1, b1 = init(f"ln1_w{i}", w(pre + "ln_1.weight")), init(f"ln1_b{i}", w(pre + "ln_1.bias"))
        g2, b2 = init(f"ln2_w{i}", w(pre + "ln_2.weight")), init(f"ln2_b{i}", w(pre + "ln_2.bias"))
        Wa, ba = w(pre + "attn.c_attn.weight"), w(pre + "attn.c_attn.bias")
        # --- ln_1 (and, in the contrib form, the residual add of the previous layer's MLP) ---
        if variant == "contrib" and pending is not None:
            res, delta, bias = pending
            node("SkipLayerNormalization", [delta, res, g1, b1, bias], [f"a{i}", "", "", f"x{i}"],
                 domain="com.microsoft", epsilon=eps)
            x = f"x{i}"
        else:
            node("LayerNormalization", [x, g1, b1], [f"a{i}"], axis=-1, epsilon=eps)
        a = f"a{i}"
        if variant == "noprobs":
            node("Attention", [a, init(f"wqkv{i}", Wa), init(f"bqkv{i}", ba)], [f"ctx{i}"], domain="com.microsoft",
                 num_heads=NH, unidirectional=1)
            merged = f"ctx{i}"
        else:
            Wq, Wk, Wv = Wa[:, :H] * scale, Wa[:, H:2 * H], Wa[:, 2 * H:]
            bq, bk, bv = ba[:H] * scale, ba[H:2 * H], ba[2 * H:]
            for nm, W_, b_, perm in (("q", Wq, bq, [0, 2, 1, 3]), ("k", Wk, bk, [0, 2, 3, 1]), ("v", Wv, bv, [0, 2, 1, 3])):
                node("MatMul", [a, init(f"w{nm}{i}", W_)], [f"{nm}mm{i}"])
                node("Add", [f"{nm}mm{i}", init(f"b{nm}{i}", b_)], [f"{nm}b{i}"])
                node("Reshape", [f"{nm}b{i}", "shape_heads"], [f"{nm}r{i}"])
                node("Transpose", [f"{nm}r{i}"], [f"{nm}{i}"], perm=perm)   # q, v [1,NH,n,HD]; k [1,NH,HD,n]
            node("MatMul", [f"q{i}", f"k{i}"], [f"s{i}"])
            node("Add", [f"s{i}", "causal_mask"], [f"sm{i}"])
            node("Softmax", [f"sm{i}"], [f"attn_{i}"], axis=-1)
            outputs.append(helper.make_tensor_value_info(f"attn_{i}", TensorProto.FLOAT, [1, NH, "n", "n"]))
            node("MatMul", [f"attn_{i}", f"v{i}"], [f"c{i}"])
            node("Transpose", [f"c{i}"], [f"ct{i}"], perm=[0, 2, 1, 3])
            node("Reshape", [f"ct{i}", "shape_merge"], [f"ctx{i}"])
            merged = f"ctx{i}"
        node("MatMul", [merged, init(f"wo{i}", w(pre + "attn.c_proj.weight"))], [f"o{i}"])
        bo = init(f"bo{i}", w(pre + "attn.c_proj.bias"))
        # --- residual + ln_2 ---
        if variant == "contrib":
            node("SkipLayerNormalization", [f"o{i}", x, g2, b2, bo], [f"m{i}", "", "", f"y{i}"],
                 domain="com.microsoft", epsilon=eps)
        else:
            node("Add", [f"o{i}", bo], [f"ob{i}"])
            node("Add", [x, f"ob{i}"], [f"y{i}"])
            node("LayerNormalization", [f"y{i}", g2, b2], [f"m{i}"], axis=-1, epsilon=eps)
        # --- MLP ---
        node("MatMul", [f"m{i}", init(f"wfc{i}", w(pre + "mlp.c_fc.weight"))], [f"fc{i}"])
        bfc = init(f"bfc{i}", w(pre + "mlp.c_fc.bias"))
        if variant in ("contrib", "noprobs"):
            node("FastGelu", [f"fc{i}", bfc], [f"g{i}"], domain="com.microsoft")
        else:
            # activations.py NewGELUActivation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
            node("Add", [f"fc{i}", bfc], [f"fcb{i}"])
            c = lambda nm, v: init(f"{nm}_{i}", np.array(v, dtype=np.float32))
            node("Pow", [f"fcb{i}", c("three", 3.0)], [f"p3_{i}"])
            node("Mul", [f"p3_{i}", c("k0447", 0.044715)], [f"p3k_{i}"])
            node("Add", [f"fcb{i}", f"p3k_{i}"], [f"inner_{i}"])
            node("Mul", [f"inner_{i}", c("s2pi", math.sqrt(2.0 / math.pi))], [f"inner2_{i}"])
            node("Tanh", [f"inner2_{i}"], [f"th_{i}"])
            node("Add", [f"th_{i}", c("one", 1.0)], [f"th1_{i}"])
            node("Mul", [f"fcb{i}", f"th1_{i}"], [f"xg_{i}"])
            node("Mul", [f"xg_{i}", c("half", 0.5)], [f"g{i}"])
        node("MatMul", [f"g{i}", init(f"wp2{i}", w(pre + "mlp.c_proj.weight"))], [f"mp{i}"])
        bp2 = init(f"bp2{i}", w(pre + "mlp.c_proj.bias"))
        if variant == "contrib" and i < L - 1:
            pending = (f"y{i}", f"mp{i}", bp2)
        else:
            node("Add", [f"mp{i}", bp2], [f"mpb{i}"])
            node("Add", [f"y{i}", f"mpb{i}"], [f"h_out{i}"])
            x, pending = f"h_out{i}", None
    gf, bf = init("lnf_w", w("ln_f.weight")), init("lnf_b", w("ln_f.bias"))
    node("LayerNormalization", [x, gf, bf], ["final"], axis=-1, epsilon=eps)
    c64("shape_2d", [-1, H])
    node("Reshape", ["final", "shape_2d"], ["final2d"])
    head = "wte" if hp["tie"] else init("lm_head", w("lm_head.weight"))
    node("Gemm", ["final2d", head], ["logits2d"], transB=1)              # [n, V] = x · wteᵀ
    c64("shape_logits", [1, -1, V])
    node("Reshape", ["logits2d", "shape_logits"], ["logits"])
    graph = helper.make_graph(
        nodes, f"gpt2_{variant}",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "n"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "n", V])] + outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.microsoft", 1)],
                              producer_name="attnplay bench")
    model.ir_version = 8
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("out")
    ap.add_argument("--variant", default="contrib", choices=["contrib", "standard", "noprobs"])
    args = ap.parse_args()
    model = build(args.folder, args.variant)
    checker.check_model(model)  # in memory (< 2 GB)
    save(model, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.0f} MB, variant {args.variant})")


if __name__ == "__main__":
    main()
