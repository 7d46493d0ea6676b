"""Scores test cases against a model's outcomes, and the capability report made from them.

A model's labels are read as sentiments first (`LabelView`): labels named negative / neutral /
positive as they are, other names through the Evaluate tab's label mapping (synonyms and presets).
A 2-label model skips the cases that only a neutral answer passes, and the report says how many.
Directional tests compare a signed score: P(positive) - P(negative) for a probability model, and
VADER's compound score for VADER, whose scores are strengths, not probabilities. Nothing here knows
about Gradio or torch: a model comes as a name, its ModelInfo and a classify function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sentiment_demo.backends.vader import compound_of
from sentiment_demo.behaviour.suite import EXPECTATIONS, TEST_TYPES, Capability, Suite, TestCase
from sentiment_demo.core.classifier import ModelInfo, Outcome, Prediction, Rejection
from sentiment_demo.evaluation.label_mapping import AUTOMATIC, map_value

SENTIMENTS = ("negative", "neutral", "positive")
# A directional edit passes when the signed score moves the expected way, or when the edited text is
# already this close to the end of the scale it should move towards (nothing is left to move).
SATURATED = 0.95
EXAMPLES_PER_CAPABILITY = 5
Status = Literal["pass", "fail", "skip"]


@dataclass(frozen=True)
class Reading:
    """One text as a sentiment: the label it gets and a signed score in [-1, 1]."""

    sentiment: str
    signed: float


@dataclass(frozen=True)
class LabelView:
    """How one model's labels read as sentiments.

    Attributes:
        sentiment_of: {model label: negative, neutral or positive}; labels that map to nothing
            are left out.
        strength: "probability" (signed = P(positive) - P(negative)) or "vader" (the compound score).
        untestable: why the model cannot be tested at all ("" when it can).
    """

    sentiment_of: dict[str, str]
    strength: Literal["probability", "vader"] = "probability"
    untestable: str = ""

    @property
    def has_neutral(self) -> bool:
        """True when some label reads as neutral."""
        return "neutral" in self.sentiment_of.values()

    def admits(self, expect: str) -> frozenset[str] | None:
        """The sentiments that pass an expectation, or None when this model cannot be tested on it."""
        allowed = EXPECTATIONS[expect]
        if not self.has_neutral:
            allowed = allowed - {"neutral"}
        return allowed or None

    def read(self, prediction: Prediction) -> Reading:
        """The sentiment with the highest summed score, and the signed score."""
        totals = dict.fromkeys(SENTIMENTS, 0.0)
        for item in prediction.scores:
            sentiment = self.sentiment_of.get(item.label)
            if sentiment:
                totals[sentiment] += item.score
        if self.strength == "vader":
            signed = compound_of(
                prediction.raw_score_of("positive"), prediction.raw_score_of("negative")
            )
        else:
            signed = totals["positive"] - totals["negative"]
        present = [s for s in SENTIMENTS if s in self.sentiment_of.values()]
        return Reading(max(present, key=lambda s: totals[s]), signed)


def _sentiment_of(label: str, preset: str) -> str:
    candidates = [label, label.removeprefix("LABEL_"), label.split(" ")[0]]
    for candidate in candidates:
        found = map_value(candidate, SENTIMENTS, preset)
        if found:
            return found
    return ""


def label_view(info: ModelInfo, preset: str = AUTOMATIC) -> LabelView:
    """Read a model's labels as sentiments: by name, synonyms (pos, NEG, ...), else the preset."""
    if info.scheme != "single_label":
        return LabelView(
            {},
            untestable=f"its outputs are {info.scheme.replace('_', '-')}, not one label per text; "
            "the suite tests single-label classifiers",
        )
    mapping = {label: s for label in info.labels if (s := _sentiment_of(label, preset))}
    found = set(mapping.values())
    if not {"negative", "positive"} <= found:
        return LabelView(
            mapping,
            untestable=f"its labels ({', '.join(info.labels)}) do not map to both negative and "
            f"positive with the label coding {preset!r}; pick the coding that fits them",
        )
    return LabelView(mapping, "vader" if info.backend == "vader" else "probability")


