#!/usr/bin/python3
"""Writes tests/fuzz/corpus/pretrained/*: tiny model folders (config.json, tokenizer.json, model.safetensors) of
each architecture, joined as fuzz_pretrained.cpp reads them ("\\n\\x01\\n" between the files), under 4 KB each.
  /usr/bin/python3 tools/make_fuzz_seeds_pretrained.py   (needs python3-torch; the seeds are committed)"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "pretrained"))
import hf_files  # noqa: E402
import make_models as mm  # noqa: E402

OUT = os.path.join(HERE, "..", "tests", "fuzz", "corpus", "pretrained")
SEP = b"\n\x01\n"


def word_tokenizer(vocab_size):
    vocab = {"<unk>": 0}
    for w in ["hi", "there", ",", "the", "a", "é"][: vocab_size - 1]:
        vocab[w] = len(vocab)
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [hf_files.added(0, "<unk>")],
            "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": None,
            "decoder": None, "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}


def seed(name, config, tensors):
    tok = json.dumps(word_tokenizer(config.get("vocab_size", 8))).encode()
    st = hf_files.safetensors_bytes(tensors)
    data = json.dumps(config).encode() + SEP + tok + SEP + st
    assert len(data) <= 4096, (name, len(data))
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    V = 7
    seed("gpt2", mm.gpt2_config(4, 1, 2, 4, V, "F32"), mm.gpt2_weights(1, 4, 1, 2, 4, V, "F32"))
    seed("bert", mm.bert_config(4, 1, 2, 4, 4, V, "F16", mlm=False), mm.bert_weights(2, 4, 1, 2, 4, 4, V, "F16", mlm=False))
    seed("llama", mm.llama_config(4, 1, 2, 1, 4, 8, V, "BF16", tied=True), mm.llama_weights(3, 4, 1, 2, 1, 2, 4, V, "BF16", tied=True))
    seed("qwen2", mm.qwen2_config(4, 1, 2, 1, 4, 8, V, "F32", tied=True, eot=V - 1),
         mm.llama_weights(4, 4, 1, 2, 1, 2, 4, V, "F32", tied=True, qkv_bias=True))
    print("wrote", sorted(os.listdir(OUT)))


if __name__ == "__main__":
    main()
