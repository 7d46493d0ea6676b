"""The ONNX Runtime runtime: same labels as torch on every family, the int8 parity gate, auto, torch unchanged.

Every model here is a tiny random one (tests/tiny_models.py), exported, quantized and gated for real
into a temporary cache; nothing is faked.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from sentiment_demo.backends import load_model, module_for
from sentiment_demo.backends.int8_graph import weight_matmuls
from sentiment_demo.backends.onnx_backend import OnnxClassifier, model_folder, onnx_folder, prepare
from sentiment_demo.backends.onnx_export import (
    INT8_FILE,
    REPORT_FILE,
    StoredReport,
    compare,
    load_check_set,
)
from sentiment_demo.backends.token_batches import length_groups
from sentiment_demo.backends.transformers_backend import (
    TransformersClassifier,
    load_classifier,
    load_model_and_tokenizer,
)
from sentiment_demo.config import Settings, parse_settings
from sentiment_demo.core.schemes import read
from sentiment_demo.ui.model_tab import model_markdown
from sentiment_demo.web.routes import tei_info
from tests.conftest import TINY_WORDS
from tests.tiny_models import SPECS, build_tiny_model

LONG = "the plot was not very good but the acting was great ! " * 20
TEXTS = [
    " ".join(TINY_WORDS[i : i + n]) for n in (1, 3, 7) for i in range(0, len(TINY_WORDS), 2)
] + [LONG]


def _settings(folder: Path, cache: Path, runtime: str) -> Settings:
    return Settings(
        model=str(folder),
        device="cpu",
        dtype="float32",
        num_threads=1,
        runtime=runtime,
        onnx_cache=str(cache),
    )


@pytest.fixture(scope="module", params=sorted(SPECS))
def family(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SPECS[request.param]
    return build_tiny_model(spec, tmp_path_factory.mktemp(f"onnx-{spec.model_type}"))


def test_onnx_runtime_gives_torch_labels_on_every_family(family: Path, tmp_path: Path) -> None:
    settings = _settings(family, tmp_path, "onnx")
    torch_classifier, _ = load_classifier(settings)
    classifier, info = load_model(str(family), settings)
    expected = torch_classifier.classify_batch(TEXTS)
    if info.runtime == "torch":
        # A family the exporter cannot trace serves with torch, and says so.
        assert info.runtime_note.startswith("fell back to torch: ")
        assert isinstance(classifier, TransformersClassifier)
        return
    assert isinstance(classifier, OnnxClassifier)
    assert info.runtime == "onnx"
    assert info.dtype in {"float32", "int8"}
    got = classifier.classify_batch(TEXTS)
    scheme = torch_classifier.scheme
    agree = [
        set(read(a, scheme).labels) == set(read(b, scheme).labels)
        for a, b in zip(expected, got, strict=True)
    ]
    assert sum(agree) / len(agree) >= 0.995 if info.dtype == "float32" else 0.9
    for a, b in zip(expected, got, strict=True):
        # Same reading of the text: token counts, truncation, readable tokens and label order shape.
        assert (a.num_tokens, a.kept_tokens, a.readable_tokens) == (
            b.num_tokens,
            b.kept_tokens,
            b.readable_tokens,
        )
        assert {s.label for s in a.scores} == {s.label for s in b.scores}
        if info.dtype == "float32":
            assert max(abs(a.score_of(s.label) - s.score) for s in b.scores) < 1e-3
    assert got[-1].truncated
    # One text alone gets the scores it gets in a batch: int8 scales each token's activations by
    # that token alone, so neither the batch nor its padding moves them.
    alone = classifier.classify_batch([TEXTS[3]])[0]
    assert abs(alone.score - got[3].score) < 1e-4
    markdown = model_markdown(info, settings)
    assert "ONNX Runtime" in markdown
    assert "MiB (its ONNX file)" in markdown  # not the torch load's memory
    assert info.load_seconds > 0  # the export and the gate count as start-up
    assert tei_info(info, settings)["runtime"] == "onnx"


@pytest.fixture(scope="module")
def prepared_tiny(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx-tiny")
    model, tokenizer = load_model_and_tokenizer(
        str(tiny_model_dir), "cpu", __import__("torch").float32
    )
    prepared = prepare(tiny_model_dir, out, model, tokenizer, threads=1)
    assert prepared.float32 is not None
    assert prepared.report is not None
    assert prepared.exported
    return out


def test_stored_report_is_trusted_only_for_the_same_files(
    tiny_model_dir: Path, prepared_tiny: Path
) -> None:
    report = StoredReport.read(prepared_tiny / REPORT_FILE)
    assert report is not None
    check = load_check_set()
    from sentiment_demo.backends.onnx_export import fingerprint

    assert report.matches(fingerprint(tiny_model_dir), prepared_tiny / INT8_FILE, check)
    assert not report.matches("0" * 16, prepared_tiny / INT8_FILE, check)
    # A second start reuses the files without exporting again.
    model, tokenizer = load_model_and_tokenizer(
        str(tiny_model_dir), "cpu", __import__("torch").float32
    )
    again = prepare(tiny_model_dir, prepared_tiny, model, tokenizer, threads=1)
    assert not again.exported


def test_int8_rewrites_every_weight_matmul_once_per_input(prepared_tiny: Path) -> None:
    float32 = onnx.load(str(prepared_tiny / "model.onnx"))
    int8 = onnx.load(str(prepared_tiny / INT8_FILE))
    ops = Counter(node.op_type for node in int8.graph.node)
    assert ops["MatMulIntegerToFloat"] == len(weight_matmuls(float32)) > 0
    assert weight_matmuls(int8) == []  # no float weight MatMul is left
    # The query, key and value projections read one input: it is quantized once, not three times.
    assert ops["QuantizeLinear"] < ops["MatMulIntegerToFloat"]
    assert (prepared_tiny / INT8_FILE).stat().st_size < (
        prepared_tiny / "model.onnx"
    ).stat().st_size


def test_padded_groups_are_cut_before_padding_exceeds_its_share() -> None:
    lengths = [3, 40, 5, 41, 4, 120, 6, 39, 118, 3, 42, 7]
    ids = [[1] * n for n in lengths]
    groups = length_groups(ids, max_batch_size=32, max_batch_tokens=10_000, max_padding=0.1)
    assert sorted(i for group in groups for i in group) == list(range(len(ids)))
    for group in groups:
        real = sum(lengths[i] for i in group)
        assert len(group) * max(lengths[i] for i in group) <= real * 1.1 or len(group) == 1
    # Without the bound (the torch path, which runs unpadded) every text shares one group.
    assert len(length_groups(ids, 32, 10_000)) == 1 < len(groups)


def _perturbed_copy(source: Path, target: Path, scale: float) -> None:
    model = onnx.load(str(source))
    rng = np.random.default_rng(0)
    for init in model.graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype == np.float32 and array.ndim == 2:
            noisy = array + scale * rng.standard_normal(array.shape).astype(np.float32)
            init.CopyFrom(numpy_helper.from_array(noisy, init.name))
    onnx.save(model, str(target))


def test_gate_refuses_a_model_made_to_disagree(
    tiny_model_dir: Path, prepared_tiny: Path, tmp_path: Path
) -> None:
    from transformers import AutoConfig, AutoTokenizer

    config = AutoConfig.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    bad = tmp_path / "perturbed.onnx"
    _perturbed_copy(prepared_tiny / INT8_FILE, bad, scale=0.5)
    check = load_check_set()
    texts = list(check.texts[:200])
    reference = OnnxClassifier(prepared_tiny / "model.onnx", config, tokenizer, 32, 32, 8192, 1)
    candidate = OnnxClassifier(bad, config, tokenizer, 32, 32, 8192, 1)
    expected = reference.classify_batch(texts)
    report = compare(
        expected,
        candidate.classify_batch(texts),
        check.labels[:200],
        reference.scheme,
        reference.labels,
    )
    assert not report.passed
    assert report.reason.startswith("refused: labels agree on ")
    assert "gate: at least 99.5%" in report.reason
    # The reference against itself passes; a threshold it cannot meet refuses it.
    same = compare(expected, expected, check.labels[:200], reference.scheme, reference.labels)
    assert same.passed
    assert same.agreement == 1.0
    assert same.shift == 0.0
    strict = compare(
        expected, expected, check.labels[:200], reference.scheme, reference.labels, max_shift=-1.0
    )
    assert not strict.passed
    assert "gate: at most -1.0" in strict.reason


def test_auto_logs_its_choice(
    tiny_model_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = _settings(tiny_model_dir, tmp_path, "auto")
    with caplog.at_level(logging.INFO, logger="sentiment_demo.backends.onnx_backend"):
        classifier, info = load_model(str(tiny_model_dir), settings)
    chosen = [r.getMessage() for r in caplog.records if "--runtime auto" in r.getMessage()]
    assert len(chosen) == 1
    assert "auto chose " in chosen[0]
    assert "torch float32 " in chosen[0]
    assert "/s" in chosen[0]
    assert info.runtime in {"torch", "onnx"}
    assert info.runtime_note.startswith(f"auto chose {info.runtime} ")
    assert [p.label for p in classifier.classify_batch(TEXTS[:4])]
    # The export went to the cache folder named in the settings.
    assert onnx_folder(model_folder(str(tiny_model_dir)), settings).parent == tmp_path


def test_runtime_torch_is_unchanged(tiny_model_dir: Path, tmp_path: Path) -> None:
    settings = _settings(tiny_model_dir, tmp_path, "torch")
    assert (
        module_for(str(tiny_model_dir), settings) == "sentiment_demo.backends.transformers_backend"
    )
    classifier, info = load_model(str(tiny_model_dir), settings)
    reference, _ = load_classifier(settings)
    assert isinstance(classifier, TransformersClassifier)
    assert info.runtime == "torch"
    assert info.runtime_note == ""
    assert classifier.classify_batch(TEXTS) == reference.classify_batch(TEXTS)
    assert not any(tmp_path.iterdir())  # nothing exported


def test_runtime_setting_is_read_and_checked() -> None:
    assert parse_settings(["--runtime", "onnx"], {}).runtime == "onnx"
    assert parse_settings([], {"SENTIMENT_RUNTIME": "auto"}).runtime == "auto"
    assert Settings().runtime == "torch"
    with pytest.raises(SystemExit):
        parse_settings(["--runtime", "tensorrt"], {})
