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

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase, pipeline

from sentiment_demo.config import Settings
from sentiment_demo.engine import LabelScore, Prediction
from sentiment_demo.errors import ModelLoadError
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

    @property
    def is_local(self) -> bool:
        """True when the model came from a folder rather than the Hub."""
        return Path(self.model).is_dir()


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
        multi_label = model.config.problem_type == "multi_label_classification"
        # The same rule as the text-classification pipeline: sigmoid for one output or multi-label.
        self.use_sigmoid = multi_label or model.config.num_labels == 1
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
        """Probabilities from logits: sigmoid or softmax, as set in __init__."""
        return logits.sigmoid() if self.use_sigmoid else logits.softmax(dim=-1)

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


def load_classifier(settings: Settings) -> tuple[TransformersClassifier, ModelInfo]:
    """Load the model named in settings on the resolved device and precision, then warm it up.

    Raises:
        ModelLoadError: with the model, the device and what to do about it.
    """
    device = resolve_device(settings.device)
    dtype = resolve_dtype(settings.dtype, device)
    threads = resolve_threads(settings.num_threads)
    torch.set_num_threads(threads)
    started = time.perf_counter()
    try:
        pipe = pipeline("text-classification", model=settings.model, device=device, dtype=dtype)
    except Exception as exc:
        where = (
            "folder" if Path(settings.model).exists() else "Hub id (no local folder by that name)"
        )
        raise ModelLoadError(
            f"could not load model {settings.model!r} as a {where} on {device}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}. "
            "Pass --model with a local folder holding config.json, tokenizer and weights, or a Hub "
            "id reachable from this machine."
        ) from exc
    model, tokenizer = pipe.model, pipe.tokenizer
    if tokenizer is None:
        raise ModelLoadError(f"model {settings.model!r} has no tokenizer; it cannot read text.")
    model.eval()
    load_seconds = time.perf_counter() - started
    model_limit = min(
        tokenizer.model_max_length, getattr(model.config, "max_position_embeddings", 512)
    )
    max_tokens = min(settings.max_tokens, model_limit) if settings.max_tokens else model_limit
    classifier = TransformersClassifier(
        model, tokenizer, max_tokens, settings.max_batch_size, settings.max_batch_tokens
    )
    if settings.unpadded:
        # Rounding differs between the two orders of summation: looser in 16-bit precisions.
        classifier.use_unpadded_if_equal(1e-4 if dtype == torch.float32 else 2e-2)
    started = time.perf_counter()
    if settings.warmup:
        for _ in range(2):
            classifier.classify_batch(list(WARMUP_TEXTS))
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
    )
    logger.info(
        "loaded %s on %s (%s, %s forward, %d threads), labels %s, max %d tokens, "
        "%.1fM parameters, in %.2f s, warm-up %.2f s",
        info.model,
        info.device,
        info.dtype,
        info.forward,
        info.num_threads,
        ", ".join(info.labels),
        info.max_tokens,
        info.num_parameters / 1e6,
        info.load_seconds,
        info.warmup_seconds,
    )
    return classifier, info
