"""A notebook cell's output: one self-contained HTML fragment (an <iframe srcdoc>) holding the app, its fonts and the
data, so the cell works offline, after the notebook is saved and reopened, and in `jupyter nbconvert --to html`.

Layout of the iframe's document (web/attnplay.mjs mountInline reads it):
  <meta CSP>                       scripts only by their SHA-256 (no eval, no other script), nothing fetched
  <script type="application/json" id="attnplay-assets">   gzip'd base64 app wasm and fonts (data, never run)
  <script type="application/json" id="attnplay-payload">  query, and the file to open (tokens live here, as data)
  <script>attnplay-app.js</script> <script type="module">attnplay.mjs; mountInline()</script>
The iframe is sandboxed (allow-scripts, no allow-same-origin): the app cannot reach the notebook's page or cookies.
"""
import base64
import gzip
import hashlib
import html
import json
import os
import re
from pathlib import Path

from ._arrays import AttnplayError

# The web build a package carries (python/setup.py copies these into attnplay/web when it is built).
_FILES = ("attnplay-app.js", "attnplay-app.wasm", "attnplay.mjs", "views.json", "fonts/attnplay-latin.ttf", "fonts/attnplay-cjk.ttf",
          "attnplay-core.mjs", "attnplay-core.wasm", "model_worker.mjs")
_cache = {}


def web_dir():
    """Where the built web files are: inside the package (a wheel, ./build.sh package), $ATTNPLAY_WEB, or the
    checkout's build/web (an editable install after ./build.sh web)."""
    here = Path(__file__).resolve().parent
    candidates = [here / "web"]
    if os.environ.get("ATTNPLAY_WEB"):
        candidates.insert(0, Path(os.environ["ATTNPLAY_WEB"]))
    candidates.append(here.parent.parent / "build" / "web")
    for d in candidates:
        if all((d / f).is_file() for f in _FILES):
            return d
    raise AttnplayError("attnplay: the built web files are not in this package (looked in "
                        + ", ".join(str(c) for c in candidates)
                        + "); install a wheel made by ./build.sh package, run ./build.sh web in the checkout, or set "
                        "ATTNPLAY_WEB to a web build")


def _asset(name, packed):
    """A web file as text (packed=False) or gzip'd base64 (packed=True), cached by path and mtime."""
    p = web_dir() / name
    key = (str(p), p.stat().st_mtime_ns, packed)
    if key not in _cache:
        data = p.read_bytes()
        _cache[key] = (base64.b64encode(gzip.compress(data, 9, mtime=0)).decode("ascii") if packed
                       else data.decode("utf-8"))
    return _cache[key]


def _json_data(obj):
    """JSON for a <script type="application/json"> element: nothing in it can end the element or start markup."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _sha256(text):
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def worker_script():
    """The page's model worker (model_worker.mjs over attnplay-core.mjs) as one classic script, for a cell that
    carries a model: a sandboxed frame (an opaque origin) cannot start module workers, but runs a classic one from a
    blob. The two modules become two scopes of one async function: the engine's returns createCore, which the
    worker's code then uses; import.meta.url (the engine's own URL, never fetched once its bytes are given) becomes
    a fixed file: URL (a blob: URL is no base for another URL)."""
    core, worker = _asset("attnplay-core.mjs", False), _asset("model_worker.mjs", False)
    core = (core.replace("import.meta.url", "'file:///attnplay/'").replace("export default attnplayCoreModule;", "")
            .replace("export async function createCore", "async function createCore"))
    worker = worker.replace("import { createCore } from './attnplay-core.mjs';", "")
    for name, text in (("attnplay-core.mjs", core), ("model_worker.mjs", worker)):
        if (re.search(r"(^|[;}\s])(export\s+(default|async|function|const|let|var|class|\{)|import\s+(\{|\*|[\w$]+\s+from|['\"]))",
                      text) or "import.meta" in text):
            raise AttnplayError(f"attnplay: {name} has an import or export this build cannot run as a classic worker")
    return ("self.attnplayInline = true;\n(async () => {\nconst createCore = await (async () => {\n" + core +
            "\nreturn createCore;\n})();\n" + worker + "\n})();\n")


def document(payload, cjk, title):
    """The iframe's whole HTML document."""
    app_js = _asset("attnplay-app.js", False)
    module = _asset("attnplay.mjs", False) + "\nmountInline().catch((e) => console.error(`attnplay: ${e.message}`));\n"
    for name, text in (("attnplay-app.js", app_js), ("attnplay.mjs", module)):
        if "</script" in text.lower() or "<!--" in text:
            raise AttnplayError(f"attnplay: {name} contains text that would end its <script> element")
    style = "html,body{margin:0;height:100%;overflow:hidden;background:#f0f0f0}#app{width:100%;height:100%}"
    assets = {"wasm": _asset("attnplay-app.wasm", True), "latin": _asset("fonts/attnplay-latin.ttf", True),
              "cjk": _asset("fonts/attnplay-cjk.ttf", True) if cjk else None}
    workers = ""
    if payload.get("model"):  # the model worker and its engine (mountInline starts it from a blob)
        key = ("worker_script", str(web_dir()), (web_dir() / "attnplay-core.mjs").stat().st_mtime_ns,
               (web_dir() / "model_worker.mjs").stat().st_mtime_ns)
        if key not in _cache:
            _cache[key] = base64.b64encode(gzip.compress(worker_script().encode("utf-8"), 9, mtime=0)).decode("ascii")
        assets["worker"], assets["core_wasm"] = _cache[key], _asset("attnplay-core.wasm", True)
        workers = "worker-src blob:; "
    csp = ("default-src 'none'; " + workers + "script-src " + _sha256(app_js) + " " + _sha256(module) + " 'wasm-unsafe-eval'; "
           "style-src " + _sha256(style) + "; img-src data: blob:; object-src 'none'; base-uri 'none'; form-action 'none'")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body class=\"embed\"><div id=\"app\"></div>"
            f"<script type=\"application/json\" id=\"attnplay-assets\">{_json_data(assets)}</script>"
            f"<script type=\"application/json\" id=\"attnplay-payload\">{_json_data(payload)}</script>"
            f"<script>{app_js}</script><script type=\"module\">{module}</script></body></html>")


def iframe(payload, cjk, title, height):
    """The cell's HTML: the document in a sandboxed iframe as wide as the cell."""
    if not isinstance(height, int) or isinstance(height, bool) or not 200 <= height <= 4000:
        raise AttnplayError(f"height: expected whole pixels from 200 to 4000, got {height!r}")
    doc = document(payload, cjk, title)
    return (f"<iframe class=\"attnplay\" title=\"{_ascii(html.escape(title))}\" sandbox=\"allow-scripts allow-downloads\" "
            f"style=\"width:100%;height:{height}px;border:0;display:block\" "
            f"srcdoc=\"{_ascii(html.escape(doc, quote=True))}\"></iframe>")


def _ascii(text):
    """Non-ASCII as character references: the attribute then reads the same whatever encoding the host page is
    decoded with (a notebook's HTML export, a page without a charset)."""
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii")
