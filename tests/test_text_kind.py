"""Texts a model was not trained for: language identification, emoji, code and numbers."""

from __future__ import annotations

import pytest

from sentiment_demo.core.text_kind import (
    card_languages,
    identify_language,
    language_notice,
    text_notices,
    unusual_text,
)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Der Film war langweilig und viel zu lang, schade.", "de"),
        ("Ce film est une pure merveille, je le recommande.", "fr"),
        ("La película es aburrida y demasiado larga.", "es"),
        ("@united my bag has been lost for three days and nobody answers the phone", "en"),
    ],
)
def test_identify_language_of_short_reviews_and_tweets(text: str, code: str) -> None:
    found = identify_language(text)
    assert found is not None
    assert found[0] == code


def test_identify_language_declines_texts_too_short_to_tell() -> None:
    assert identify_language("lol this is sick 🔥🔥") is None
    assert identify_language("@someone https://example.com/a-very-long-link #tag") is None


def test_language_notice_only_for_other_languages_of_a_stated_model() -> None:
    german = "Das Essen war kalt und der Kellner sehr unfreundlich."
    notice = language_notice(german, ["en"])
    assert notice is not None
    assert "German" in notice
    assert "English only" in notice
    assert language_notice(german, ["en", "de"]) is None
    assert language_notice(german, []) is None  # no stated language, no notice
    assert language_notice("The food was cold and the waiter rude, sadly.", ["en"]) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("😍😍🔥🔥 wow", "mostly emoji"),
        ("for (let i = 0; i < n; i++) { total += x[i]; }", "looks like code"),
        ("<div class='a'><b>hi</b></div>", "looks like code"),
        ("12 345 678 9.99 100%", "mostly numbers"),
    ],
)
def test_unusual_text_names_the_reason(text: str, reason: str) -> None:
    found = unusual_text(text)
    assert found is not None
    assert reason in found


@pytest.mark.parametrize(
    "text",
    [
        "lol this is sick 🔥🔥",
        "The meeting has been moved to 3pm on Thursday in room 204.",
        "I paid $30 for this (thirty!) and it broke: avoid.",
        "Not bad at all :) would buy again",
    ],
)
def test_ordinary_texts_get_no_notice(text: str) -> None:
    assert text_notices(text, ["en"]) == []


def test_card_languages_reads_a_string_or_a_list() -> None:
    assert card_languages("---\nlanguage: en\nlicense: mit\n---\n# Card") == ("en",)
    assert card_languages("---\nlanguage:\n- en\n- DE\n---\n") == ("en", "de")
    assert card_languages("---\nlicense: mit\n---\n") == ()
    assert card_languages("# no front matter") == ()
    assert card_languages(None) == ()
