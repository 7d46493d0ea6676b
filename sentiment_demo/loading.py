"""Loads a transformers text classifier once and runs it in batches; with unpadded.py, all that imports torch.

It resolves device, precision and thread count, then does the pipeline's three steps itself (tokenize,
forward, postprocess) so that it can report truncation and skip padding: BERT-family models run
unpadded, others pad each sub-batch only to its own longest text. Tensors never leave this module:
callers get engine.Prediction values.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PretrainedConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from sentiment_demo.config import Settings
from sentiment_demo.engine import PROBE_TEXT, LabelScore, Prediction, short_error
from sentiment_demo.errors import ModelLoadError
from sentiment_demo.schemes import Scheme, scheme_for
from sentiment_demo.unpadded import UnpaddedBertForward

logger = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
WARMUP_TEXTS = (
    "A quiet, lovely film.",
    "The plot goes nowhere, the jokes fall flat, and two hours have never felt longer than this.",
)
# Texts of different lengths in one batch: the unpadded forward must match the padded one on them.
PARITY_TEXTS = (
    *WARMUP_TEXTS,
    "Fine.",
    "Not bad at all. I expected to hate it and didn't, although the middle act drags a little and "
    "the villain is a cardboard cut-out who exists only to explain the plot to everybody else.",
)


@dataclass(frozen=True)
class ModelInfo:
    """What was loaded and how, for the log, the model panel and the API."""

    model: str
    device: str
    dtype: str
    labels: tuple[str, ...]
    max_tokens: int
    num_parameters: int
    num_threads: int
    load_seconds: float
    warmup_seconds: float
    model_card: str | None
    forward: str = "padded"
    scheme: Scheme = "single_label"
    max_tokens_reason: str = ""
    architecture: str = ""
    memory_bytes: int = 0

    @property
    def is_local(self) -> bool:
        """True when the model came from a folder rather than the Hub."""
        return Path(self.model).is_dir()


# Tokenizers that state no limit report transformers' VERY_LARGE_INTEGER (1e30); no real limit is this big.
UNSTATED_LIMIT = 10**9
WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
# Used only for models with neither absolute positions nor a stated limit: a memory bound, not a cap.
FALLBACK_MAX_TOKENS = 512


@dataclass(frozen=True)
class PositionCapacity:
    """How many tokens a model's absolute position embeddings can number."""

    tokens: int
    rows: int
    reserved: int


def position_capacity(model: PreTrainedModel) -> PositionCapacity | None:
    """The tokens a model's learned absolute position table can hold, or None when it has none.

    RoBERTa-style models (RoBERTa, XLM-R, CamemBERT, Longformer, MPNet, ...) number positions from
    `padding_idx + 1`, so their table's first rows are never read as positions: 514 rows hold 512
    tokens. Models with rotary, relative or ALiBi positions have no such table and no such cap.
    """
    for name, module in model.named_modules():
        last = name.rsplit(".", 1)[-1]
        if isinstance(module, torch.nn.Embedding) and last in {
            "position_embeddings",
            "embed_positions",
            "wpe",
        }:
            offset = getattr(module, "offset", None)  # BART-style learned positions keep one
            if offset is None:
                offset = module.padding_idx + 1 if module.padding_idx is not None else 0
            return PositionCapacity(module.num_embeddings - offset, module.num_embeddings, offset)
    return None


