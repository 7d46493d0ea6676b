"""ONNX export, int8 quantization and the parity gate that decides whether int8 may serve.

`python -m sentiment_demo.backends.onnx_export MODEL_DIR` writes MODEL_DIR/onnx/model.onnx (float32),
model-int8.onnx and parity.json (the gate's figures); `make onnx` runs it for the embedded model
(the files are not committed: about 160 MB).
The app does the same on first start, into a cache folder, for a model without such a folder. The gate
compares int8 with ONNX float32 on a fixed check set (data/check_set.json): the labels must agree on at
least MIN_AGREEMENT of the texts and the calibration error may move by at most MAX_CALIBRATION_SHIFT.
It knows nothing of serving; onnx_backend.py runs the files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from sentiment_demo.backends import int8_graph
from sentiment_demo.core.classifier import Prediction, Scheme
from sentiment_demo.core.schemes import read
from sentiment_demo.evaluation.label_mapping import map_value
from sentiment_demo.evaluation.scoring import reliability

logger = logging.getLogger(__name__)

ONNX_FOLDER = "onnx"
FLOAT32_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
REPORT_FILE = "parity.json"
# Recorded in parity.json: a report made by another quantization method is not trusted.
QUANTIZATION = int8_graph.METHOD
CHECK_SET = Path(__file__).resolve().parent / "data" / "check_set.json"
MIN_AGREEMENT = 0.995
MAX_CALIBRATION_SHIFT = 0.01
# A regression output "agrees" when it is within this share of the reference values' spread.
REGRESSION_TOLERANCE = 0.01
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

Classify = Callable[[Sequence[str]], list[Prediction]]


@dataclass(frozen=True)
class CheckSet:
    """The gate's texts and their gold labels (negative / neutral / positive)."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    sha256: str


def load_check_set(path: Path = CHECK_SET) -> CheckSet:
    """The check set committed with the package (written by recipe/check_set.py)."""
    raw = path.read_bytes()
    rows = json.loads(raw)["rows"]
    return CheckSet(
        tuple(r["text"] for r in rows),
        tuple(r["label"] for r in rows),
        hashlib.sha256(raw).hexdigest()[:16],
    )


def file_sha256(path: Path) -> str:
    """The first 16 hex digits of a file's SHA-256."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def fingerprint(folder: Path) -> str:
    """What identifies a model's weights: the SHA-256 of its config and weight files."""
    digest = hashlib.sha256()
    for name in ("config.json", *WEIGHT_FILES):
        if (folder / name).is_file():
            digest.update(name.encode() + file_sha256(folder / name).encode())
    return digest.hexdigest()[:16]


def export_float32(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    path: Path,
    texts: Sequence[str],
    max_tokens: int,
) -> float:
    """Trace a float32 `model` (in eval mode) into an ONNX file with dynamic batch and length; seconds taken."""
    started = time.perf_counter()
    if model.dtype != torch.float32 or model.training:
        raise ValueError("the export needs a float32 model in eval mode")
    encoded = tokenizer(
        list(texts), padding=True, truncation=True, max_length=max_tokens, return_tensors="pt"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 1: "sequence"}
    # The tracing exporter warns that it is deprecated and that traced branches are constants; the
    # float32 check against torch (onnx_backend.py) is what catches a trace that does not generalise.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (encoded["input_ids"], encoded["attention_mask"]),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return time.perf_counter() - started


def quantize_int8(source: Path, target: Path) -> float:
    """Every weight MatMul to int8, one scale per token (int8_graph.py); seconds taken."""
    started = time.perf_counter()
    int8_graph.rewrite(source, target)
    return time.perf_counter() - started


@dataclass(frozen=True)
class ParityReport:
    """How a candidate (int8) compares with the reference (float32) on the check set.

    Attributes:
        texts: texts compared.
        agreement: share of texts given the same labels (a regression value within tolerance).
        calibration: how the calibration figure was measured.
        reference_error: the reference's calibration error (or 0 for the score-shift basis).
        candidate_error: the candidate's calibration error (or the mean score shift).
        passed: whether the candidate may serve.
        reason: one line: why it passed or not, with the figures and thresholds.
    """

    texts: int
    agreement: float
    calibration: str
    reference_error: float
    candidate_error: float
    passed: bool
    reason: str

    @property
    def shift(self) -> float:
        """How far the calibration figure moved."""
        return abs(self.candidate_error - self.reference_error)


def _agree(ref: Prediction, cand: Prediction, scheme: Scheme, spread: float) -> bool:
    if scheme == "regression":
        return abs(ref.score - cand.score) <= REGRESSION_TOLERANCE * max(spread, 1e-6)
    return set(read(ref, scheme).labels) == set(read(cand, scheme).labels)


