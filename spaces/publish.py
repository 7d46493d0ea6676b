"""Publish the app to a Hugging Face Space, and optionally the embedded model to a model repo.

    python spaces/publish.py --space OWNER/NAME --dry-run      # stage, list files, show the card
    python spaces/publish.py --space OWNER/NAME                # upload, wait for the build
    python spaces/publish.py --space OWNER/NAME --model-repo OWNER/MODEL --serve OWNER/MODEL

It stages an explicit list of files into a temporary folder (never the working tree wholesale) and treats
the repo as files: nothing here imports the app. The token comes from HF_TOKEN or the login cache and is
never printed, logged or staged.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from huggingface_hub import HfApi, SpaceCard, get_token
from huggingface_hub.errors import HfHubHTTPError

REPO_ROOT = Path(__file__).resolve().parent.parent
SPACE_CARD = REPO_ROOT / "spaces" / "README.md"
EMBEDDED_MODEL = "models/minilm-sentiment"
# The app: app.py, its requirements, every module of the package and the package's data files (found,
# so a new module is never left out of a Space); the recipe, tests and benchmarks stay behind.
APP_ROOT_FILES = ("app.py", "requirements.txt")
APP_PACKAGE = "sentiment_demo"


def app_files(root: Path = REPO_ROOT) -> list[str]:
    """The files of the app a Space runs, relative to `root`."""
    modules = sorted(
        path.relative_to(root).as_posix()
        for pattern in ("*.py", "data/*.json")  # data: the ONNX parity gate's check set
        for path in (root / APP_PACKAGE).rglob(pattern)
        if "__pycache__" not in path.parts
    )
    return [*APP_ROOT_FILES, *modules]


MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "README.md",
)
# The files the card is written from, so that a reader of the model repository can check it.
MODEL_REPO_EXTRAS = (
    "training.json",
    "evaluation.json",
    "behaviour.json",
    "baseline.json",
    "onnx_parity.json",
    "changes.md",
)
FAILED_STAGES = {"BUILD_ERROR", "RUNTIME_ERROR", "CONFIG_ERROR", "NO_APP_FILE"}
REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class PublishError(Exception):
    """A refusal or failure, with a message that says what to do."""


class HubApi(Protocol):
    """The part of huggingface_hub.HfApi this script uses (tests pass a stand-in)."""

    def whoami(self) -> dict[str, Any]: ...
    def create_repo(self, repo_id: str, **kwargs: Any) -> Any: ...
    def upload_folder(self, **kwargs: Any) -> Any: ...
    def add_space_variable(self, repo_id: str, key: str, value: str) -> Any: ...
    def add_space_secret(self, repo_id: str, key: str, value: str) -> Any: ...
    def request_space_hardware(self, repo_id: str, hardware: str) -> Any: ...
    def wait_for_space(self, repo_id: str, *, timeout: float | None = None) -> Any: ...
    def fetch_space_logs(self, repo_id: str, *, build: bool = False) -> Iterable[str]: ...


@dataclass(frozen=True)
class Plan:
    """What to publish, from the command line."""

    space: str
    serve: str | None = None
    model_repo: str | None = None
    hardware: str | None = None
    private: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    timeout: float = 1800.0


def render_card(template: str, serve: str | None) -> str:
    """The Space card; when a Hub model is served, it is listed under `models` and preloaded at build."""
    card = SpaceCard(template)
    if serve:
        card.data.models = [serve]
        card.data.preload_from_hub = [serve]
    return str(card.content)


def stage(target: Path, serve: str | None, root: Path = REPO_ROOT) -> list[Path]:
    """Copy exactly the files a Space needs into `target`; return their paths relative to it."""
    files = app_files(root)
    if not serve:
        files += [f"{EMBEDDED_MODEL}/{name}" for name in MODEL_FILES]
    for name in files:
        source = root / name
        if not source.is_file():
            raise PublishError(
                f"{name} is missing from the repo; it must be staged. Run `make model`?"
            )
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
    (target / "README.md").write_text(render_card(SPACE_CARD.read_text(encoding="utf-8"), serve))
    return sorted(Path(p) for p in ["README.md", *files])


def assert_no_secret(target: Path, secrets: Iterable[str]) -> None:
    """Refuse to upload if any staged file contains the token or a secret value."""
    values = [s for s in secrets if s and len(s) >= 8]
    for path in target.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(value.encode() in data for value in values):
                raise PublishError(
                    f"{path.relative_to(target)} contains a secret; refusing to upload."
                )


def describe(target: Path, files: Sequence[Path]) -> str:
    """The staged files with sizes, for --dry-run."""
    lines = [f"{(target / f).stat().st_size:>12,}  {f.as_posix()}" for f in files]
    total = sum((target / f).stat().st_size for f in files)
    return "\n".join([*lines, f"{total:>12,}  total, {len(files)} files"])


def explain(exc: HfHubHTTPError, action: str, plan: Plan) -> PublishError:
    """Turn a Hub refusal into a message that says what to do."""
    status = exc.response.status_code if exc.response is not None else None
    server = (exc.server_message or str(exc)).strip().splitlines()[0] if str(exc) else ""
    if status == 401:
        hint = "the token was refused: create a new one with write access and set HF_TOKEN"
    elif status == 402 or re.search(r"paid|subscription|\bPRO\b|billing", server, re.I):
        hint = (
            "the Hub requires a paid plan for a Gradio Space on this hardware. Free accounts can run "
            "Gradio Spaces on ZeroGPU: publish with --hardware zero-a10g, or add billing"
        )
    elif status == 403:
        hint = f"the token may not write to '{plan.space.split('/')[0]}': use a token with write access"
    elif status == 409:
        hint = "that name is taken (by another repo or type): choose another --space or --model-repo name"
    else:
        hint = "see the Hub's message above"
    return PublishError(f"{action} failed ({status}): {server}\n-> {hint}")


def publish(
    api: HubApi, plan: Plan, staged: Path, model_dir: Path, say: Callable[[str], None]
) -> int:
    """Create or update the repos, upload, set variables and secrets, wait; 0 when the Space runs."""
    try:
        user = api.whoami()
        say(f"logged in as {user.get('name', '?')}")
        if plan.model_repo:
            api.create_repo(plan.model_repo, repo_type="model", exist_ok=True, private=plan.private)
            api.upload_folder(
                repo_id=plan.model_repo,
                repo_type="model",
                folder_path=str(model_dir),
                allow_patterns=[*MODEL_FILES, *MODEL_REPO_EXTRAS],
                delete_patterns=["*"],
                commit_message="Publish the sentiment demo's embedded model",
            )
            say(f"model: https://huggingface.co/{plan.model_repo}")
        create: dict[str, Any] = {"repo_type": "space", "space_sdk": "gradio", "exist_ok": True}
        if plan.hardware:
            create["space_hardware"] = plan.hardware
        api.create_repo(plan.space, private=plan.private, **create)
        variables = dict(plan.variables)
        if plan.serve:
            variables["SENTIMENT_MODEL"] = plan.serve
        for key, value in variables.items():
            api.add_space_variable(plan.space, key, value)
        for key, value in plan.secrets.items():
            api.add_space_secret(plan.space, key, value)
        if plan.hardware:
            api.request_space_hardware(plan.space, plan.hardware)
        # delete_patterns removes remote files that are no longer staged, so republishing is idempotent.
        api.upload_folder(
            repo_id=plan.space,
            repo_type="space",
            folder_path=str(staged),
            delete_patterns=["*"],
            commit_message="Publish the sentiment demo",
        )
    except HfHubHTTPError as exc:
        raise explain(exc, "talking to the Hub", plan) from None
    say(f"uploaded; waiting for https://huggingface.co/spaces/{plan.space} to build")
    try:
        runtime = api.wait_for_space(plan.space, timeout=plan.timeout)
    except TimeoutError:
        say(f"the Space did not finish building within {plan.timeout:.0f} s; check it on the Hub")
        return 1
    stage_name = str(getattr(runtime.stage, "value", runtime.stage))
    if stage_name in FAILED_STAGES:
        say(
            f"the Space stopped at {stage_name}; its {'build' if 'BUILD' in stage_name else 'run'} logs:"
        )
        for line in api.fetch_space_logs(plan.space, build=stage_name == "BUILD_ERROR"):
            say(f"  | {line.rstrip()}")
        return 1
    say(f"the Space is {stage_name}: https://huggingface.co/spaces/{plan.space}")
    return 0 if stage_name == "RUNNING" else 1


def _pairs(items: Sequence[str], kind: str, environ: dict[str, str]) -> dict[str, str]:
    """KEY=VALUE, or KEY alone to read the value from the environment (keeps it out of shell history)."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            if key not in environ:
                raise PublishError(f"--{kind} {key}: no '=' and no environment variable {key}")
            value = environ[key]
        pairs[key] = value
    return pairs