@dataclass(frozen=True)
class CaseResult:
    """One case for one model.

    Attributes:
        status: "pass", "fail" or "skip" (not testable on this model, or a text was refused).
        sentiments: the sentiment each text got ("" for a refused text).
        signed: each text's signed score.
        note: why it failed or was skipped, in words.
        culprit: the text to explain: the one whose answer broke the test.
    """

    case: TestCase
    status: Status
    sentiments: tuple[str, ...] = ()
    signed: tuple[float, ...] = ()
    note: str = ""
    culprit: str = ""


def score_case(
    case: TestCase, readings: Sequence[Reading | Rejection], view: LabelView
) -> CaseResult:
    """Score one case from the readings of its texts (in the case's order)."""
    refused = [r for r in readings if isinstance(r, Rejection)]
    if refused:
        return CaseResult(case, "skip", note=f"a text was refused: {refused[0].message}")
    got = [r for r in readings if isinstance(r, Reading)]
    sentiments = tuple(r.sentiment for r in got)
    signed = tuple(round(r.signed, 4) for r in got)
    result = CaseResult(case, "pass", sentiments, signed)
    if case.test_type == "mft":
        allowed = view.admits(case.expect)
        if allowed is None:
            return CaseResult(
                case, "skip", sentiments, signed, "only neutral passes; no neutral label"
            )
        if sentiments[0] not in allowed:
            note = f"expected {case.expect}, got {sentiments[0]}"
            return CaseResult(case, "fail", sentiments, signed, note, case.texts[0])
        return result
    if case.test_type == "inv":
        changed = [i for i, s in enumerate(sentiments) if s != sentiments[0]]
        if changed:
            i = changed[0]
            note = f"{sentiments[0]} became {sentiments[i]}"
            return CaseResult(case, "fail", sentiments, signed, note, case.texts[i])
        return result
    before, after = signed
    moved = (after - before) * case.direction
    at_end = after * case.direction >= SATURATED
    if moved <= 0 and not at_end:
        word = "up" if case.direction > 0 else "down"
        note = f"score should move {word}: {before:+.3f} → {after:+.3f}"
        return CaseResult(case, "fail", sentiments, signed, note, case.texts[1])
    return result


@dataclass(frozen=True)
class CapabilityResult:
    """One capability's figures for one model."""

    capability: str
    test_types: tuple[str, ...]
    cases: int
    tested: int
    failed: int
    skipped: int
    failures: tuple[CaseResult, ...]
    skip_notes: tuple[str, ...] = ()
    # (tag, tested, failed) per sub-test, e.g. ("negated negative", 40, 3), in suite order.
    sub_tests: tuple[tuple[str, int, int], ...] = ()

    @property
    def failure_rate(self) -> float | None:
        """Failed / tested, or None when nothing could be tested."""
        return self.failed / self.tested if self.tested else None


@dataclass(frozen=True)
class ModelBehaviour:
    """Every capability's result for one model, and what could not be tested and why."""

    model: str
    labels: tuple[str, ...]
    sentiment_of: dict[str, str]
    capabilities: tuple[CapabilityResult, ...]
    untestable: str = ""
    notes: tuple[str, ...] = ()

    def result(self, capability: str) -> CapabilityResult | None:
        """One capability's result, if the model was tested on it."""
        return next((r for r in self.capabilities if r.capability == capability), None)


