"""attnplay (the Python package): argument checking, the cell's HTML, and the files. Run with Debian's python3:

    /usr/bin/python3 -m unittest discover -s python/tests -v

The HTML tests need the built web files (the package's own, $ATTNPLAY_WEB, or the checkout's build/web)."""
import base64
import html
import hashlib
import json
import os
import re
import sys
import tempfile
import unittest
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
import attnplay  # noqa: E402
from attnplay import AttnplayError  # noqa: E402

try:
    import torch
    import torch.nn as nn
except ImportError:  # the package itself needs only numpy
    torch = None


def softmax_maps(shape, seed=0):
    a = np.random.default_rng(seed).random(shape).astype(np.float32)
    return a / a.sum(-1, keepdims=True)


def document_of(fig):
    """The iframe's document, unescaped as the browser would."""
    m = re.search(r'srcdoc="([^"]*)"', fig.html)
    return html.unescape(m.group(1))


def payload_of(fig):
    doc = document_of(fig)
    m = re.search(r'<script type="application/json" id="attnplay-payload">(.*?)</script>', doc, re.S)
    return json.loads(m.group(1))


class Arguments(unittest.TestCase):
    """Each bad argument fails with an AttnplayError naming it (the test prints the message it checks)."""

    def refuses(self, pattern, fn, *args, **kwargs):
        with self.assertRaises(AttnplayError) as cm:
            fn(*args, **kwargs)
        print(f"  {pattern!r}: {cm.exception}")
        self.assertRegex(str(cm.exception), pattern)

    def test_wrong_rank(self):
        self.refuses(r"^attention: expected \[layers, heads, n_q, n_k\].*rank 1", attnplay.show, np.ones(4, np.float32))
        self.refuses(r"^attention: rank 5", attnplay.show, np.ones((1, 2, 2, 3, 3), np.float32))

    def test_token_count_mismatch(self):
        self.refuses(r"^tokens: 3 tokens for the attention's 4 query rows", attnplay.show, softmax_maps((1, 1, 4, 4)), list("abc"))
        self.refuses(r"^key_tokens: 2 tokens for the attention's 5 key columns", attnplay.show, softmax_maps((1, 1, 4, 5)),
                     list("abcd"), list("xy"))
        self.refuses(r"^key_tokens: needed", attnplay.show, softmax_maps((1, 1, 4, 5)), list("abcd"))
        self.refuses(r"^tokens: expected a list of strings, got one string", attnplay.show, softmax_maps((4, 4)), "a b c d")
        self.refuses(r"^tokens\[1\]: expected a string, got int", attnplay.show, softmax_maps((2, 2)), ["a", 2])

    def test_nan_and_infinity(self):
        a = softmax_maps((2, 2, 3, 3))
        a[1, 0, 2, 1] = np.nan
        self.refuses(r"^attention: 1 values are NaN or infinite \(the first, NaN, at layer 1, head 0, row 2, column 1\)",
                     attnplay.show, a)
        a[1, 0, 2, 1] = np.inf
        self.refuses(r"infinite, at layer 1", attnplay.show, a)

    def test_dtypes(self):
        self.refuses(r"^attention: dtype int64 is not a floating-point type", attnplay.show, np.ones((2, 2), np.int64))
        self.refuses(r"^attention: dtype complex64 is complex", attnplay.show, np.ones((2, 2), np.complex64))
        self.refuses(r"^attention: expected a numpy array or a torch tensor, got str", attnplay.show, "weights")

    def test_size_cap(self):
        big = np.zeros((3, 1, 2048, 2048), np.float32)  # 48 MB of float32
        self.refuses(r"^attention: 48\.0 MB of float32 .* over the 32 MB one notebook cell carries; pass layers=",
                     attnplay.show, big)
        self.refuses(r"^attention: 65 layers \(at most 64\)", attnplay.show, np.zeros((65, 1, 2, 2), np.float32))

    def test_selection_and_focus(self):
        a = softmax_maps((2, 3, 4, 4))
        self.refuses(r"^layers: 2 is not an index of the 2 layers", attnplay.show, a, layers=[0, 2])
        self.refuses(r"^heads: an empty selection", attnplay.show, a, heads=[])
        self.refuses(r"^layer: 1 is not one of the 1 layers shown", attnplay.show, a, layers=[0], layer=1)
        self.refuses(r"^head: 3 is not one of the 3 heads shown", attnplay.show, a, head=3)
        self.refuses(r"^view: show\(\) draws", attnplay.show, a, view="qkv")
        self.refuses(r"^height: expected whole pixels", attnplay.show, a, height=50)
        self.refuses(r"^lang: expected 'en' or 'zh'", attnplay.show, a, lang="fr")

    def test_playground_arguments(self):
        self.refuses(r"^config: Out of range float values are not JSON compliant", attnplay.playground, {"temperature": float("nan")})
        self.refuses(r"^config: give a config or a preset, not both", attnplay.playground, {"text": "a"}, "cat")
        self.refuses(r"^config: expected a dict", attnplay.playground, "text=a")
        self.refuses(r"^preset: expected a preset's name", attnplay.playground, preset="../x")
        self.refuses(r"^view: expected one of", attnplay.playground, view="nope")

    @unittest.skipIf(torch is None, "needs torch")
    def test_torch_devices_and_dtypes(self):
        self.refuses(r"^attention: a tensor on device 'meta' holds no values", attnplay.show, torch.empty(1, 2, 3, 3, device="meta"))
        self.refuses(r"^attention: dtype int32 is not a floating-point type", attnplay.show, torch.ones(2, 2, dtype=torch.int32))
        half = torch.tensor(softmax_maps((1, 2, 3, 3))).half()
        fig = attnplay.show(half, list("abc"))
        self.assertIn("iframe", fig.html)

    @unittest.skipIf(torch is None, "needs torch")
    def test_hugging_face_tuple(self):
        layers = tuple(torch.tensor(softmax_maps((2, 4, 5, 5), seed=i)) for i in range(3))  # [batch 2, heads 4, 5, 5] each
        maps = attnplay._arrays.attention_array(layers, batch=1)
        self.assertEqual(maps.shape, (3, 4, 5, 5))
        np.testing.assert_array_equal(maps[2], layers[2][1].numpy())
        self.refuses(r"^batch: 2 is out of range for a batch of 2", attnplay.show, layers, batch=2)
        self.refuses(r"^attention\[1\]: shape \(4, 5, 6\) differs", attnplay.show,
                     (layers[0], torch.ones(2, 4, 5, 6)))
        self.refuses(r"^attention\[0\]: None \(did the model run with output_attentions=True\?\)", attnplay.show, (None,))

    @unittest.skipIf(torch is None, "needs torch")
    def test_show_model(self):
        torch.manual_seed(0)
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 2,
                                    enable_nested_tensor=False).eval()
        x = torch.randn(1, 5, 8)
        a, names = attnplay._capture.model_attention(enc, (x,), {}, 0, None)
        self.assertEqual(tuple(a.shape), (2, 2, 5, 5))
        self.assertEqual(names, ["layers.0.self_attn", "layers.1.self_attn"])
        # Layer 0's weights by hand: softmax(Q K^T / sqrt(d_k)) with the layer's in_proj.
        mha = enc.layers[0].self_attn
        q, k, _ = torch.nn.functional.linear(x[0], mha.in_proj_weight, mha.in_proj_bias).chunk(3, -1)
        q, k = q.view(5, 2, 4).transpose(0, 1), k.view(5, 2, 4).transpose(0, 1)
        ref = torch.softmax(q @ k.transpose(1, 2) / 2.0, -1)
        self.assertLess(float((a[0] - ref).abs().max()), 1e-6)
        # The caller still gets what it asked for: the encoder's output is unchanged by the capture.
        with torch.no_grad():
            plain = enc(x)
        with attnplay.capture_mha_attention(enc), torch.no_grad():
            captured = enc(x)
        self.assertTrue(torch.equal(plain, captured))
        self.refuses(r"^module: Linear holds no nn.MultiheadAttention", attnplay.show_model, nn.Linear(2, 2), torch.ones(2))
        self.refuses(r"^layers: 'nope' is not an attention layer that ran", attnplay.show_model, enc, x, layers=["nope"])
        self.refuses(r"^vocab: needed", attnplay.show_model, enc, ["a", "b"])
        self.refuses(r"^inputs: 'zz' is not in the vocabulary", attnplay.show_model, enc, ["a", "zz"], vocab=["a", "b"])


