"""The model card of a recipe-built model: Hub front matter (model-index) and a body of measured figures.

Everything in it comes from training.json (what was trained, how) and evaluation.json (what was
measured), so rerunning `recipe.evaluate` rewrites the same card.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

# Characters that can format mid-line (emphasis, code, links, HTML, entities, math, table cells); escaped
# with a backslash, as CommonMark allows for any ASCII punctuation, they show as themselves.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>|~&$])")


def _visible(text: str) -> str:
    r"""Line breaks, control and invisible characters written as escapes (`\n`, `\u200b`).

    The text stays on its line, and labels that differ only by an invisible character look different.
    """
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")
        else char
        for char in text
    )


def cell(text: str) -> str:
    """Text from the data (a label, a source name) as plain Markdown: safe in a table cell or a line."""
    return _MARKDOWN.sub(r"\\\1", _visible(text))


def code(text: str) -> str:
    """Text from the data as an inline code span whose fence is longer than any backtick run in it."""
    text = _visible(text)
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _pct(value: float) -> str:
    return f"{100 * value:.2f}%"


def _own_labels(entry: dict[str, Any]) -> list[str] | None:
    """The set's own labels when it has at least two but fewer than the model (None otherwise)."""
    own = entry["float32"].get("among_own_labels")
    return own["labels"] if own and len(own["labels"]) >= 2 else None


def headline(entry: dict[str, Any], dtype: str = "float32") -> dict[str, Any]:
    """The figures a reader compares first: among the set's own labels when it has fewer."""
    measured = entry[dtype]
    return measured["among_own_labels"] if _own_labels(entry) else measured["all_labels"]


