"""spaces/publish.py: the staged bundle, the Space card, the upload path, and a bundle that boots alone."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import httpx2
import pytest
from gradio_client import Client
from huggingface_hub import SpaceCard
from huggingface_hub.errors import HfHubHTTPError

from tests.conftest import REPO_ROOT, app_process, free_port

TOKEN = "hf_TestTokenThatMustNeverLeak1234567890"


def _load_publish() -> ModuleType:
    spec = importlib.util.spec_from_file_location("publish", REPO_ROOT / "spaces" / "publish.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["publish"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


publish = _load_publish()


def _gradio_pin() -> str:
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        if line.startswith(("gradio==", "gradio[")):
            return line.split("==")[1].strip()
    raise AssertionError("requirements.txt does not pin gradio")


def _package_modules() -> set[str]:
    """Every module and data file of the app's package that git tracks: a Space needs them all."""
    listed = subprocess.run(
        [
            "git",
            "ls-files",
            "sentiment_demo/*.py",
            "sentiment_demo/**/*.py",
            "sentiment_demo/**/data/*.json",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return set(listed)


APP_BUNDLE = {"README.md", "app.py", "requirements.txt", *_package_modules()}
MODEL_BUNDLE = {
    f"models/minilm-sentiment/{name}"
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "README.md",
    )
}


def _staged_files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_bundle_is_exactly_the_app_and_the_embedded_model(tmp_path: Path) -> None:
    listed = publish.stage(tmp_path, serve=None)
    assert _staged_files(tmp_path) == APP_BUNDLE | MODEL_BUNDLE
    assert {p.as_posix() for p in listed} == APP_BUNDLE | MODEL_BUNDLE


def test_bundle_serving_a_hub_model_leaves_the_embedded_model_out(tmp_path: Path) -> None:
    publish.stage(tmp_path, serve="someone/sst2-model")
    assert _staged_files(tmp_path) == APP_BUNDLE
    card = SpaceCard.load(tmp_path / "README.md")
    assert card.data.models == ["someone/sst2-model"]
    assert card.data.preload_from_hub == ["someone/sst2-model"]


def test_card_front_matter_parses_and_matches_the_gradio_pin() -> None:
    card = SpaceCard.load(REPO_ROOT / "spaces" / "README.md")
    assert card.data.sdk == "gradio"
    assert card.data.sdk_version == _gradio_pin()
    assert card.data.python_version == "3.12"
    assert card.data.app_file == "app.py"
    for key in (
        "title",
        "emoji",
        "colorFrom",
        "colorTo",
        "short_description",
        "license",
        "suggested_hardware",
    ):
        assert card.data.get(key), key
    assert len(card.data.short_description) <= 60  # the Hub refuses longer ones


def test_dry_run_lists_files_and_card_and_never_shows_the_token(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = publish.main(
        ["--space", "me/sentiment", "--dry-run", "--secret", "API_KEY=supersecretvalue"],
        environ={"HF_TOKEN": TOKEN},
        api_factory=lambda token: pytest.fail("a dry run must not touch the Hub"),
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "app.py" in out
    assert "model.safetensors" in out
    assert "sdk_version: " + _gradio_pin() in out
    assert "API_KEY" in out
    assert TOKEN not in out
    assert "supersecretvalue" not in out


def test_a_staged_file_holding_the_token_stops_the_upload(tmp_path: Path) -> None:
    publish.stage(tmp_path, serve=None)
    (tmp_path / "sentiment_demo" / "config.py").write_text(f"TOKEN = '{TOKEN}'\n")
    with pytest.raises(publish.PublishError, match="contains a secret"):
        publish.assert_no_secret(tmp_path, [TOKEN])


class FakeHub:
    """Stands in for huggingface_hub.HfApi: the Hub is unreachable from these machines.

    It records every call and plays back a final Space stage and build logs.
    """

    def __init__(self, stage: str = "RUNNING", refuse: HfHubHTTPError | None = None) -> None:
        self.stage = stage
        self.refuse = refuse
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.uploaded: dict[str, set[str]] = {}

    def _record(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append((name, args, kwargs))

    def whoami(self) -> dict[str, Any]:
        self._record("whoami")
        return {"name": "me"}

    def create_repo(self, repo_id: str, **kwargs: Any) -> None:
        self._record("create_repo", repo_id, **kwargs)
        if self.refuse is not None and kwargs.get("repo_type") == "space":
            raise self.refuse

    def upload_folder(self, **kwargs: Any) -> None:
        self._record("upload_folder", **kwargs)
        folder = Path(kwargs["folder_path"])
        files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
        if kwargs.get("allow_patterns"):
            files = {f for f in files if f in kwargs["allow_patterns"]}
        self.uploaded[kwargs["repo_id"]] = files

    def add_space_variable(self, repo_id: str, key: str, value: str) -> None:
        self._record("add_space_variable", repo_id, key, value)

    def add_space_secret(self, repo_id: str, key: str, value: str) -> None:
        self._record("add_space_secret", repo_id, key, value)

    def request_space_hardware(self, repo_id: str, hardware: str) -> None:
        self._record("request_space_hardware", repo_id, hardware)

    def wait_for_space(self, repo_id: str, *, timeout: float | None = None) -> SimpleNamespace:
        self._record("wait_for_space", repo_id, timeout=timeout)
        return SimpleNamespace(stage=self.stage)

    def fetch_space_logs(self, repo_id: str, *, build: bool = False) -> Iterable[str]:
        self._record("fetch_space_logs", repo_id, build=build)
        return ["Collecting torch==2.13.0", "ERROR: No matching distribution found for torch"]


def _run(hub: FakeHub, argv: list[str], environ: dict[str, str] | None = None) -> int:
    return publish.main(
        argv, environ={"HF_TOKEN": TOKEN, **(environ or {})}, api_factory=lambda t: hub
    )


def test_publish_creates_uploads_sets_variables_and_waits(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub()
    code = _run(
        hub,
        [
            "--space",
            "me/sentiment",
            "--variable",
            "SENTIMENT_MAX_BATCH_SIZE=16",
            "--secret",
            "WEBHOOK",
            "--hardware",
            "zero-a10g",
        ],
        {"WEBHOOK": "hook-value-123"},
    )
    assert code == 0
    names = [c[0] for c in hub.calls]
    assert names == [
        "whoami",
        "create_repo",
        "add_space_variable",
        "add_space_secret",
        "request_space_hardware",
        "upload_folder",
        "wait_for_space",
    ]
    create = hub.calls[1]
    assert create[1] == ("me/sentiment",)
    expected = {
        "repo_type": "space",
        "space_sdk": "gradio",
        "exist_ok": True,
        "space_hardware": "zero-a10g",
    }
    assert create[2].items() >= expected.items()
    assert (
        "add_space_variable",
        ("me/sentiment", "SENTIMENT_MAX_BATCH_SIZE", "16"),
        {},
    ) in hub.calls
    assert ("add_space_secret", ("me/sentiment", "WEBHOOK", "hook-value-123"), {}) in hub.calls
    upload = hub.calls[5][2]
    assert upload["delete_patterns"] == ["*"]  # files no longer staged are removed remotely
    assert hub.uploaded["me/sentiment"] == APP_BUNDLE | MODEL_BUNDLE
    out = capsys.readouterr().out
    assert "RUNNING" in out
    assert TOKEN not in out
    assert "hook-value-123" not in out


def test_publish_model_repo_and_point_the_space_at_it() -> None:
    hub = FakeHub()
    code = _run(
        hub, ["--space", "me/sentiment", "--model-repo", "me/minilm-rt", "--serve", "me/minilm-rt"]
    )
    assert code == 0
    assert hub.uploaded["me/minilm-rt"] >= {"model.safetensors", "config.json", "README.md"}
    assert hub.uploaded["me/sentiment"] == APP_BUNDLE
    assert (
        "add_space_variable",
        ("me/sentiment", "SENTIMENT_MODEL", "me/minilm-rt"),
        {},
    ) in hub.calls


def test_publish_prints_build_logs_and_fails_when_the_build_fails(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(stage="BUILD_ERROR")
    assert _run(hub, ["--space", "me/sentiment"]) == 1
    assert ("fetch_space_logs", ("me/sentiment",), {"build": True}) in hub.calls
    assert "No matching distribution found for torch" in capsys.readouterr().out


def _http_error(status: int, message: str) -> HfHubHTTPError:
    request = httpx2.Request("POST", "https://huggingface.co/api/repos/create")
    return HfHubHTTPError(
        message, response=httpx2.Response(status, request=request), server_message=message
    )


@pytest.mark.parametrize(
    ("status", "message", "advice"),
    [
        (402, "Gradio Spaces on this hardware require a paid plan", "--hardware zero-a10g"),
        (401, "Invalid credentials", "set HF_TOKEN"),
        (409, "You already created this space repo", "choose another --space"),
    ],
)
def test_hub_refusals_end_with_what_to_do(
    capsys: pytest.CaptureFixture[str], status: int, message: str, advice: str
) -> None:
    hub = FakeHub(refuse=_http_error(status, message))
    assert _run(hub, ["--space", "me/sentiment"]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert advice in err
    assert TOKEN not in err


def test_no_token_is_a_clear_refusal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(publish, "get_token", lambda: None)
    code = publish.main(["--space", "me/sentiment"], environ={}, api_factory=lambda t: FakeHub())
    assert code == 2
    assert "set HF_TOKEN" in capsys.readouterr().err


def _wheelhouse(requirements: Path) -> Path:
    """A folder of wheels for everything `requirements` resolves to, dependencies included.

    `pip download` resolves the file from the package index as a Space's build does; the folder is
    kept under .cache/, named for the file's hash, so later runs install without the network.
    """
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    folder = REPO_ROOT / ".cache" / "bundle-wheels" / key
    if not (folder / "complete").exists():
        pip = [sys.executable, "-m", "pip", "download", "--quiet", "-r", str(requirements)]
        download = subprocess.run(
            [*pip, "--dest", str(folder)],
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert download.returncode == 0, download.stdout + download.stderr
        (folder / "complete").touch()
    return folder


@pytest.mark.slow
def test_staged_bundle_boots_alone_in_a_fresh_virtualenv(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    publish.stage(bundle, serve=None)
    venv = tmp_path / "venv"
    # No pip of its own (ensurepip takes seconds): this process's pip installs into it through
    # --python. The install resolves requirements.txt alone, dependencies included, from wheels
    # downloaded for it (--no-index: nothing else on the machine can fill a gap), so a package
    # missing from the file fails the boot below. --no-compile leaves the .pyc files to the first
    # import instead of compiling every module of torch, transformers and gradio up front.
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    python = venv / "bin" / "python"
    wheels = _wheelhouse(bundle / "requirements.txt")
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    install = subprocess.run(
        [*pip, "--no-compile", "--no-index", "--find-links", str(wheels), "-r", "requirements.txt"],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env |= {"GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1", "SENTIMENT_NUM_THREADS": "1"}
    url = f"http://127.0.0.1:{port}"
    with app_process([str(python), "app.py"], bundle, env, tmp_path / "app.log", url):
        label, notice = Client(url, verbose=False).predict(
            "A gorgeous, heartfelt film. I loved it.", api_name="/classify"
        )
    assert label["label"] == "positive"
    assert notice == ""


def test_bundle_holds_every_runtime_module_of_the_package(tmp_path: Path) -> None:
    modules = {
        p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "sentiment_demo").rglob("*.py")
    }
    publish.stage(tmp_path, serve=None)
    staged = _staged_files(tmp_path)
    assert modules <= staged
    # The recipe (Trainer, datasets) is not part of the app: the Space never stages it.
    assert not any(path.startswith("recipe/") for path in staged)
