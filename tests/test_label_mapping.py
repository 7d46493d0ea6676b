"""Label mapping of the Evaluate tab: by name, by preset, and edits that name a label a model lacks."""

from __future__ import annotations

import pytest

from sentiment_demo.evaluation.label_mapping import (
    AUTOMATIC,
    map_value,
    mapping_table,
    read_mapping,
)

THREE = ("negative", "neutral", "positive")
TWO = ("NEGATIVE", "POSITIVE")


@pytest.mark.parametrize(
    ("value", "labels", "preset", "expected"),
    [
        ("Positive", THREE, AUTOMATIC, "positive"),
        ("pos", TWO, AUTOMATIC, "POSITIVE"),
        ("neu", TWO, AUTOMATIC, ""),  # a two-label model has no neutral: unmapped, not guessed
        ("1", THREE, "0 / 1 = negative / positive", "positive"),
        ("1.0", THREE, "0 / 1 = negative / positive", "positive"),
        ("3", THREE, "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)", "neutral"),
        ("3", THREE, "1-5 stars, no neutral (1-2 negative, 4-5 positive)", ""),
        ("-1", TWO, "-1 / 0 / 1 = negative / neutral / positive", "NEGATIVE"),
        ("spam", THREE, AUTOMATIC, ""),
    ],
)
def test_map_value(value: str, labels: tuple[str, ...], preset: str, expected: str) -> None:
    assert map_value(value, labels, preset) == expected


def test_mapping_table_has_a_column_per_model() -> None:
    rows = mapping_table([("neg", 4), ("neu", 2), ("pos", 5)], [("a", THREE), ("b", TWO)])
    assert rows == [
        ["neg", 4, "negative", "NEGATIVE"],
        ["neu", 2, "neutral", ""],
        ["pos", 5, "positive", "POSITIVE"],
    ]


def test_read_mapping_takes_edits_case_insensitively() -> None:
    mapping = read_mapping(
        [["good", 3, "Positive", "positive"], ["meh", 1, "", None]], ["a", "b"], [THREE, TWO]
    )
    assert mapping == {"a": {"good": "positive"}, "b": {"good": "POSITIVE"}}


def test_read_mapping_refuses_a_label_the_model_lacks() -> None:
    with pytest.raises(ValueError, match=r"'meh' to 'neutral' for b.*NEGATIVE, POSITIVE"):
        read_mapping([["meh", 1, "neutral", "neutral"]], ["a", "b"], [THREE, TWO])