def token_limit(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, requested: int
) -> tuple[int, str]:
    """Where texts are truncated, and why: the model's real capacity, the tokenizer's limit, --max-tokens.

    The tokenizer's `model_max_length` counts when it states one, but never above what the position
    embeddings hold (some tokenizers state more, or nothing at all). `requested` (--max-tokens, 0 for
    none) lowers the limit, and can raise it only for models without absolute positions.
    """
    capacity = position_capacity(model)
    stated = tokenizer.model_max_length if tokenizer.model_max_length < UNSTATED_LIMIT else None
    if capacity is not None:
        table = f"the position embeddings hold {capacity.tokens} tokens"
        if capacity.reserved:
            table += (
                f" ({capacity.rows} rows, the first {capacity.reserved} reserved: positions start "
                "after the padding index)"
            )
        if stated is None:
            natural, reason = capacity.tokens, f"{table}; the tokenizer states no limit"
        elif stated > capacity.tokens:
            natural = capacity.tokens
            reason = f"{table}; the tokenizer's model_max_length ({stated}) is more than that"
        else:
            natural, reason = stated, f"the tokenizer's model_max_length ({stated}); {table}"
    else:
        trained = getattr(model.config, "max_position_embeddings", None)
        absent = "the model has no absolute position embeddings, so this is a memory bound"
        if stated is not None:
            natural, reason = stated, f"the tokenizer's model_max_length ({stated}); {absent}"
        elif trained:
            natural = trained
            reason = f"max_position_embeddings ({trained}), the length it was trained for; {absent}"
        else:
            natural, reason = FALLBACK_MAX_TOKENS, f"a default of {FALLBACK_MAX_TOKENS}; {absent}"
    if not requested:
        return natural, reason
    if capacity is not None and requested > capacity.tokens:
        return (
            capacity.tokens,
            f"--max-tokens {requested} is more than the model can read: {reason}",
        )
    return requested, f"--max-tokens {requested} (without it: {natural}, from {reason})"


