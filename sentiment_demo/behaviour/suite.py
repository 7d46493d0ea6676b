"""The capability suite: test cases generated from the templates and word lists in `data/`, seeded.

Each capability is one JSON file in `data/` (its description, test type, number of cases and templates),
filled from `data/lexicon.json`. Every template list and word list has a `train` half and an `eval` half
that share no entry (closed classes such as pronouns excepted): the suite tests with `eval` by default,
and `training_suite` gives the `train` half to augment a model's training data without testing on what
it trained on. The same seed gives the same cases, in the same order. Stdlib only.
"""

from __future__ import annotations

import json
import random
import re
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).resolve().parent / "data"
LEXICON = "lexicon.json"
DEFAULT_SEED = 2020  # CheckList's year; any integer gives another repeatable suite
Half = Literal["train", "eval"]
HALVES: tuple[Half, ...] = ("train", "eval")
TestType = Literal["mft", "inv", "dir"]
TEST_TYPES: dict[str, str] = {
    "mft": "minimum functionality (an expected label)",
    "inv": "invariance (an edit must not change the label)",
    "dir": "directional (an edit must move the score the right way)",
}
# What an expected value admits; a 2-label model has no neutral, so an expectation of neutral alone
# cannot be tested on it (scoring.py skips those and says so).
EXPECTATIONS: dict[str, frozenset[str]] = {
    "positive": frozenset({"positive"}),
    "negative": frozenset({"negative"}),
    "neutral": frozenset({"neutral"}),
    "not negative": frozenset({"neutral", "positive"}),
    "not positive": frozenset({"neutral", "negative"}),
}
PERTURBATIONS = ("typo", "mention", "url", "casing", "punctuation")
MAX_TRIES = 200  # draws per case before giving up on finding a text not generated already
_SLOT_NUMBER = re.compile(r"\d+$")


@dataclass(frozen=True)
class TestCase:
    """One test: its texts and what a model must do with them.

    Attributes:
        id: unique within a suite, e.g. "negation-017".
        capability: the capability it tests, e.g. "negation".
        test_type: "mft" (texts[0] must get a label in `expect`), "inv" (every text must get the
            label of texts[0]) or "dir" (texts[1] must score further in `direction` than texts[0]).
        tag: the sub-test, e.g. "negated negative" or "typo".
        texts: one text (mft), the original and its variants (inv), the original and the edit (dir).
        expect: for mft, a key of EXPECTATIONS.
        direction: for dir, +1 (more positive) or -1 (more negative).
    """

    __test__ = False  # not a pytest class, despite the name

    id: str
    capability: str
    test_type: TestType
    tag: str
    texts: tuple[str, ...]
    expect: str = ""
    direction: int = 0

    def expectation(self) -> str:
        """What the test asks for, in words."""
        if self.test_type == "mft":
            return self.expect
        if self.test_type == "inv":
            return "same label as the original"
        return "more positive than the original" if self.direction > 0 else "more negative"


@dataclass(frozen=True)
class Capability:
    """A capability's description and test type, as its data file states them."""

    name: str
    description: str
    test_type: TestType
    cases: int


