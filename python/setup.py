# attnplay's Python package: pyproject.toml holds its metadata; this adds one step. The package carries the web build
# (attnplay/web: the files a notebook cell inlines), taken from $ATTNPLAY_WEB or the checkout's build/web when the
# package is built: so `pip install ./python` after `./build.sh web` works as the wheel of `./build.sh package` does.
# The list of files is _html.py's _FILES (read here without importing the package).
import ast
import os
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent


def web_files():
    tree = ast.parse((HERE / "attnplay" / "_html.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "_FILES" for t in node.targets):
            return ast.literal_eval(node.value)
    raise RuntimeError("attnplay/_html.py has no _FILES")


def copy_web():
    """The web build into attnplay/web (kept if already there and no other build is named)."""
    dst = HERE / "attnplay" / "web"
    env = os.environ.get("ATTNPLAY_WEB")
    src = Path(env) if env else HERE.parent / "build" / "web"
    files = web_files()
    if not env and all((dst / f).is_file() for f in files):
        return
    missing = [f for f in files if not (src / f).is_file()]
    if missing:
        raise RuntimeError(f"attnplay: the web build is not at {src} (missing {', '.join(missing)}): run ./build.sh web "
                           "in the checkout first, or set ATTNPLAY_WEB to a web build")
    for f in files:
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / f, dst / f)


class BuildPyWithWeb(build_py):
    def run(self):
        copy_web()
        super().run()


class SdistWithWeb(sdist):
    def run(self):
        copy_web()
        super().run()


setup(cmdclass={"build_py": BuildPyWithWeb, "sdist": SdistWithWeb})