def cpu_supports_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU has native bfloat16 instructions (AVX-512 BF16 or AMX), where bf16 is fast."""
    try:
        flags = cpuinfo.read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_device(requested: str) -> str:
    """`auto` becomes cuda, then mps, then cpu; an explicit device that is missing is an error."""
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if requested == "auto":
        return "cuda" if cuda else "mps" if mps else "cpu"
    if requested == "cuda" and not cuda:
        raise ModelLoadError(
            "device cuda was requested but torch sees no CUDA GPU "
            f"(torch {torch.__version__}). Use --device cpu, or install a CUDA build of torch."
        )
    if requested == "mps" and not mps:
        raise ModelLoadError("device mps was requested but is not available. Use --device cpu.")
    return requested


def resolve_dtype(requested: str, device: str) -> torch.dtype:
    """`auto`: float16 on CUDA, bfloat16 on CPUs with native bf16, float32 otherwise."""
    if requested == "auto":
        if device == "cuda":
            return torch.float16
        if device == "cpu" and cpu_supports_bf16():
            return torch.bfloat16
        return torch.float32
    if requested == "float16" and device == "cpu":
        raise ModelLoadError(
            "float16 on the CPU is slow and unsupported by many kernels; use --dtype bfloat16 or "
            "float32 on cpu, float16 on cuda."
        )
    return DTYPES[requested]


def resolve_threads(requested: int) -> int:
    """0 means one thread per core, measured fastest under load in bench/.

    A core that another process keeps busy makes a thread wait; set 1 on such machines.
    """
    return requested if requested > 0 else max(1, os.cpu_count() or 1)


class TransformersClassifier:
    """A Classifier (see engine.py) backed by a transformers sequence-classification model."""

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        max_tokens: int,
        max_batch_size: int,
        max_batch_tokens: int,
    ) -> None:
        """Wrap a loaded model; `max_tokens` is where texts are truncated."""
        self.model = model
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max(max_batch_tokens, max_tokens)
        self.device = model.device
        self.labels = tuple(model.config.id2label[i] for i in range(model.config.num_labels))
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # The unknown token is one of them: a text of only unknown words has nothing readable.
        self.special_ids = frozenset(tokenizer.all_special_ids)
        self.scheme = scheme_for(model.config.num_labels, model.config.problem_type)
        self.unpadded: UnpaddedBertForward | None = None

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """Tokenize, run in length-sorted sub-batches within the token budget, and score every label."""
        full_ids = self.tokenizer(list(texts), truncation=False, verbose=False)["input_ids"]
        lengths = [len(ids) for ids in full_ids]
        too_long = [i for i, n in enumerate(lengths) if n > self.max_tokens]
        if too_long:
            cut = self.tokenizer(
                [texts[i] for i in too_long], truncation=True, max_length=self.max_tokens
            )["input_ids"]
            for i, ids in zip(too_long, cut, strict=True):
                full_ids[i] = ids
        order = sorted(range(len(texts)), key=lambda i: len(full_ids[i]))
        outputs: list[tuple[list[float], list[float]]] = [([], []) for _ in texts]
        for group in self._groups(order, full_ids):
            for i, row in zip(group, self._forward([full_ids[i] for i in group]), strict=True):
                outputs[i] = row
        return [
            Prediction(
                scores=self._ranked(probs),
                num_tokens=lengths[i],
                kept_tokens=len(full_ids[i]),
                raw_scores=self._ranked(logits),
                readable_tokens=sum(t not in self.special_ids for t in full_ids[i]),
            )
            for i, (probs, logits) in enumerate(outputs)
        ]

    def _ranked(self, values: list[float]) -> tuple[LabelScore, ...]:
        pairs = (LabelScore(label, v) for label, v in zip(self.labels, values, strict=True))
        return tuple(sorted(pairs, key=lambda item: item.score, reverse=True))

    def _groups(self, order: list[int], ids: list[list[int]]) -> list[list[int]]:
        """Cut length-sorted indices into sub-batches within both batch limits."""
        groups: list[list[int]] = []
        current: list[int] = []
        for i in order:
            padded = (len(current) + 1) * len(ids[i])  # sorted ascending: i is the longest so far
            if current and (len(current) >= self.max_batch_size or padded > self.max_batch_tokens):
                groups.append(current)
                current = []
            current.append(i)
        if current:
            groups.append(current)
        return groups

    def _forward(self, batch_ids: list[list[int]]) -> list[tuple[list[float], list[float]]]:
        """Probabilities and logits of each text, as Python floats."""
        if self.unpadded is not None:
            with torch.inference_mode():
                logits = self.unpadded(batch_ids).float()
        else:
            logits = self._padded_logits(batch_ids)
        scores = self._scores(logits)
        return list(zip(scores.cpu().tolist(), logits.cpu().tolist(), strict=True))

    def _scores(self, logits: torch.Tensor) -> torch.Tensor:
        """Scores from logits by the label scheme: softmax, sigmoid, or the raw regression value."""
        if self.scheme == "regression":
            return logits
        return logits.sigmoid() if self.scheme == "multi_label" else logits.softmax(dim=-1)

    def _padded_logits(self, batch_ids: list[list[int]]) -> torch.Tensor:
        """The model's own forward on a batch padded to its longest text."""
        width = max(len(ids) for ids in batch_ids)
        input_ids = torch.full((len(batch_ids), width), self.pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
        for row, ids in enumerate(batch_ids):
            input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
            attention_mask[row, : len(ids)] = 1
        with torch.inference_mode():
            return self.model(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device)
            ).logits.float()

    def use_unpadded_if_equal(self, tolerance: float) -> bool:
        """Switch to the unpadded forward if this model has one and it matches the padded forward.

        Both run on PARITY_TEXTS; every probability must agree within `tolerance`.
        """
        candidate = UnpaddedBertForward.from_model(self.model)
        if candidate is None:
            return False
        batch_ids = self.tokenizer(list(PARITY_TEXTS), truncation=True, max_length=self.max_tokens)[
            "input_ids"
        ]
        with torch.inference_mode():
            padded = self._padded_logits(batch_ids)
            unpadded = candidate(batch_ids).float()
        difference = (self._scores(padded) - self._scores(unpadded)).abs().max().item()
        if difference > tolerance:
            logger.warning(
                "unpadded forward differs from the padded one by %.4f (tolerance %.4f); "
                "serving the padded forward",
                difference,
                tolerance,
            )
            return False
        self.unpadded = candidate
        return True


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


