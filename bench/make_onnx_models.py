#!/usr/bin/python3
"""ONNX models for the peer benchmark (bench/bench_peers.mjs): multi-head self-attention with the four
d_model x d_model projections, as onnxruntime-web runs it fastest: com.microsoft Attention (fused QKV projection,
softmax, P·V; unidirectional=1 for the causal mask) followed by MatMul with W_o. The weights are graph inputs so
the benchmark feeds every library the very same numbers.

Run with Debian's python3-onnx:  /usr/bin/python3 bench/make_onnx_models.py OUT_DIR
"""
import os
import sys

from onnx import TensorProto, checker, helper, save

out = sys.argv[1] if len(sys.argv) > 1 else "build/bench-models"
os.makedirs(out, exist_ok=True)
for d, heads in [(128, 8), (256, 8)]:
    for causal in (0, 1):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "n", d])
        wqkv = helper.make_tensor_value_info("wqkv", TensorProto.FLOAT, [d, 3 * d])
        bias = helper.make_tensor_value_info("bias", TensorProto.FLOAT, [3 * d])
        wo = helper.make_tensor_value_info("wo", TensorProto.FLOAT, [d, d])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "n", d])
        attn = helper.make_node("Attention", ["x", "wqkv", "bias"], ["ctx"], domain="com.microsoft",
                                num_heads=heads, unidirectional=causal)
        proj = helper.make_node("MatMul", ["ctx", "wo"], ["y"])
        graph = helper.make_graph([attn, proj], "mha", [x, wqkv, bias, wo], [y])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
                                  producer_name="attnplay bench")
        model.ir_version = 8
        checker.check_model(model)
        save(model, os.path.join(out, f"mha_d{d}_h{heads}_causal{causal}.onnx"))
print("wrote models to", out)
