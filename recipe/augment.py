"""Counterfactual training texts from the behavioural suite's `train` half, never its `eval` half.

The suite (`sentiment_demo.behaviour`) keeps every template list and word list in two halves. The card's
capability table is measured on the `eval` half; this module turns the `train` half into labelled
rows, so the model learns negation, contrast, "used to ..., but now ...", slang and invariance from
other templates and other words than the ones it is tested on: the table then measures
generalisation, not memory.

How a case becomes rows:
- minimum-functionality cases give their text with the expected label; "not negative" (a negated
  negative, e.g. "not bad") is taught as positive and "not positive" as negative, the reading that
  the everyday phrases carry;
- invariance cases (robustness, fairness) give every variant with one label: the sentiment slot of
  the template decides it ({pos_adj}, {slang_pos}, ... positive; {neg_...} negative; no sentiment
  slot neutral), so a name, a typo or a URL never moves it;
- directional cases are left out (they state a direction, not a label).

Several seeds draw more fillings of the same half; repeated texts are kept once and a text drawn with
two labels is dropped.
"""

from __future__ import annotations

import re
from collections import Counter

from recipe.corpora import Corpus
from sentiment_demo.behaviour.suite import (
    Suite,
    TestCase,
    capability_files,
    lexicon,
    slots,
    training_suite,
)

SEEDS = (11, 12, 13, 14, 15)
TRAINING_LABELS = {
    "positive": "positive",
    "negative": "negative",
    "neutral": "neutral",
    "not negative": "positive",
    "not positive": "negative",
}
_POSITIVE_SLOT = re.compile(r"(^pos_|_pos\d*$|^pos_clause)")
_NEGATIVE_SLOT = re.compile(r"(^neg_|_neg\d*$|^neg_clause)")
_SLOT_NUMBER = re.compile(r"\d+$")


def template_label(template_text: str) -> str | None:
    """positive, negative or neutral from a template's sentiment slots; None when it has both kinds."""
    names = {_SLOT_NUMBER.sub("", slot) for slot in slots(template_text)}
    positive = any(_POSITIVE_SLOT.search(name) for name in names)
    negative = any(_NEGATIVE_SLOT.search(name) for name in names)
    if positive and negative:
        return None
    return "positive" if positive else "negative" if negative else "neutral"


def case_rows(case: TestCase, inv_labels: dict[str, str | None]) -> list[tuple[str, str]]:
    """The (text, label) rows one case teaches; none for a directional case."""
    if case.test_type == "mft":
        return [(case.texts[0], TRAINING_LABELS[case.expect])]
    if case.test_type == "inv":
        label = inv_labels.get(case.texts[0])
        return [] if label is None else [(text, label) for text in case.texts]
    return []


def behaviour_training_rows(seeds: tuple[int, ...] = SEEDS) -> Corpus:
    """The `train` half of the suite as labelled rows, over `seeds`; see the module docstring."""
    by_text: dict[str, set[str]] = {}
    corpus = Corpus("behaviour_train")
    for seed in seeds:
        suite = training_suite(seed)
        inv_labels = _invariance_labels(suite)
        for case in suite.cases:
            rows = case_rows(case, inv_labels)
            if not rows:
                why = "directional" if case.test_type == "dir" else "unmatched invariance"
                corpus.dropped[f"{why} cases (no label)"] += 1
            for text, label in rows:
                if text in by_text:
                    corpus.dropped["repeated texts"] += 1
                by_text.setdefault(text, set()).add(label)
    corpus.add_agreed(by_text, "texts drawn with different labels")
    return corpus


def _invariance_labels(suite: Suite) -> dict[str, str | None]:
    """The label of each invariance case's original text, from the template that produced it.

    The suite keeps no link from a case to its template, so each template of the `train` half is
    matched against the original text, every slot standing for the words of its `train` list.
    """
    words = {
        name: lists["train"]
        for name, lists in lexicon().items()
        if isinstance(lists, dict) and "train" in lists
    }
    patterns = []
    for data in capability_files():
        if data["test_type"] != "inv":
            continue
        for template in data["templates"]["train"]:
            text = str(template["text"])
            pattern = re.escape(text)
            for slot in set(slots(text)):
                choices = "|".join(re.escape(w) for w in words[_SLOT_NUMBER.sub("", slot)])
                pattern = pattern.replace(re.escape("{" + slot + "}"), f"(?:{choices})")
            flags = re.IGNORECASE if template.get("upper") else 0
            patterns.append((re.compile(f"^{pattern}$", flags), template_label(text)))
    labels: dict[str, str | None] = {}
    for case in suite.cases:
        if case.test_type != "inv":
            continue
        matches = {label for pattern, label in patterns if pattern.match(case.texts[0])}
        # No template, or templates of different labels, match: leave the case out, not guess.
        labels[case.texts[0]] = matches.pop() if len(matches) == 1 else None
    return labels


def summary(corpus: Corpus) -> str:
    """One line: rows per label."""
    return f"{len(corpus.texts):,} rows {dict(sorted(Counter(corpus.labels).items()))}"