@dataclass(frozen=True)
class BehaviourReport:
    """The suite's results for every model, side by side."""

    suite: Suite
    models: tuple[ModelBehaviour, ...]
    seconds: float
    sources: tuple[str, ...] = ("built-in suite",)
    descriptions: dict[str, str] = field(default_factory=dict)

    @property
    def capability_names(self) -> list[str]:
        """Capabilities in suite order (built-in first, then a user's own)."""
        return list(dict.fromkeys(case.capability for case in self.suite.cases))

    def rate(self, model: str, capability: str) -> float | None:
        """A model's failure rate on a capability (None when untested)."""
        behaviour = next(m for m in self.models if m.model == model)
        result = behaviour.result(capability)
        return result.failure_rate if result else None

    def over_limits(self, limits: dict[str, float]) -> list[str]:
        """A line per model and capability that fails more often than its limit allows."""
        lines = []
        for behaviour in self.models:
            for capability, limit in limits.items():
                result = behaviour.result(capability)
                rate = result.failure_rate if result else None
                if result is not None and rate is not None and rate > limit:
                    lines.append(
                        f"{behaviour.model}: {capability} fails {rate:.1%} of "
                        f"{result.tested} cases, more than the {limit:.1%} allowed"
                    )
        return lines

    def as_json(self) -> dict[str, Any]:
        """The full report: the suite, then per model every capability's figures and failures."""
        return {
            "suite": {
                "seed": self.suite.seed,
                "half": self.suite.half,
                "sources": list(self.sources),
                "cases": len(self.suite.cases),
                "texts": len(self.suite.texts()),
                "sizes": self.suite.sizes(),
                "capabilities": {
                    name: self.descriptions.get(name, "") for name in self.capability_names
                },
            },
            "seconds": round(self.seconds, 2),
            "models": {
                m.model: {
                    "labels": list(m.labels),
                    "read_as": m.sentiment_of,
                    "untestable": m.untestable,
                    "notes": list(m.notes),
                    "capabilities": {
                        r.capability: {
                            "test_types": list(r.test_types),
                            "cases": r.cases,
                            "tested": r.tested,
                            "failed": r.failed,
                            "skipped": r.skipped,
                            "failure_rate": None
                            if r.failure_rate is None
                            else round(r.failure_rate, 4),
                            "sub_tests": {
                                tag: {"tested": tested, "failed": failed}
                                for tag, tested, failed in r.sub_tests
                            },
                            "failures": [_case_json(f) for f in r.failures],
                        }
                        for r in m.capabilities
                    },
                }
                for m in self.models
            },
        }


def _case_json(result: CaseResult) -> dict[str, Any]:
    case = result.case
    return {
        "id": case.id,
        "tag": case.tag,
        "test_type": case.test_type,
        "texts": list(case.texts),
        "expected": case.expectation(),
        "got": list(result.sentiments),
        "signed_scores": list(result.signed),
        "note": result.note,
    }


def score_model(
    name: str,
    info: ModelInfo,
    suite: Suite,
    outcomes: dict[str, Outcome],
    preset: str = AUTOMATIC,
) -> ModelBehaviour:
    """One model's results from its outcome for every text of the suite."""
    view = label_view(info, preset)
    if view.untestable:
        return ModelBehaviour(name, info.labels, view.sentiment_of, (), view.untestable)
    readings: dict[str, Reading | Rejection] = {
        text: view.read(o) if isinstance(o, Prediction) else o for text, o in outcomes.items()
    }
    by_capability: dict[str, list[CaseResult]] = {}
    for case in suite.cases:
        result = score_case(case, [readings[t] for t in case.texts], view)
        by_capability.setdefault(case.capability, []).append(result)
    capabilities = tuple(_capability_result(name, r) for name, r in by_capability.items())
    notes = []
    if not view.has_neutral:
        skipped = sum(
            1
            for results in by_capability.values()
            for r in results
            if r.note.startswith("only neutral")
        )
        notes.append(
            f"no neutral label: {skipped} cases that only a neutral answer passes were skipped; "
            "'not negative' and 'not positive' expectations were tested as positive and negative"
        )
    if view.strength == "vader":
        notes.append("VADER: directional tests compare its compound score (a strength)")
    return ModelBehaviour(name, info.labels, view.sentiment_of, capabilities, "", tuple(notes))


def _capability_result(capability: str, results: list[CaseResult]) -> CapabilityResult:
    failures = tuple(r for r in results if r.status == "fail")
    skips = [r for r in results if r.status == "skip"]
    tags = dict.fromkeys(r.case.tag for r in results)
    sub_tests = tuple(
        (
            tag,
            sum(r.case.tag == tag and r.status != "skip" for r in results),
            sum(r.case.tag == tag for r in failures),
        )
        for tag in tags
    )
    return CapabilityResult(
        capability=capability,
        test_types=tuple(dict.fromkeys(r.case.test_type for r in results)),
        cases=len(results),
        tested=len(results) - len(skips),
        failed=len(failures),
        skipped=len(skips),
        failures=failures,
        skip_notes=tuple(dict.fromkeys(r.note for r in skips)),
        sub_tests=sub_tests,
    )


ClassifyAll = Callable[[Sequence[str]], Sequence[Sequence[Outcome]]]


