"""Checks run before and while a transformers model loads, each failing with the cause and the fix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import torch
from safetensors import safe_open
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from sentiment_demo.backends.torch_device import available_memory, resolve_device, resolve_dtype
from sentiment_demo.config import Settings
from sentiment_demo.errors import ModelLoadError, short_error

WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)


def check_model_folder(model: str) -> None:
    """Fail early, with the fix, when a local folder cannot hold a saved model."""
    folder = Path(model)
    if not folder.exists():
        return  # a Hub id: from_pretrained says whether it can be fetched
    if not folder.is_dir():
        raise ModelLoadError(
            f"--model {model} is a file; pass the folder that holds config.json and the weights."
        )
    if not (folder / "config.json").is_file():
        raise ModelLoadError(
            f"folder {model} has no config.json, so it is not a saved transformers model. Save "
            "one with model.save_pretrained(folder) and tokenizer.save_pretrained(folder)."
        )
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise ModelLoadError(
            f"folder {model} has config.json but no weights ({' or '.join(WEIGHT_FILES[::2])}). "
            "Copy the weights in, or save the model again with model.save_pretrained(folder)."
        )


def safetensors_shapes(model: str) -> dict[str, tuple[int, ...]]:
    """{tensor name: shape} read from the headers of a local folder's .safetensors files.

    Raises:
        ModelLoadError: a file that is not a readable safetensors file (random bytes, zeros, cut short).
    """
    shapes: dict[str, tuple[int, ...]] = {}
    for path in sorted(Path(model).glob("*.safetensors")):
        try:
            with safe_open(str(path), framework="pt") as weights:
                for name in weights.keys():  # noqa: SIM118  (safe_open has keys(), not iteration)
                    shapes[name] = tuple(weights.get_slice(name).get_shape())
        except Exception as exc:
            raise ModelLoadError(
                f"the weights file {path} is damaged or not a safetensors file "
                f"({short_error(exc)}). Copy it again, or save the model again with "
                "model.save_pretrained(folder)."
            ) from None
    return shapes


def check_weights(model: str, config: PretrainedConfig) -> None:
    """Refuse, in one line, a local folder whose weights are unreadable or do not fit config.json.

    transformers itself prints a table of every mismatched tensor and a long traceback. The shapes
    are compared with a model built from config.json on the meta device (no memory is allocated).
    """
    if not Path(model).is_dir():
        return
    stored = safetensors_shapes(model)
    if not stored:
        return
    build: Callable[[PretrainedConfig], PreTrainedModel] = (
        AutoModelForSequenceClassification.from_config
    )
    with torch.device("meta"):
        skeleton = build(config)
    expected = {name: tuple(tensor.shape) for name, tensor in skeleton.state_dict().items()}
    wrong = [
        f"{name} is {list(stored[name])} in the file but {list(shape)} by config.json"
        for name, shape in expected.items()
        if name in stored and stored[name] != shape
    ]
    if wrong:
        raise ModelLoadError(
            f"the weights of {model} do not match its config.json: {len(wrong)} tensors have "
            f"other shapes ({'; '.join(wrong[:2])}{'; ...' if len(wrong) > 2 else ''}). Put the "
            "config.json saved with these weights back, or save the model again with "
            "model.save_pretrained(folder)."
        )


def check_architecture(model: str, config: PretrainedConfig) -> None:
    """Refuse a checkpoint that is not a sequence classifier: its head would be random."""
    architectures = getattr(config, "architectures", None) or []
    if architectures and not any(a.endswith("ForSequenceClassification") for a in architectures):
        raise ModelLoadError(
            f"{model} is a {', '.join(architectures)}, not a sequence classifier: it has no "
            "trained classification head, so every answer would be random. Serve a model "
            "fine-tuned for text classification (its config.json lists an architecture ending in "
            "ForSequenceClassification), or fine-tune this one first."
        )


def weights_bytes(model: str) -> int:
    """Bytes of a local folder's weight files (0 for a Hub id: unknown before download)."""
    folder = Path(model)
    if not folder.is_dir():
        return 0
    return sum(
        path.stat().st_size
        for path in folder.iterdir()
        if path.suffix in {".safetensors", ".bin"} and path.is_file()
    )


def memory_needed(model: str, config: PretrainedConfig, dtype: torch.dtype) -> int:
    """Bytes a local model's weights take in `dtype` (0 for a Hub id: unknown before download)."""
    stored = weights_bytes(model)
    if not stored:
        return 0
    stored_dtype = getattr(config, "dtype", None) or torch.float32
    if isinstance(stored_dtype, str):
        stored_dtype = getattr(torch, stored_dtype, torch.float32)
    return stored * dtype.itemsize // max(1, stored_dtype.itemsize)


def check_memory(model: str, config: PretrainedConfig, dtype: torch.dtype, device: str) -> None:
    """Refuse, before loading, a local model whose weights cannot fit in the memory left."""
    needed = memory_needed(model, config, dtype)
    free = available_memory(device)
    if needed > free:
        raise ModelLoadError(
            f"{model} needs about {needed / 2**30:.1f} GiB for its weights in "
            f"{str(dtype).removeprefix('torch.')} on {device}, but only {free / 2**30:.1f} GiB is "
            "free. Serve a smaller model, use --dtype bfloat16 (half of float32), or a machine with "
            "more memory."
        )


def check_models_fit(models: Sequence[str], settings: Settings) -> None:
    """Refuse, before loading any, a set of local models whose weights together exceed free memory.

    Models from the Hub (not yet downloaded) are checked one by one as they load.
    """
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    needs: dict[str, int] = {}
    for model in models:
        if Path(model).is_dir() and (Path(model) / "config.json").is_file():
            needs[model] = memory_needed(model, AutoConfig.from_pretrained(model), dtype)
    free = available_memory(device)
    if len(needs) > 1 and sum(needs.values()) > free:
        each = ", ".join(f"{Path(m).name} {n / 2**30:.1f} GiB" for m, n in needs.items())
        raise ModelLoadError(
            f"these models need about {sum(needs.values()) / 2**30:.1f} GiB together ({each}) in "
            f"{str(dtype).removeprefix('torch.')} on {device}, but only {free / 2**30:.1f} GiB is "
            "free. Serve fewer or smaller models, or use --dtype bfloat16."
        )


def check_tokenizer(
    model_name: str, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel
) -> None:
    """Refuse a tokenizer with no vocabulary, or one with ids beyond the model's embedding table.

    transformers builds an empty tokenizer, without complaint, for a folder that lacks the tokenizer
    files: every word would become the unknown token. A tokenizer from another model crashes on
    every text that has an id the embedding table does not hold.
    """
    vocabulary = len(tokenizer)
    if vocabulary <= len(tokenizer.all_special_tokens) + 1:
        raise ModelLoadError(
            f"the tokenizer of {model_name} could not be loaded: it has no vocabulary (only "
            f"{vocabulary} special tokens), so every word would read as unknown. The folder needs "
            "tokenizer.json or its tokenizer's vocabulary files, with tokenizer_config.json; save "
            "them with tokenizer.save_pretrained(folder)."
        )
    rows = cast("torch.nn.Embedding", model.get_input_embeddings()).num_embeddings
    if vocabulary > rows:
        raise ModelLoadError(
            f"the tokenizer of {model_name} has {vocabulary:,} tokens but the model's embedding "
            f"table has {rows:,} rows: the tokenizer belongs to another model. Save this model's "
            "own tokenizer into the folder."
        )