def parse_plan(argv: Sequence[str] | None, environ: dict[str, str]) -> tuple[Plan, bool]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", required=True, help="OWNER/NAME of the Space")
    parser.add_argument(
        "--serve", help="Hub id of a model for the Space to serve instead of the embedded one"
    )
    parser.add_argument(
        "--model-repo", help="also publish the embedded model with its card as OWNER/NAME"
    )
    parser.add_argument(
        "--hardware", help="request Space hardware, e.g. cpu-basic, zero-a10g, t4-small"
    )
    parser.add_argument("--private", action="store_true", help="create private repos")
    parser.add_argument("--variable", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="a Space secret; KEY alone reads the value from the environment",
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="seconds to wait for the build"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="stage and show; touch nothing remote"
    )
    args = parser.parse_args(argv)
    for name, value in (
        ("--space", args.space),
        ("--model-repo", args.model_repo),
        ("--serve", args.serve),
    ):
        if value and not REPO_ID.match(value):
            parser.error(f"{name} {value!r}: expected OWNER/NAME")
    plan = Plan(
        space=args.space,
        serve=args.serve,
        model_repo=args.model_repo,
        hardware=args.hardware,
        private=args.private,
        variables=_pairs(args.variable, "variable", environ),
        secrets=_pairs(args.secret, "secret", environ),
        timeout=args.timeout,
    )
    return plan, args.dry_run


