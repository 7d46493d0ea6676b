"""ONNX Runtime for transformers models on the CPU: float32, or int8 where the parity gate allows.

`--runtime onnx` serves int8 when it passed the gate (onnx_export.py), else ONNX float32, else torch,
saying why. `--runtime auto` also times torch on a few warm batches and keeps the fastest. The files
come from the model's own onnx/ folder (`make onnx`) or are exported on first start into a cache. The
classifier reads texts exactly as the torch one does (token_batches.py): same truncation, same
length-sorted groups within the token budget, same label schemes; it raises when a chunk fails, so the
engine can isolate the text at fault.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

from sentiment_demo.backends.onnx_export import (
    FLOAT32_FILE,
    INT8_FILE,
    MAX_CALIBRATION_SHIFT,
    MIN_AGREEMENT,
    ONNX_FOLDER,
    QUANTIZATION,
    REPORT_FILE,
    StoredReport,
    compare,
    export_float32,
    file_sha256,
    fingerprint,
    load_check_set,
    quantize_int8,
)
from sentiment_demo.backends.token_batches import encode, length_groups, ranked
from sentiment_demo.backends.token_limit import token_limit
from sentiment_demo.backends.torch_device import resolve_device, resolve_threads
from sentiment_demo.backends.transformers_backend import (
    PARITY_TEXTS,
    TransformersClassifier,
    load_classifier,
    load_model_and_tokenizer,
)
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Classifier, ModelInfo, Prediction
from sentiment_demo.core.schemes import scheme_for
from sentiment_demo.errors import ModelLoadError, short_error

logger = logging.getLogger(__name__)

# ONNX float32 must give torch's probabilities within this on texts of mixed lengths.
FLOAT32_TOLERANCE = 1e-3
DEFAULT_CACHE = Path.home() / ".cache" / "sentiment-demo" / "onnx"
# Texts timed per candidate by `auto`, after one warm batch.
TIMED_TEXTS = 96
# Padding allowed in a sub-batch, as a share of its real tokens. ONNX Runtime computes every padded
# position; on the embedded model 0.1 ran random mixes about 1.4x faster than one group per call
# (0.25 and 0.5 were between the two; README, "Runtimes").
MAX_PADDING = 0.1


def scores_from_logits(logits: np.ndarray, scheme: str) -> np.ndarray:
    """Softmax, sigmoid or the raw value, by label scheme (as TransformersClassifier._scores)."""
    if scheme == "regression":
        return logits
    if scheme == "multi_label":
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


class OnnxClassifier:
    """A Classifier (see core/classifier.py) running an exported model in ONNX Runtime."""

    def __init__(
        self,
        path: Path,
        config: PretrainedConfig,
        tokenizer: PreTrainedTokenizerBase,
        max_tokens: int,
        max_batch_size: int,
        max_batch_tokens: int,
        threads: int,
    ) -> None:
        """Open `path` in a CPU session of `threads` threads; texts are truncated at `max_tokens`."""
        options = ort.SessionOptions()
        options.intra_op_num_threads = resolve_threads(threads)
        options.inter_op_num_threads = 1
        self.path = path
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        # A model that ignores the mask (or traced without it) has no such input.
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.max_batch_size = max_batch_size
        self.max_batch_tokens = max(max_batch_tokens, max_tokens)
        num_labels = int(config.num_labels or 0)
        id2label = {int(k): str(v) for k, v in (config.id2label or {}).items()}
        self.labels = tuple(id2label[i] for i in range(num_labels))
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.special_ids = frozenset(tokenizer.all_special_ids)
        self.scheme = scheme_for(num_labels, config.problem_type)

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """Tokenize, run in length-sorted sub-batches within the token and padding budgets, and score."""
        encoded = encode(self.tokenizer, texts, self.max_tokens)
        ids = encoded.ids
        outputs: list[tuple[list[float], list[float]]] = [([], []) for _ in texts]
        for group in length_groups(ids, self.max_batch_size, self.max_batch_tokens, MAX_PADDING):
            logits = self.logits([ids[i] for i in group])
            scores = scores_from_logits(logits, self.scheme)
            for i, probs, raw in zip(group, scores.tolist(), logits.tolist(), strict=True):
                outputs[i] = (probs, raw)
        return [
            Prediction(
                scores=ranked(self.labels, probs),
                num_tokens=encoded.lengths[i],
                kept_tokens=len(ids[i]),
                raw_scores=ranked(self.labels, raw),
                readable_tokens=sum(t not in self.special_ids for t in ids[i]),
            )
            for i, (probs, raw) in enumerate(outputs)
        ]

    def logits(self, batch_ids: list[list[int]]) -> np.ndarray:
        """The model's logits for a batch padded to its longest text, as float32."""
        width = max(len(ids) for ids in batch_ids)
        input_ids = np.full((len(batch_ids), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch_ids), width), dtype=np.int64)
        for row, ids in enumerate(batch_ids):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        result = self.session.run(["logits"], {k: v for k, v in feed.items() if k in self.inputs})
        return np.asarray(result[0], dtype=np.float32)


