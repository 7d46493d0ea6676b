"""The transformers backend: loads a text classifier once (a folder or Hub id) and runs it in batches.

It does the pipeline's three steps itself (tokenize, forward, postprocess) so that it can report
truncation and skip padding: BERT-family models run unpadded (unpadded.py), others pad each sub-batch
only to its own longest text. Device and precision come from torch_device.py, the truncation limit from
token_limit.py, the pre-load checks from checks.py. Tensors never leave this module: callers get
core.classifier.Prediction values.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from sentiment_demo.backends.checks import (
    check_architecture,
    check_memory,
    check_model_folder,
    check_tokenizer,
    check_weights,
)
from sentiment_demo.backends.token_batches import encode, length_groups, ranked
from sentiment_demo.backends.token_limit import token_limit
from sentiment_demo.backends.torch_device import (
    resolve_device,
    resolve_dtype,
    resolve_threads,
    used_memory,
)
from sentiment_demo.backends.unpadded import UnpaddedBertForward
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import (
    PROBE_TEXT,
    WARMUP_TEXTS,
    ModelInfo,
    Prediction,
)
from sentiment_demo.core.schemes import scheme_for
from sentiment_demo.errors import ModelLoadError, short_error

logger = logging.getLogger(__name__)

# Texts of different lengths in one batch: the unpadded forward must match the padded one on them.
PARITY_TEXTS = (
    *WARMUP_TEXTS,
    "Fine.",
    "Not bad at all. I expected to hate it and didn't, although the middle act drags a little and "
    "the villain is a cardboard cut-out who exists only to explain the plot to everybody else.",
)


class TransformersClassifier:
    """A Classifier (see core/classifier.py) backed by a transformers sequence-classification model."""

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
        num_labels = int(model.config.num_labels or 0)
        id2label = {int(k): str(v) for k, v in (model.config.id2label or {}).items()}
        self.labels = tuple(id2label[i] for i in range(num_labels))
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        # The unknown token is one of them: a text of only unknown words has nothing readable.
        self.special_ids = frozenset(tokenizer.all_special_ids)
        self.scheme = scheme_for(num_labels, model.config.problem_type)
        self.unpadded: UnpaddedBertForward | None = None

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """Tokenize, run in length-sorted sub-batches within the token budget, and score every label."""
        encoded = encode(self.tokenizer, texts, self.max_tokens)
        full_ids = encoded.ids
        outputs: list[tuple[list[float], list[float]]] = [([], []) for _ in texts]
        for group in length_groups(full_ids, self.max_batch_size, self.max_batch_tokens):
            for i, row in zip(group, self._forward([full_ids[i] for i in group]), strict=True):
                outputs[i] = row
        return [
            Prediction(
                scores=ranked(self.labels, probs),
                num_tokens=encoded.lengths[i],
                kept_tokens=len(full_ids[i]),
                raw_scores=ranked(self.labels, logits),
                readable_tokens=sum(t not in self.special_ids for t in full_ids[i]),
            )
            for i, (probs, logits) in enumerate(outputs)
        ]

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
            logits: torch.Tensor = self.model(
                input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device)
            ).logits
        return logits.float()

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
    # Memory first: it reads only file sizes, so a model that cannot fit is refused without a read.
    check_memory(model_name, config, dtype, device)
    check_weights(model_name, config)
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
    memory_before = used_memory(device)
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
        memory_bytes=max(0, used_memory(device) - memory_before),
        runtime="torch",
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


def load(spec: str, settings: Settings) -> tuple[TransformersClassifier, ModelInfo]:
    """The backend hook (see backends/__init__.py): a local folder or a Hub id."""
    return load_classifier(settings.with_overrides(model=spec))
