"""Settings: defaults, SENTIMENT_* variables, flags over variables, and clear failures."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from sentiment_demo.config import DEFAULT_MODEL, Settings, env_name, parse_settings
from tests.conftest import REPO_ROOT


def test_settings_defaults_serve_the_embedded_model_on_loopback() -> None:
    settings = Settings()
    assert Path(settings.model) == DEFAULT_MODEL
    # Empty host and port 0 leave the address to Gradio: 127.0.0.1:7860, or GRADIO_SERVER_* on Spaces.
    assert (settings.host, settings.port, settings.device) == ("", 0, "auto")


def test_settings_read_environment_variables() -> None:
    settings = Settings.from_env(
        {
            "SENTIMENT_MAX_BATCH_SIZE": "16",
            "SENTIMENT_SHARE": "yes",
            "SENTIMENT_DEVICE": "cpu",
            "UNRELATED": "x",
        }
    )
    assert (settings.max_batch_size, settings.share, settings.device) == (16, True, "cpu")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SENTIMENT_MAX_BATCH_SIZE": "lots"}, "SENTIMENT_MAX_BATCH_SIZE='lots'"),
        ({"SENTIMENT_MAX_BATCH_SIZE": "0"}, "must be at least 1"),
        ({"SENTIMENT_DEVICE": "tpu"}, "must be one of auto, cpu, cuda, mps"),
        ({"SENTIMENT_SHARE": "maybe"}, "expected true/false"),
    ],
)
def test_settings_fail_naming_the_variable_and_value(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings.from_env(environ)


def test_flags_win_over_environment_variables() -> None:
    settings = parse_settings(
        ["--max-batch-size", "8", "--no-warmup", "--queue-size", "5"],
        {"SENTIMENT_MAX_BATCH_SIZE": "64", "SENTIMENT_PORT": "9000"},
    )
    assert (settings.max_batch_size, settings.warmup, settings.queue_size, settings.port) == (
        8,
        False,
        5,
        9000,
    )


def test_several_models_come_from_repeated_flags_or_a_comma_list() -> None:
    flags = parse_settings(["--model", "models/a", "--model", "vader"], {})
    assert flags.models == ("models/a", "vader")
    variable = parse_settings([], {"SENTIMENT_MODEL": "org/model-one, vader"})
    assert variable.models == ("org/model-one", "vader")
    assert parse_settings(["--model", "x"], {"SENTIMENT_MODEL": "a,b"}).models == ("x",)
    assert Settings().models == (str(DEFAULT_MODEL),)


def test_bad_flag_value_exits_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--port", "eighty"], {})
    assert "--port eighty" in capsys.readouterr().err


def test_auth_accepts_a_pair_or_a_file(tmp_path: Path) -> None:
    assert Settings(auth="ann:secret").auth_credentials() == [("ann", "secret")]
    users = tmp_path / "users.txt"
    users.write_text("ann:one\n\nbob:two:with-colon\n")
    assert Settings(auth=str(users)).auth_credentials() == [
        ("ann", "one"),
        ("bob", "two:with-colon"),
    ]
    assert Settings().auth_credentials() is None
    with pytest.raises(ValueError, match="expected user:password"):
        Settings(auth="no-colon").auth_credentials()


def test_help_lists_every_setting_and_its_variable() -> None:
    result = subprocess.run(
        [sys.executable, "app.py", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    for spec in fields(Settings):
        assert "--" + spec.name.replace("_", "-") in result.stdout
        assert env_name(spec.name) in result.stdout.replace("\n", "").replace(" ", "")


def test_readme_documents_every_setting() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    for spec in fields(Settings):
        row = f"| `--{spec.name.replace('_', '-')}` | `{env_name(spec.name)}` |"
        assert row in readme, f"README's configuration table lacks {spec.name}"