def summary_table(figures: dict[str, Any]) -> str:
    """A Markdown table: each set, its size, accuracy and macro-F1 in both precisions, agreement."""
    lines = [
        "| set | texts | accuracy (float32) | macro-F1 (float32) | accuracy (bfloat16) | "
        "macro-F1 (bfloat16) | labels agreeing |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in figures["sets"].items():
        fp32, bf16 = headline(entry), headline(entry, "bfloat16")
        own = _own_labels(entry)
        scope = f" ({' vs '.join(map(cell, own))})" if own else ""
        lines.append(
            f"| {cell(name)}{scope} | {entry['texts']:,} | {_pct(fp32['accuracy'])} | "
            f"{fp32['macro_f1']:.4f} | {_pct(bf16['accuracy'])} | {bf16['macro_f1']:.4f} | "
            f"{_pct(entry['label_agreement'])} |"
        )
    return "\n".join(lines)


def _per_class(figures: dict[str, Any]) -> str:
    blocks = []
    for name, entry in figures["sets"].items():
        if entry["kind"] != "test":
            continue
        measured = entry["float32"]["all_labels"]
        rows = [
            f"| {cell(label)} | {c['precision']:.4f} | {c['recall']:.4f} | {c['f1']:.4f} | {c['support']:,} |"
            for label, c in measured["per_class"].items()
        ]
        matrix = measured["confusion_matrix"]
        header = " | ".join(map(cell, matrix["labels"]))
        cells = [
            f"| **{cell(label)}** | " + " | ".join(f"{v:,}" for v in row) + " |"
            for label, row in zip(
                matrix["labels"], matrix["rows_true_columns_predicted"], strict=True
            )
        ]
        blocks.append(
            f"### {cell(name)}\n\n| label | precision | recall | F1 | texts |\n|---|---:|---:|---:|---:|\n"
            + "\n".join(rows)
            + f"\n\nConfusion matrix (rows: true label, columns: predicted):\n\n| | {header} |\n|---|"
            + "---:|" * len(matrix["labels"])
            + "\n"
            + "\n".join(cells)
        )
    return "\n\n".join(blocks)


def _calibration(figures: dict[str, Any], temperature: float) -> str:
    rows = [
        f"| {cell(name)} | {e['float32']['expected_calibration_error_before_temperature']:.4f} | "
        f"{e['float32']['all_labels']['expected_calibration_error']:.4f} |"
        for name, e in figures["sets"].items()
    ]
    return (
        f"A temperature of {temperature:.3f}, fitted on the validation split, is folded into the "
        "output layer (its weight and bias divided by it), so any transformers loader gets the "
        "calibrated scores; labels are unchanged. Expected calibration error (10 equal-width bins "
        "over the top label's confidence, all labels, float32). On the sets without neutral texts, a "
        "confident neutral answer counts as an error, which is most of the error on the NYT "
        "editorials (opinion written in a neutral register):\n\n"
        "| set | before | after |\n|---|---:|---:|\n" + "\n".join(rows)
    )


def _cleaning(training: dict[str, Any]) -> str:
    """What the recipe changed in the data before splitting (absent from older training.json)."""
    lines = []
    duplicates = training.get("duplicates_removed")
    if duplicates is not None:
        lines.append(
            f"{duplicates:,} exact duplicate rows (same text and label) were removed before "
            "splitting, so no text is in both train and test."
        )
    merged = training.get("merged_labels") or {}
    if merged:
        lines.append(
            "Labels that differ only in case, Unicode form or invisible characters were merged: "
            + ", ".join(f"{code(old)} into {code(new)}" for old, new in merged.items())
            + "."
        )
    return "\n" + " ".join(lines) + "\n" if lines else ""


def _sources(training: dict[str, Any], sources: dict[str, Any] | None) -> str:
    if not sources:
        return "\n".join(f"- {code(path)}" for path in training["data"] + training["eval_data"])
    lines = []
    for name, facts in sources.items():
        dropped = ", ".join(f"{n:,} {why}" for why, n in facts["dropped"].items()) or "none"
        repaired = (
            f" {facts['repaired_by_ftfy']:,} texts repaired by ftfy."
            if facts["repaired_by_ftfy"]
            else ""
        )
        lines.append(
            f"- **{name}**: {facts['title']}; {facts['rows']:,} rows "
            f"({', '.join(f'{k} {v:,}' for k, v in facts['labels'].items())}). From {facts['origin']}. "
            f"Licence: {facts['licence']}. Dropped: {dropped}.{repaired}"
        )
    return "\n".join(lines)


def _worst_sub_test(sub_tests: dict[str, dict[str, int]]) -> str:
    """The sub-test that fails most often, as "negation at a distance: 22 of 40", or "none"."""
    failing = [(f["failed"] / f["tested"], tag, f) for tag, f in sub_tests.items() if f["failed"]]
    if not failing:
        return "none"
    _, tag, figures = max(failing)
    return f"{cell(tag)}: {figures['failed']} of {figures['tested']}"


def behaviour_section(behaviour: dict[str, Any] | None) -> str:
    """The capability table of behaviour.json (a `python -m sentiment_demo.behaviour` report)."""
    if not behaviour:
        return ""
    suite = behaviour["suite"]
    model, results = next(iter(behaviour["models"].items()))
    rows = []
    for capability, r in results["capabilities"].items():
        rate = "not tested" if r["failure_rate"] is None else f"{r['failure_rate']:.1%}"
        rows.append(
            f"| {capability} | {', '.join(r['test_types'])} | {r['tested']:,} | {r['failed']:,} | "
            f"{rate} | {_worst_sub_test(r.get('sub_tests', {}))} |"
        )
    notes = "".join(f" {note[0].upper()}{note[1:]}." for note in results["notes"])
    return (
        f"""
## Capabilities (behavioural tests)

What the model can and cannot do, capability by capability (CheckList-style: mft = an expected
label, inv = an edit that must not change the label, dir = an edit that must move the score): the
kit's built-in suite, seed {suite["seed"]}, {suite["half"]} half, {suite["cases"]:,} cases, float32.
`python -m sentiment_demo.behaviour --model models/{model} --output report.json` reproduces it and
lists every failing case.{notes}

| capability | test | cases | failed | failure rate | most failed sub-test |
|---|---|---:|---:|---:|---|
"""
        + "\n".join(rows)
        + "\n"
    )


def _vader_average(accuracies: dict[str, float]) -> float | None:
    """Mean accuracy over the VADER sets (vader_*), the figure the issue tracker quotes."""
    vader = [value for name, value in accuracies.items() if name.startswith("vader_")]
    return sum(vader) / len(vader) if vader else None


def baseline_section(
    figures: dict[str, Any],
    behaviour: dict[str, Any] | None,
    baseline: dict[str, Any] | None,
) -> str:
    """Before/after tables against the previous model on the same sets (baseline.json)."""
    if not baseline:
        return ""
    rows = []
    before_acc: dict[str, float] = {}
    after_acc: dict[str, float] = {}
    for name, entry in figures["sets"].items():
        before = baseline["sets"].get(name)
        if before is None:
            continue
        after = headline(entry)
        after_ece = entry["float32"]["all_labels"]["expected_calibration_error"]
        before_acc[name], after_acc[name] = before["accuracy"], after["accuracy"]
        rows.append(
            f"| {cell(name)} | {entry['texts']:,} | {_pct(before['accuracy'])} | "
            f"{_pct(after['accuracy'])} | {before['macro_f1']:.4f} | {after['macro_f1']:.4f} | "
            f"{before['expected_calibration_error']:.4f} | {after_ece:.4f} |"
        )
    average_before, average_after = _vader_average(before_acc), _vader_average(after_acc)
    if average_before is not None and average_after is not None:
        rows.append(
            f"| VADER average (4 sets) | | {_pct(average_before)} | {_pct(average_after)} | | | | |"
        )
    capability_rows = []
    if behaviour:
        after_caps = next(iter(behaviour["models"].values()))["capabilities"]
        for capability, rate_before in baseline["capabilities"].items():
            rate_after = after_caps.get(capability, {}).get("failure_rate")
            capability_rows.append(
                f"| {capability} | "
                + " | ".join(
                    "not tested" if rate is None else f"{rate:.1%}"
                    for rate in (rate_before, rate_after)
                )
                + " |"
            )
    capabilities = (
        "\n\nBehavioural failure rates (same suite, eval half):\n\n"
        "| capability | before | after |\n|---|---:|---:|\n" + "\n".join(capability_rows)
        if capability_rows
        else ""
    )
    return (
        f"""
## Before and after

The previous default, `{baseline["model"]}`, measured by the same code on this model's sets (same
rows; float32; accuracy and macro-F1 among each set's own labels, calibration error over all labels).
`make baseline` reproduces the "before" columns from the previous model's folder in git.

| set | texts | accuracy before | accuracy after | macro-F1 before | macro-F1 after | ECE before | ECE after |
|---|---:|---:|---:|---:|---:|---:|---:|
"""
        + "\n".join(rows)
        + capabilities
        + "\n"
    )


def _changes(changes: str) -> str:
    """changes.md (hand-written) under its own heading."""
    return f"\n## What changed, and why\n\n{changes.strip()}\n" if changes.strip() else ""


def onnx_section(parity: dict[str, Any] | None) -> str:
    """The ONNX Runtime int8 gate's figures (onnx_parity.json, copied by `make onnx`)."""
    if not parity:
        return ""
    report = parity["parity"]
    verdict = "passes" if report["passed"] else "fails"
    return f"""
## ONNX Runtime int8

`make onnx` exports the model to ONNX (float32 matches torch within
{parity["float32_max_difference"]:.1e}), quantizes every weight MatMul to int8 ({parity["quantization"]}) and compares
int8 with ONNX float32 on the kit's check set ({report["texts"]:,} held-out texts): labels agree on {_pct(report["agreement"])} (gate: at least {_pct(parity["min_agreement"])});
expected calibration error {report["reference_error"]:.4f} (float32) → {report["candidate_error"]:.4f}
(int8), a move of {abs(report["candidate_error"] - report["reference_error"]):.4f} (gate: at most
{parity["max_shift"]}). int8 therefore {verdict} the gate; `--runtime onnx` and `auto` serve int8 only
when it passes.
"""


def _learned_from(training: dict[str, Any], sources: dict[str, Any] | None) -> str:
    """The training sources in words: their titles when sources.json is at hand, else file names."""
    names = [Path(path).stem for path in training["data"]]
    titles = [sources[name]["title"] if sources and name in sources else name for name in names]
    return ", ".join(titles)


def _feedback(training: dict[str, Any]) -> str:
    used = training.get("feedback_records", 0)
    if not used:
        return ""
    return (
        f"\n\n{used:,} of these rows are visitors' feedback from the demo app, accepted by its "
        "owner, labelled with the label the visitor gave."
    )


def write_card(
    model_dir: Path,
    training: dict[str, Any],
    figures: dict[str, Any],
    sources: dict[str, Any] | None,
    name: str,
    behaviour: dict[str, Any] | None = None,
    baseline: dict[str, Any] | None = None,
    onnx_parity: dict[str, Any] | None = None,
    changes: str = "",
) -> None:
    """Write model_dir/README.md; each optional report adds its section (see write_card_from_figures)."""
    recipe = training["recipe"]
    labels = training["labels"]
    eval_results = []
    for set_name, entry in figures["sets"].items():
        shown = headline(entry)
        for metric, key in (("accuracy", "accuracy"), ("f1", "macro_f1")):
            eval_results.append(
                EvalResult(
                    task_type="text-classification",
                    # "x test" (a source's test split) and "x_test" (a file) must stay apart.
                    dataset_type=set_name.replace(" ", "-"),
                    dataset_name=set_name,
                    metric_type=metric,
                    metric_name=f"{metric} ({' vs '.join(_own_labels(entry) or ['all labels'])})",
                    metric_value=shown[key],
                )
            )
    card_data = ModelCardData(
        language="en",
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag="text-classification",
        base_model=training["base_model_id"],
        datasets=list(sources) if sources else [Path(p).stem for p in training["data"]],
        metrics=["accuracy", "f1"],
        tags=["sentiment-analysis", "text-classification", "gradio-demo"],
        model_name=name,
        eval_results=eval_results,
    )
    weights = training["class_weights"]
    balance = (
        "class-weighted cross-entropy ("
        + ", ".join(f"{cell(k)} {v}" for k, v in weights.items())
        + "; inverse label frequency)"
        if weights
        else "plain cross-entropy (labels not skewed enough for weights)"
    )
    splits = training["split_sizes"]
    base_note = (
        f" (`--base` was the local copy of `{training['base_model_id']}` that a package installs)"
        if training["base_model_id"] != training["base_model"]
        else ""
    )
    body = f"""
# {name}

A text classifier with labels {", ".join(map(code, labels))}, fine-tuned from
`{training["base_model_id"]}` by the sentiment demo kit's recipe (`recipe/finetune.py`). It runs with no
network and answers in milliseconds on a laptop CPU.

## Figures

Measured through the app's own loader and engine on CPU; `make evaluate` (or `python -m recipe.evaluate
--model models/{name}`) reproduces every number in this section and the next three. Test rows were held
out from training and from the recipe's choices (early stopping and the temperature use the validation
split). Sets with only negative and positive
texts are scored between those two labels (whichever of the two scores higher); the share of their texts
the model calls something else is in `evaluation.json`, with the figures over all labels.

{summary_table(figures)}

## Per class (float32, test splits)

{_per_class(figures)}

## Calibration

{_calibration(figures, training["temperature"])}
{behaviour_section(behaviour)}{baseline_section(figures, behaviour, baseline)}{_changes(changes)}{onnx_section(onnx_parity)}
## Data

{splits["train"]:,} / {splits["validation"]:,} / {splits["test"]:,} texts (train / validation / test),
split 80/10/10, stratified by source and label, seed {training["split_seed"]}. Training labels:
{", ".join(f"{cell(k)} {v:,}" for k, v in training["train_labels"].items())}.
{_cleaning(training)}
{_sources(training, sources)}{_feedback(training)}

## Training

`make model` rebuilt it with this command{base_note}:

```
{training["command"]}
```

`Trainer`: learning rate {recipe["learning_rate"]}, at most {recipe["max_epochs"]:g} epochs with early
stopping on validation macro-F1 (patience {recipe["patience"]}), warm-up {recipe["warmup_ratio"]:.0%},
weight decay {recipe["weight_decay"]}, batch {recipe["batch_size"]}, length-grouped batches, texts cut at
{recipe["max_length"]} tokens, mixed precision: {training["mixed_precision"]}, seed {recipe["seed"]};
{balance}. It trained {training["epochs_trained"]:g} epochs and kept the checkpoint of epoch
{training["best_checkpoint_epoch"]} (validation macro-F1 {training["validation_macro_f1"]:.4f}) in
{training["train_seconds"] / 60:.1f} minutes. Weights are stored in float16; the app loads them in
bfloat16 or float32 on CPU and float16 on GPU.

## Intended use and limits

A teaching and demo model for short English texts: tweets, reviews, plain statements. It learned from
{_learned_from(training, sources)} only, so expect lower accuracy elsewhere (see the evaluation-only
rows), on sarcasm, irony and mixed feelings, and on long texts (training saw at most
{recipe["max_length"]} tokens; the app says when it truncates). Do not use it to make decisions about
people.
"""
    ModelCard(f"---\n{card_data.to_yaml()}\n---\n{body}").save(model_dir / "README.md")