@dataclass(frozen=True)
class Prepared:
    """The ONNX files a model may serve from, and why: int8 only when it passed the gate."""

    float32: Path | None
    int8: Path | None
    report: StoredReport | None
    note: str
    exported: bool = False


def _float32_difference(
    path: Path, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, max_tokens: int
) -> float:
    """Largest difference between ONNX float32 and torch scores, on texts of mixed lengths."""
    onnx = OnnxClassifier(path, model.config, tokenizer, max_tokens, 8, 10**6, 0)
    batch = tokenizer(list(PARITY_TEXTS), truncation=True, max_length=max_tokens)["input_ids"]
    scheme = onnx.scheme
    with torch.inference_mode():
        width = max(len(ids) for ids in batch)
        ids = torch.full((len(batch), width), onnx.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for row, one in enumerate(batch):
            ids[row, : len(one)] = torch.tensor(one)
            mask[row, : len(one)] = 1
        reference = model(input_ids=ids, attention_mask=mask).logits.float().numpy()
    ours = onnx.logits(batch)
    return float(
        np.abs(scores_from_logits(reference, scheme) - scores_from_logits(ours, scheme)).max()
    )


def prepare(
    folder: Path,
    out: Path,
    model: PreTrainedModel | Callable[[], PreTrainedModel],
    tokenizer: PreTrainedTokenizerBase,
    threads: int,
) -> Prepared:
    """Find or make the ONNX files of the model in `folder` under `out`, and gate int8.

    A parity.json measured on these weights, this int8 file and this check set is trusted; otherwise
    the model is exported, checked against torch, quantized and gated, and the files and report
    written to `out`. Never raises for a model that cannot be exported: the note says why.
    """
    check = load_check_set()
    weights = fingerprint(folder)
    fp32, int8, report_path = out / FLOAT32_FILE, out / INT8_FILE, out / REPORT_FILE
    stored = StoredReport.read(report_path)
    if stored is not None and stored.matches(weights, int8, check):
        has_fp32 = fp32.is_file()
        if stored.parity.passed:
            return Prepared(
                fp32 if has_fp32 else None, int8, stored, f"int8 {stored.parity.reason}"
            )
        if has_fp32:
            return Prepared(fp32, None, stored, f"float32: int8 {stored.parity.reason}")
    loaded = model() if callable(model) and not isinstance(model, PreTrainedModel) else model
    limit = token_limit(loaded, tokenizer, 0)[0]
    try:
        export_seconds = export_float32(loaded, tokenizer, fp32, PARITY_TEXTS, limit)
        difference = _float32_difference(fp32, loaded, tokenizer, limit)
    except Exception as exc:  # any exporter or runtime failure means: serve with torch
        return Prepared(None, None, None, f"torch: ONNX export failed ({short_error(exc)})")
    if difference > FLOAT32_TOLERANCE:
        fp32.unlink(missing_ok=True)
        return Prepared(
            None,
            None,
            None,
            f"torch: the ONNX float32 export differs from torch by {difference:.2e} "
            f"(tolerance {FLOAT32_TOLERANCE}) on texts of mixed lengths",
        )
    try:
        quantize_seconds = quantize_int8(fp32, int8)
    except Exception as exc:
        return Prepared(fp32, None, None, f"float32: int8 quantization failed ({short_error(exc)})")
    reference = OnnxClassifier(fp32, loaded.config, tokenizer, limit, 32, 8192, threads)
    candidate = OnnxClassifier(int8, loaded.config, tokenizer, limit, 32, 8192, threads)
    parity = compare(
        reference.classify_batch(check.texts),
        candidate.classify_batch(check.texts),
        check.labels,
        reference.scheme,
        reference.labels,
    )
    stored = StoredReport(
        fingerprint=weights,
        quantization=QUANTIZATION,
        int8_sha256=file_sha256(int8),
        check_set_sha256=check.sha256,
        min_agreement=MIN_AGREEMENT,
        max_shift=MAX_CALIBRATION_SHIFT,
        parity=parity,
        export_seconds=round(export_seconds, 2),
        quantize_seconds=round(quantize_seconds, 2),
        float32_max_difference=float(f"{difference:.2e}"),
    )
    stored.write(report_path)
    note = f"int8 {parity.reason}" if parity.passed else f"float32: int8 {parity.reason}"
    return Prepared(fp32, int8 if parity.passed else None, stored, note, exported=True)


def model_folder(spec: str) -> Path:
    """The folder holding a model's files: the spec itself, or its snapshot in the Hub cache."""
    if Path(spec).is_dir():
        return Path(spec)
    from transformers.utils.hub import cached_file

    found = cached_file(spec, "config.json")
    if found is None:
        raise ModelLoadError(f"{spec}: no config.json in the Hub cache")
    return Path(found).parent


def onnx_folder(folder: Path, settings: Settings) -> Path:
    """The model's own onnx/ folder when it has one (`make onnx`), else its place in the cache."""
    own = folder / ONNX_FOLDER
    if (own / INT8_FILE).is_file() or (own / FLOAT32_FILE).is_file():
        return own
    name = re.sub(r"[^\w.-]+", "-", folder.resolve().name)
    root = Path(settings.onnx_cache) if settings.onnx_cache else DEFAULT_CACHE
    return root / f"{name}-{fingerprint(folder)}"


def sentences_per_second(classify: Callable[[Sequence[str]], object], texts: list[str]) -> float:
    """Texts per second over two timed runs of `texts`, after one warm batch; the best run counts."""
    classify(texts[:32])
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        classify(texts)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def _describe(
    info: ModelInfo, runtime: str, dtype: str, note: str, path: Path | None = None
) -> ModelInfo:
    if runtime == "torch":
        return replace(info, runtime="torch", runtime_note=note)
    assert path is not None
    return replace(
        info,
        runtime="onnx",
        dtype=dtype,
        forward=f"padded, length-sorted, at most {MAX_PADDING:.0%} padding (ONNX Runtime)",
        runtime_note=note,
        memory_bytes=path.stat().st_size,
    )


def load(
    spec: str, settings: Settings
) -> tuple[TransformersClassifier | OnnxClassifier, ModelInfo]:
    """The backend hook for `--runtime onnx|auto` (backends/__init__.py): a folder or a Hub id.

    Raises:
        ModelLoadError: the model cannot be loaded, or `--runtime onnx` was asked for off the CPU.
    """
    settings = settings.with_overrides(model=spec)
    device = resolve_device(settings.device)
    if device != "cpu":
        if settings.runtime == "onnx":
            raise ModelLoadError(
                f"--runtime onnx runs on the CPU, and the device is {device}. Use --device cpu, "
                "or --runtime auto or torch (which keep torch in half precision on a GPU)."
            )
        classifier, info = load_classifier(settings)
        return classifier, _describe(info, "torch", "", f"torch on {device} (ONNX is CPU-only)")
    load_started = time.perf_counter()
    torch_classifier, torch_info = load_classifier(settings)
    folder = model_folder(spec)
    out = onnx_folder(folder, settings)

    def float32_model() -> PreTrainedModel:
        # The export needs float32 weights; a bfloat16 torch model is loaded again for it.
        if torch_classifier.model.dtype == torch.float32:
            return torch_classifier.model
        return load_model_and_tokenizer(spec, "cpu", torch.float32)[0]

    started = time.perf_counter()
    prepared = prepare(folder, out, float32_model, torch_classifier.tokenizer, settings.num_threads)
    if prepared.exported:
        size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
        logger.info(
            "exported %s to ONNX in %s (%d MiB) in %.1f s",
            spec,
            out,
            size // 2**20,
            time.perf_counter() - started,
        )
    logger.info("ONNX parity gate for %s: %s", spec, prepared.note)

    def onnx_classifier(path: Path) -> OnnxClassifier:
        return OnnxClassifier(
            path,
            torch_classifier.model.config,
            torch_classifier.tokenizer,
            torch_classifier.max_tokens,
            settings.max_batch_size,
            settings.max_batch_tokens,
            settings.num_threads,
        )

    candidates: list[tuple[str, str, Path | None]] = [("torch", torch_info.dtype, None)]
    if prepared.float32 is not None:
        candidates.append(("onnx", "float32", prepared.float32))
    if prepared.int8 is not None:
        candidates.append(("onnx", "int8", prepared.int8))
    if settings.runtime == "onnx":
        runtime, dtype, path = candidates[-1]
        note = prepared.note if runtime == "onnx" else f"fell back to {prepared.note}"
        if runtime == "torch":
            logger.warning("--runtime onnx: %s is served with torch: %s", spec, prepared.note)
    else:
        texts = list(load_check_set().texts[:TIMED_TEXTS])
        rates = []
        for _, _, path in candidates:
            timed: Classifier = torch_classifier if path is None else onnx_classifier(path)
            rates.append(sentences_per_second(timed.classify_batch, texts))
        figures = ", ".join(
            f"{r} {d} {rate:.0f}/s" for (r, d, _), rate in zip(candidates, rates, strict=True)
        )
        best = max(range(len(candidates)), key=rates.__getitem__)
        runtime, dtype, path = candidates[best]
        note = f"auto chose {runtime} {dtype} on this CPU ({figures}; {len(texts)} texts); gate: "
        note += prepared.note
        logger.info("--runtime auto for %s: %s", spec, note)
    if path is None:
        return torch_classifier, _describe(torch_info, "torch", "", note)
    served = onnx_classifier(path)
    loaded_at = time.perf_counter()
    try:
        # Once, warm-up or not, as for torch: a file that cannot classify fails here, at start-up.
        served.classify_batch(list(PARITY_TEXTS))
    except Exception as exc:
        raise ModelLoadError(
            f"{spec}: the ONNX model {path} could not classify a test sentence "
            f"({short_error(exc)}). Delete {path.parent} to export it again, or use --runtime torch."
        ) from exc
    # Start-up counts the torch load, the export or the gate's check, and the session.
    info = replace(
        _describe(torch_info, "onnx", dtype, note, path),
        load_seconds=round(loaded_at - load_started, 2),
        warmup_seconds=round(time.perf_counter() - loaded_at, 2),
    )
    logger.info("serving %s with ONNX Runtime (%s) from %s", spec, dtype, path)
    return served, info