def main(
    argv: Sequence[str] | None = None,
    environ: dict[str, str] | None = None,
    api_factory: Callable[[str], HubApi] = lambda token: HfApi(token=token),
) -> int:
    environ = dict(os.environ if environ is None else environ)
    try:
        plan, dry_run = parse_plan(argv, environ)
        token = environ.get("HF_TOKEN") or (None if dry_run else get_token())
        with tempfile.TemporaryDirectory(prefix="space-bundle-") as folder:
            staged = Path(folder)
            files = stage(staged, plan.serve)
            assert_no_secret(staged, [token or "", *plan.secrets.values()])
            if dry_run:
                print(
                    f"Space {plan.space}: {len(files)} files staged (dry run, nothing uploaded)\n"
                )
                print(describe(staged, files))
                print("\n--- README.md (Space card) ---")
                print((staged / "README.md").read_text())
                extra = {"SENTIMENT_MODEL": plan.serve} if plan.serve else {}
                print("variables:", {**plan.variables, **extra} or "none")
                print("secrets:", ", ".join(plan.secrets) or "none", "(values not shown)")
                if plan.model_repo:
                    print(f"model repo {plan.model_repo}: {', '.join(MODEL_FILES)}")
                return 0
            if not token:
                raise PublishError(
                    "no Hugging Face token: set HF_TOKEN, or run `hf auth login` first"
                )
            return publish(api_factory(token), plan, staged, REPO_ROOT / EMBEDDED_MODEL, print)
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
