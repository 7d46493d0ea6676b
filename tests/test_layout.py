"""The README's Layout section names every module, and the core stays free of torch and Gradio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _layout_section() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index("## Layout") :]


def test_layout_section_lists_every_module() -> None:
    section = _layout_section()
    modules = sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for path in (REPO_ROOT / "sentiment_demo").rglob("*.py")
        if "__pycache__" not in path.parts
    )
    missing = [module for module in modules if f"\n{module} " not in section]
    assert not missing, f"README.md's Layout section does not list: {', '.join(missing)}"


def test_layout_section_lists_no_module_that_is_gone() -> None:
    listed = [
        line.split()[0]
        for line in _layout_section().splitlines()
        if line.startswith(("sentiment_demo/", "app.py"))
    ]
    gone = [path for path in listed if not (REPO_ROOT / path).exists()]
    assert not gone, f"README.md's Layout section lists modules that do not exist: {gone}"


def test_core_web_inputs_and_evaluation_import_neither_torch_nor_gradio() -> None:
    packages = ["core", "web", "inputs", "evaluation", "backends"]
    modules = [
        f"sentiment_demo.{path.relative_to(REPO_ROOT / 'sentiment_demo').with_suffix('').as_posix().replace('/', '.')}"
        for package in packages
        for path in (REPO_ROOT / "sentiment_demo" / package).glob("*.py")
    ]
    modules = [m.removesuffix(".__init__") for m in modules]
    heavy_backends = {
        "sentiment_demo.backends.transformers_backend",
        "sentiment_demo.backends.checks",
        "sentiment_demo.backends.token_limit",
        "sentiment_demo.backends.torch_device",
        "sentiment_demo.backends.unpadded",
        "sentiment_demo.backends.token_batches",
        "sentiment_demo.backends.onnx_backend",
        "sentiment_demo.backends.onnx_export",
    }
    light = [m for m in modules if m not in heavy_backends]
    code = (
        "import importlib, sys\n"
        f"for name in {light!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'gradio') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
