"""attnplay (the Python package): argument checking, the cell's HTML, and the files. Run with Debian's python3:

    /usr/bin/python3 -m unittest discover -s python/tests -v

The HTML tests need the built web files (the package's own, $ATTNPLAY_WEB, or the checkout's build/web). The
pretrained-model tests (class Pretrained) write tests/pretrained's folders and goldens into a temporary directory with
make_models.py (2-5 s): they need torch, Node and tests/pretrained/node_modules (npm ci there), and skip without."""
import base64
import html
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
import attnplay  # noqa: E402
from attnplay import AttnplayError, _pretrained  # noqa: E402

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



def hf_state_dict(folder):
    """{name: torch tensor} of a Hugging Face folder as tests/pretrained/reference.py's own reader reads it, each in
    its stored dtype (float16, bfloat16, float32, int64, bool), as a transformers model's state_dict() holds them."""
    stored = {"F16": torch.float16, "BF16": torch.bfloat16}  # to_tensor widens these to float32 (losslessly back)
    config, entries = reference.load_folder(str(folder))
    sd = {name: reference.to_tensor(e) for name, e in entries.items()}
    return config, {name: t.to(stored[entries[name]["dtype"]]) if entries[name]["dtype"] in stored else t
                    for name, t in sd.items()}


class Install(unittest.TestCase):
    """`pip install ./python` after `./build.sh web` carries the checkout's web build, as the wheel does (setup.py)."""

    def test_a_wheel_built_from_the_checkout_carries_the_web_build(self):
        try:
            web = attnplay.web_dir()
        except AttnplayError:
            self.skipTest("no web build here")
        import zipfile
        with tempfile.TemporaryDirectory() as tmp:
            # A checkout's layout: python/ beside build/web (a link to this machine's web build), no attnplay/web yet.
            shutil.copytree(ROOT / "python", Path(tmp) / "python", ignore=shutil.ignore_patterns("web", "__pycache__", "build", "*.egg-info"))
            (Path(tmp) / "build").mkdir()
            os.symlink(web, Path(tmp) / "build" / "web")
            env = {k: v for k, v in os.environ.items() if k != "ATTNPLAY_WEB"}
            out = Path(tmp) / "dist"
            r = subprocess.run([sys.executable, "-c", f"import setuptools.build_meta as b; b.build_wheel({str(out)!r})"],
                               cwd=Path(tmp) / "python", env=env, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            names = zipfile.ZipFile(next(out.glob("*.whl"))).namelist()
            for f in attnplay._html._FILES:
                self.assertIn(f"attnplay/web/{f}", names)
            # Without a web build the build says what to do, naming the place it looked.
            shutil.rmtree(Path(tmp) / "python" / "attnplay" / "web")
            os.unlink(Path(tmp) / "build" / "web")
            r = subprocess.run([sys.executable, "-c", f"import setuptools.build_meta as b; b.build_wheel({str(out)!r})"],
                               cwd=Path(tmp) / "python", env=env, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("run ./build.sh web", r.stderr + r.stdout)


class FakeConfig:
    """transformers' PretrainedConfig as far as attnplay looks: .model_type and .to_dict() (config.json's content)."""

    def __init__(self, d):
        self._d, self.model_type = dict(d), d.get("model_type")

    def to_dict(self):
        return dict(self._d)


def fake_transformers_model(folder, drop=(), model_type=None):
    """An nn.Module that looks like a transformers model (config.model_type, state_dict() of torch tensors) and holds
    no MultiheadAttention: show_model must take the pretrained path."""
    config, sd = hf_state_dict(folder)
    if model_type:
        config["model_type"] = model_type

    class GPT2LMHeadModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = FakeConfig(config)

        def state_dict(self, *args, **kwargs):
            return {k: v for k, v in sd.items() if k not in drop}

    return GPT2LMHeadModel()


class FakeTokenizer:
    """A transformers tokenizer as far as attnplay looks: tokenizer(text)["input_ids"] and convert_ids_to_tokens,
    answering from the goldens (npm's tokenizers made them)."""

    def __init__(self, text, ids, tokens):
        self.text, self.ids, self.toks = text, ids, tokens

    def __call__(self, text):
        assert text == self.text, text
        return {"input_ids": list(self.ids), "attention_mask": [1] * len(self.ids)}

    def convert_ids_to_tokens(self, ids):
        assert list(ids) == list(self.ids)
        return list(self.toks)


reference = None


@unittest.skipIf(torch is None, "needs torch (Debian: python3-torch): the goldens and the forward are torch")
class Pretrained(unittest.TestCase):
    """Hugging Face folders (SPEC section 9) against tests/pretrained's goldens: load(), show_model() on a folder, a
    PretrainedModel and a transformers-like model, the interventions, and the refusals by name."""

    @classmethod
    def setUpClass(cls):
        global reference
        here = ROOT / "tests" / "pretrained"
        if shutil.which("node") is None or not (here / "node_modules" / "tokenizers").is_dir():
            raise unittest.SkipTest("tests/pretrained/make_models.py needs Node and npm's tokenizers there (npm ci in "
                                    "tests/pretrained) for the goldens' tokens")
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dir = Path(cls.tmp.name)
        subprocess.run([sys.executable, str(here / "make_models.py"), str(cls.dir)], check=True,
                       stdout=subprocess.DEVNULL)
        cls.goldens = json.loads((cls.dir / "cases.json").read_text(encoding="utf-8"))
        cls.cases = {c["name"]: c for c in cls.goldens["cases"]}
        sys.path.insert(0, str(here))
        grad = torch.is_grad_enabled()
        import reference as ref  # noqa: E402 (it turns gradients off for the process: put them back)
        torch.set_grad_enabled(grad)
        reference = ref

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def golden_weights(self, case):
        return np.array([[h["weights"] for h in layer["heads"]] for layer in case["expected"]["layers"]], np.float32)

    def assertMaps(self, fig, case, tokens=True):
        """The figure's embedded maps equal the golden weights to 1e-4 of the tensor's largest value (SPEC section 9)."""
        maps = attnplay._files.read_bytes(base64.b64decode(payload_of(fig)["file"]), "payload")
        want = self.golden_weights(case)
        self.assertEqual(maps.attention.shape, want.shape)
        err = float(np.abs(maps.attention - want).max() / np.abs(want).max())
        self.assertLess(err, 1e-4, f"{case['name']}: relative error {err}")
        if tokens:
            self.assertEqual(maps.tokens, case["expected"]["tokens"])
        return maps.attention

    def show_case(self, model, case, **kw):
        cfg = case["config"]
        att = cfg.get("attention", {})
        opts = {"temperature": att["temperature"]} if "temperature" in att else {}
        if "mask" in att:
            opts["mask"] = att["mask"]
        if "ablate" in cfg:
            opts["ablate"] = cfg["ablate"]
        if "text" in cfg:
            e = case["expected"]
            opts["text"], opts["tokenizer"] = cfg["text"], FakeTokenizer(cfg["text"], e["token_ids"], e["tokens"])
            return attnplay.show_model(model, **opts, **kw)
        return attnplay.show_model(model, cfg["token_ids"], **opts, **kw)

    def refuses(self, pattern, fn, *args, **kwargs):
        with self.assertRaises(AttnplayError) as cm:
            fn(*args, **kwargs)
        print(f"  {pattern!r}: {cm.exception}")
        self.assertRegex(str(cm.exception), pattern)

    def test_load_gives_the_folders_info_config_and_tokens(self):
        for name, folder in self.goldens["folders"].items():
            with self.subTest(folder=name):
                m = attnplay.load(self.dir / name if name != "gpt2_f32" else str(self.dir / name / "config.json"))
                self.assertIsInstance(m, attnplay.PretrainedModel)
                want = {k: folder["info"][k] for k in ("model_type", "layers", "heads", "kv_heads", "hidden_size",
                                                       "vocab_size", "parameters", "dtype")}
                self.assertEqual(m.info, want)
                self.assertEqual(m.model_type, folder["model_type"])
                self.assertEqual(m.config, json.loads((self.dir / name / "config.json").read_text()))
                self.assertEqual(Path(m.path), self.dir / name)
        case = self.cases["llama_gqa_f32/ids"]
        self.assertEqual(attnplay.load(self.dir / "llama_gqa_f32").tokens(case["config"]["token_ids"]),
                         case["expected"]["tokens"])
        ids = self.cases["llama_head_dim_no_tokenizer/ids"]["config"]["token_ids"]
        self.assertEqual(attnplay.load(self.dir / "llama_head_dim_no_tokenizer").tokens(ids), [str(i) for i in ids])

    def test_state_dict_is_the_files_values_as_float32(self):
        # sharded F16, BF16 and F32 (with BOOL / I64 buffers) folders read as the reference reader reads them
        for name in ("gpt2_f16_sharded", "bert_bf16", "llama_bf16_tied", "qwen2_f16", "distilgpt2_f32", "bert_mlm_f32"):
            with self.subTest(folder=name):
                sd = attnplay.load(self.dir / name).state_dict()
                _, entries = reference.load_folder(str(self.dir / name))
                self.assertEqual(sorted(sd), sorted(entries))
                for k, e in entries.items():
                    want = reference.to_tensor(e).numpy()
                    if e["dtype"] in ("F32", "F16", "BF16"):
                        self.assertEqual(sd[k].dtype, np.float32, k)
                    np.testing.assert_array_equal(sd[k], want, err_msg=k)

    def test_show_model_on_a_folder_matches_every_golden(self):
        for k, (name, case) in enumerate(self.cases.items()):
            with self.subTest(case=name):
                folder = self.dir / case["model"]  # given as a pathlib.Path and as a str, in turn
                self.assertMaps(self.show_case(folder if k % 2 else str(folder), case), case)

    def test_show_model_on_a_pretrained_model_and_a_transformers_model(self):
        for name in ("gpt2_f32/ids", "distilgpt2_f32/ids", "bert_mlm_f32/ablate_one", "bert_bf16/mask_window",
                     "bert_model_old_names/ids", "llama_gqa_f32/temperature_2", "qwen2_f16/ablate_one",
                     "llama_bf16_tied/all_interventions", "llama_head_dim_no_tokenizer/ids"):
            case = self.cases[name]
            with self.subTest(case=name, given="PretrainedModel"):
                self.assertMaps(self.show_case(attnplay.load(self.dir / case["model"]), case, view="model"), case)
            with self.subTest(case=name, given="transformers model"):
                hf = fake_transformers_model(self.dir / case["model"])
                fig = self.show_case(hf, case)
                # without a tokenizer, the ids label the rows
                self.assertMaps(fig, case, tokens=False)
                self.assertEqual(payload_of(fig)["view"], "attention")
                info = _pretrained.from_module(hf).info
                self.assertEqual(info, {k: self.goldens["folders"][case["model"]]["info"][k] for k in info})

    def test_playground_carries_a_model_up_to_its_cap(self):
        """playground(model=...): the cell carries config.json, F16 weights (F32 where F16 would overflow) and
        tokenizer.json, and the text; past cap_mb it refuses, naming the cap and show_model; the worker runs as a
        classic script (a sandboxed frame cannot start a module worker), and the CSP lets only blob: workers in."""
        folder = self.dir / "gpt2_f32"
        fig = attnplay.playground(model=folder, text="the cat", view="model", layer=1, head=2)
        p = payload_of(fig)
        self.assertEqual(p["model"]["name"], "gpt2_f32")
        self.assertEqual(sorted(p["model"]["files"]), ["config.json", "model.safetensors", "tokenizer.json"])
        self.assertEqual(p["model"]["config"], {"text": "the cat"})
        self.assertEqual((p["view"], p["view_query"]), ("model", "?layer=1&head=2"))
        entries, _ = attnplay._files.safetensors_entries(base64.b64decode(p["model"]["files"]["model.safetensors"]))
        self.assertTrue(entries and all(e[1] == "F16" for e in entries), [(e[0], e[1]) for e in entries])
        self.assertEqual(json.loads(base64.b64decode(p["model"]["files"]["config.json"])),
                         json.loads((folder / "config.json").read_text()))
        csp = lambda f: re.search(r'Content-Security-Policy" content="([^"]*)"', document_of(f)).group(1)  # noqa: E731
        self.assertIn("worker-src blob:", csp(fig))
        self.assertNotIn("worker-src", csp(attnplay.playground(preset="chinese")))
        script = attnplay._html.worker_script()
        self.assertNotIn("import.meta", script)
        self.assertIsNone(re.search(r"^\s*(import|export)\s", script, re.M))
        # The cap, named with the model's size and the way out.
        size = sum(a.size * 2 for a in attnplay.load(folder).state_dict().values() if a.dtype.kind == "f") / 2**20
        with self.assertRaises(attnplay.AttnplayError) as e:
            attnplay.playground(model=folder, cap_mb=size / 2)
        print(e.exception)
        self.assertIn(f"{size:.1f} MB as F16, over the cell's cap of {size / 2:g} MB (cap_mb=)", str(e.exception))
        self.assertIn("attnplay.show_model", str(e.exception))
        attnplay.playground(model=folder, cap_mb=size * 1.01)
        # A transformers model: its state_dict; text needs its tokenizer (none here), token_ids do not.
        hf = fake_transformers_model(folder)
        p = payload_of(attnplay.playground(model=hf, token_ids=[1, 2, 3]))
        self.assertEqual((p["model"]["config"], sorted(p["model"]["files"])), ({"token_ids": [1, 2, 3]}, ["config.json", "model.safetensors"]))
        for kwargs, names in ((dict(model=hf, text="the cat"), "tokenizer="), (dict(model=folder, config={"mode": "pretrained"}), "'mode'"),
                              (dict(model=folder, preset="chinese"), "preset"), (dict(model=folder, cap_mb=0), "cap_mb"),
                              (dict(text="the cat"), "model="), (dict(model=42), "model")):
            with self.subTest(kwargs=sorted(kwargs)), self.assertRaises(attnplay.AttnplayError) as e:
                attnplay.playground(**kwargs)
            self.assertIn(names, str(e.exception))

    def test_interventions_change_the_maps_as_the_goldens_say(self):
        plain = self.golden_weights(self.cases["gpt2_f32/ids"])
        folder = self.dir / "gpt2_f32"
        m = attnplay.load(folder)
        ids = self.cases["gpt2_f32/ids"]["config"]["token_ids"]
        # ablation: layer 0 as computed, the later layers changed
        ab = self.assertMaps(self.show_case(m, self.cases["gpt2_f32/ablate_one"]), self.cases["gpt2_f32/ablate_one"])
        np.testing.assert_allclose(ab[0], plain[0], atol=1e-5)
        self.assertGreater(float(np.abs(ab[1:] - plain[1:]).max()), 1e-3)
        # temperature 0.5 sharpens every row
        t = self.assertMaps(self.show_case(m, self.cases["gpt2_f32/temperature_0.5"]),
                            self.cases["gpt2_f32/temperature_0.5"])
        self.assertGreater(float(t.max()), float(plain.max()) - 1e-6)
        # padding: mask=, or a tokenizer output's attention_mask zeros (as a [1, n] tensor), give the same maps
        case = self.cases["gpt2_f32/mask_padding"]  # padding [1, 3]
        am = [0 if j in (1, 3) else 1 for j in range(len(ids))]
        for inputs in ({"input_ids": torch.tensor([ids]), "attention_mask": torch.tensor([am])},
                       {"input_ids": np.array([ids, ids[::-1]]), "attention_mask": np.array([am, am])}):
            p = self.assertMaps(attnplay.show_model(folder, inputs, view="heads"), case)
            self.assertTrue((p[:, :, :, [1, 3]] == 0).all())
        # batch= picks the sequence
        self.assertMaps(attnplay.show_model(m, torch.tensor([[0] * len(ids), ids]), batch=1), self.cases["gpt2_f32/ids"])
        # layers= / heads= as show() has them; the layers after the last one asked for are not run
        maps = attnplay._files.read_bytes(base64.b64decode(payload_of(attnplay.show_model(
            m, ids, layers=[2, 0], heads=[1], layer=1))["file"]), "payload").attention
        np.testing.assert_allclose(maps, plain[[2, 0]][:, [1]], atol=1e-5)
        np.testing.assert_allclose(m.attention(ids, layers=0), plain[:1], atol=1e-5)

    def test_refusals_name_the_file_tensor_or_field(self):
        for bad in self.goldens["bad"]:
            if bad["model"] != bad["name"] or bad["names"] == "Unigram":
                continue  # configs of the engine, and tokenisation, which this package leaves to the tokenizer
            with self.subTest(bad=bad["name"]):
                self.refuses(re.escape(bad["names"]), attnplay.show_model, self.dir / bad["model"],
                             bad["config"]["token_ids"] if "token_ids" in bad["config"] else [1])
        self.refuses(r"bad_truncated_shard/model-00002-of-00002\.safetensors: tensor '.*' lies past the end of the file",
                     attnplay.load, self.dir / "bad_truncated_shard")
        self.refuses(r"config\.json: model_type 'gpt_neox' is not supported \(supported: gpt2, bert, llama, qwen2\)",
                     attnplay.load, self.dir / "bad_unknown_model_type")
        folder = self.dir / "gpt2_f32"
        self.refuses(r"^state_dict\(\): missing tensor 'h\.1\.attn\.c_proj\.bias'", attnplay.show_model,
                     fake_transformers_model(folder, drop=("h.1.attn.c_proj.bias",)), [1, 2])
        self.refuses(r"^module: model_type 't5' is not supported \(supported: gpt2, bert, llama, qwen2\)",
                     attnplay.show_model, fake_transformers_model(folder, model_type="t5"), [1, 2])
        self.refuses(r"^module: '.*nope': no such folder", attnplay.show_model, str(self.dir / "nope"), [1])
        self.refuses(r"^inputs: token id 324 is outside the vocabulary \(vocab_size=324\)", attnplay.show_model,
                     folder, [1, 324])
        self.refuses(r"^inputs: expected whole numbers \(token ids\), got float32", attnplay.show_model, folder,
                     np.ones(3, np.float32))
        self.refuses(r"^inputs\['attention_mask'\]: expected 2 values of 0 or 1", attnplay.show_model, folder,
                     {"input_ids": [1, 2], "attention_mask": [1, 2]})
        self.refuses(r"^inputs\['token_type_ids'\]: only zeros", attnplay.show_model, folder,
                     {"input_ids": [1, 2], "token_type_ids": [0, 1]})
        self.refuses(r"^tokenizer: needed with text=", attnplay.show_model, folder, text="Hello")
        self.refuses(r"^mask: unknown field 'pad'", attnplay.show_model, folder, [1, 2], mask={"pad": [0]})
        self.refuses(r"^temperature: expected a positive number, got 0", attnplay.show_model, folder, [1, 2],
                     temperature=0)
        self.refuses(r"^vocab: not used with a pretrained model", attnplay.show_model, folder, [1, 2], vocab=["a"])
        enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1, enable_nested_tensor=False)
        self.refuses(r"^ablate: applies to a pretrained model", attnplay.show_model, enc, torch.ones(1, 3, 8),
                     ablate=[[0, 0]])

    def test_without_torch(self):
        folder = self.dir / "gpt2_f32"
        with mock.patch.dict(sys.modules, {"torch": None}):  # import torch fails, as where it is not installed
            m = attnplay.load(folder)  # reading needs numpy only
            self.assertEqual(m.info["layers"], 3)
            self.refuses(r"^torch: needed to compute a pretrained model's attention", attnplay.show_model, folder, [1, 2])
            self.refuses(r"^torch: needed to run show_model", attnplay.show_model, nn.Linear(2, 2), torch.ones(2))


if __name__ == "__main__":
    unittest.main()