def run_suite(
    suite: Suite,
    models: Sequence[tuple[str, ModelInfo]],
    classify_all: ClassifyAll,
    preset: str = AUTOMATIC,
    sources: Sequence[str] = ("built-in suite",),
    descriptions: dict[str, str] | None = None,
) -> BehaviourReport:
    """Classify every distinct text of the suite once per model, then score each model.

    `classify_all` takes the texts and gives one list of outcomes per model, in model order (the
    app runs them through each model's scheduler; the command line through each engine).
    """
    started = time.perf_counter()
    texts = suite.texts()
    per_model = classify_all(texts)
    behaviours = tuple(
        score_model(name, info, suite, dict(zip(texts, outcomes, strict=True)), preset)
        for (name, info), outcomes in zip(models, per_model, strict=True)
    )
    descriptions = descriptions or {c.name: c.description for c in suite.capabilities}
    return BehaviourReport(
        suite, behaviours, time.perf_counter() - started, tuple(sources), descriptions
    )


def types_of(report: BehaviourReport, capability: str) -> str:
    """The test types a capability uses, as short words (e.g. "mft" or "inv, mft")."""
    types = dict.fromkeys(c.test_type for c in report.suite.cases if c.capability == capability)
    return ", ".join(types)


def rate_text(result: CapabilityResult | None) -> str:
    """A table cell: "12.5% (15/120)", "not tested" or "—"."""
    if result is None:
        return "—"
    if result.failure_rate is None:
        return "not tested"
    return f"{result.failure_rate:.1%} ({result.failed}/{result.tested})"


def capability_rows(report: BehaviourReport) -> list[list[Any]]:
    """The side-by-side table: capability, test type, cases, then each model's failure rate."""
    return [
        [
            name,
            types_of(report, name),
            sum(1 for c in report.suite.cases if c.capability == name),
            *(rate_text(m.result(name)) for m in report.models),
        ]
        for name in report.capability_names
    ]


FAILURE_COLUMNS = ["model", "capability", "test", "text", "expected", "got", "compared with", "id"]


def failure_rows(
    report: BehaviourReport, per_capability: int | None = EXAMPLES_PER_CAPABILITY
) -> list[list[str]]:
    """Failing cases: a few per model and capability (all with `per_capability=None`)."""
    rows = []
    for behaviour in report.models:
        for result in behaviour.capabilities:
            for failure in result.failures[:per_capability]:
                case = failure.case
                original = case.texts[0] if failure.culprit != case.texts[0] else ""
                rows.append(
                    [
                        behaviour.model,
                        result.capability,
                        f"{case.test_type}: {case.tag}",
                        failure.culprit,
                        case.expectation(),
                        failure.note,
                        original,
                        case.id,
                    ]
                )
    return rows


def summary_lines(report: BehaviourReport) -> list[str]:
    """What was run and how it went, one line each, plain text."""
    suite = report.suite
    lines = [
        f"{len(suite.cases):,} cases ({len(suite.texts()):,} distinct texts) from "
        f"{' and '.join(report.sources)}, seed {suite.seed}, {suite.half} half; "
        f"{report.seconds:.1f} s."
    ]
    for m in report.models:
        if m.untestable:
            lines.append(f"{m.model}: not tested: {m.untestable}.")
            continue
        tested = sum(r.tested for r in m.capabilities)
        failed = sum(r.failed for r in m.capabilities)
        skipped = sum(r.skipped for r in m.capabilities)
        line = f"{m.model}: {failed:,} of {tested:,} cases failed ({failed / max(1, tested):.1%})"
        if skipped:
            line += f", {skipped:,} skipped"
        lines.append(line + "." + "".join(f" Note: {n}." for n in m.notes))
    return lines


def markdown_table(report: BehaviourReport) -> str:
    """The capability table in Markdown, for a README or a model card."""
    names = [m.model for m in report.models]
    lines = [
        "| capability | test | cases | " + " | ".join(f"{n} failure rate" for n in names) + " |",
        "|---|---|---:|" + "---:|" * len(names),
    ]
    for row in capability_rows(report):
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def describe_test_types() -> str:
    """The three test types in one line each."""
    return "\n".join(f"- {key}: {value}" for key, value in TEST_TYPES.items())


__all__ = [
    "BehaviourReport",
    "Capability",
    "CapabilityResult",
    "CaseResult",
    "LabelView",
    "ModelBehaviour",
    "Reading",
    "capability_rows",
    "failure_rows",
    "label_view",
    "markdown_table",
    "run_suite",
    "score_case",
    "score_model",
    "summary_lines",
]