class Html(unittest.TestCase):
    """The cell's output: data travels as data, scripts run only by their hashes, nothing is fetched."""

    def test_payload_carries_the_arrays_and_tokens_as_data(self):
        a = softmax_maps((2, 3, 4, 4))
        hostile = ["</script><script>alert(1)</script>", "\"'&", "a\u2028b", "今天"]
        fig = attnplay.show(a, hostile, layer=1, head=2, view="heads")
        doc = document_of(fig)
        self.assertNotIn("alert(1)", doc, "a token never appears as text in the document (base64 in a JSON payload)")
        p = payload_of(fig)
        maps = attnplay._files.read_bytes(base64.b64decode(p["file"]), "payload")
        np.testing.assert_array_equal(maps.attention, a)
        self.assertEqual(maps.tokens, hostile)
        self.assertEqual(p["view"], "heads")
        self.assertIn("layer=1", p["view_query"])
        self.assertTrue(fig.html.isascii(), "the iframe's markup is ASCII whatever the host page's encoding")

    def test_csp_names_every_script_by_its_hash_and_allows_no_eval(self):
        doc = document_of(attnplay.show(softmax_maps((3, 3))))
        csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', doc).group(1)
        self.assertNotIn("unsafe-eval'", csp.replace("wasm-unsafe-eval'", ""))
        self.assertNotIn("unsafe-inline", csp)
        self.assertIn("default-src 'none'", csp)
        scripts = re.findall(r"<script(?: type=\"module\")?>(.*?)</script>", doc, re.S)
        self.assertEqual(len(scripts), 2)
        for s in scripts:
            h = base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
            self.assertIn(f"'sha256-{h}'", csp)

    def test_chinese_font_only_when_needed(self):
        latin = document_of(attnplay.show(softmax_maps((2, 2)), ["a", "b"]))
        zh = document_of(attnplay.show(softmax_maps((2, 2)), ["今", "天"]))
        self.assertIn('"cjk":null', latin)
        self.assertLess(len(latin) + 500_000, len(zh))

    def test_playground_carries_config_weights_and_workspace_as_data(self):
        cfg = {"text": "今天天气很好", "tokenizer": "chars", "heads": 2}
        p = payload_of(attnplay.playground(cfg, view="heads", layer=0))
        q = dict(x.split("=", 1) for x in p["query"].lstrip("?").split("&"))
        pad = "=" * (-len(q["cfg"]) % 4)
        self.assertEqual(json.loads(base64.urlsafe_b64decode(q["cfg"] + pad)), cfg)
        self.assertEqual((q["view"], q["layer"]), ("heads", "0"))
        w = attnplay.load(ROOT / "tests/fixtures/bad/ok.safetensors")
        p = payload_of(attnplay.playground(cfg, weights=w.tensors, vocab=w.vocab))
        back = attnplay._files.read_bytes(base64.b64decode(p["file"]), "payload")
        self.assertEqual((p["file_name"], back.vocab), ("weights.safetensors", w.vocab))
        record = (ROOT / "tests/fuzz/corpus/workspace/seed_ab").read_bytes()[1:]
        p = payload_of(attnplay.playground(workspace=attnplay._files.read_bytes(record, "ws")))
        self.assertEqual(p["file_name"], "workspace.attnplay")
        self.assertEqual(base64.b64decode(p["file"])[:8], b"APWKSP\r\n")
        with self.assertRaisesRegex(AttnplayError, r"^weights: give weights or a workspace, not both"):
            attnplay.playground(weights=w, workspace=record)

    def test_save_html_writes_a_page(self):
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "fig.html"
            attnplay.playground(preset="cat").save_html(p)
            text = p.read_text(encoding="utf-8")
            self.assertTrue(text.startswith("<!doctype html>"))
            self.assertIn("preset=cat", text)