@dataclass(frozen=True)
class Suite:
    """Generated test cases, the capabilities they belong to, and how they were made."""

    cases: tuple[TestCase, ...]
    capabilities: tuple[Capability, ...]
    seed: int
    half: str

    def sizes(self) -> dict[str, int]:
        """Cases per capability, in suite order."""
        counts = {capability.name: 0 for capability in self.capabilities}
        for case in self.cases:
            counts[case.capability] = counts.get(case.capability, 0) + 1
        return counts

    def texts(self) -> list[str]:
        """Every distinct text, in first-seen order: what each model must classify."""
        return list(dict.fromkeys(text for case in self.cases for text in case.texts))


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def lexicon(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """The word lists (read once)."""
    return _read(data_dir / LEXICON)


def capability_files(data_dir: Path = DATA_DIR) -> list[dict[str, Any]]:
    """Every capability's data file, in suite order."""
    files = [_read(path) for path in sorted(data_dir.glob("*.json")) if path.name != LEXICON]
    return sorted(files, key=lambda data: (data.get("order", 99), data["capability"]))


def capabilities(data_dir: Path = DATA_DIR) -> tuple[Capability, ...]:
    """The built-in capabilities, in suite order."""
    return tuple(
        Capability(d["capability"], d["description"], d["test_type"], d["cases"])
        for d in capability_files(data_dir)
    )


def generate_suite(
    seed: int = DEFAULT_SEED, half: Half = "eval", data_dir: Path = DATA_DIR
) -> Suite:
    """Every capability's cases from one half of the templates and word lists.

    Each capability draws from a random generator seeded with the seed and its own name, so adding a
    capability (or cases to one) changes no other capability's cases.

    Raises:
        ValueError: a data file asks for more distinct cases than its templates and words can make,
            or names a word list that lexicon.json lacks.
    """
    if half not in HALVES:
        raise ValueError(f"half must be one of {', '.join(HALVES)}, not {half!r}")
    words = {
        name: lists[half]
        for name, lists in lexicon(data_dir).items()
        if isinstance(lists, dict) and half in lists
    }
    cases: list[TestCase] = []
    for data in capability_files(data_dir):
        rng = random.Random(f"{seed}:{data['capability']}")
        cases += _generate(data, data["templates"][half], words, rng)
    return Suite(tuple(cases), capabilities(data_dir), seed, half)


def training_suite(seed: int = DEFAULT_SEED, data_dir: Path = DATA_DIR) -> Suite:
    """The `train` half: cases for augmenting a model's training data, disjoint from what is tested."""
    return generate_suite(seed, "train", data_dir)


def _generate(
    data: dict[str, Any],
    templates: list[dict[str, Any]],
    words: dict[str, list[str]],
    rng: random.Random,
) -> list[TestCase]:
    name, test_type, count = data["capability"], data["test_type"], data["cases"]
    perturbations = data.get("perturbations", PERTURBATIONS)
    edits = data.get("edits", [])
    seen: set[tuple[str, ...]] = set()
    cases: list[TestCase] = []
    for index in range(count):
        # Round robin over the templates (and perturbations or edits) keeps the sub-tests balanced.
        template = templates[index % len(templates)]
        turn = index // len(templates)
        for _ in range(MAX_TRIES):
            values = _draw(template["text"], words, rng)
            text = _fill(template, values)
            case_id = f"{name}-{index + 1:03d}"
            if test_type == "mft":
                case = TestCase(
                    case_id, name, "mft", template["tag"], (text,), expect=template["expect"]
                )
            elif test_type == "inv" and "vary" in template:
                texts = _vary(template, values, words, data.get("variants", 3), rng)
                case = TestCase(case_id, name, "inv", template["tag"], texts)
            elif test_type == "inv":
                perturbation = perturbations[turn % len(perturbations)]
                edited = perturb(text, perturbation, rng, words)
                case = TestCase(case_id, name, "inv", perturbation, (text, edited))
            else:
                edit = edits[(index + turn) % len(edits)]
                clause = rng.choice(words[edit["add"]])
                direction = 1 if edit["direction"] == "up" else -1
                tag = f"{template['tag']} + {'positive' if direction > 0 else 'negative'} clause"
                edited = f"{text} {clause}"
                case = TestCase(case_id, name, "dir", tag, (text, edited), direction=direction)
            if case.texts not in seen and len(set(case.texts)) == len(case.texts):
                seen.add(case.texts)
                cases.append(case)
                break
        else:
            raise ValueError(
                f"{name}: could not make {count} distinct cases from its templates and words; "
                "add words or templates, or lower its `cases`"
            )
    return cases


def slots(text: str) -> list[str]:
    """The slot names of a template, e.g. ["noun", "pos_adj", "noun2"]."""
    return [field for _, field, _, _ in string.Formatter().parse(text) if field]


def _draw(text: str, words: dict[str, list[str]], rng: random.Random) -> dict[str, str]:
    """A value for each slot; slots of one list ({noun}, {noun2}) get different values."""
    values: dict[str, str] = {}
    for slot in slots(text):
        if slot in values:
            continue
        base = _SLOT_NUMBER.sub("", slot)
        if base not in words:
            raise ValueError(
                f"template {text!r} names {{{slot}}}, but lexicon.json has no {base!r}"
            )
        taken = {values[s] for s in values if _SLOT_NUMBER.sub("", s) == base}
        values[slot] = rng.choice([w for w in words[base] if w not in taken])
    return values


def _fill(template: dict[str, Any], values: dict[str, str]) -> str:
    text = str(template["text"]).format(**values)
    return text.upper() if template.get("upper") else text


def _vary(
    template: dict[str, Any],
    values: dict[str, str],
    words: dict[str, list[str]],
    variants: int,
    rng: random.Random,
) -> tuple[str, ...]:
    """The template filled as drawn, then with other values of its `vary` slot."""
    slot = template["vary"]
    others = rng.sample([w for w in words[slot] if w != values[slot]], variants - 1)
    return tuple(_fill(template, values | {slot: value}) for value in [values[slot], *others])


def perturb(
    text: str, perturbation: str, rng: random.Random, words: dict[str, list[str]] | None = None
) -> str:
    """`text` with one meaning-preserving edit.

    typo: two neighbouring letters of a word of four or more letters swapped; mention: an @handle
    in front; url: a link at the end; casing: all lower case; punctuation: the final full stop
    dropped, or "!!" added when there is none.
    """
    words = words or {}
    if perturbation == "typo":
        tokens = text.split(" ")
        candidates = [i for i, token in enumerate(tokens) if sum(c.isalpha() for c in token) >= 4]
        if not candidates:
            return text
        i = rng.choice(candidates)
        token = tokens[i]
        letters = [
            j for j in range(len(token) - 1) if token[j].isalpha() and token[j + 1].isalpha()
        ]
        j = rng.choice(letters)
        swapped = token[:j] + token[j + 1] + token[j] + token[j + 2 :]
        if swapped == token:  # "ll": swap with a different pair if there is one
            swapped = token[:j] + token[j + 1 :]  # a dropped letter is a typo too
        tokens[i] = swapped
        return " ".join(tokens)
    if perturbation == "mention":
        return f"{rng.choice(words.get('mention', ['@someone']))} {text}"
    if perturbation == "url":
        return f"{text} {rng.choice(words.get('url', ['https://example.com']))}"
    if perturbation == "casing":
        return text.lower()
    if perturbation == "punctuation":
        return text[:-1] if text.endswith(".") else f"{text}!!"
    raise ValueError(f"unknown perturbation {perturbation!r}; known: {', '.join(PERTURBATIONS)}")
