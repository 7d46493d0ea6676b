"""The package installs with `pip install -e .` in a fresh virtual environment, with the pinned dependencies."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_editable_install_in_a_fresh_venv(tmp_path: Path) -> None:
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    # --no-deps: installing torch and gradio again proves nothing about this project's packaging; the
    # metadata below shows the dependencies it declares are the pinned requirements.
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    probe = (
        "import json, importlib.metadata as m, sentiment_demo.core.classifier as c\n"
        "print(json.dumps({'file': c.__file__, 'requires': m.requires('sentiment-demo')}))"
    )
    result = subprocess.run(
        [python, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    report = json.loads(result.stdout)
    assert Path(report["file"]).is_relative_to(REPO_ROOT)  # editable: the checkout itself
    pinned = [
        line.split("#")[0].strip()
        for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    assert set(pinned) <= set(report["requires"])
    assert "torch==2.13.0" in report["requires"]
    assert any(r.startswith("pytest==") and 'extra == "dev"' in r for r in report["requires"])