class Files(unittest.TestCase):
    def test_weights_round_trip(self):
        src = ROOT / "tests/fixtures/bad/ok.safetensors"
        w = attnplay.load(src)
        self.assertIsInstance(w, attnplay.Weights)
        self.assertTrue(w.vocab)
        with tempfile.TemporaryDirectory() as d:
            attnplay.save(Path(d) / "w.safetensors", w)
            back = attnplay.load(Path(d) / "w.safetensors")
        self.assertEqual(back.vocab, w.vocab)
        self.assertEqual(sorted(back.tensors), sorted(w.tensors))
        for k in w.tensors:
            np.testing.assert_array_equal(back.tensors[k], w.tensors[k])

    @unittest.skipIf(torch is None, "needs torch")
    def test_state_dict_saves_as_weights(self):
        m = nn.Linear(3, 2)
        with tempfile.TemporaryDirectory() as d:
            attnplay.save(Path(d) / "m.safetensors", m, vocab=["x", "y"])
            back = attnplay.load(Path(d) / "m.safetensors")
        self.assertEqual(back.vocab, ["x", "y"])
        self.assertTrue(torch.equal(back.state_dict()["weight"], m.weight.detach()))
        with self.assertRaisesRegex(AttnplayError, r"^weights\['weight'\]: holds NaN"):
            attnplay.save("/nonexistent/x", {"weight": torch.tensor([float("nan")])})

    def test_workspace_round_trip_and_refusals(self):
        record = (ROOT / "tests/fuzz/corpus/workspace/seed_training").read_bytes()[1:]  # the fuzzer's flag byte first
        ws = attnplay._files.read_bytes(record, "seed")
        self.assertIsInstance(ws, attnplay.Workspace)
        self.assertIsInstance(ws.config, dict)
        self.assertGreater(ws.training["step"], 0)
        self.assertEqual(len(ws.training["loss"]), ws.training["step"])
        again = attnplay._files.read_bytes(ws.to_bytes(), "again")
        self.assertEqual(again.state, ws.state)
        for k in ws.tensors:
            np.testing.assert_array_equal(again.tensors[k], ws.tensors[k])
        flipped = bytearray(record)
        flipped[-3] ^= 1
        for data, why in ((bytes(flipped), r"saved state is corrupt \(checksum\)"), (record[:-5], r"\(truncated\)"),
                          (record + b"x", r"\(trailing bytes\)")):
            with self.assertRaisesRegex(AttnplayError, why):
                attnplay._files.read_bytes(data, "ws")
        newer = bytearray(record)
        newer[8] = 2
        import struct
        import zlib
        newer[28:32] = struct.pack("<I", zlib.crc32(bytes(newer[:28])))
        with self.assertRaisesRegex(AttnplayError, r"from a newer attnplay \(schema 2; this package reads 1\)"):
            attnplay._files.read_bytes(bytes(newer), "ws")

    def test_attention_files(self):
        npz = attnplay.load(ROOT / "tests/fixtures/attention/demo.npz")
        st = attnplay.load(ROOT / "tests/fixtures/attention/demo.safetensors")
        self.assertIsInstance(npz, attnplay.AttentionMaps)
        np.testing.assert_array_equal(npz.attention, st.attention)
        self.assertEqual(npz.tokens, st.tokens)
        self.assertEqual(payload_of(attnplay.show(st))["file_name"], "attention.safetensors")


if __name__ == "__main__":
    unittest.main()
