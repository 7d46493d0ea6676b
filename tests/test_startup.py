"""Start-up errors a person can act on: each names the cause and the fix, in one line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment_demo.backends.checks import check_models_fit
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import REPO_ROOT, Settings
from sentiment_demo.errors import ModelLoadError

TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "special_tokens_map.json",
)


def _load(folder: Path) -> None:
    load_classifier(
        Settings(model=str(folder), device="cpu", dtype="float32", num_threads=1, warmup=False)
    )


def _copy(tiny_model_dir: Path, tmp_path: Path, without: tuple[str, ...] = ()) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    for name in without:
        (folder / name).unlink(missing_ok=True)
    return folder


def _save_tiny(folder: Path, model_class: str, config_class: str, **config: object) -> Path:
    import transformers

    model = getattr(transformers, model_class)(getattr(transformers, config_class)(**config))
    model.save_pretrained(folder)
    return folder


BERT_SIZES = {
    "vocab_size": 40,
    "hidden_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 32,
}


def test_a_folder_without_weights_says_so(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path, without=("model.safetensors",))
    with pytest.raises(ModelLoadError, match=r"has config.json but no weights.*save_pretrained"):
        _load(folder)


def test_a_folder_without_config_says_so(tmp_path: Path) -> None:
    (tmp_path / "weights.txt").write_text("not a model")
    with pytest.raises(ModelLoadError, match=r"no config.json, so it is not a saved transformers"):
        _load(tmp_path)


def test_a_bare_encoder_is_refused_before_it_answers_at_random(tmp_path: Path) -> None:
    folder = _save_tiny(tmp_path / "encoder", "BertModel", "BertConfig", **BERT_SIZES)
    with pytest.raises(ModelLoadError, match=r"is a BertModel, not a sequence classifier"):
        _load(folder)


def test_a_tokenizer_from_another_model_is_refused(tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import BertTokenizer

    folder = _copy(tiny_model_dir, tmp_path, without=TOKENIZER_FILES)
    words = [f"word{i}" for i in range(100)]  # more ids than the model's 31 embedding rows
    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])}
    BertTokenizer(vocab=vocab).save_pretrained(folder)
    with pytest.raises(ModelLoadError, match=r"has 105 tokens but the model's embedding table"):
        _load(folder)


def test_a_causal_language_model_is_refused(tmp_path: Path) -> None:
    folder = _save_tiny(
        tmp_path / "gpt2",
        "GPT2LMHeadModel",
        "GPT2Config",
        n_embd=32,
        n_layer=1,
        n_head=2,
        vocab_size=40,
    )
    with pytest.raises(ModelLoadError, match=r"is a GPT2LMHeadModel, not a sequence classifier"):
        _load(folder)


def test_an_encoder_with_no_architecture_listed_is_caught_by_its_missing_head(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = _save_tiny(tmp_path / "encoder", "BertModel", "BertConfig", **BERT_SIZES)
    config = json.loads((folder / "config.json").read_text())
    config.pop("architectures", None)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"lacks weights for .*classifier.*would be random"):
        _load(folder)


def test_a_missing_tokenizer_names_the_files_it_needs(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path, without=TOKENIZER_FILES)
    with pytest.raises(
        ModelLoadError, match=r"tokenizer of .* could not be loaded.*tokenizer.json"
    ):
        _load(folder)


def test_a_model_too_big_for_memory_is_refused_before_loading(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    folder = _copy(tiny_model_dir, tmp_path)
    # A sparse file: it claims 1 TiB without using the disk, and is never read.
    with (folder / "model.safetensors").open("r+b") as weights:
        weights.truncate(2**40)
    with pytest.raises(ModelLoadError, match=r"needs about 1024.0 GiB .* only .* GiB is free"):
        _load(folder)


def _sparse_copy(tiny_model_dir: Path, folder: Path, size: int) -> Path:
    shutil.copytree(tiny_model_dir, folder)
    with (folder / "model.safetensors").open("r+b") as weights:
        weights.truncate(size)  # sparse: claims the size without using the disk, never read
    return folder


def test_models_that_fit_alone_but_not_together_are_refused_before_loading(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    import psutil

    # float32 on disk and served in float32: each needs 60% of the free memory, both 120%.
    size = int(psutil.virtual_memory().available * 0.6)
    first = _sparse_copy(tiny_model_dir, tmp_path / "first", size)
    second = _sparse_copy(tiny_model_dir, tmp_path / "second", size)
    settings = Settings(device="cpu", dtype="float32")
    check_models_fit([str(first)], settings)  # one alone fits
    with pytest.raises(ModelLoadError, match=r"need about .* GiB together \(first .* GiB, second"):
        check_models_fit([str(first), str(second), "vader"], settings)


@pytest.mark.slow
def test_app_exits_with_one_line_naming_the_cause(tiny_model_dir: Path, tmp_path: Path) -> None:
    folder = _copy(tiny_model_dir, tmp_path, without=("model.safetensors",))
    done = subprocess.run(
        [sys.executable, "app.py", "--model", str(folder)],
        cwd=REPO_ROOT,
        env=os.environ | {"SENTIMENT_WARMUP": "false"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, done.stderr
    assert "has config.json but no weights" in errors[0]
    assert "Traceback" not in done.stderr