def compare(
    reference: Sequence[Prediction],
    candidate: Sequence[Prediction],
    gold: Sequence[str],
    scheme: Scheme,
    labels: Sequence[str],
    min_agreement: float = MIN_AGREEMENT,
    max_shift: float = MAX_CALIBRATION_SHIFT,
) -> ParityReport:
    """The gate: label agreement and calibration shift of `candidate` against `reference`.

    Single-label models are scored by expected calibration error against the check set's gold labels
    where the model's labels name them (negative / neutral / positive, or synonyms), else against the
    reference's own labels. Multi-label and regression models have no top-label calibration; for them
    the mean absolute change of the scores takes its place.
    """
    values = [p.score for p in reference]
    spread = max(values) - min(values) if values else 0.0
    agreed = sum(_agree(r, c, scheme, spread) for r, c in zip(reference, candidate, strict=True))
    agreement = agreed / len(reference)
    if scheme == "single_label":
        mapped = [map_value(g, labels) for g in gold]
        rows = [i for i, m in enumerate(mapped) if m]
        if len(rows) >= len(gold) / 2:
            truth, basis = [mapped[i] for i in rows], "expected calibration error (gold labels)"
        else:
            rows = list(range(len(gold)))
            truth = [reference[i].label for i in rows]
            basis = "expected calibration error (float32's labels as truth)"
        errors = []
        for predictions in (reference, candidate):
            confidence = np.array([predictions[i].score for i in rows], dtype=float)
            correct = np.array(
                [predictions[i].label == t for i, t in zip(rows, truth, strict=True)]
            )
            errors.append(reliability(confidence, correct)[1])
        ref_error, cand_error = errors
    else:
        basis = "mean absolute score change (no top-label calibration for this scheme)"
        ref_error = 0.0
        cand_error = float(
            np.mean(
                [
                    abs(r.score_of(s.label) - s.score)
                    for r, c in zip(reference, candidate, strict=True)
                    for s in c.scores
                ]
            )
        )
    shift = abs(cand_error - ref_error)
    figures = (
        f"labels agree on {agreement:.2%} of {len(reference)} texts (gate: at least "
        f"{min_agreement:.1%}), {basis} moves by {shift:.4f} (gate: at most {max_shift})"
    )
    passed = agreement >= min_agreement and shift <= max_shift
    return ParityReport(
        texts=len(reference),
        agreement=round(agreement, 4),
        calibration=basis,
        reference_error=round(ref_error, 4),
        candidate_error=round(cand_error, 4),
        passed=passed,
        reason=("passed: " if passed else "refused: ") + figures,
    )


@dataclass(frozen=True)
class StoredReport:
    """parity.json: the gate's verdict and what it was measured on, so a later start can trust it."""

    fingerprint: str
    quantization: str
    int8_sha256: str
    check_set_sha256: str
    min_agreement: float
    max_shift: float
    parity: ParityReport
    export_seconds: float
    quantize_seconds: float
    float32_max_difference: float

    def matches(self, fingerprint: str, int8: Path, check_set: CheckSet) -> bool:
        """True when this report was measured on these weights, this int8 file and this check set."""
        return (
            self.fingerprint == fingerprint
            and self.quantization == QUANTIZATION
            and int8.is_file()
            and self.int8_sha256 == file_sha256(int8)
            and self.check_set_sha256 == check_set.sha256
            and self.min_agreement == MIN_AGREEMENT
            and self.max_shift == MAX_CALIBRATION_SHIFT
        )

    def write(self, path: Path) -> None:
        """Write as JSON."""
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> StoredReport | None:
        """The report in `path`, or None when there is none or it cannot be read."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{**raw, "parity": ParityReport(**raw["parity"])})
        except (OSError, ValueError, TypeError, KeyError):
            return None


def main(argv: list[str] | None = None) -> int:
    """Export a model folder to ONNX, quantize it, run the gate and write MODEL_DIR/onnx/."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model folder (config.json, weights, tokenizer)")
    parser.add_argument(
        "--keep-float32",
        action="store_true",
        help="keep onnx/model.onnx too (by default it is removed once int8 passes, to save space; "
        "the app exports it again on first start if int8 ever fails the gate)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from sentiment_demo.backends.onnx_backend import prepare
    from sentiment_demo.backends.transformers_backend import load_model_and_tokenizer

    folder = Path(args.model)
    model, tokenizer = load_model_and_tokenizer(str(folder), "cpu", torch.float32)
    prepared = prepare(folder, folder / ONNX_FOLDER, model, tokenizer, threads=0)
    print(prepared.note)
    if prepared.report is not None and prepared.report.parity.passed and not args.keep_float32:
        (folder / ONNX_FOLDER / FLOAT32_FILE).unlink(missing_ok=True)
    return 0 if prepared.float32 or prepared.int8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
