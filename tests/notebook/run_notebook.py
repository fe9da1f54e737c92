#!/usr/bin/python3
"""Runs examples/attention_in_a_notebook.ipynb headless (nbclient, Debian's python3-ipykernel), exports it with
nbconvert (--to html, the default template) and writes what the browser test (notebook.test.mjs) compares with:

  OUT/attention_in_a_notebook.ipynb   the executed notebook (outputs in it)
  OUT/attention_in_a_notebook.html    its HTML export, opened from file:// by the browser test
  OUT/expected.json                   per figure cell: the tokens and the focused head's weights the notebook passed
  OUT/hostile.html                    a figure whose tokens are script tags, quotes and U+2028 (must render as text)
  OUT/extras.html, extras.json        playground(config, weights=load(...)) over a PyTorch golden case, and
                                      playground(workspace=...) of a saved training session, with what they must show
  OUT/models/tiny-gpt2, cell-model/   the folder the notebook's section 5 opens, and the files its cell carries (F16)

usage: run_notebook.py OUT   (PYTHONPATH must reach the attnplay package, with its web files or $ATTNPLAY_WEB)
"""
import json
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[2]
# Appended to the executed copy only: the arrays and tokens each figure cell passed, for the browser test.
EXPECTED_CELL = """
import json as _json
def _head(a): return np.asarray(a, dtype=np.float32).tolist()
_expected = [
    {"tokens": tokens, "layer": 0, "head": 1, "weights": _head(weights[1])},
    {"tokens": words, "layer": 1, "head": 3, "weights": _head(attentions[1][0, 3].numpy())},
    {"tokens": words, "layer": 0, "head": 0, "weights": _head(attentions[0][0, 0].numpy()), "view": "model"},
]
with open(%r, "w", encoding="utf-8") as _f:
    _json.dump(_expected, _f, ensure_ascii=False)
"""


def tiny_gpt2(out):
    """models/tiny-gpt2 beside the notebook (its section 5 opens it): a 4-layer GPT-2 with random weights and a byte-level
    BPE tokenizer, from the pretrained goldens' generator. Also cell-model/: the files the cell carries (F16), which
    the browser test runs the CLI on."""
    sys.path.insert(0, str(ROOT / "tests/pretrained"))
    import hf_files as hf
    import make_models as m
    tok, v = hf.byte_level_bpe(160)
    m.write_folder(str(out / "models"), "tiny-gpt2", m.gpt2_config(64, 4, 4, 128, v, "F32"),
                   m.gpt2_weights(11, 64, 4, 4, 128, v, "F32"), tok)
    import attnplay
    from attnplay import _pretrained
    _, files, _ = _pretrained.cell_files(attnplay.load(out / "models" / "tiny-gpt2"), None, 64)
    (out / "cell-model").mkdir(exist_ok=True)
    for name, data in files.items():
        (out / "cell-model" / name).write_bytes(data)


def main(out):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tiny_gpt2(out)
    nb = nbformat.read(ROOT / "examples/attention_in_a_notebook.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(EXPECTED_CELL % str(out / "expected.json")))
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(out)}}).execute()
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "text/html" in o.get("data", {}) and "attnplay" in o["data"]["text/html"])
    nb.cells.pop()  # the export shows the example as a reader runs it
    nbformat.write(nb, out / "attention_in_a_notebook.ipynb")
    body, _ = HTMLExporter().from_notebook_node(nb)
    (out / "attention_in_a_notebook.html").write_text(body, encoding="utf-8")
    import attnplay
    hostile = ["</script><script>window.__pwned = 1</script>", "<img src=x onerror=\"window.__pwned = 2\">",
               "\"quoted\" & 'single'", "line\u2028separator\u2029para", "]]><!--", "`${window.__pwned = 3}`"]
    n = len(hostile)
    a = [[[1.0 / n] * n for _ in range(n)]]
    page = "<!doctype html><meta charset=utf-8><title>hostile</title>" + attnplay.show(a, hostile).html
    (out / "hostile.html").write_text(page, encoding="utf-8")
    (out / "hostile.json").write_text(json.dumps(hostile, ensure_ascii=False), encoding="utf-8")
    # The playground from weights PyTorch made (a golden case: its expected weights are PyTorch's) and from a workspace.
    golden = json.loads((ROOT / "tests/fixtures/golden/index.json").read_text())
    case = next(c for c in golden["cases"] if c["name"] == "tf_post_relu_sinusoidal")
    weights = attnplay.load(ROOT / "tests/fixtures/golden" / case["weights"])
    record = (ROOT / "tests/fuzz/corpus/workspace/seed_training").read_bytes()[1:]  # after the fuzzer's flag byte
    ws = attnplay._files.read_bytes(record, "seed_training")
    figs = [attnplay.playground(case["config"], weights=weights, layer=1, head=1, lang="en"),
            attnplay.playground(workspace=ws)]
    (out / "extras.html").write_text("<!doctype html><meta charset=utf-8><title>extras</title>"
                                     + "".join(f.html for f in figs), encoding="utf-8")
    (out / "extras.json").write_text(json.dumps({
        "weights": {"tokens": case["expected"]["tokens"], "layer": 1, "head": 1,
                    "weights": case["expected"]["layers"][1]["heads"][1]["weights"]},
        "workspace": {"step": ws.training["step"], "text": ws.config.get("text")}}, ensure_ascii=False), encoding="utf-8")
    size = (out / "attention_in_a_notebook.ipynb").stat().st_size
    print(f"run_notebook: {figures} figures, executed notebook {size / 2**20:.1f} MB, HTML export "
          f"{(out / 'attention_in_a_notebook.html').stat().st_size / 2**20:.1f} MB -> {out}")
    if figures != 5:
        sys.exit(f"run_notebook: expected 5 figure outputs, found {figures}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