def available_memory(device: str) -> int:
    """Bytes free for a model on `device`: free GPU memory on cuda, available RAM otherwise."""
    if device == "cuda":
        return int(torch.cuda.mem_get_info()[0])
    return int(psutil.virtual_memory().available)


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
    rows = model.get_input_embeddings().num_embeddings
    if vocabulary > rows:
        raise ModelLoadError(
            f"the tokenizer of {model_name} has {vocabulary:,} tokens but the model's embedding "
            f"table has {rows:,} rows: the tokenizer belongs to another model. Save this model's "
            "own tokenizer into the folder."
        )


def load_model_and_tokenizer(
    model_name: str, device: str, dtype: torch.dtype
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a sequence classifier and its tokenizer, checking each step; errors name cause and fix.

    Raises:
        ModelLoadError: no weights, not a classifier, no usable tokenizer, too big, or unreachable.
    """
    check_model_folder(model_name)
    where = "folder" if Path(model_name).exists() else "Hub id (no local folder by that name)"
    try:
        config = AutoConfig.from_pretrained(model_name)
    except Exception as exc:
        raise ModelLoadError(
            f"could not load model {model_name!r} as a {where} on {device}: {short_error(exc)}. "
            "Pass --model with a local folder holding config.json, tokenizer and weights, or a Hub "
            "id reachable from this machine."
        ) from exc
    check_architecture(model_name, config)
    check_memory(model_name, config, dtype, device)
    try:
        model, loading = AutoModelForSequenceClassification.from_pretrained(
            model_name, dtype=dtype, output_loading_info=True
        )
    except (MemoryError, torch.OutOfMemoryError) as exc:
        raise ModelLoadError(
            f"{model_name} does not fit in the memory of {device} ({short_error(exc)}). Serve a "
            "smaller model, use --dtype bfloat16, or a machine with more memory."
        ) from exc
    except ValueError as exc:
        if "Unrecognized configuration class" not in str(exc):
            raise ModelLoadError(
                f"could not load model {model_name!r} on {device}: {short_error(exc)}"
            ) from exc
        raise ModelLoadError(
            f"{model_name} is a {config.model_type!r} model, for which transformers has no "
            "sequence-classification class. Serve a model of an architecture the "
            "text-classification pipeline supports (BERT, RoBERTa, DeBERTa, ModernBERT, ...)."
        ) from exc
    except OSError as exc:
        raise ModelLoadError(
            f"could not load the weights of {model_name!r} on {device}: {short_error(exc)}. "
            "Save the model again with model.save_pretrained(folder)."
        ) from exc
    missing = loading.get("missing_keys") or []
    if missing:
        raise ModelLoadError(
            f"{model_name} lacks weights for {len(missing)} tensors ({', '.join(sorted(missing)[:3])}"
            f"{', ...' if len(missing) > 3 else ''}): they would be random, and so would every "
            "answer. Serve a checkpoint fine-tuned for sequence classification."
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_name)
    except Exception as exc:
        raise ModelLoadError(
            f"the tokenizer of {model_name} could not be loaded ({short_error(exc)}). The folder "
            "needs tokenizer.json or its tokenizer's vocabulary files, with tokenizer_config.json; "
            "save them with tokenizer.save_pretrained(folder)."
        ) from exc
    if not callable(tokenizer) or not isinstance(tokenizer, PreTrainedTokenizerBase):
        raise ModelLoadError(f"{model_name} has no text tokenizer; it cannot read text.")
    check_tokenizer(model_name, tokenizer, model)
    if tokenizer.pad_token_id is None:
        # Decoder-style classifiers (GPT-2, Llama, ...) ship without a pad token; batches need one,
        # and the model finds each text's last token by it.
        pad = model.config.pad_token_id
        if pad is None and tokenizer.eos_token_id is None:
            raise ModelLoadError(
                f"the tokenizer of {model_name} has neither a pad nor an end-of-text token, so "
                "texts cannot be batched. Set pad_token in its tokenizer_config.json."
            )
        tokenizer.pad_token = tokenizer.convert_ids_to_tokens(
            tokenizer.eos_token_id if pad is None else pad
        )
        model.config.pad_token_id = tokenizer.pad_token_id
    try:
        model.to(device)
    except (MemoryError, torch.OutOfMemoryError) as exc:
        raise ModelLoadError(
            f"{model_name} does not fit on {device} ({short_error(exc)}). Serve a smaller model, "
            "use --dtype bfloat16 or float16, or a device with more memory."
        ) from exc
    model.eval()
    return model, tokenizer


def load_classifier(settings: Settings) -> tuple[TransformersClassifier, ModelInfo]:
    """Load the model named in settings on the resolved device and precision, then warm it up.

    Raises:
        ModelLoadError: with the model, the device and what to do about it.
    """
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    threads = resolve_threads(settings.num_threads)
    torch.set_num_threads(threads)
    memory_before = _used_memory(device)
    started = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(settings.model, device, dtype)
    load_seconds = time.perf_counter() - started
    max_tokens, max_tokens_reason = token_limit(model, tokenizer, settings.max_tokens)
    classifier = TransformersClassifier(
        model, tokenizer, max_tokens, settings.max_batch_size, settings.max_batch_tokens
    )
    if settings.unpadded:
        # Rounding differs between the two orders of summation: looser in 16-bit precisions.
        classifier.use_unpadded_if_equal(1e-4 if dtype == torch.float32 else 2e-2)
    started = time.perf_counter()
    try:
        # Always once, warm-up or not: a model that cannot classify a plain sentence fails here,
        # at start-up, rather than on every visitor's request.
        classifier.classify_batch([PROBE_TEXT])
        if settings.warmup:
            for _ in range(2):
                classifier.classify_batch(list(WARMUP_TEXTS))
    except Exception as exc:
        raise ModelLoadError(
            f"{settings.model} loaded but could not classify a test sentence on {device} "
            f"({short_error(exc)}). Check that its tokenizer belongs to this model, or try "
            "--device cpu --dtype float32."
        ) from exc
    warmup_seconds = time.perf_counter() - started
    card = Path(settings.model) / "README.md"
    info = ModelInfo(
        model=settings.model,
        device=device,
        dtype=str(dtype).removeprefix("torch."),
        labels=classifier.labels,
        max_tokens=max_tokens,
        num_parameters=sum(p.numel() for p in model.parameters()),
        num_threads=threads,
        load_seconds=round(load_seconds, 2),
        warmup_seconds=round(warmup_seconds, 2),
        model_card=str(card) if card.is_file() else None,
        forward="unpadded" if classifier.unpadded else "padded",
        scheme=classifier.scheme,
        max_tokens_reason=max_tokens_reason,
        architecture=type(model).__name__,
        memory_bytes=max(0, _used_memory(device) - memory_before),
    )
    logger.info(
        "loaded %s (%s) on %s (%s, %s forward, %d threads), %s labels %s, "
        "%.1fM parameters, about %d MiB, in %.2f s, warm-up %.2f s",
        info.model,
        info.architecture,
        info.device,
        info.dtype,
        info.forward,
        info.num_threads,
        info.scheme.replace("_", "-"),
        ", ".join(info.labels),
        info.num_parameters / 1e6,
        info.memory_bytes // 2**20,
        info.load_seconds,
        info.warmup_seconds,
    )
    logger.info("texts are truncated at %d tokens: %s", info.max_tokens, info.max_tokens_reason)
    return classifier, info


def _used_memory(device: str) -> int:
    """Bytes this process holds on `device`: GPU allocations on cuda, resident memory otherwise."""
    if device == "cuda":
        return int(torch.cuda.memory_allocated())
    return int(psutil.Process().memory_info().rss)
